//! `ui/src/bindings.ts` must be what the Rust transport types generate.

use std::path::PathBuf;

#[test]
fn bindings_are_fresh() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings.ts");
    let expected = kontor_core::api::bindings::typescript();
    if std::env::var_os("KONTOR_UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &expected).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "ui/src/bindings.ts is stale: run `make bindings` (KONTOR_UPDATE_BINDINGS=1 cargo test -p kontor-core --test bindings) and commit it"
    );
}

/// Two branches may each list the same type; the generated file must still declare it once.
#[test]
fn each_type_is_declared_once() {
    let generated = kontor_core::api::bindings::typescript();
    let mut seen = std::collections::BTreeSet::new();
    for line in generated.lines() {
        if let Some(name) = line.strip_prefix("export type ").and_then(|rest| rest.split([' ', '<', '=']).next()) {
            assert!(
                seen.insert(name.to_owned()),
                "ui/src/bindings.ts declares {name} twice: list it once in api/bindings.rs"
            );
        }
    }
    assert!(seen.len() > 10, "no declarations found in the generated bindings");
}
