#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine. Idempotent: a second run only
# checks. Called by scripts/quickstart.sh, scripts/test.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_pkgs=(build-essential cmake ninja-build ccache pkg-config
          libleveldb-dev nlohmann-json3-dev libgtest-dev googletest swig)
# node, npm, a JDK and Maven may come from elsewhere (the machine image ships them); Debian's only
# when absent.
command -v node >/dev/null || apt_pkgs+=(nodejs)
command -v npm >/dev/null || apt_pkgs+=(npm)
command -v javac >/dev/null || apt_pkgs+=(default-jdk-headless)
command -v mvn >/dev/null || apt_pkgs+=(maven)
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
# Go 1.24 or later for bindings/go (Debian 12's golang-go is older): the machine's own Go when it
# is new enough, else the toolchain the Go module proxy serves, unpacked under ~/.cache
# (scripts/test-go.sh looks there too).
go_ok() {
  local v
  v=$("$1" env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  [ "${v%%.*}" -gt 1 ] || { local minor=${v#*.}; [ "${minor%%.*}" -ge 24 ]; }
}
go_bin=$(command -v go || echo /usr/local/go/bin/go)
if ! go_ok "$go_bin" && ! go_ok "$HOME/.cache/datahike/go/bin/go"; then
  echo "setup: fetching the Go 1.24.4 toolchain from the Go module proxy"
  command -v unzip >/dev/null || { SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo;
    $SUDO apt-get install -y -qq unzip >/dev/null; }
  tmp=$(mktemp -d)
  curl -fsSL -o "$tmp/go.zip" \
    https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.24.4.linux-amd64.zip
  unzip -q "$tmp/go.zip" -d "$tmp"
  mkdir -p "$HOME/.cache/datahike"
  rm -rf "$HOME/.cache/datahike/go"
  mv "$tmp/golang.org/toolchain@v0.0.1-go1.24.4.linux-amd64" "$HOME/.cache/datahike/go"
  chmod +x "$HOME/.cache/datahike/go/bin/"* "$HOME/.cache/datahike/go/pkg/tool/"*/* 2>/dev/null || true
  rm -rf "$tmp"
fi
# pytest for the Python package's tests (its build requirements, scikit-build-core and pybind11,
# come from bindings/python/pyproject.toml when pip builds it).
python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install -q --disable-pip-version-check pytest
echo "setup: ok"
