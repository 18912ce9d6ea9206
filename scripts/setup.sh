#!/usr/bin/env bash
# Installs what is missing on Debian 12 (as root, or through sudo), then configures and builds
# snapdump.
#
#   scripts/setup.sh [BUILD_DIR [CMAKE ARGUMENTS...]]         everything: the library, the command,
#                                                             the tests, benchmarks and examples,
#                                                             with the tools the tests run
#   scripts/setup.sh --demo [BUILD_DIR [CMAKE ARGUMENTS...]]  only what the command needs to run
#                                                             (scripts/demo.sh): its build packages,
#                                                             and the CMake target snapdump, which
#                                                             brings the programs the command runs
# BUILD_DIR defaults to build/. A tree first set up with --demo becomes a whole one the next time
# it is set up without; a whole tree set up with --demo stays whole.
set -euo pipefail
cd "$(dirname "$0")/.."

demo=0
if [[ ${1-} == --demo ]]; then
  demo=1
  shift
fi

# What building the library and the command takes, and what only the tests, benchmarks and
# fuzzing take (lldb-16 and Breakpad's tools read the dumps back, gdb and elfutils the ELF cores;
# clang-14 builds the fuzzer; python3, nodejs and a headless JDK run the real programs of
# tests/real_programs).
# `snapdump stacks` unwinds with elfutils' libdw (found through pkg-config), which loads
# libdebuginfod1 at run time when DEBUGINFOD_URLS is set; its tests run a real debuginfod server
# and its benchmark compares with eu-stack (elfutils) and gdb.
build_packages=(build-essential cmake pkg-config libcli11-dev libfmt-dev nlohmann-json3-dev libdw-dev
                libdebuginfod1)
test_packages=(git libzstd-dev libgtest-dev libgmock-dev libbenchmark-dev binutils
               clang-14 libclang-rt-14-dev lldb-16 elfutils debuginfod gdb python3 nodejs
               openjdk-17-jdk-headless)
packages=("${build_packages[@]}")
((demo)) || packages+=("${test_packages[@]}")

sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
apt_install() {
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  # Slim Debian images leave out /usr/share/man, where the JDK's postinst links its man pages.
  [[ " ${missing[*]} " == *" openjdk-17-jdk-headless "* ]] && "${sudo_cmd[@]}" mkdir -p /usr/share/man/man1
  apt_install "${missing[@]}"
fi

# Breakpad's minidump_stackwalk and minidump_dump for the tests (tests/support/external_readers),
# prebuilt in the npm package minidump, go into the git-ignored node_modules/ without a
# package.json or package-lock.json. --ignore-scripts: its install script would download.
if ((!demo)) && [[ ! -x node_modules/minidump/bin/linux-x64/minidump_stackwalk ]]; then
  if ! command -v npm >/dev/null; then
    echo "setup: installing nodejs npm" >&2
    apt_install nodejs npm
  fi
  echo "setup: installing minidump@0.26.0 into node_modules/" >&2
  npm install --ignore-scripts --no-audit --no-fund --no-save --no-package-lock --loglevel=error \
    --prefix "$PWD" minidump@0.26.0 >/dev/null </dev/null
fi

build_dir=${1:-build}
shift || true
if ((demo)); then
  # A new tree leaves the tests out (their packages may be missing); a tree already set up whole
  # stays whole, so `ctest` still finds its tests after a demo.
  tests=()
  [[ -f $build_dir/CMakeCache.txt ]] || tests=(-DSNAPDUMP_TESTS=OFF)
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${tests[@]}" "$@" >/dev/null
  cmake --build "$build_dir" -j "$(nproc)" --target snapdump
else
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNAPDUMP_TESTS=ON "$@" >/dev/null
  cmake --build "$build_dir" -j "$(nproc)"
fi
