#!/usr/bin/env bash
# Runs a command inside a private desktop session: its own D-Bus session bus, a real Secret Service
# (gnome-keyring, unlocked with a throwaway password), an Xvfb display, and throwaway XDG directories,
# so tests never touch the user's keyring, MIME associations or Kontor data.
set -euo pipefail

if [ -z "${KONTOR_IN_TEST_SESSION:-}" ]; then
  export KONTOR_IN_TEST_SESSION=1
  exec dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "$0" "$@"
fi

session_root=$(mktemp -d -t kontor-session.XXXXXX)
trap 'rm -rf "$session_root"' EXIT
export XDG_DATA_HOME="$session_root/data" XDG_CONFIG_HOME="$session_root/config" XDG_CACHE_HOME="$session_root/cache"
export KONTOR_DATA_DIR="$session_root/kontor"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
echo -n kontor-test-session | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$@"
