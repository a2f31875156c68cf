//! Lifetimes and pacing of the finX face ([`FinxConfig`], reachable as `DemoBankConfig::finx`).

use std::time::Duration;

/// How the finX face behaves. `Default` gives finx.md's lifetimes; [`FinxConfig::for_tests`] fast pacing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinxConfig {
    /// Authorization codes from the widget callback (finx.md §3: "e.g. 5 minutes"). Single use.
    pub authorization_code_lifetime: Duration,
    /// `expires_in` of access tokens (1 h).
    pub access_token_lifetime: Duration,
    /// Refresh tokens (90 days). Each rotation issues a new one with a fresh lifetime, so 90 days without any
    /// refresh lose the access ("inactivity").
    pub refresh_token_lifetime: Duration,
    /// How long the consent of an access runs (`consent.expires_at`; "usually after 180 days").
    pub consent_lifetime: Duration,
    /// Polls of a sync answering `RUNNING` before it moves on (after the start and after each answer).
    pub running_polls: u32,
    /// Polls still answering `AWAIT_AUTH` after the poll that showed a `DECOUPLED` challenge; the next one
    /// continues as if the user approved in the app.
    pub decoupled_polls: u32,
    /// API syncs per access and (UTC) day; one more answers 429 with code 1020.
    pub max_syncs_per_day: u32,
    /// `created_at` of every new access, when set: pins the timestamps (finX reports whole seconds, so
    /// accesses linked in quick succession tie). `None`: the time of the link.
    pub access_created_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Default for FinxConfig {
    fn default() -> Self {
        Self {
            authorization_code_lifetime: Duration::from_secs(5 * 60),
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: Duration::from_secs(90 * 24 * 3600),
            consent_lifetime: Duration::from_secs(180 * 24 * 3600),
            running_polls: 1,
            decoupled_polls: 2,
            max_syncs_per_day: 10,
            access_created_at: None,
        }
    }
}

impl FinxConfig {
    /// Fast pacing for tests: no `RUNNING` polls, one extra decoupled poll, 50 syncs a day. Lifetimes are the
    /// defaults; tests that need expiry set them directly.
    pub fn for_tests() -> Self {
        Self { running_polls: 0, decoupled_polls: 1, max_syncs_per_day: 50, ..Self::default() }
    }
}
