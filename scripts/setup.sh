#!/usr/bin/env bash
# Installs what is missing on Debian 12 (as root, or through sudo), then configures and builds
# snapdump into build/ (or the directory given as $1, with extra CMake arguments after it).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config git libcli11-dev libfmt-dev
          nlohmann-json3-dev libzstd-dev libgtest-dev libgmock-dev libbenchmark-dev binutils
          clang-14 libclang-rt-14-dev lldb-16)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# Breakpad's minidump_stackwalk and minidump_dump for the tests (tests/support/external_readers),
# prebuilt in the npm package minidump, go into the git-ignored node_modules/ without a
# package.json or package-lock.json. --ignore-scripts: its install script would download.
if [[ ! -x node_modules/minidump/bin/linux-x64/minidump_stackwalk ]]; then
  if ! command -v npm >/dev/null; then
    echo "setup: installing nodejs npm" >&2
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
      nodejs npm >/dev/null
  fi
  echo "setup: installing minidump@0.26.0 into node_modules/" >&2
  npm install --ignore-scripts --no-audit --no-fund --no-save --no-package-lock --loglevel=error \
    --prefix "$PWD" minidump@0.26.0 >/dev/null </dev/null
fi

build_dir=${1:-build}
shift || true
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
