#!/usr/bin/env bash
# bench/run.sh - speed and memory of amidl against the reference widl 11.12,
# measured in the same run on the same files. Prints ratios, never asserts.
set -u
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
exec python3 bench/bench.py "$SHARED"
