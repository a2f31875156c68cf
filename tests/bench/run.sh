#!/usr/bin/env bash
# `make bench`: runs tests/bench/run.mjs in a private desktop session (a real gnome-keyring for the vault key,
# Xvfb for the app), which writes BENCHMARKS.md. The Makefile has installed the dependencies and run
# `make bundle-deb` before this: its one release build (`tauri build`) built the app, the CLI and the benchmark
# programs of crates/bench (default members of the workspace), so nothing is compiled here and no timing below
# is mixed with compiling.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
timeout --kill-after=30s 40m tests/support/desktop-session.sh node tests/bench/run.mjs
