//! The small async loop that performs a flow's effects.
//!
//! [`Driver::run`] feeds one event into [`step`], performs the effects in order — persisting through
//! the injected [`FlowSink`], calling the [`Provider`], sleeping until a decoupled poll is due — and
//! feeds the outcome of each call or timer back in, until the flow waits for the user, is linked, or
//! has ended. It keeps the user's login values in memory only ([`Secrets`]).
//!
//! Cancellation is per flow: a `watch` channel whose value turns `true`. It is checked before every
//! call and interrupts both a sleep and the provider call in flight (the call's future is dropped,
//! so its HTTP request is aborted and nothing more is sent for this flow — finX's polling runs
//! inside the call). A reply that arrived before the cancel and says the connection was made is
//! never dropped (the connection exists at the provider either way).
//!
//! A refusal after which the machine started a new round ([`Effect::Notice`]) is returned with the
//! next request ([`Outcome::AskedAgain`]), so the user sees why they are asked again.
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
    /// The user agreed that the provider keeps them.
    pub store_secrets: bool,
}

/// Where a run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Waiting for the user.
    NeedsInput(UserRequest),
    /// Waiting for the user again after the provider refused an answer (`error`) and a new round
    /// started: show `error` with `request`.
    AskedAgain { request: UserRequest, error: KontorError },
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

/// Resolves once `cancel` turns `true`; never when its sender is gone without cancelling.
pub async fn cancelled(mut cancel: watch::Receiver<bool>) {
    if cancel.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Driver<'_> {
    fn cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    /// Feeds `event` and performs effects until the flow waits or ends. Returns the flow as it is now.
    pub async fn run(&mut self, mut flow: Flow, event: Event, secrets: &mut Secrets) -> (Flow, Outcome) {
        let mut event = event;
        let mut notice: Option<KontorError> = None;
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
                    Effect::KeepCredentials { values, store_secrets } => {
                        secrets.credentials = values;
                        secrets.store_secrets = store_secrets;
                    }
                    Effect::Notice(error) => notice = Some(error),
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
                            store_secrets: secrets.store_secrets,
                            continuation: flow.continuation.as_ref(),
                            answer: &answer,
                        };
                        let reply = tokio::select! {
                            biased;
                            reply = self.provider.authorize(call, self.psu) => Some(reply),
                            () = cancelled(self.cancel.clone()) => None,
                        };
                        follow = Some(match reply {
                            None => Event::Cancel,
                            Some(Ok(reply)) => {
                                let connected = matches!(reply, crate::provider::AuthReply::Connected { .. });
                                if self.cancelled() && !connected { Event::Cancel } else { Event::Reply(reply) }
                            }
                            Some(Err(e)) if self.cancelled() && e.code != ErrorCode::ScaCancelled => Event::Cancel,
                            Some(Err(e)) => Event::CallFailed(e),
                        });
                    }
                    Effect::WakeAt(at) => {
                        let wait = (at - self.clock.now()).to_std().unwrap_or_default();
                        follow = Some(tokio::select! {
                            () = tokio::time::sleep(wait) => Event::Tick,
                            () = cancelled(self.cancel.clone()) => Event::Cancel,
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
                (None, Some(Outcome::NeedsInput(request))) => {
                    let outcome = match notice.take() {
                        Some(error) => Outcome::AskedAgain { request, error },
                        None => Outcome::NeedsInput(request),
                    };
                    return (flow, outcome);
                }
                (None, Some(outcome)) => return (flow, outcome),
                (None, None) => {
                    let error = KontorError::internal("The authentication stopped without a next step.");
                    return (flow, Outcome::Failed(error));
                }
            }
        }
    }
}
