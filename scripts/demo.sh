#!/usr/bin/env bash
# The main job on its built-in default: set up (the packages the build needs; no test tools),
# build the command and the programs it runs (not the tests), then start the bundled demo
# process, capture it (VA clone, threads, registers, memory map, handles, modules) and show what
# the snapshot holds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --demo build >&2
exec build/tools/snapdump/snapdump demo "$@"
