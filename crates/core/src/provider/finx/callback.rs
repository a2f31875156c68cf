//! The widget's return to Kontor: `…?state=…&code=…&success=true&flow_id=…` (finx.md §2.5).
//!
//! Accepted forms: a `kontor://…` deep link, an `http(s)://` URL on a loopback host (`127.0.0.1`,
//! `localhost`, `[::1]`; the one-shot listener), or just the query string (`?state=…` or
//! `state=…`). Rules, in this order, so that a forged callback changes nothing:
//!
//! 1. `state` must be present exactly once and equal the pending flow's state, else
//!    `ScaStateMismatch` (checked before anything else is looked at).
//! 2. `cancel=true` or `abort=true`: the user cancelled → `ScaCancelled`.
//! 3. `success=false` (or a missing code with no `success`): the widget ended without a grant →
//!    `ScaCancelled` with a message saying the link did not complete.
//! 4. Otherwise `code` must be present exactly once → [`FinxCallback`].

use url::Url;

use super::types::FinxCallback;
use crate::error::{ErrorCode, KontorError, Result};
use crate::secret::SecretString;

const LOOPBACK_HOSTS: &[&str] = &["127.0.0.1", "localhost", "[::1]", "::1"];

fn truthy(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

fn not_a_callback(why: &str) -> KontorError {
    KontorError::invalid_input(format!("This is not a finX callback for Kontor ({why})."))
}

/// The query pairs of a callback URL or bare query string.
fn query_pairs(input: &str) -> Result<Vec<(String, String)>> {
    let input = input.trim();
    let query = if input.starts_with('?') || (!input.contains("://") && input.contains('=')) {
        input.trim_start_matches('?').to_owned()
    } else {
        let url = Url::parse(input).map_err(|_| not_a_callback("not a URL"))?;
        match url.scheme() {
            "kontor" => {}
            "http" | "https" => {
                let host = url.host_str().unwrap_or_default();
                if !LOOPBACK_HOSTS.contains(&host) {
                    return Err(not_a_callback("not a loopback address"));
                }
            }
            _ => return Err(not_a_callback("unexpected scheme")),
        }
        url.query().unwrap_or_default().to_owned()
    };
    Ok(url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
}

fn values<'a>(pairs: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    pairs.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Parses and checks a widget callback against the `state` Kontor generated for the pending flow.
pub fn parse_callback(url: &str, expected_state: &str) -> Result<FinxCallback> {
    let pairs = query_pairs(url)?;
    let all = |name: &'static str| values(&pairs, name);

    let states: Vec<&str> = all("state").collect();
    let state_ok =
        matches!(states.as_slice(), [one] if !expected_state.is_empty() && constant_time_eq(one, expected_state));
    if !state_ok {
        return Err(KontorError::new(
            ErrorCode::ScaStateMismatch,
            "This answer from finX does not belong to the bank link Kontor is waiting for. Nothing was changed.",
        ));
    }

    if all("cancel").chain(all("abort")).any(truthy) {
        return Err(KontorError::new(ErrorCode::ScaCancelled, "You cancelled linking the bank in the finX window."));
    }
    let success = all("success").next();
    let codes: Vec<&str> = all("code").filter(|c| !c.trim().is_empty()).collect();
    if success.is_some_and(|s| !truthy(s)) || (success.is_none() && codes.is_empty()) {
        return Err(KontorError::new(
            ErrorCode::ScaCancelled,
            "The bank link did not complete: finX ended it without success. Try linking the bank again.",
        ));
    }
    let code = match codes.as_slice() {
        [one] => SecretString::new((*one).to_owned()),
        [] => {
            return Err(KontorError::new(
                ErrorCode::ProviderResponseInvalid,
                "finX reported success but sent no authorization code. Try linking the bank again.",
            ));
        }
        _ => return Err(not_a_callback("more than one code")),
    };
    let flow_id = all("flow_id").next().map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned);
    Ok(FinxCallback { state: expected_state.to_owned(), code, flow_id })
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
