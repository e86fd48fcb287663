#!/usr/bin/env bash
# Configures and builds the engine, its tests and benchmarks once, into build/ (or $BUILD_DIR).
# BUILD_TYPE=Release by default; SANITIZE=ON builds with ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-Release}
SANITIZE=${SANITIZE:-OFF}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
  -DDATAHIKE_SANITIZE="$SANITIZE" "${launcher[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
