//! One answer line of the JSON-lines protocol (`--json`): what the program sends back to a request.

use kontor_core::KontorError;
use kontor_core::sca::UserAnswer;

/// What a reply to a request does.
#[derive(Debug)]
pub enum Reply {
    Answer(UserAnswer),
    /// A redirect came back (pasted, sent as a JSON `callback` answer, or caught by the loopback listener).
    Callback(String),
    Cancel,
}

/// Reads one answer line; anything that is not a known answer is `InvalidInput` with a message saying why.
pub fn parse_json_answer(line: &str) -> Result<Reply, KontorError> {
    let value: serde_json::Value = serde_json::from_str(line)
        .map_err(|err| KontorError::invalid_input(format!("The answer is not JSON: {err}.")))?;
    let kind = value.get("kind").and_then(serde_json::Value::as_str).unwrap_or_default();
    match kind {
        "cancel" => Ok(Reply::Cancel),
        "callback" => value
            .get("url")
            .and_then(serde_json::Value::as_str)
            .map(|url| Reply::Callback(url.to_owned()))
            .ok_or_else(|| KontorError::invalid_input("A callback answer needs the \"url\" the bank redirected to.")),
        _ => serde_json::from_value::<UserAnswer>(value).map(Reply::Answer).map_err(|err| {
            KontorError::invalid_input(format!(
                "The answer does not fit (kind credentials, accounts, procedure, tan, continue, callback or cancel): {err}."
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_answers_parse() {
        assert!(matches!(parse_json_answer(r#"{"kind":"cancel"}"#), Ok(Reply::Cancel)));
        assert!(matches!(parse_json_answer(r#"{"kind":"continue"}"#), Ok(Reply::Answer(UserAnswer::Continue))));
        assert!(matches!(
            parse_json_answer(r#"{"kind":"callback","url":"kontor://x?state=1"}"#),
            Ok(Reply::Callback(url)) if url == "kontor://x?state=1"
        ));
        assert!(matches!(
            parse_json_answer(r#"{"kind":"procedure","id":"DEMO-TSP-01"}"#),
            Ok(Reply::Answer(UserAnswer::Procedure { id })) if id == "DEMO-TSP-01"
        ));
        assert!(parse_json_answer("tan 123456").is_err());
        assert!(parse_json_answer(r#"{"kind":"callback"}"#).is_err());
        assert!(parse_json_answer(r#"{"kind":"tan"}"#).is_err());
    }
}
