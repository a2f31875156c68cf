#!/usr/bin/env bash
# Runs a command inside a private desktop session: its own D-Bus session bus, a real Secret Service
# (gnome-keyring, unlocked with a throwaway password), an Xvfb display, and throwaway XDG directories,
# so tests never touch the user's keyring, MIME associations or Kontor data.
#
# Nothing the session starts outlives it. Every process in it inherits the marker KONTOR_TEST_SESSION; when
# the command ends, the session ends its gnome-keyring, and then anything else still carrying the marker
# (an app, a driver, a server a test forgot) is reported, ended, and fails the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${KONTOR_TEST_SESSION:-}" ]; then
  KONTOR_TEST_SESSION="$$-$(date +%s%N)"
  export KONTOR_TEST_SESSION
  sweep() { node "$here/leftovers.mjs" --marker "KONTOR_TEST_SESSION=$KONTOR_TEST_SESSION"; }
  # Stopped from outside (Ctrl-C, or `timeout` ending a stuck run), the session still ends what it started.
  trap 'sweep; exit 143' TERM
  trap 'sweep; exit 130' INT
  status=0
  dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "$0" "$@" &
  wait $! || status=$?
  sweep || status=1
  exit "$status"
fi

session_root=$(mktemp -d -t kontor-session.XXXXXX)
end_session() {
  local status=$?
  # D-Bus-activated session services (accessibility bus, dconf) end with the bus; the keyring daemon
  # forked itself away from us, so it is ended here.
  local pid
  for pid in $(pgrep -x gnome-keyring-d || true); do
    if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "KONTOR_TEST_SESSION=$KONTOR_TEST_SESSION"; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  node "$here/leftovers.mjs" --marker "KONTOR_TEST_SESSION=$KONTOR_TEST_SESSION" \
    --spare Xvfb,xvfb-run,dbus-daemon,dbus-run-session,gnome-keyring-d,at-spi-bus-laun,at-spi2-registr,dconf-service \
    || status=1
  rm -rf "$session_root"
  exit "$status"
}
trap end_session EXIT
export XDG_DATA_HOME="$session_root/data" XDG_CONFIG_HOME="$session_root/config" XDG_CACHE_HOME="$session_root/cache"
export KONTOR_DATA_DIR="$session_root/kontor"
# A bank page the app opens goes to a "browser" that accepts it and ends, never to a browser installed here.
export BROWSER=true
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
echo -n kontor-test-session | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$@"
