//! Callback URLs: finX's `parse_callback` (deep link, loopback or bare query) and the finAPI redirect callback's
//! query reading in `Kontor::handle_callback` (`api::link::callback_params`). Shared by the fuzz target
//! `fuzz/fuzz_targets/callback.rs` and the corpus replay in `crates/core/tests/fuzz_corpus.rs`.
//!
//! Input: the first byte picks the state Kontor expects; the rest is the URL (lossily UTF-8).
//!
//! Properties: no panic; a URL is accepted only with exactly one `state` equal to the expected one and exactly
//! one non-empty `code`, and the result carries that state and that code (and the first non-empty `flow_id`);
//! a refusal is one of the documented codes; the redirect parameters are exactly the URL's query pairs.

use kontor_core::ErrorCode;
use kontor_core::api::link::callback_params;
use kontor_core::provider::finx::callback::parse_callback;

const STATES: &[&str] = &["s", "state-1", "ÄÖ&=?#", "", "a b"];

pub fn check(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let expected = STATES[usize::from(selector) % STATES.len()];
    let url = String::from_utf8_lossy(rest);
    let url = url.as_ref();

    match parse_callback(url, expected) {
        Ok(callback) => {
            assert!(!expected.is_empty(), "{url:?} accepted for an empty expected state");
            assert_eq!(callback.state, expected);
            let pairs = query_of(url);
            let states: Vec<&str> = values(&pairs, "state").collect();
            assert_eq!(states, [expected], "{url:?} accepted with states {states:?}");
            let codes: Vec<&str> = values(&pairs, "code").filter(|c| !c.trim().is_empty()).collect();
            assert_eq!(codes, [callback.code.expose().as_str()], "{url:?} accepted with codes {codes:?}");
            let flow_id = values(&pairs, "flow_id").next().map(str::trim).filter(|f| !f.is_empty());
            assert_eq!(callback.flow_id.as_deref(), flow_id);
        }
        Err(error) => assert!(
            matches!(
                error.code,
                ErrorCode::ScaStateMismatch
                    | ErrorCode::ScaCancelled
                    | ErrorCode::InvalidInput
                    | ErrorCode::ProviderResponseInvalid
            ),
            "{url:?} refused with {error:?}"
        ),
    }

    match callback_params(url) {
        Ok((params, query)) => {
            let parsed = url::Url::parse(url.trim());
            assert!(parsed.is_ok(), "{url:?} is no URL but gave parameters");
            let decoded: Vec<(String, String)> =
                url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            assert_eq!(params, decoded, "the parameters of {url:?} are not its query's");
        }
        Err(error) => assert_eq!(error.code, ErrorCode::ScaStateMismatch, "{url:?} refused with {error:?}"),
    }
}

/// The query pairs the way a browser would send them: after `?` of a URL, or the whole text of a bare query.
fn query_of(input: &str) -> Vec<(String, String)> {
    let input = input.trim();
    let query = if input.starts_with('?') || (!input.contains("://") && input.contains('=')) {
        input.trim_start_matches('?').to_owned()
    } else {
        url::Url::parse(input).ok().and_then(|u| u.query().map(str::to_owned)).unwrap_or_default()
    };
    url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn values<'a>(pairs: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    pairs.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
}
