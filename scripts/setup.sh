#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine. Idempotent: a second run only
# checks. Called by scripts/quickstart.sh, scripts/test.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_pkgs=(build-essential cmake ninja-build ccache pkg-config
          libleveldb-dev nlohmann-json3-dev libgtest-dev googletest swig)
# node and npm may come from elsewhere (the machine image ships them); Debian's only when absent.
command -v node >/dev/null || apt_pkgs+=(nodejs)
command -v npm >/dev/null || apt_pkgs+=(npm)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The DataScript peer for the side-by-side benchmarks (npm, pinned).
if [ ! -d bench/peer/node_modules/datascript ]; then
  mkdir -p bench/peer
  (cd bench/peer && npm install --silent --no-audit --no-fund datascript@1.8.1 >/dev/null)
fi
# pytest for the Python package's tests (its build requirements, scikit-build-core and pybind11,
# come from bindings/python/pyproject.toml when pip builds it).
python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install -q --disable-pip-version-check pytest
echo "setup: ok"
