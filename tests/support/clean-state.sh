#!/usr/bin/env bash
# `make test` leaves the checkout and the machine as it found them.
#
#   clean-state.sh snapshot FILE   records the checkout's state (tracked changes and untracked files)
#   clean-state.sh check FILE      fails if the run changed the checkout since the snapshot, or left any
#                                  process carrying the run's marker KONTOR_TEST_RUN (ending those it finds)
#
# Build output is ignored by .gitignore and does not count; anything else the run wrote or changed does.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

state() {
  if ! git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "(not a git checkout)"
    return
  fi
  git -C "$root" status --porcelain=v1 --untracked-files=all
  git -C "$root" diff --binary HEAD | sha256sum
}

case "${1:-}" in
  snapshot)
    mkdir -p "$(dirname "$2")"
    state >"$2"
    ;;
  check)
    status=0
    if ! diff -u --label "before make test" --label "after make test" "$2" <(state) >&2; then
      echo "make test changed the checkout (see the diff above): tests must write only to ignored or temporary paths." >&2
      status=1
    fi
    if [ -n "${KONTOR_TEST_RUN:-}" ]; then
      node "$here/leftovers.mjs" --marker "KONTOR_TEST_RUN=$KONTOR_TEST_RUN" || status=1
    fi
    if [ "$status" = 0 ]; then echo "clean state: the checkout is unchanged and no process of the run is left."; fi
    exit "$status"
    ;;
  *)
    echo "usage: $0 snapshot FILE | check FILE" >&2
    exit 2
    ;;
esac
