// C helpers of the Go binding: the listener trampoline (a C function pointer cannot point at Go
// code) and the ABI functions that newer libraries add, found at run time with dlsym so that the
// binding builds and runs against a library with or without them.
#ifndef DATAHIKE_GO_SHIM_H_
#define DATAHIKE_GO_SHIM_H_

#include <stdint.h>

#include "datahike/datahike.h"

enum { DHGO_HAS_TRANSACT_DBS = 1, DHGO_HAS_DB_COPY = 2, DHGO_HAS_LISTEN_DBS = 4 };

// Looks the optional functions up; returns the DHGO_HAS_* flags of those present.
int dhgo_load(void);

// datahike_transact_dbs; only when dhgo_load reported it.
datahike_status dhgo_transact_dbs(datahike_conn* conn, const char* tx_data, datahike_format fmt,
                                  char** out_report, datahike_db** out_db_before,
                                  datahike_db** out_db_after, char** out_error);
// datahike_db_copy; only when dhgo_load reported it.
datahike_status dhgo_db_copy(const datahike_db* db, datahike_db** out, char** out_error);

// Registers the Go listener bridge with `handle` (a cgo.Handle) as its user pointer, through
// datahike_listen_dbs when the library has it (then with_dbs is set to 1), else datahike_listen.
datahike_status dhgo_listen(datahike_conn* conn, uintptr_t handle, datahike_format fmt,
                            int with_dbs, int64_t* out_key, char** out_error);

#endif  // DATAHIKE_GO_SHIM_H_
