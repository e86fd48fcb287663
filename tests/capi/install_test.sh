#!/usr/bin/env bash
# Installs libdatahike from a build tree into a scratch prefix, then builds against the installed
# copy as a user would: the C example with pkg-config, and a C program with find_package(datahike).
# Usage: install_test.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR
set -euo pipefail
build=$1 src=$2 scratch=$3
rm -rf "$scratch"
mkdir -p "$scratch"
prefix=$scratch/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name datahike.pc)")/..
test -L "$libdir/libdatahike.so" && test -L "$libdir/libdatahike.so.0"
test -f "$libdir/libdatahike.so.0.1.0"
test -f "$prefix/include/datahike/datahike.h"

# pkg-config: the README's commands.
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name datahike.pc)")
test "$(pkg-config --modversion datahike)" = 0.1.0
cc -std=c11 -Wall -Wextra -pedantic "$src/examples/c/seed.c" $(pkg-config --cflags datahike) \
   -ldl -o "$scratch/seed"
"$scratch/seed" "$(pkg-config --variable=libdir datahike)/libdatahike.so.0"
# Linked at build time instead of loaded: --libs, and the library found through the rpath.
cc -std=c11 -Wall -Wextra -pedantic "$src/tests/capi/header_c_test.c" \
   $(pkg-config --cflags --libs datahike) \
   -Wl,-rpath,"$(pkg-config --variable=libdir datahike)" -o "$scratch/header_c_test"
"$scratch/header_c_test"

# find_package(datahike) with the datahike::datahike target.
cmake -S "$src/tests/capi/consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_RPATH="$(pkg-config --variable=libdir datahike)" >/dev/null
cmake --build "$scratch/consumer" >/dev/null
"$scratch/consumer/consumer"
echo "install test: pkg-config and find_package(datahike) builds work"
