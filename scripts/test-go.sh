#!/usr/bin/env bash
# Runs the Go binding's tests (bindings/go: API, misuse, goroutines, the shared conformance corpus)
# against an already-built libdatahike. It builds nothing in C++: build the `datahike` target first.
#
#   BUILD_DIR   the build tree holding libdatahike.so (default: build, relative to the repository)
#   DATAHIKE_SHARED_DIR   the shared folder with conformance/ (default: ../shared)
#   SKIP_RACE=1 skips the second run under the race detector
#
# Without arguments: go vet, go test, then go test -race. With arguments, only `go test ARGS ./...`
# (for example: bash scripts/test-go.sh -run Conformance -v, or -run '^$' -bench .).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in
  /*) ;;
  *) BUILD_DIR="$ROOT/$BUILD_DIR" ;;
esac
if ! ls "$BUILD_DIR"/libdatahike.so* >/dev/null 2>&1; then
  echo "test-go.sh: no libdatahike.so in $BUILD_DIR; build it first:" >&2
  echo "  cmake -S . -B $BUILD_DIR -G Ninja && cmake --build $BUILD_DIR --target datahike" >&2
  exit 1
fi
# The official tarball installs to /usr/local/go, often not on PATH in non-login shells.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
# scripts/setup.sh unpacks a Go toolchain here when the machine's Go is missing or too old.
if [ -x "$HOME/.cache/datahike/go/bin/go" ]; then
  export PATH="$HOME/.cache/datahike/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "test-go.sh: the go command is not installed (Go 1.24 or later: https://go.dev/dl/)" >&2
  exit 1
fi

# The header comes from capi/include through the package's own #cgo CFLAGS; the library from the
# build tree, found again at run time through the rpath.
export CGO_ENABLED=1
export CGO_LDFLAGS="-L$BUILD_DIR -Wl,-rpath,$BUILD_DIR ${CGO_LDFLAGS:-}"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export DATAHIKE_SHARED_DIR=${DATAHIKE_SHARED_DIR:-$ROOT/../shared}

cd "$ROOT/bindings/go"
if [ $# -gt 0 ]; then
  exec go test -count=1 "$@" ./...
fi
go vet ./...
go test -count=1 -v -run 'Conformance' . | grep -E '^(---|ok|FAIL|PASS)|conformance:|FAIL ' || true
go test -count=1 ./...
if [ "${SKIP_RACE:-0}" != 1 ]; then
  go test -count=1 -race ./...
fi
