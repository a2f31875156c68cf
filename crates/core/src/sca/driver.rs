//! The small async loop that performs a flow's effects.
//!
//! [`Driver::run`] feeds one event into [`step`], performs the effects in order — persisting through
//! the injected [`FlowSink`], calling the [`Provider`], sleeping until a decoupled poll is due — and
//! feeds the outcome of each call or timer back in, until the flow waits for the user, is linked, or
//! has ended. It keeps the user's login values in memory only ([`Secrets`]).
//!
//! Cancellation is per flow: a `watch` channel whose value turns `true`. It is checked before every
//! call and interrupts a sleep. A reply that says the connection was made is never dropped by a
//! cancel (the connection exists at the provider either way).
//!
//! Time: the machine's times come from the injected clock; sleeping is real time (`tokio::time`) for
//! `due - clock.now()`. With a hand-moved clock, give the flow a poll interval of 0.

use std::fmt;

use tokio::sync::watch;

use super::request::UserRequest;
use super::state::{CallKind, Flow, FlowPurpose, ScaState};
use super::step::{Effect, Event, step};
use crate::clock::SharedClock;
use crate::error::{ErrorCode, KontorError, Result};
use crate::provider::{AuthCall, AuthOperation, LoginValue, Provider, Psu};

/// Saves and deletes flows (the `sca_flows` table in the app; a map in tests).
pub trait FlowSink: Send + Sync {
    fn save(&self, flow: &Flow) -> Result<()>;
    fn forget(&self, flow: &Flow) -> Result<()>;
}

/// Login values for one flow, in memory only.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub credentials: Vec<LoginValue>,
}

/// Where a run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Waiting for the user.
    NeedsInput(UserRequest),
    /// The provider made the connection; download its data next.
    Linked { provider_connection_id: String },
    /// The flow ended without a connection.
    Failed(KontorError),
    /// The event was refused; the flow is unchanged and still waiting.
    Rejected(KontorError),
}

/// Performs effects for one flow at a time.
pub struct Driver<'a> {
    pub provider: &'a dyn Provider,
    pub psu: &'a Psu,
    pub clock: &'a SharedClock,
    pub sink: &'a dyn FlowSink,
    pub cancel: watch::Receiver<bool>,
    /// Told before every call, so long jobs can report progress.
    pub on_call: &'a (dyn Fn(&Flow, CallKind) + Send + Sync),
}

impl fmt::Debug for Driver<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver").field("provider", &self.provider).finish_non_exhaustive()
    }
}

fn operation(flow: &Flow) -> AuthOperation {
    match &flow.purpose {
        FlowPurpose::Link { bank_id, .. } => AuthOperation::Import {
            bank_id: bank_id.clone(),
            interface: flow.interface.clone(),
            ibans: flow.ibans.clone(),
            redirect_url: flow.redirect_url.clone(),
        },
        FlowPurpose::Update { provider_connection_id, .. } => AuthOperation::Update {
            provider_connection_id: provider_connection_id.clone(),
            interface: flow.interface.clone(),
            redirect_url: flow.redirect_url.clone(),
        },
    }
}

impl Driver<'_> {
    fn cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    /// Feeds `event` and performs effects until the flow waits or ends. Returns the flow as it is now.
    pub async fn run(&mut self, mut flow: Flow, event: Event, secrets: &mut Secrets) -> (Flow, Outcome) {
        let mut event = event;
        loop {
            let (next, effects) = step(flow, event, self.clock.now());
            flow = next;
            let mut outcome = None;
            let mut follow = None;
            for effect in effects {
                match effect {
                    Effect::Persist => {
                        if let Err(e) = self.sink.save(&flow) {
                            return (flow, Outcome::Failed(e));
                        }
                    }
                    Effect::Forget => {
                        if let Err(e) = self.sink.forget(&flow) {
                            tracing::warn!(code = ?e.code, "could not delete a finished SCA flow: {}", e.message);
                        }
                    }
                    Effect::KeepCredentials(values) => secrets.credentials = values,
                    Effect::Ask(request) => outcome = Some(Outcome::NeedsInput(request)),
                    Effect::Submit(answer) => {
                        if self.cancelled() {
                            follow = Some(Event::Cancel);
                            continue;
                        }
                        let call_kind = match &flow.state {
                            ScaState::Submitting { call } => *call,
                            _ => CallKind::Initial,
                        };
                        (self.on_call)(&flow, call_kind);
                        let op = operation(&flow);
                        let call = AuthCall {
                            operation: &op,
                            credentials: &secrets.credentials,
                            continuation: flow.continuation.as_ref(),
                            answer: &answer,
                        };
                        let reply = self.provider.authorize(call, self.psu).await;
                        follow = Some(match reply {
                            Ok(reply) => {
                                let connected = matches!(reply, crate::provider::AuthReply::Connected { .. });
                                if self.cancelled() && !connected { Event::Cancel } else { Event::Reply(reply) }
                            }
                            Err(e) if self.cancelled() && e.code != ErrorCode::ScaCancelled => Event::Cancel,
                            Err(e) => Event::CallFailed(e),
                        });
                    }
                    Effect::WakeAt(at) => {
                        let wait = (at - self.clock.now()).to_std().unwrap_or_default();
                        let mut cancel = self.cancel.clone();
                        follow = Some(tokio::select! {
                            () = tokio::time::sleep(wait) => Event::Tick,
                            _ = cancel.wait_for(|c| *c) => Event::Cancel,
                        });
                    }
                    Effect::Linked { provider_connection_id } => {
                        outcome = Some(Outcome::Linked { provider_connection_id });
                    }
                    Effect::Fail(e) => outcome = Some(Outcome::Failed(e)),
                    Effect::Reject(e) => outcome = Some(Outcome::Rejected(e)),
                }
            }
            match (follow, outcome) {
                (Some(next_event), _) => event = next_event,
                (None, Some(outcome)) => return (flow, outcome),
                (None, None) => {
                    let error = KontorError::internal("The authentication stopped without a next step.");
                    return (flow, Outcome::Failed(error));
                }
            }
        }
    }
}
