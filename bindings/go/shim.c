// See shim.h.
#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>
#include <stddef.h>

#include "_cgo_export.h"

typedef void (*dhgo_db_listener)(const char* report, const datahike_db* db_before,
                                 const datahike_db* db_after, void* user);
typedef datahike_status (*dhgo_transact_dbs_fn)(datahike_conn*, const char*, datahike_format,
                                                char**, datahike_db**, datahike_db**, char**);
typedef datahike_status (*dhgo_db_copy_fn)(const datahike_db*, datahike_db**, char**);
typedef datahike_status (*dhgo_listen_dbs_fn)(datahike_conn*, dhgo_db_listener, void*,
                                              datahike_format, int64_t*, char**);

static dhgo_transact_dbs_fn transact_dbs;
static dhgo_db_copy_fn db_copy;
static dhgo_listen_dbs_fn listen_dbs;

int dhgo_load(void) {
  transact_dbs = (dhgo_transact_dbs_fn)dlsym(RTLD_DEFAULT, "datahike_transact_dbs");
  db_copy = (dhgo_db_copy_fn)dlsym(RTLD_DEFAULT, "datahike_db_copy");
  listen_dbs = (dhgo_listen_dbs_fn)dlsym(RTLD_DEFAULT, "datahike_listen_dbs");
  return (transact_dbs ? DHGO_HAS_TRANSACT_DBS : 0) | (db_copy ? DHGO_HAS_DB_COPY : 0) |
         (listen_dbs && db_copy ? DHGO_HAS_LISTEN_DBS : 0);
}

datahike_status dhgo_transact_dbs(datahike_conn* conn, const char* tx_data, datahike_format fmt,
                                  char** out_report, datahike_db** out_db_before,
                                  datahike_db** out_db_after, char** out_error) {
  return transact_dbs(conn, tx_data, fmt, out_report, out_db_before, out_db_after, out_error);
}

datahike_status dhgo_db_copy(const datahike_db* db, datahike_db** out, char** out_error) {
  return db_copy(db, out, out_error);
}

static void report_only(const char* report, void* user) {
  datahikeGoListener((char*)report, NULL, NULL, (uintptr_t)user);
}

static void report_and_dbs(const char* report, const datahike_db* db_before,
                           const datahike_db* db_after, void* user) {
  datahikeGoListener((char*)report, (datahike_db*)db_before, (datahike_db*)db_after,
                     (uintptr_t)user);
}

datahike_status dhgo_listen(datahike_conn* conn, uintptr_t handle, datahike_format fmt,
                            int with_dbs, int64_t* out_key, char** out_error) {
  if (with_dbs && listen_dbs && db_copy) {
    return listen_dbs(conn, report_and_dbs, (void*)handle, fmt, out_key, out_error);
  }
  return datahike_listen(conn, report_only, (void*)handle, fmt, out_key, out_error);
}
