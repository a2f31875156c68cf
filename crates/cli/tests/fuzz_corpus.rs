//! Replays the fuzz corpus of the CLI's answer parser (`fuzz/corpus/answer/`) on stable, through the same check
//! as the cargo-fuzz target (`fuzz/harness/answer.rs`). A missing or empty corpus directory fails the test.

#[path = "../../../fuzz/harness/answer.rs"]
mod answer;

use std::path::PathBuf;

#[test]
fn answer_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/answer");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("no corpus at {}: {err}", dir.display()));
    let mut files: Vec<PathBuf> =
        entries.filter_map(|entry| entry.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus at {} is empty", dir.display());
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        let outcome = std::panic::catch_unwind(|| answer::check(&data));
        assert!(outcome.is_ok(), "fuzz_corpus answer: {} failed the check", file.display());
    }
    println!("fuzz_corpus answer: {} inputs", files.len());
}
