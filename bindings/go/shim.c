// See shim.h.
#include "shim.h"

#include <stddef.h>

#include "_cgo_export.h"

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
  if (with_dbs) return datahike_listen_dbs(conn, report_and_dbs, (void*)handle, fmt, out_key, out_error);
  return datahike_listen(conn, report_only, (void*)handle, fmt, out_key, out_error);
}
