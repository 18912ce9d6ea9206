#!/usr/bin/env bash
# The whole test suite: set up, build a normal and an ASan+UBSan tree, run every test in both.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase is announced with the seconds spent so far, so a slow CI run shows where its time went.
started=$SECONDS
phase() { echo "== $1 (at $((SECONDS - started)) s) =="; }
phase "setup and the normal tree"
scripts/setup.sh build
phase "the sanitized tree"
# The sanitized tree is compiled as AddressSanitizer advises, -O1 with line tables (-g1): its
# reports name file:line. It is built with Clang 14 (setup.sh installs it): a second compiler
# sees what GCC does not; it builds the tree in about half the time GCC 12 takes with the
# sanitizers on (5.8 against 10.7 min on CI's 2 cores); and the libFuzzer targets, which only
# Clang has, are built in the same tree instead of a third copy of the library. The test
# targets keep their own -g -O1 (tests/targets).
sanitized_flags=(-DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG")
CC=clang-14 CXX=clang++-14 scripts/setup.sh build-asan -DSNAPDUMP_SANITIZE=ON -DSNAPDUMP_BENCH=OFF "${sanitized_flags[@]}"
# Tests measure the target's pause from inside it, so they run one at a time: a parallel test
# would steal the CPU the target's heartbeat needs and blur what it sees.
status=0
phase "tests (RelWithDebInfo)"
ctest --test-dir build --output-on-failure --timeout 600 || status=1
phase "tests (ASan+UBSan)"
# The kill stress test runs its hundreds of kills per mode in the normal tree; here a few dozen
# check that the sanitized tracer and library hold the same promises.
SNAPDUMP_STRESS_KILLS=30 \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --timeout 900 || status=1
# The libFuzzer targets (tests/fuzz), built in the sanitized tree, 30 seconds each: reader_fuzz
# (the minidump reader) and printer_fuzz (the CLI's text and JSON printers with hostile names
# and dumps). Seeded with the dumps the reader's and the printers' unit tests build byte by byte;
# printer_fuzz keeps its new inputs apart and reads the reader's seeds too.
fuzz_dir=build-asan/tests/fuzz
# run_fuzzer NAME CORPUS [MORE CORPORA...]
run_fuzzer() {
  local name=$1
  shift
  mkdir -p "$1"
  echo "== fuzz ($name, 30 s) =="
  $fuzz_dir/$name -max_total_time=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix=$fuzz_dir/$name- "$@" 2>$fuzz_dir/$name.log ||
    { echo "fuzz: $name FAILED, crash input in $fuzz_dir/, log:"; tail -40 $fuzz_dir/$name.log; status=1; }
  grep -E "^Done|stat::number_of_executed_units" $fuzz_dir/$name.log || true
}
phase "fuzzers"
fuzz_corpus=$fuzz_dir/reader-corpus
if [[ -x $fuzz_dir/reader_fuzz && -x $fuzz_dir/printer_fuzz ]] &&
   SNAPDUMP_FUZZ_SEEDS=$fuzz_corpus build/tests/snapdump_unit_tests --gtest_filter='Reader*:ReportPrinting*' \
     --gtest_brief=1 >/dev/null; then
  echo "fuzz: $(ls "$fuzz_corpus" | wc -l) seed inputs in $fuzz_corpus"
  run_fuzzer reader_fuzz "$fuzz_corpus"
  run_fuzzer printer_fuzz $fuzz_dir/printer-corpus "$fuzz_corpus"
else
  echo "fuzz: the sanitized tree has no fuzzers, or their seeds could not be written"
  status=1
fi
phase "done"
exit $status
