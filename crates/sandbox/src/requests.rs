//! The Demo Bank's request log: every request it received (both faces), in arrival order, so tests can
//! assert on what a client sent and when — e.g. that nothing arrived after the client cancelled, or that
//! a spent multi-step hash was never re-sent ([`crate::RunningDemoBank::spent_hashes_resent`]).
//!
//! Only the method, the path (without the query) and the arrival time are kept: never a body, a token
//! or a credential.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// One request as the Demo Bank saw it arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub at: Instant,
}

/// The log of one running Demo Bank (memory only).
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<Vec<LoggedRequest>>,
}

impl RequestLog {
    pub fn record(&self, method: &str, path: &str) {
        let entry = LoggedRequest { method: method.to_owned(), path: path.to_owned(), at: Instant::now() };
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).push(entry);
    }

    /// Everything received so far, oldest first.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}
