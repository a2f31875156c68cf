#!/usr/bin/env bash
# Runs check-layers.sh against small trees in a temporary directory: a good one passes, and each
# deliberately bad one fails. Leaves nothing behind.
set -euo pipefail

check="$(cd "$(dirname "$0")" && pwd)/check-layers.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tree() { # name -> a fresh good tree at $tmp/name
  local t="$tmp/$1"
  mkdir -p "$t/crates/core/src/store" "$t/crates/sandbox"
  printf '//! Store. Not `crate::sync` (a comment).\nuse crate::domain::Account;\nuse super::rows;\n' >"$t/crates/core/src/store/mod.rs"
  printf '[package]\nname = "kontor-sandbox"\n\n[dependencies]\naxum.workspace = true\n\n[dev-dependencies]\nkontor-core.workspace = true\n' \
    >"$t/crates/sandbox/Cargo.toml"
  echo "$t"
}

expect() { # outcome description allow root
  local want=$1 what=$2 allow=$3 root=$4 got=0
  KONTOR_LAYERS_ALLOW_SANDBOX_CORE=$allow "$check" "$root" >/dev/null 2>&1 || got=$?
  if { [ "$want" = pass ] && [ "$got" != 0 ]; } || { [ "$want" = fail ] && [ "$got" != 1 ]; }; then
    echo "check-layers self-test: expected $want for $what (exit $got)" >&2
    exit 1
  fi
}

good=$(tree good)
expect pass "a good tree" 0 "$good"

t=$(tree store-sca); echo 'use crate::sca::Flow;' >>"$t/crates/core/src/store/mod.rs"
expect fail "the store importing sca" 0 "$t"
t=$(tree store-sync); printf 'fn f(p: &crate::sync::Plan) {}\n' >"$t/crates/core/src/store/queries.rs"
expect fail "the store naming sync in a path" 1 "$t"
t=$(tree store-api); echo 'use crate::{domain, api::Kontor};' >>"$t/crates/core/src/store/mod.rs"
expect fail "the store importing api in a group" 1 "$t"

t=$(tree sandbox-core)
printf '[package]\nname = "kontor-sandbox"\n\n[dependencies]\nkontor-core.workspace = true\n' >"$t/crates/sandbox/Cargo.toml"
expect fail "kontor-sandbox depending on kontor-core" 0 "$t"
expect pass "kontor-sandbox depending on kontor-core while allowed" 1 "$t"
t=$(tree sandbox-core-table)
printf '[package]\nname = "kontor-sandbox"\n\n[dependencies.kontor-core]\npath = "../core"\n' >"$t/crates/sandbox/Cargo.toml"
expect fail "kontor-sandbox depending on kontor-core as a table" 0 "$t"

echo "check-layers self-test: 7 cases as expected"
