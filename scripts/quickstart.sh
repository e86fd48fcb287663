#!/usr/bin/env bash
# Sets up the machine, builds, and runs the quickstart (the seed example on an embedded LevelDB
# database in build/quickstart-db).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
"${BUILD_DIR:-build}/quickstart" "${BUILD_DIR:-build}/quickstart-db"
