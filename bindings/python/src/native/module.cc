// datahike._datahike: the raw layer of the Python package, one thin function per C ABI call.
//
// It sees only datahike/datahike.h. Every engine call runs with the GIL released. Data goes in as
// text (EDN or JSON, as the ABI takes it); results come out as text, or, for the format kValues,
// as Python values read from the EDN by edn_values.cc (no Python code runs for that). d.q has one
// call, q_values, that also prints its inputs, so that a query costs one crossing into C++.
//
// Errors: a failed call raises the exception the package's error factory (registered with
// set_types as "error_from_native") makes of the status and the error map; without one,
// NativeError(status, error_edn).
//
// Handles: Conn and Db own one ABI handle each. release() is idempotent; a call on a released
// handle passes NULL to the ABI, which fails with DATAHIKE_ERROR_MISUSE. A shared_mutex per handle
// keeps a release from running while another thread is inside a call with the same handle.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "datahike/datahike.h"
#include "edn_values.h"

namespace py = pybind11;
using datahike_python::PrintEdn;
using datahike_python::PrintRules;
using datahike_python::ReadEdn;

namespace {

// The result format argument of the wrappers: the ABI's EDN (0) and JSON (1) as text, or kValues,
// EDN read into Python values. Inputs in kValues are EDN text.
constexpr int kValues = 2;

datahike_format Fmt(int f) {
  return f == DATAHIKE_FORMAT_JSON ? DATAHIKE_FORMAT_JSON : DATAHIKE_FORMAT_EDN;
}

PyObject* g_native_error = nullptr;
PyObject* g_error_factory = nullptr;  // error_from_native(status, text) -> exception
PyObject* g_db_class = nullptr;       // datahike.api.Db, whose _h is a native Db

// Raises the error of a failed call and frees err. Call with the GIL held.
[[noreturn]] void Raise(datahike_status st, char* err) {
  std::string text = err ? err : "";
  datahike_free(err);
  if (g_error_factory != nullptr) {
    py::object exc =
        py::reinterpret_borrow<py::object>(g_error_factory)(static_cast<int>(st), text);
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  } else {
    py::tuple args = py::make_tuple(static_cast<int>(st), text);
    PyErr_SetObject(g_native_error, args.ptr());
  }
  throw py::error_already_set();
}

// A result text in the wanted form: None for NULL, a str, or (kValues) Python values.
py::object Convert(const char* text, int fmt) {
  if (text == nullptr) return py::none();
  if (fmt == kValues) return ReadEdn(text);
  return py::str(text);
}

// Convert, then frees the ABI's string (also when the conversion raises).
py::object Take(char* out, int fmt) {
  std::unique_ptr<char, void (*)(void*)> owned(out, datahike_free);
  return Convert(out, fmt);
}

const char* OptC(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

// Runs f(char** err) -> datahike_status with the GIL released and, when mu is given, its lock
// shared; raises when the call fails.
template <class F>
void Run(std::shared_mutex* mu, F&& f) {
  char* err = nullptr;
  datahike_status st;
  {
    py::gil_scoped_release nogil;
    std::shared_lock<std::shared_mutex> lock;
    if (mu != nullptr) lock = std::shared_lock<std::shared_mutex>(*mu);
    st = f(&err);
  }
  if (st != DATAHIKE_OK) Raise(st, err);
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

  // Runs f(const datahike_db*, char** out, char** err); returns the result in fmt.
  template <class F>
  py::object Text(int fmt, F&& f) const {
    char* out = nullptr;
    Run(&mu_, [&](char** err) { return f(db_, &out, err); });
    return Take(out, fmt);
  }

  // Runs f(const datahike_db*, datahike_db** out_db, char** err); returns the new value.
  template <class F>
  std::unique_ptr<Db> Derive(F&& f) const {
    datahike_db* out = nullptr;
    Run(&mu_, [&](char** err) { return f(db_, &out, err); });
    return std::make_unique<Db>(out);
  }

  // Holds the handle for a call that takes several dbs (q).
  std::shared_lock<std::shared_mutex> Lock() const { return std::shared_lock(mu_); }
  const datahike_db* get() const { return db_; }

 private:
  datahike_db* db_;
  mutable std::shared_mutex mu_;
};

// A db handle the library returned (NULL when the call did not give one) as a Python object.
py::object OwnDb(datahike_db* db) {
  auto owned = std::make_unique<Db>(db);
  return py::cast(std::move(owned));
}

struct Listener {
  py::object callback;  // callback(report) or, with dbs, callback(report, db_before, db_after)
  int fmt;
};

void CallListener(Listener* l, const char* report, datahike_db* before, datahike_db* after,
                  bool with_dbs) {
  py::gil_scoped_acquire gil;
  try {
    if (with_dbs) {
      py::object b = OwnDb(before), a = OwnDb(after);
      l->callback(Convert(report, l->fmt), b, a);
    } else {
      l->callback(Convert(report, l->fmt));
    }
  } catch (py::error_already_set& e) {
    e.discard_as_unraisable("datahike listener");
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    PyErr_WriteUnraisable(nullptr);
  }
}

void ListenerTrampoline(const char* report, void* user) {
  if (!Py_IsInitialized()) return;
  CallListener(static_cast<Listener*>(user), report, nullptr, nullptr, false);
}

void DbListenerTrampoline(const char* report, const datahike_db* before, const datahike_db* after,
                          void* user) {
  if (!Py_IsInitialized()) return;
  // The handles are borrowed for the call: Python gets copies it owns.
  datahike_db *b = nullptr, *a = nullptr;
  datahike_db_copy(before, &b, nullptr);
  datahike_db_copy(after, &a, nullptr);
  CallListener(static_cast<Listener*>(user), report, b, a, true);
}

class Conn {
 public:
  explicit Conn(datahike_conn* c) : conn_(c) {}
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  // Called with the GIL held; the listeners' callbacks need it, so let them finish first.
  ~Conn() { Release(); }

  static std::unique_ptr<Conn> Connect(const std::string& cfg) {
    datahike_conn* c = nullptr;
    Run(nullptr, [&](char** err) { return datahike_connect(cfg.c_str(), &c, err); });
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

  // Runs f(datahike_conn*, char** out, char** err); returns the result in fmt (None when the call
  // has no output).
  template <class F>
  py::object Text(int fmt, F&& f) {
    char* out = nullptr;
    Run(&mu_, [&](char** err) { return f(conn_, &out, err); });
    return Take(out, fmt);
  }

  // Runs f(datahike_conn*, datahike_db** out_db, char** err); returns the db value.
  template <class F>
  std::unique_ptr<Db> OpenDb(F&& f) {
    datahike_db* out = nullptr;
    Run(&mu_, [&](char** err) { return f(conn_, &out, err); });
    return std::make_unique<Db>(out);
  }

  // (report, db_before, db_after).
  py::tuple TransactDbs(const std::string& tx, int fmt) {
    char* out = nullptr;
    datahike_db *before = nullptr, *after = nullptr;
    Run(&mu_, [&](char** err) {
      return datahike_transact_dbs(conn_, tx.c_str(), Fmt(fmt), &out, &before, &after, err);
    });
    py::object b = OwnDb(before), a = OwnDb(after);
    return py::make_tuple(Take(out, fmt), b, a);
  }

  int64_t Listen(py::object callback, int fmt, bool with_dbs) {
    auto l = std::make_unique<Listener>(Listener{std::move(callback), fmt});
    int64_t key = 0;
    Run(&mu_, [&](char** err) {
      return with_dbs
                 ? datahike_listen_dbs(conn_, &DbListenerTrampoline, l.get(), Fmt(fmt), &key, err)
                 : datahike_listen(conn_, &ListenerTrampoline, l.get(), Fmt(fmt), &key, err);
    });
    listeners_[key] = std::move(l);
    return key;
  }

  void Unlisten(int64_t key) {
    Run(&mu_, [&](char** err) { return datahike_unlisten(conn_, key, err); });
    // The callback no longer runs: its Python object can go.
    listeners_.erase(key);
  }

 private:
  datahike_conn* conn_;
  std::shared_mutex mu_;
  std::map<int64_t, std::unique_ptr<Listener>> listeners_;  // guarded by the GIL
};

// datahike_q with the GIL released and every db handle held (shared) for the call. Returns the
// result text (owned by the caller) or raises.
char* RunQ(const char* query, const std::vector<const Db*>& dbs, const char* args,
           datahike_format fmt) {
  char* out = nullptr;
  Run(nullptr, [&](char** err) {
    std::vector<std::shared_lock<std::shared_mutex>> locks;
    std::vector<const datahike_db*> handles;
    locks.reserve(dbs.size());
    handles.reserve(dbs.size());
    for (const Db* d : dbs) {
      locks.push_back(d->Lock());
      handles.push_back(d->get());
    }
    return datahike_q(query, handles.data(), handles.size(), args, fmt, &out, err);
  });
  return out;
}

// The EDN text of a data argument: a str (or edn.Edn) is raw EDN text, anything else is printed.
std::string DataText(const py::handle& x) {
  if (datahike_python::IsEdnText(x.ptr())) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(x.ptr(), &n);
    if (s == nullptr) throw py::error_already_set();
    if (std::strlen(s) != static_cast<size_t>(n)) {
      char* err = strdup(
          "{:error/kind :parse/error :message \"EDN text must not contain NUL characters\" "
          ":data {}}");
      Raise(DATAHIKE_ERROR_PARSE, err);
    }
    return std::string(s, static_cast<size_t>(n));
  }
  std::string out;
  PrintEdn(x.ptr(), PrintRules::kEdn, &out);
  return out;
}

// d.q: query (EDN text or data) with inputs, a tuple: instances of the registered Db class bind to
// the query's $ sources, every other input is a value for the next :in position. Python values out.
py::object QValues(const py::handle& query, const py::tuple& inputs) {
  std::string query_text = DataText(query);
  std::vector<const Db*> dbs;
  std::string args = "[";
  bool any_arg = false;
  for (const py::handle& x : inputs) {
    if (g_db_class != nullptr &&
        PyObject_TypeCheck(x.ptr(), reinterpret_cast<PyTypeObject*>(g_db_class))) {
      dbs.push_back(x.attr("_h").cast<const Db*>());
      continue;
    }
    if (any_arg) args.push_back(' ');
    PrintEdn(x.ptr(), PrintRules::kEdn, &args);
    any_arg = true;
  }
  args.push_back(']');
  return Take(RunQ(query_text.c_str(), dbs, any_arg ? args.c_str() : nullptr, DATAHIKE_FORMAT_EDN),
              kValues);
}

}  // namespace

PYBIND11_MODULE(_datahike, m) {
  m.doc() = "Raw bindings of libdatahike's C ABI (datahike.h); use the datahike package instead.";
  static py::exception<std::runtime_error> native_error(m, "NativeError");
  g_native_error = native_error.ptr();
  m.attr("VALUES") = kValues;

  m.def("version", [] { return std::string(datahike_version()); });
  m.def("status_name",
        [](int st) { return std::string(datahike_status_name(static_cast<datahike_status>(st))); });

  // The package registers its classes (datahike.edn's value types, api.Db) and error factory.
  m.def("set_types", [](const py::dict& types) {
    datahike_python::SetEdnTypes(types);
    auto keep = [&](const char* name, PyObject** slot) {
      if (!types.contains(name)) return;
      Py_XDECREF(*slot);
      *slot = py::object(types[name]).release().ptr();
    };
    keep("Db", &g_db_class);
    keep("error_from_native", &g_error_factory);
  });
  m.def("loads", [](const py::handle& text) {
    if (PyBytes_Check(text.ptr())) {
      return ReadEdn(std::string_view(PyBytes_AS_STRING(text.ptr()),
                                      static_cast<size_t>(PyBytes_GET_SIZE(text.ptr()))));
    }
    if (PyByteArray_Check(text.ptr())) {
      // Copied: reading may run Python code, which could resize the bytearray.
      std::string s(PyByteArray_AS_STRING(text.ptr()),
                    static_cast<size_t>(PyByteArray_GET_SIZE(text.ptr())));
      return ReadEdn(s);
    }
    if (!PyUnicode_Check(text.ptr())) {
      throw py::type_error(std::string("EDN text must be str, not ") +
                           Py_TYPE(text.ptr())->tp_name);
    }
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(text.ptr(), &n);
    if (s == nullptr) throw py::error_already_set();
    return ReadEdn(std::string_view(s, static_cast<size_t>(n)));
  });
  m.def(
      "dumps",
      [](const py::handle& v, bool pydatahike_rules) {
        std::string out;
        PrintEdn(v.ptr(), pydatahike_rules ? PrintRules::kPydatahike : PrintRules::kEdn, &out);
        return py::str(out);
      },
      py::arg("value"), py::arg("pydatahike_rules") = false);

  m.def("create_database", [](const std::string& cfg) {
    Run(nullptr, [&](char** e) { return datahike_create_database(cfg.c_str(), e); });
  });
  m.def("delete_database", [](const std::string& cfg) {
    Run(nullptr, [&](char** e) { return datahike_delete_database(cfg.c_str(), e); });
  });
  m.def("database_exists", [](const std::string& cfg) {
    int exists = 0;
    Run(nullptr, [&](char** e) { return datahike_database_exists(cfg.c_str(), &exists, e); });
    return exists != 0;
  });

  py::class_<Db>(m, "Db")
      .def("release", &Db::Release)
      .def_property_readonly("released", &Db::released)
      .def("copy",
           [](const Db& db) {
             return db.Derive([&](const datahike_db* d, datahike_db** o, char** e) {
               return datahike_db_copy(d, o, e);
             });
           })
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
             py::object a = py::cast(std::move(after));
             return py::make_tuple(a, Take(report, fmt));
           })
      .def("pull",
           [](const Db& db, const std::string& pattern, const std::string& eid, int fmt) {
             return db.Text(fmt, [&](const datahike_db* d, char** o, char** e) {
               return datahike_pull(d, pattern.c_str(), eid.c_str(), Fmt(fmt), o, e);
             });
           })
      .def("pull_many",
           [](const Db& db, const std::string& pattern, const std::string& eids, int fmt) {
             return db.Text(fmt, [&](const datahike_db* d, char** o, char** e) {
               return datahike_pull_many(d, pattern.c_str(), eids.c_str(), Fmt(fmt), o, e);
             });
           })
      .def("entity",
           [](const Db& db, const std::string& eid, int fmt) {
             return db.Text(fmt, [&](const datahike_db* d, char** o, char** e) {
               return datahike_entity(d, eid.c_str(), Fmt(fmt), o, e);
             });
           })
      .def("datoms",
           [](const Db& db, const std::string& which, const std::string& index,
              const std::optional<std::string>& comps, int fmt) {
             return db.Text(fmt, [&](const datahike_db* d, char** o, char** e) {
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
             return db.Text(fmt, [&](const datahike_db* d, char** o, char** e) {
               return datahike_index_range(d, attr.c_str(), OptC(start), OptC(end), Fmt(fmt), o, e);
             });
           })
      .def("schema",
           [](const Db& db, int fmt) {
             return db.Text(fmt, [&](const datahike_db* d, char** o, char** e) {
               return datahike_schema(d, Fmt(fmt), o, e);
             });
           })
      .def("reverse_schema",
           [](const Db& db, int fmt) {
             return db.Text(fmt, [&](const datahike_db* d, char** o, char** e) {
               return datahike_reverse_schema(d, Fmt(fmt), o, e);
             });
           })
      .def("metrics",
           [](const Db& db, int fmt) {
             return db.Text(fmt, [&](const datahike_db* d, char** o, char** e) {
               return datahike_metrics(d, Fmt(fmt), o, e);
             });
           })
      .def("commit_id",
           [](const Db& db, int fmt) {
             return db.Text(fmt, [&](const datahike_db* d, char** o, char** e) {
               return datahike_commit_id(d, Fmt(fmt), o, e);
             });
           })
      .def("parent_commit_ids",
           [](const Db& db, int fmt) {
             return db.Text(fmt, [&](const datahike_db* d, char** o, char** e) {
               return datahike_parent_commit_ids(d, Fmt(fmt), o, e);
             });
           })
      .def("force_branch", [](const Db& db, const std::string& branch, const std::string& parents) {
        db.Text(0, [&](const datahike_db* d, char**, char** e) {
          return datahike_force_branch(d, branch.c_str(), parents.c_str(), e);
        });
      });

  m.def("empty_db", [](const std::optional<std::string>& schema,
                       const std::optional<std::string>& cfg) {
    datahike_db* out = nullptr;
    Run(nullptr, [&](char** e) { return datahike_empty_db(OptC(schema), OptC(cfg), &out, e); });
    return std::make_unique<Db>(out);
  });

  // q on text: the query, the dbs' raw handles and the args vector as text.
  m.def("q", [](const std::string& query, const std::vector<const Db*>& dbs,
                const std::optional<std::string>& args,
                int fmt) { return Take(RunQ(query.c_str(), dbs, OptC(args), Fmt(fmt)), fmt); });
  m.def("q_values", &QValues);

  py::class_<Conn>(m, "Conn")
      .def_static("connect", &Conn::Connect)
      .def("release", &Conn::Release)
      .def_property_readonly("released", &Conn::released)
      .def("transact",
           [](Conn& c, const std::string& tx, int fmt, bool want_report) {
             return c.Text(fmt, [&](datahike_conn* h, char** o, char** e) {
               return datahike_transact(h, tx.c_str(), Fmt(fmt), want_report ? o : nullptr, e);
             });
           })
      .def("transact_dbs", &Conn::TransactDbs)
      .def("db",
           [](Conn& c) {
             return c.OpenDb([&](datahike_conn* h, datahike_db** o, char** e) {
               return datahike_conn_db(h, o, e);
             });
           })
      .def("listen", &Conn::Listen, py::arg("callback"), py::arg("fmt"),
           py::arg("with_dbs") = false)
      .def("unlisten", &Conn::Unlisten)
      .def("branches",
           [](Conn& c, int fmt) {
             return c.Text(fmt, [&](datahike_conn* h, char** o, char** e) {
               return datahike_branches(h, Fmt(fmt), o, e);
             });
           })
      .def("branch",
           [](Conn& c, const std::string& from, const std::string& to) {
             c.Text(0, [&](datahike_conn* h, char**, char** e) {
               return datahike_branch(h, from.c_str(), to.c_str(), e);
             });
           })
      .def("delete_branch",
           [](Conn& c, const std::string& branch) {
             c.Text(0, [&](datahike_conn* h, char**, char** e) {
               return datahike_delete_branch(h, branch.c_str(), e);
             });
           })
      .def("merge",
           [](Conn& c, const std::string& parents, const std::string& tx, int fmt,
              bool want_report) {
             return c.Text(fmt, [&](datahike_conn* h, char** o, char** e) {
               return datahike_merge(h, parents.c_str(), tx.c_str(), Fmt(fmt),
                                     want_report ? o : nullptr, e);
             });
           })
      .def("branch_history",
           [](Conn& c, const std::string& branch, int fmt) {
             return c.Text(fmt, [&](datahike_conn* h, char** o, char** e) {
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
