// datahike._datahike: the raw layer of the Python package, one thin function per C ABI call.
//
// It sees only datahike/datahike.h. Every engine call runs with the GIL released. Text goes in and
// out as str (EDN or JSON, as the ABI takes it); the pure-Python layer (datahike/) converts values.
// A failed call raises NativeError(status, error_edn); the Python layer turns it into the typed
// DatahikeError subclass of its :error/kind.
//
// Handles: Conn and Db own one ABI handle each. release() is idempotent; a call on a released
// handle passes NULL to the ABI, which fails with DATAHIKE_ERROR_MISUSE. A shared_mutex per handle
// keeps a release from running while another thread is inside a call with the same handle.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "datahike/datahike.h"

namespace py = pybind11;

namespace {

PyObject* g_native_error = nullptr;

// Raises NativeError(status, error text) and frees err. Call with the GIL held.
[[noreturn]] void Raise(datahike_status st, char* err) {
  std::string text = err ? err : "";
  datahike_free(err);
  py::tuple args = py::make_tuple(static_cast<int>(st), text);
  PyErr_SetObject(g_native_error, args.ptr());
  throw py::error_already_set();
}

// Takes an ABI result string (owned by the caller) into a Python str and frees it.
py::object Take(char* out) {
  if (out == nullptr) return py::none();
  py::object s;
  try {
    s = py::str(out);
  } catch (...) {
    datahike_free(out);
    throw;
  }
  datahike_free(out);
  return s;
}

const char* OptC(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

datahike_format Fmt(int f) {
  return f == 1 ? DATAHIKE_FORMAT_JSON : DATAHIKE_FORMAT_EDN;
}

class Db {
 public:
  explicit Db(datahike_db* db) : db_(db) {}
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() { datahike_db_release(&db_); }

  void Release() {
    py::gil_scoped_release nogil;
    std::unique_lock lock(mu_);
    datahike_db_release(&db_);
  }
  bool released() const { return db_ == nullptr; }

  // Runs f(const datahike_db*, char** out, char** err) without the GIL; returns the text result.
  template <class F>
  py::object Text(F&& f) const {
    char* out = nullptr;
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      std::shared_lock lock(mu_);
      st = f(db_, &out, &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    return Take(out);
  }

  // Runs f(const datahike_db*, datahike_db** out_db, char** err) without the GIL.
  template <class F>
  std::unique_ptr<Db> Derive(F&& f) const {
    datahike_db* out = nullptr;
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      std::shared_lock lock(mu_);
      st = f(db_, &out, &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    return std::make_unique<Db>(out);
  }

  // Holds the handle for a call that takes several dbs (q).
  std::shared_lock<std::shared_mutex> Lock() const { return std::shared_lock(mu_); }
  const datahike_db* get() const { return db_; }

 private:
  datahike_db* db_;
  mutable std::shared_mutex mu_;
};

struct Listener {
  py::object callback;  // called with the report text
};

void ListenerTrampoline(const char* report, void* user) {
  if (!Py_IsInitialized()) return;
  py::gil_scoped_acquire gil;
  auto* l = static_cast<Listener*>(user);
  try {
    l->callback(py::str(report));
  } catch (py::error_already_set& e) {
    e.discard_as_unraisable("datahike listener");
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    PyErr_WriteUnraisable(nullptr);
  }
}

class Conn {
 public:
  explicit Conn(datahike_conn* c) : conn_(c) {}
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() {
    // Called with the GIL held; the listeners' callbacks need it, so let them finish first.
    {
      py::gil_scoped_release nogil;
      std::unique_lock lock(mu_);
      datahike_release(&conn_);
    }
    listeners_.clear();
  }

  static std::unique_ptr<Conn> Connect(const std::string& cfg) {
    datahike_conn* c = nullptr;
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      st = datahike_connect(cfg.c_str(), &c, &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    return std::make_unique<Conn>(c);
  }

  void Release() {
    {
      py::gil_scoped_release nogil;
      std::unique_lock lock(mu_);
      datahike_release(&conn_);
    }
    listeners_.clear();
  }
  bool released() const { return conn_ == nullptr; }

  py::object Transact(const std::string& tx, int fmt, bool want_report) {
    char* out = nullptr;
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      std::shared_lock lock(mu_);
      st = datahike_transact(conn_, tx.c_str(), Fmt(fmt), want_report ? &out : nullptr, &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    return Take(out);
  }

  // Runs f(datahike_conn*, char** out, char** err) without the GIL; returns the text result (None
  // when the call has no output).
  template <class F>
  py::object Text(F&& f) {
    char* out = nullptr;
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      std::shared_lock lock(mu_);
      st = f(conn_, &out, &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    return Take(out);
  }

  // Runs f(datahike_conn*, datahike_db** out_db, char** err) without the GIL.
  template <class F>
  std::unique_ptr<Db> OpenDb(F&& f) {
    datahike_db* out = nullptr;
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      std::shared_lock lock(mu_);
      st = f(conn_, &out, &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    return std::make_unique<Db>(out);
  }

  std::unique_ptr<Db> CurrentDb() {
    datahike_db* out = nullptr;
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      std::shared_lock lock(mu_);
      st = datahike_conn_db(conn_, &out, &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    return std::make_unique<Db>(out);
  }

  int64_t Listen(py::object callback, int fmt) {
    auto l = std::make_unique<Listener>(Listener{std::move(callback)});
    int64_t key = 0;
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      std::shared_lock lock(mu_);
      st = datahike_listen(conn_, &ListenerTrampoline, l.get(), Fmt(fmt), &key, &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    listeners_[key] = std::move(l);
    return key;
  }

  void Unlisten(int64_t key) {
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      std::shared_lock lock(mu_);
      st = datahike_unlisten(conn_, key, &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    // The callback no longer runs: its Python object can go.
    listeners_.erase(key);
  }

 private:
  datahike_conn* conn_;
  std::shared_mutex mu_;
  std::map<int64_t, std::unique_ptr<Listener>> listeners_;  // guarded by the GIL
};

// Runs a config-only call without the GIL.
template <class F>
datahike_status ConfigCall(F&& f, char** err) {
  py::gil_scoped_release nogil;
  return f(err);
}

}  // namespace

PYBIND11_MODULE(_datahike, m) {
  m.doc() = "Raw bindings of libdatahike's C ABI (datahike.h); use the datahike package instead.";
  static py::exception<std::runtime_error> native_error(m, "NativeError");
  g_native_error = native_error.ptr();

  m.def("version", [] { return std::string(datahike_version()); });
  m.def("status_name", [](int st) {
    return std::string(datahike_status_name(static_cast<datahike_status>(st)));
  });

  m.def("create_database", [](const std::string& cfg) {
    char* err = nullptr;
    datahike_status st =
        ConfigCall([&](char** e) { return datahike_create_database(cfg.c_str(), e); }, &err);
    if (st != DATAHIKE_OK) Raise(st, err);
  });
  m.def("delete_database", [](const std::string& cfg) {
    char* err = nullptr;
    datahike_status st =
        ConfigCall([&](char** e) { return datahike_delete_database(cfg.c_str(), e); }, &err);
    if (st != DATAHIKE_OK) Raise(st, err);
  });
  m.def("database_exists", [](const std::string& cfg) {
    char* err = nullptr;
    int exists = 0;
    datahike_status st = ConfigCall(
        [&](char** e) { return datahike_database_exists(cfg.c_str(), &exists, e); }, &err);
    if (st != DATAHIKE_OK) Raise(st, err);
    return exists != 0;
  });

  py::class_<Db>(m, "Db")
      .def("release", &Db::Release)
      .def_property_readonly("released", &Db::released)
      .def("as_of",
           [](const Db& db, const std::string& t) {
             return db.Derive([&](const datahike_db* d, datahike_db** o, char** e) {
               return datahike_as_of(d, t.c_str(), o, e);
             });
           })
      .def("since",
           [](const Db& db, const std::string& t) {
             return db.Derive([&](const datahike_db* d, datahike_db** o, char** e) {
               return datahike_since(d, t.c_str(), o, e);
             });
           })
      .def("history",
           [](const Db& db) {
             return db.Derive([&](const datahike_db* d, datahike_db** o, char** e) {
               return datahike_history(d, o, e);
             });
           })
      .def("with_",
           [](const Db& db, const std::string& tx, int fmt) {
             char* report = nullptr;
             auto after = db.Derive([&](const datahike_db* d, datahike_db** o, char** e) {
               return datahike_db_with(d, tx.c_str(), Fmt(fmt), o, &report, e);
             });
             py::object r = Take(report);
             return py::make_tuple(py::cast(std::move(after)), r);
           })
      .def("pull",
           [](const Db& db, const std::string& pattern, const std::string& eid, int fmt) {
             return db.Text([&](const datahike_db* d, char** o, char** e) {
               return datahike_pull(d, pattern.c_str(), eid.c_str(), Fmt(fmt), o, e);
             });
           })
      .def("pull_many",
           [](const Db& db, const std::string& pattern, const std::string& eids, int fmt) {
             return db.Text([&](const datahike_db* d, char** o, char** e) {
               return datahike_pull_many(d, pattern.c_str(), eids.c_str(), Fmt(fmt), o, e);
             });
           })
      .def("entity",
           [](const Db& db, const std::string& eid, int fmt) {
             return db.Text([&](const datahike_db* d, char** o, char** e) {
               return datahike_entity(d, eid.c_str(), Fmt(fmt), o, e);
             });
           })
      .def("datoms",
           [](const Db& db, const std::string& which, const std::string& index,
              const std::optional<std::string>& comps, int fmt) {
             return db.Text([&](const datahike_db* d, char** o, char** e) {
               if (which == "seek")
                 return datahike_seek_datoms(d, index.c_str(), OptC(comps), Fmt(fmt), o, e);
               if (which == "rseek")
                 return datahike_rseek_datoms(d, index.c_str(), OptC(comps), Fmt(fmt), o, e);
               return datahike_datoms(d, index.c_str(), OptC(comps), Fmt(fmt), o, e);
             });
           })
      .def("index_range",
           [](const Db& db, const std::string& attr, const std::optional<std::string>& start,
              const std::optional<std::string>& end, int fmt) {
             return db.Text([&](const datahike_db* d, char** o, char** e) {
               return datahike_index_range(d, attr.c_str(), OptC(start), OptC(end), Fmt(fmt), o,
                                           e);
             });
           })
      .def("schema",
           [](const Db& db, int fmt) {
             return db.Text([&](const datahike_db* d, char** o, char** e) {
               return datahike_schema(d, Fmt(fmt), o, e);
             });
           })
      .def("reverse_schema",
           [](const Db& db, int fmt) {
             return db.Text([&](const datahike_db* d, char** o, char** e) {
               return datahike_reverse_schema(d, Fmt(fmt), o, e);
             });
           })
      .def("metrics",
           [](const Db& db, int fmt) {
             return db.Text([&](const datahike_db* d, char** o, char** e) {
               return datahike_metrics(d, Fmt(fmt), o, e);
             });
           })
      .def("commit_id",
           [](const Db& db, int fmt) {
             return db.Text([&](const datahike_db* d, char** o, char** e) {
               return datahike_commit_id(d, Fmt(fmt), o, e);
             });
           })
      .def("parent_commit_ids",
           [](const Db& db, int fmt) {
             return db.Text([&](const datahike_db* d, char** o, char** e) {
               return datahike_parent_commit_ids(d, Fmt(fmt), o, e);
             });
           })
      .def("force_branch", [](const Db& db, const std::string& branch, const std::string& parents) {
        db.Text([&](const datahike_db* d, char**, char** e) {
          return datahike_force_branch(d, branch.c_str(), parents.c_str(), e);
        });
      });

  m.def("empty_db", [](const std::optional<std::string>& schema,
                       const std::optional<std::string>& cfg) {
    datahike_db* out = nullptr;
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      st = datahike_empty_db(OptC(schema), OptC(cfg), &out, &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    return std::make_unique<Db>(out);
  });

  m.def("q", [](const std::string& query, const std::vector<const Db*>& dbs,
                const std::optional<std::string>& args, int fmt) {
    char* out = nullptr;
    char* err = nullptr;
    datahike_status st;
    {
      py::gil_scoped_release nogil;
      std::vector<std::shared_lock<std::shared_mutex>> locks;
      std::vector<const datahike_db*> handles;
      locks.reserve(dbs.size());
      for (const Db* d : dbs) {
        locks.push_back(d->Lock());
        handles.push_back(d->get());
      }
      st = datahike_q(query.c_str(), handles.data(), handles.size(), OptC(args), Fmt(fmt), &out,
                      &err);
    }
    if (st != DATAHIKE_OK) Raise(st, err);
    return Take(out);
  });

  py::class_<Conn>(m, "Conn")
      .def_static("connect", &Conn::Connect)
      .def("release", &Conn::Release)
      .def_property_readonly("released", &Conn::released)
      .def("transact", &Conn::Transact)
      .def("db", &Conn::CurrentDb)
      .def("listen", &Conn::Listen)
      .def("unlisten", &Conn::Unlisten)
      .def("branches",
           [](Conn& c, int fmt) {
             return c.Text([&](datahike_conn* h, char** o, char** e) {
               return datahike_branches(h, Fmt(fmt), o, e);
             });
           })
      .def("branch",
           [](Conn& c, const std::string& from, const std::string& to) {
             c.Text([&](datahike_conn* h, char**, char** e) {
               return datahike_branch(h, from.c_str(), to.c_str(), e);
             });
           })
      .def("delete_branch",
           [](Conn& c, const std::string& branch) {
             c.Text([&](datahike_conn* h, char**, char** e) {
               return datahike_delete_branch(h, branch.c_str(), e);
             });
           })
      .def("merge",
           [](Conn& c, const std::string& parents, const std::string& tx, int fmt,
              bool want_report) {
             return c.Text([&](datahike_conn* h, char** o, char** e) {
               return datahike_merge(h, parents.c_str(), tx.c_str(), Fmt(fmt),
                                     want_report ? o : nullptr, e);
             });
           })
      .def("branch_history",
           [](Conn& c, const std::string& branch, int fmt) {
             return c.Text([&](datahike_conn* h, char** o, char** e) {
               return datahike_branch_history(h, branch.c_str(), Fmt(fmt), o, e);
             });
           })
      .def("branch_db",
           [](Conn& c, const std::string& branch) {
             return c.OpenDb([&](datahike_conn* h, datahike_db** o, char** e) {
               return datahike_branch_db(h, branch.c_str(), o, e);
             });
           })
      .def("commit_db", [](Conn& c, const std::string& commit) {
        return c.OpenDb([&](datahike_conn* h, datahike_db** o, char** e) {
          return datahike_commit_db(h, commit.c_str(), o, e);
        });
      });
}
