#!/usr/bin/env bash
# The main job on its built-in default: set up, build, then start the bundled demo process,
# capture it (VA clone, threads, registers, memory map, handles, modules) and show what the
# snapshot holds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build >&2
exec build/tools/snapdump/snapdump demo "$@"
