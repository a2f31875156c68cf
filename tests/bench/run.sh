#!/usr/bin/env bash
# `make bench`: builds what the benchmarks measure (release CLI and app, the .deb), then runs tests/bench/run.mjs
# in a private desktop session (a real gnome-keyring for the vault key, Xvfb for the app) and writes BENCHMARKS.md.
# The Makefile has installed the dependencies and built the .deb (make bundle-deb) before this runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
start=$(date +%s)
# The benchmarks are release builds too (the bench profile inherits [profile.release]); build them now so the
# timings below are not mixed with compiling.
cargo bench -p kontor-core --no-run
echo "bench: built in $(( $(date +%s) - start )) s (with the release build before it, see make's output)" >&2
timeout --kill-after=30s 40m tests/support/desktop-session.sh node tests/bench/run.mjs
