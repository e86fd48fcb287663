// The listener trampolines of the Go binding: a C function pointer cannot point at Go code, so the
// library calls these, which call the exported Go function datahikeGoListener.
#ifndef DATAHIKE_GO_SHIM_H_
#define DATAHIKE_GO_SHIM_H_

#include <stdint.h>

#include "datahike/datahike.h"

// Registers the Go listener bridge with `handle` (a cgo.Handle) as its user pointer:
// datahike_listen_dbs when with_dbs is 1, datahike_listen otherwise.
datahike_status dhgo_listen(datahike_conn* conn, uintptr_t handle, datahike_format fmt,
                            int with_dbs, int64_t* out_key, char** out_error);

#endif  // DATAHIKE_GO_SHIM_H_
