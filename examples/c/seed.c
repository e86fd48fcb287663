/* The seed example of Datahike's README in C, through libdatahike loaded at run time with dlopen
 * (no link-time dependency: the header gives the types, dlsym the functions). A strict schema, four
 * entities, a query, an update, and the history view that still knows the old value.
 *
 * Usage: seed [path/to/libdatahike.so.0]   (default: "libdatahike.so.0", found by the loader)
 * Prints each step; checks every result and exits 1 on the first unexpected one. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datahike/datahike.h"

/* The functions this example uses, looked up by name. */
static struct {
  const char* (*version)(void);
  const char* (*status_name)(datahike_status);
  void (*free)(void*);
  datahike_status (*create_database)(const char*, char**);
  datahike_status (*delete_database)(const char*, char**);
  datahike_status (*connect)(const char*, datahike_conn**, char**);
  void (*release)(datahike_conn**);
  datahike_status (*transact)(datahike_conn*, const char*, datahike_format, char**, char**);
  datahike_status (*conn_db)(datahike_conn*, datahike_db**, char**);
  datahike_status (*history)(const datahike_db*, datahike_db**, char**);
  void (*db_release)(datahike_db**);
  datahike_status (*q)(const char*, const datahike_db* const*, size_t, const char*, datahike_format,
                       char**, char**);
} dh;

/* dlsym returns an object pointer; POSIX guarantees it converts to a function pointer. Copying the
 * bytes keeps -pedantic quiet about the conversion. */
static int load(void* lib, const char* name, void* slot, size_t size) {
  void* sym = dlsym(lib, name);
  if (sym == NULL) {
    fprintf(stderr, "seed: %s not found: %s\n", name, dlerror());
    return 0;
  }
  memcpy(slot, &sym, size);
  return 1;
}
#define LOAD(field) load(lib, "datahike_" #field, &dh.field, sizeof dh.field)

/* Reports a failed call and exits. */
static void check(datahike_status st, char* err, const char* what) {
  if (st == DATAHIKE_OK) return;
  fprintf(stderr, "seed: %s failed (%s): %s\n", what, dh.status_name(st), err ? err : "");
  dh.free(err);
  _Exit(1);
}

/* Fails unless `text` contains every string of `expected` (NULL-terminated) and, when count >= 0,
 * exactly `count` tuples (opening brackets after the outer one). Sets print in no fixed order. */
static void expect(const char* what, const char* text, const char* const* expected, int count) {
  int n = 0;
  const char* p;
  for (; *expected != NULL; ++expected) {
    if (strstr(text, *expected) == NULL) {
      fprintf(stderr, "seed: %s: expected %s in %s\n", what, *expected, text);
      _Exit(1);
    }
  }
  for (p = text + 1; *p; ++p) n += *p == '[';
  if (count >= 0 && n != count) {
    fprintf(stderr, "seed: %s: expected %d tuples in %s\n", what, count, text);
    _Exit(1);
  }
}

static const char* const kQuery = "[:find ?e ?n ?a :where [?e :name ?n] [?e :age ?a]]";

/* Runs the people query on a db value and returns its result (free with dh.free). */
static char* people(const datahike_db* db) {
  char *out = NULL, *err = NULL;
  check(dh.q(kQuery, &db, 1, NULL, DATAHIKE_FORMAT_EDN, &out, &err), err, "q");
  return out;
}

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "libdatahike.so.0";
  const char* cfg =
      "{:store {:backend :memory :id \"seed\"} :keep-history? true :schema-flexibility :write}";
  char *err = NULL, *report = NULL, *result = NULL;
  datahike_conn* conn = NULL;
  datahike_db *db = NULL, *hist = NULL;
  const datahike_db* hist_in[1];
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "seed: cannot load %s: %s\n", path, dlerror());
    return 1;
  }
  if (!(LOAD(version) && LOAD(status_name) && LOAD(free) && LOAD(create_database) &&
        LOAD(delete_database) && LOAD(connect) && LOAD(release) && LOAD(transact) &&
        LOAD(conn_db) && LOAD(history) && LOAD(db_release) && LOAD(q))) {
    return 1;
  }
  printf("libdatahike %s\n", dh.version());

  check(dh.create_database(cfg, &err), err, "create_database");
  check(dh.connect(cfg, &conn, &err), err, "connect");
  check(dh.transact(conn,
                    "[{:db/ident :name :db/valueType :db.type/string"
                    "  :db/cardinality :db.cardinality/one}"
                    " {:db/ident :age :db/valueType :db.type/long"
                    "  :db/cardinality :db.cardinality/one}]",
                    DATAHIKE_FORMAT_EDN, NULL, &err),
        err, "transact schema");
  check(dh.transact(conn,
                    "[{:name \"Alice\" :age 20} {:name \"Bob\" :age 30}"
                    " {:name \"Charlie\" :age 40} {:age 15}]",
                    DATAHIKE_FORMAT_EDN, &report, &err),
        err, "transact people");
  {
    const char* const want[] = {"[3 :name \"Alice\" 536870914 true]", NULL};
    expect("report", report, want, -1);
  }
  printf("report: %s\n", report);
  dh.free(report);

  check(dh.conn_db(conn, &db, &err), err, "db");
  result = people(db);
  printf("people: %s\n", result);
  {
    const char* const want[] = {"[3 \"Alice\" 20]", "[4 \"Bob\" 30]", "[5 \"Charlie\" 40]", NULL};
    expect("people", result, want, 3);
  }
  dh.free(result);
  dh.db_release(&db);

  check(dh.transact(conn, "[{:db/id 3 :age 25}]", DATAHIKE_FORMAT_EDN, NULL, &err), err,
        "transact update");
  check(dh.conn_db(conn, &db, &err), err, "db");
  result = people(db);
  printf("after the update: %s\n", result);
  {
    const char* const want[] = {"[3 \"Alice\" 25]", "[4 \"Bob\" 30]", "[5 \"Charlie\" 40]", NULL};
    expect("after the update", result, want, 3);
  }
  dh.free(result);

  check(dh.history(db, &hist, &err), err, "history");
  hist_in[0] = hist;
  check(dh.q("[:find ?a :where [?e :name \"Alice\"] [?e :age ?a]]", hist_in, 1, NULL,
             DATAHIKE_FORMAT_EDN, &result, &err),
        err, "q history");
  printf("Alice's ages in the history view: %s\n", result);
  {
    const char* const want[] = {"[20]", "[25]", NULL};
    expect("history", result, want, 2);
  }
  dh.free(result);

  dh.db_release(&hist);
  dh.db_release(&db);
  dh.release(&conn);
  check(dh.delete_database(cfg, &err), err, "delete_database");
  /* The library stays loaded until exit (no dlclose): it interns keywords for the process's life.
   */
  printf("ok\n");
  return 0;
}
