#!/usr/bin/env bash
# Installs a built tree into a fresh prefix and builds a program outside the tree against it,
# every way a user would: pkg-config and find_package, each with the shared and the static
# library. Each program then dumps a process and reads the dump back; the installed snapdump
# command runs its demo from the installed tree.
# usage: run.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in include/snapdump/snapshot.h include/snapdump/minidump.h include/snapdump/format/structs.h \
         include/snapdump/win/windows.h include/snapdump/win/processsnapshot.h include/snapdump/win/DbgHelp.h \
         lib/libsnapdump.a lib/libsnapdump.so lib/libsnapdump_wmain.a lib/pkgconfig/snapdump.pc lib/pkgconfig/snapdump-win.pc \
         lib/cmake/snapdump/snapdumpConfig.cmake bin/snapdump libexec/snapdump/snapdump_target \
         libexec/snapdump/snapdump-tracer; do
  [[ -e $prefix/$f ]] || { echo "FAIL: $prefix/$f was not installed"; exit 1; }
done

# Every capture runs in the tracer process. The build tree's is hidden while the installed
# programs run, so they prove they find the installed one: the shared library and the command
# next to themselves (../libexec/snapdump/), a program linked statically where
# SNAPDUMP_TRACER_PATH says (it has no library file to look beside, and this prefix is not the
# one the build was configured for).
built_tracer=$build/libexec/snapdump/snapdump-tracer
chmod a-x "$built_tracer"
trap 'chmod a+x "$built_tracer"' EXIT

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
check() {  # check NAME BINARY: runs it, expects one thread, no problems, and how it links
  local name=$1 binary=$2 out
  if [[ $name == *static* ]]; then
    out=$("$binary" "$work/$name.dmp" 2>&1 || true)
    [[ $out == *"snapdump-tracer) was not found"*"SNAPDUMP_TRACER_PATH"* ]] ||
      { echo "FAIL: $name without the tracer: $out"; exit 1; }
    out=$(SNAPDUMP_TRACER_PATH=$prefix/libexec/snapdump/snapdump-tracer "$binary" "$work/$name.dmp")
  else
    out=$("$binary" "$work/$name.dmp")
  fi
  echo "$name: $out"
  [[ $out == *"threads=1 "* && $out == *"problems=0"* && $out != *"modules=0 "* ]] ||
    { echo "FAIL: $name read back the wrong dump"; exit 1; }
  local libs
  libs=$(ldd "$binary")
  if [[ $name == *static* ]]; then
    [[ $libs != *libsnapdump* ]] || { echo "FAIL: $name needs libsnapdump.so"; exit 1; }
  else
    [[ $libs == *"libsnapdump.so.0 => $prefix/lib/libsnapdump.so.0"* ]] ||
      { echo "FAIL: $name does not use the installed libsnapdump.so"; echo "$libs"; exit 1; }
  fi
}

# pkg-config
g++ -std=c++20 "$here/consumer/consumer.cpp" $(pkg-config --cflags --libs snapdump) -Wl,-rpath,"$prefix/lib" \
  -o "$work/pkgconfig-shared"
check pkgconfig-shared "$work/pkgconfig-shared"
g++ -std=c++20 "$here/consumer/consumer.cpp" $(pkg-config --cflags snapdump) \
  $(pkg-config --static --libs snapdump | sed 's/-lsnapdump\b/-l:libsnapdump.a/') -o "$work/pkgconfig-static"
check pkgconfig-static "$work/pkgconfig-static"

# find_package
for link in snapdump snapdump_static; do
  cmake -S "$here/consumer" -B "$work/cmake-$link" -DCMAKE_PREFIX_PATH="$prefix" -DSNAPDUMP_LINK=$link >"$work/cmake-$link.log"
  cmake --build "$work/cmake-$link" >>"$work/cmake-$link.log"
  name=cmake-shared
  [[ $link == snapdump_static ]] && name=cmake-static
  check $name "$work/cmake-$link/consumer"
done

# The Windows-compatible API: C programs written for Windows find <windows.h> through
# snapdump-win, shared and static; each runs (a PID that does not exist: ERROR_INVALID_PARAMETER).
for link in shared static; do
  if [[ $link == shared ]]; then
    flags=$(pkg-config --cflags --libs snapdump-win)
  else
    flags="$(pkg-config --cflags snapdump-win) $(pkg-config --static --libs snapdump-win | sed 's/-lsnapdump\b/-l:libsnapdump.a/')"
  fi
  gcc -std=c11 -Wall -Wextra -Werror "$here/../../examples/seed_snapshot_dump.c" $flags -Wl,-rpath,"$prefix/lib" \
    -o "$work/win-$link"
  out=$("$work/win-$link" 999999999 "$work/win.dmp" 2>&1 || true)
  [[ $out == *"OpenProcess(999999999) failed: 87"* ]] || { echo "FAIL: win-$link: $out"; exit 1; }
  echo "win-$link: ok"
  # Microsoft's sample shape: only `int __cdecl wmain(int argc, wchar_t* argv[])`; its main comes
  # from libsnapdump_wmain.a, and it prints its arguments' code points and exits with argc.
  gcc -std=c11 -Wall -Wextra -Werror "$here/../win/wmain_sample.c" $flags -Wl,-rpath,"$prefix/lib" \
    -o "$work/wmain-$link"
  status=0
  out=$("$work/wmain-$link" $'caf\xc3\xa9') || status=$?
  [[ $status == 2 && $out == "63 61 66 e9" ]] || { echo "FAIL: wmain-$link: exit $status: $out"; exit 1; }
  echo "wmain-$link: ok"
done

# The installed command, with the demo process from the installed libexec.
out=$("$prefix/bin/snapdump" demo)
[[ $out == *"Started the demo process"*"$prefix/libexec/snapdump/snapdump_target"* ]] ||
  { echo "FAIL: installed snapdump demo"; echo "$out"; exit 1; }
echo "installed snapdump demo: ok"
echo "PASS"
