//! The CLI's answer parser (`kontor --json`: one JSON answer a line on stdin). Shared by the fuzz target
//! `fuzz/fuzz_targets/answer.rs` and the corpus replay in `crates/cli/tests/fuzz_corpus.rs`.
//!
//! Properties: no panic; anything that is not an answer is `InvalidInput` (so the CLI asks again); an accepted
//! answer is of the `kind` the line named, and a callback carries exactly the line's `url`.

use kontor_cli::answer::{Reply, parse_json_answer};
use kontor_core::ErrorCode;

pub fn check(data: &[u8]) {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let json: Option<serde_json::Value> = serde_json::from_str(line).ok();
    let kind = json.as_ref().and_then(|j| j.get("kind")).and_then(serde_json::Value::as_str);
    match parse_json_answer(line) {
        Ok(Reply::Cancel) => assert_eq!(kind, Some("cancel"), "{line:?}"),
        Ok(Reply::Callback(url)) => {
            assert_eq!(kind, Some("callback"), "{line:?}");
            let said = json.as_ref().and_then(|j| j.get("url")).and_then(serde_json::Value::as_str);
            assert_eq!(said, Some(url.as_str()), "{line:?}");
        }
        Ok(Reply::Answer(answer)) => assert_eq!(kind, Some(answer.kind()), "{line:?} read as {}", answer.kind()),
        Err(error) => assert_eq!(error.code, ErrorCode::InvalidInput, "{line:?} refused with {error:?}"),
    }
}
