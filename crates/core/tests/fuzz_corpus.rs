//! Replays the fuzz corpus (`fuzz/corpus/<target>/`, kept minimised by `make fuzz`) on stable: every file through
//! the same check as the cargo-fuzz target (`fuzz/harness/<target>.rs`), with the same assertions. A missing or
//! empty corpus directory fails the test.

#[path = "../../../fuzz/harness/tan.rs"]
mod tan;

#[path = "../../../fuzz/harness/provider.rs"]
mod provider;

#[path = "../../../fuzz/harness/callback.rs"]
mod callback;

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("no corpus at {}: {err}", dir.display()));
    let mut files: Vec<PathBuf> =
        entries.filter_map(|entry| entry.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus at {} is empty", dir.display());
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "fuzz_corpus {target}: {} failed the check", file.display());
    }
    println!("fuzz_corpus {target}: {} inputs", files.len());
}

#[test]
fn tan_corpus() {
    replay("tan", tan::check);
}

#[test]
fn provider_corpus() {
    replay("provider", provider::check);
}

#[test]
fn callback_corpus() {
    replay("callback", callback::check);
}
