//! Retrying provider calls: the policy both providers share and reading `Retry-After`.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

/// How hard to try again after 429, 5xx and broken connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts per call, including the first (at least 1).
    pub max_attempts: u32,
    /// The first backoff; doubled after each attempt.
    pub base_delay: StdDuration,
    /// The longest Kontor waits by itself; a longer `Retry-After` surfaces as `RateLimited`.
    pub max_wait: StdDuration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, base_delay: StdDuration::from_millis(500), max_wait: StdDuration::from_secs(10) }
    }
}

/// The wait a `Retry-After` header asks for: seconds, or an HTTP date measured from `now`.
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<StdDuration> {
    let text = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(StdDuration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(text).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(StdDuration::ZERO))
}

pub fn to_chrono(d: StdDuration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}
