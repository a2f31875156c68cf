#!/usr/bin/env bash
# Checks the arrows between Kontor's layers (issue 10): fails when
#   - crates/core/src/store/ imports anything from sca/, sync/ or api/ (the store is a leaf), or
#   - kontor-sandbox depends on kontor-core outside [dev-dependencies] (the Demo Bank is an independent
#     implementation of the providers' contracts); skipped while KONTOR_LAYERS_ALLOW_SANDBOX_CORE=1.
#
# Usage: tests/support/check-layers.sh [ROOT]   (ROOT defaults to the checkout this script is in)
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
allow_sandbox_core=${KONTOR_LAYERS_ALLOW_SANDBOX_CORE:-0}
failed=0

store="$root/crates/core/src/store"
if [ ! -d "$store" ]; then
  echo "check-layers: $store does not exist" >&2
  exit 2
fi
# `use crate::sca…`, `crate::sync::…` in a path, `use super::super::api…`, and grouped imports such as
# `use crate::{sca, …}`; comments (`//`, `//!`, `///`) are ignored.
upward=$(grep -rnE --include='*.rs' \
  '(crate|super::super)::(sca|sync|api)\b|use crate::\{[^}]*\b(sca|sync|api)\b' "$store" \
  | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)
if [ -n "$upward" ]; then
  echo "check-layers: the store must not import sca/, sync/ or api/ (it is a leaf):" >&2
  echo "$upward" | sed "s|^$root/||" >&2
  failed=1
fi

sandbox_toml="$root/crates/sandbox/Cargo.toml"
if [ "$allow_sandbox_core" != 1 ]; then
  if [ ! -f "$sandbox_toml" ]; then
    echo "check-layers: $sandbox_toml does not exist" >&2
    exit 2
  fi
  # The sections in which kontor-core is named; only [dev-dependencies] is allowed.
  sections=$(awk '
    /^[[:space:]]*\[/ { section = $0; gsub(/[[:space:]]/, "", section) }
    /^[[:space:]]*kontor-core[[:space:]]*(\.|=)/ { print section }
    /^[[:space:]]*\[(target\.[^]]*\.)?dependencies\.kontor-core\]/ { print section }
  ' "$sandbox_toml")
  if echo "$sections" | grep -vqE '^(\[dev-dependencies\]|\[target\..*\.dev-dependencies\]|\[dev-dependencies\.kontor-core\])?$'; then
    echo "check-layers: kontor-sandbox depends on kontor-core outside [dev-dependencies]:" >&2
    echo "$sections" | sed 's/^/  in /' >&2
    failed=1
  fi
fi

if [ "$failed" = 0 ]; then
  if [ "$allow_sandbox_core" = 1 ]; then
    echo "check-layers: the store is a leaf (sandbox dependency check skipped: KONTOR_LAYERS_ALLOW_SANDBOX_CORE=1)"
  else
    echo "check-layers: the store is a leaf; kontor-sandbox uses kontor-core only in dev-dependencies"
  fi
fi
exit "$failed"
