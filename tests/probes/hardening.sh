#!/usr/bin/env bash
# Re-measures the hardening probes of issue 12 against the `kontor` CLI (see tests/probes/README.md).
#
# Runs itself inside tests/support/desktop-session.sh (a private D-Bus, gnome-keyring and Xvfb), so the
# vaults it makes keep their key in a throwaway keyring and the user's keyring is never touched; then runs
# hardening.py, which prints the table `| probe | tried | held | failed |` and the details of each failure.
#
#   tests/probes/hardening.sh                 # all probes
#   tests/probes/hardening.sh firststart tan  # some probes (names: see hardening.py --help)
#
# KONTOR_BIN picks the binary (default target/debug/kontor, built with `cargo build -p kontor-cli`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ -z "${KONTOR_TEST_SESSION:-}" ]; then
  exec "$repo/tests/support/desktop-session.sh" "$0" "$@"
fi

export KONTOR_BIN="${KONTOR_BIN:-$repo/target/debug/kontor}"
if [ ! -x "$KONTOR_BIN" ]; then
  echo "no kontor binary at $KONTOR_BIN; build it with: cargo build -p kontor-cli" >&2
  exit 2
fi
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 2; }
exec python3 "$here/hardening.py" "$@"
