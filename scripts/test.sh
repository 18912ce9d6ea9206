#!/usr/bin/env bash
# The whole test suite: set up, build a normal and an ASan+UBSan tree, run every test in both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
scripts/setup.sh build-asan -DSNAPDUMP_SANITIZE=ON -DSNAPDUMP_BENCH=OFF
# Tests measure the target's pause from inside it, so they run one at a time: a parallel test
# would steal the CPU the target's heartbeat needs and blur what it sees.
status=0
echo "== tests (RelWithDebInfo) =="
ctest --test-dir build --output-on-failure --timeout 600 || status=1
echo "== tests (ASan+UBSan) =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --timeout 900 || status=1
exit $status
