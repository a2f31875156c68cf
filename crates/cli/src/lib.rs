//! The parts of the `kontor` binary that are worth reaching from outside it: the parser of a JSON-lines
//! protocol answer, for the fuzz target in `fuzz/` and its corpus replay in `tests/fuzz_corpus.rs`.

pub mod answer;
