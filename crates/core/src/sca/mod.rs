//! The strong-customer-authentication state machine shared by every provider, the app and the CLI.
//!
//! - [`state`]: the persisted [`Flow`] and its [`ScaState`] (never a secret in it).
//! - [`step`](mod@step): the pure `step(flow, event, now) -> (flow, effects)`, tested transition by
//!   transition.
//! - [`request`]: [`UserRequest`] (what a front end renders) and [`UserAnswer`] (what it sends back).
//! - [`persist`]: [`FlowStore`], how flows are kept in the vault (the store itself knows no flow).
//! - [`driver`]: the small async loop that performs effects (provider calls, persistence, timers,
//!   cancellation).
//!
//! The machine is provider-neutral: it speaks [`crate::provider::ScaChallenge`] and
//! [`crate::provider::AuthReply`]; how a challenge looks on the wire is the provider's business.
//! "Waiting for the user" is a state, not an error.

pub mod driver;
pub mod persist;
pub mod request;
pub mod state;
pub mod step;

pub use driver::{Driver, FlowSink, Outcome, Secrets};
pub use persist::FlowStore;
pub use request::{UserAnswer, UserRequest};
pub use state::{CallKind, Flow, FlowPurpose, FlowSetup, Resume, ScaState};
pub use step::{Effect, Event, step};

/// Decoupled approval is polled no more often than this, unless a flow is configured otherwise.
pub const DEFAULT_POLL_INTERVAL_MS: i64 = 5_000;
/// How long a flow may wait in total before it times out.
pub const DEFAULT_FLOW_TIMEOUT_SECS: i64 = 15 * 60;
