#!/usr/bin/env bash
# Sets up the machine, builds once, and runs every test: the GoogleTest suites and the shared
# conformance corpus (ctest), the Python, Java and Go bindings' tests (each over the library built
# here, each with the corpus), then the same C++ tests again under ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

echo "== build (Release)"
BUILD_DIR=build bash scripts/build.sh
echo "== ctest (Release)"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== conformance corpus"
build/conformance_runner --dir "${DATAHIKE_SHARED_DIR:-../shared}/conformance" \
  --expected-failures docs/conformance.md

echo "== Python package (bindings/python): the extension over build/libdatahike, pytest"
# The wheel links the library built above (no second build of the engine).
python3 -m pip install -q --disable-pip-version-check ./bindings/python \
  -C cmake.define.DATAHIKE_LIBRARY="$PWD/build/libdatahike.so.0"
python3 -m pytest bindings/python/tests -q -p no:cacheprovider

echo "== Java binding (bindings/java): JNI wrapper over libdatahike, JUnit (mvn)"
BUILD_DIR=build bash scripts/test-java.sh

echo "== Go binding (bindings/go): go vet, go test, go test -race"
BUILD_DIR=build bash scripts/test-go.sh

if [ "${SKIP_SANITIZE:-0}" != "1" ]; then
  echo "== build and ctest under ASan+UBSan"
  BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo SANITIZE=ON bash scripts/build.sh
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
fi
echo "== all tests passed"
