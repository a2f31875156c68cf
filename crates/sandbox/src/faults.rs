//! Fault injection: make the next answers fail the way real servers fail.
//!
//! A [`FaultSwitch`] holds a [`FaultPlan`] of counters. Each finAPI request (paths under `/api/` and
//! `/oauth/`; never the control endpoint or the bank's HTML pages) consumes at most one unit of each armed
//! counter, in this order:
//!
//! 1. `delayed`: wait `delay_millis` before answering (a slow server, for client timeouts);
//! 2. `server_errors`: answer `server_error_status` (default 500) with finAPI's `UNEXPECTED_ERROR` envelope;
//! 3. `rate_limited`: answer 429 with `Retry-After: retry_after_seconds`;
//! 4. otherwise the real answer, cut to half its length if `truncated` is armed (the `Content-Length` matches
//!    the cut body, so the client sees a complete response with invalid JSON).
//!
//! `locked_updates` is consumed only by `POST …/bankConnections/update`, which then answers 423 `LOCKED`.
//!
//! The same plan is reachable over HTTP for out-of-process clients: `GET /__demo/faults` shows it,
//! `POST /__demo/faults` sets the fields present in the JSON body, `DELETE /__demo/faults` clears it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The armed faults. Counters count requests; 0 means off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultPlan {
    /// The next N finAPI answers are server errors.
    pub server_errors: u32,
    /// Their status (500–599; default 500).
    pub server_error_status: u16,
    /// The next N finAPI answers are 429 Too Many Requests.
    pub rate_limited: u32,
    /// The `Retry-After` of those 429s, in seconds.
    pub retry_after_seconds: u64,
    /// The next N finAPI answers are delayed by `delay_millis`.
    pub delayed: u32,
    pub delay_millis: u64,
    /// The next N finAPI answers have their body cut in half.
    pub truncated: u32,
    /// The next N bank connection updates answer 423 LOCKED.
    pub locked_updates: u32,
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self {
            server_errors: 0,
            server_error_status: 500,
            rate_limited: 0,
            retry_after_seconds: 1,
            delayed: 0,
            delay_millis: 0,
            truncated: 0,
            locked_updates: 0,
        }
    }
}

/// A partial [`FaultPlan`]: what `POST /__demo/faults` accepts. Absent fields keep their value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultPlanPatch {
    pub server_errors: Option<u32>,
    pub server_error_status: Option<u16>,
    pub rate_limited: Option<u32>,
    pub retry_after_seconds: Option<u64>,
    pub delayed: Option<u32>,
    pub delay_millis: Option<u64>,
    pub truncated: Option<u32>,
    pub locked_updates: Option<u32>,
}

/// What one request must suffer, taken from the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultsForRequest {
    pub delay: Option<Duration>,
    pub server_error: Option<u16>,
    pub rate_limit_retry_after: Option<u64>,
    pub truncate: bool,
}

/// A shared handle on the fault plan of one running Demo Bank. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct FaultSwitch {
    plan: Arc<Mutex<FaultPlan>>,
}

impl FaultSwitch {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, FaultPlan> {
        self.plan.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next `count` finAPI answers are `status` (clamped to 500–599).
    pub fn fail_next(&self, count: u32, status: u16) {
        let mut plan = self.lock();
        plan.server_errors = count;
        plan.server_error_status = status.clamp(500, 599);
    }

    /// The next `count` finAPI answers are 429 with `Retry-After: retry_after` (whole seconds, rounded up).
    pub fn rate_limit_next(&self, count: u32, retry_after: Duration) {
        let mut plan = self.lock();
        plan.rate_limited = count;
        plan.retry_after_seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    }

    /// The next `count` finAPI answers come `delay` late.
    pub fn delay_next(&self, count: u32, delay: Duration) {
        let mut plan = self.lock();
        plan.delayed = count;
        plan.delay_millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    }

    /// The next `count` finAPI answers have truncated bodies.
    pub fn truncate_next(&self, count: u32) {
        self.lock().truncated = count;
    }

    /// The next `count` bank connection updates answer 423 LOCKED.
    pub fn lock_next_updates(&self, count: u32) {
        self.lock().locked_updates = count;
    }

    /// Disarms everything.
    pub fn clear(&self) {
        *self.lock() = FaultPlan::default();
    }

    /// The current plan.
    pub fn plan(&self) -> FaultPlan {
        self.lock().clone()
    }

    /// Replaces the plan.
    pub fn set(&self, plan: FaultPlan) {
        *self.lock() = plan;
    }

    /// Applies the fields present in `patch`.
    pub fn apply(&self, patch: &FaultPlanPatch) {
        let mut plan = self.lock();
        let FaultPlanPatch {
            server_errors,
            server_error_status,
            rate_limited,
            retry_after_seconds,
            delayed,
            delay_millis,
            truncated,
            locked_updates,
        } = patch.clone();
        plan.server_errors = server_errors.unwrap_or(plan.server_errors);
        plan.server_error_status = server_error_status.map_or(plan.server_error_status, |s| s.clamp(500, 599));
        plan.rate_limited = rate_limited.unwrap_or(plan.rate_limited);
        plan.retry_after_seconds = retry_after_seconds.unwrap_or(plan.retry_after_seconds);
        plan.delayed = delayed.unwrap_or(plan.delayed);
        plan.delay_millis = delay_millis.unwrap_or(plan.delay_millis);
        plan.truncated = truncated.unwrap_or(plan.truncated);
        plan.locked_updates = locked_updates.unwrap_or(plan.locked_updates);
    }

    /// Takes this request's share of the plan (decrementing the counters it uses).
    pub(crate) fn take_for_request(&self) -> FaultsForRequest {
        let mut plan = self.lock();
        let mut faults = FaultsForRequest::default();
        if plan.delayed > 0 {
            plan.delayed -= 1;
            faults.delay = Some(Duration::from_millis(plan.delay_millis));
        }
        if plan.server_errors > 0 {
            plan.server_errors -= 1;
            faults.server_error = Some(plan.server_error_status);
        } else if plan.rate_limited > 0 {
            plan.rate_limited -= 1;
            faults.rate_limit_retry_after = Some(plan.retry_after_seconds);
        } else if plan.truncated > 0 {
            plan.truncated -= 1;
            faults.truncate = true;
        }
        faults
    }

    /// True (and consumed) if the current update must answer 423.
    pub(crate) fn take_locked_update(&self) -> bool {
        let mut plan = self.lock();
        if plan.locked_updates > 0 {
            plan.locked_updates -= 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_consumed_in_order() {
        let switch = FaultSwitch::new();
        switch.fail_next(1, 503);
        switch.rate_limit_next(1, Duration::from_millis(1500));
        let first = switch.take_for_request();
        assert_eq!(first.server_error, Some(503));
        let second = switch.take_for_request();
        assert_eq!(second.rate_limit_retry_after, Some(2));
        assert_eq!(switch.take_for_request(), FaultsForRequest::default());
    }
}
