//! A finX provider synchronisation as one SCA round (finx.md §5–6): start the sync, poll it, answer its
//! challenges — the `Update` operation of Kontor's [`crate::provider::Provider::authorize`] for an
//! ongoing access.
//!
//! - [`SyncRound::authorize`] starts a sync (credentials only when the user gave them, `save_secrets`,
//!   notifications off while the user is present, `redirect_uri`, a random `state` checked on return,
//!   scope `TRANSACTIONS`, re-use of the last method and medium, the PSU IP, the sync period) or
//!   answers the challenge of the last step ([`SyncStep`], persisted with the flow), then polls.
//! - `AWAIT_AUTH` challenges become [`ScaChallenge`]s; `FAILED` is [`AuthReply::Ended`] (the round is
//!   over: a refused TAN is not asked again for a dead sync); `COMPLETED` is `Connected`.
//! - Tokens come from a [`TokenSource`] the facade implements (cache, refresh with rotation, persisted
//!   before use); [`with_token`] refreshes once when finX refuses a token.
//!
//! Every wait here (the polls) is inside the round's future, so dropping it (a cancel) stops the
//! polling at once.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::types::AccessToken;
use super::{ChallengeAnswer, FinxClient, SyncRequest, SyncScope, SyncStatus};
use crate::error::{ErrorCode, KontorError, Result};
use crate::provider::{AuthAnswer, AuthCall, AuthOperation, AuthReply, BoxFuture, Continuation, Psu, ScaChallenge};
use crate::secret::SecretString;

/// The login fields asked for when finX needs the bank login for a sync (error 1011).
pub const LOGIN_ID_LABEL: &str = "Online banking ID";
pub const PIN_LABEL: &str = "PIN";
/// Polls of one sync step before Kontor gives up waiting for finX.
const MAX_SYNC_POLLS: u32 = 300;

/// Where bearer calls get the ongoing grant's access token. The facade implements it: the cached
/// token, or a refresh that rotates the refresh token and persists the new one before the access
/// token is used.
pub trait TokenSource: Send + Sync {
    /// An access token; `force` refreshes even when the cached one looks valid (finX refused it).
    fn access_token(&self, force: bool) -> BoxFuture<'_, Result<AccessToken>>;
}

/// Runs a bearer call with the source's token; when finX refuses the token (`ProviderAuthFailed`),
/// refreshes once and repeats.
pub async fn with_token<T, F, Fut>(tokens: &dyn TokenSource, call: F) -> Result<T>
where
    F: Fn(AccessToken) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let token = tokens.access_token(false).await?;
    match call(token).await {
        Err(e) if e.code == ErrorCode::ProviderAuthFailed => {
            let token = tokens.access_token(true).await?;
            call(token).await
        }
        other => other,
    }
}

/// Where a sync round stands between two calls: the challenge it waits on (no secrets). Persisted
/// in the flow's continuation as `{"step":"sync", …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStep {
    pub access_id: String,
    pub sync_id: String,
    pub challenge_id: String,
    /// The `state` a REDIRECT challenge's return must carry.
    pub state: String,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum Tagged {
    Sync(SyncStep),
}

impl SyncStep {
    pub fn continuation(&self) -> Result<Continuation> {
        let token =
            serde_json::to_string(&Tagged::Sync(self.clone())).map_err(|e| KontorError::internal(e.to_string()))?;
        Ok(Continuation { token, procedure_id: None })
    }

    pub fn from(continuation: Option<&Continuation>) -> Option<Self> {
        let Tagged::Sync(step) = serde_json::from_str(&continuation?.token).ok()?;
        Some(step)
    }
}

fn stale() -> KontorError {
    KontorError::new(ErrorCode::ScaStale, "This finX authentication has lost its place. Please start again.")
}

fn random_state() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// One sync round against finX for an ongoing access.
pub struct SyncRound<'a> {
    pub client: &'a FinxClient,
    pub tokens: &'a dyn TokenSource,
    /// Spacing of polls while finX works.
    pub poll_interval: std::time::Duration,
    /// Where a REDIRECT challenge returns to, when the operation names no address.
    pub callback_url: &'a str,
    /// Let finX keep a login sent with this sync even when the user did not tick it.
    pub save_secrets_by_default: bool,
    /// Days of history to request; `None`: finX's default.
    pub sync_period_days: Option<u32>,
}

impl std::fmt::Debug for SyncRound<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncRound").field("poll_interval", &self.poll_interval).finish_non_exhaustive()
    }
}

impl SyncRound<'_> {
    /// One call of the round: the first (starts the sync) or the answer to the last challenge.
    pub async fn authorize(&self, call: AuthCall<'_>, psu: &Psu) -> Result<AuthReply> {
        let AuthOperation::Update { provider_connection_id, redirect_url, .. } = call.operation else {
            return Err(stale());
        };
        match (call.answer, SyncStep::from(call.continuation)) {
            (AuthAnswer::None, _) => self.start_sync(provider_connection_id, call, redirect_url.as_deref(), psu).await,
            (answer, Some(SyncStep { access_id, sync_id, challenge_id, state })) => {
                let reply = match answer {
                    AuthAnswer::Procedure(id) => Some(ChallengeAnswer::Method(id.clone())),
                    AuthAnswer::Tan(tan) => Some(ChallengeAnswer::Tan(tan.clone())),
                    _ => None,
                };
                let mut refused = None;
                if let Some(reply) = &reply {
                    let client = self.client;
                    let (a, s, c) = (&access_id, &sync_id, &challenge_id);
                    let answered = with_token(self.tokens, |t| {
                        let reply = reply.clone();
                        async move { client.answer_challenge(&t, a, s, c, &reply).await }
                    })
                    .await;
                    match answered {
                        Ok(()) => {}
                        // Whether the TAN can be entered again depends on the sync's status, read
                        // next: `FAILED` ends the round, `AWAIT_AUTH` asks again.
                        Err(e) if e.code == ErrorCode::TanRejected => refused = Some(e),
                        Err(e) => return Err(e),
                    }
                }
                let answered = Answered { challenge_id: &challenge_id, refused };
                self.poll(&access_id, &sync_id, &state, reply.is_some().then_some(answered)).await
            }
            _ => Err(stale()),
        }
    }

    async fn start_sync(
        &self,
        access_id: &str,
        call: AuthCall<'_>,
        redirect_url: Option<&str>,
        psu: &Psu,
    ) -> Result<AuthReply> {
        let state = random_state();
        let credentials: Vec<(String, SecretString)> = call
            .credentials
            .iter()
            .map(|v| {
                let key = if v.label == PIN_LABEL { "password" } else { "login_id" };
                (key.to_owned(), v.value.clone())
            })
            .collect();
        let save_secrets =
            if credentials.is_empty() { None } else { Some(call.store_secrets || self.save_secrets_by_default) };
        let request = SyncRequest {
            credentials,
            save_secrets,
            // The user is present and sees the outcome: no notification events.
            disable_notifications: true,
            redirect_uri: Some(redirect_url.map(str::to_owned).unwrap_or_else(|| self.callback_url.to_owned())),
            state: Some(state.clone()),
            scope: SyncScope::Transactions,
            reuse_last_auth_method: Some(true),
            reuse_last_auth_medium: Some(true),
            psu_ip: psu.ip_address.clone(),
            sync_period: self.sync_period_days,
        };
        let client = self.client;
        let request = &request;
        let sync = with_token(self.tokens, |t| async move { client.start_sync(&t, access_id, request).await }).await?;
        self.poll(access_id, &sync.id, &state, None).await
    }

    /// Polls a sync until it needs the user, completed or failed. `answered`: the challenge just
    /// answered with a method or a TAN (and finX's refusal of it, if it refused at once).
    ///
    /// What happens next follows the sync's status, not a guess:
    /// - `FAILED` (after a wrong TAN finX fails the sync with 10004) is [`AuthReply::Ended`]: the
    ///   challenge is gone, so the SCA machine ends the flow instead of asking for it again;
    /// - `AWAIT_AUTH` still showing the answered challenge: with a refusal (finX's answer or the
    ///   sync's `error`) the TAN is asked again for the same challenge (`Err(TanRejected)`), without
    ///   one finX has not taken the answer in yet and polling goes on;
    /// - `AWAIT_AUTH` with a new challenge is asked as such (after a refused TAN with the refusal in
    ///   its message).
    async fn poll(
        &self,
        access_id: &str,
        sync_id: &str,
        state: &str,
        answered: Option<Answered<'_>>,
    ) -> Result<AuthReply> {
        let client = self.client;
        for _ in 0..MAX_SYNC_POLLS {
            let sync =
                with_token(self.tokens, |t| async move { client.get_sync(&t, access_id, sync_id).await }).await?;
            match sync.status {
                SyncStatus::Completed => {
                    return Ok(AuthReply::Connected { provider_connection_id: access_id.to_owned() });
                }
                SyncStatus::Failed => {
                    let refused = answered.as_ref().and_then(|a| a.refused.clone());
                    let error = sync.error.or(refused).unwrap_or_else(|| {
                        KontorError::new(ErrorCode::ProviderUnavailable, "The synchronisation with the bank failed.")
                    });
                    return Ok(AuthReply::Ended { error, new_round: false });
                }
                SyncStatus::AwaitAuth => {
                    let challenge = match sync.challenge {
                        Some(challenge) => challenge,
                        None => {
                            with_token(self.tokens, |t| async move { client.challenges(&t, access_id, sync_id).await })
                                .await?
                                .pop()
                                .ok_or_else(|| {
                                    KontorError::new(
                                        ErrorCode::ProviderResponseInvalid,
                                        "finX waits for an authentication but named no challenge.",
                                    )
                                })?
                        }
                    };
                    let refusal = answered.as_ref().and_then(|a| {
                        a.refused.clone().or_else(|| sync.error.clone().filter(|e| e.code == ErrorCode::TanRejected))
                    });
                    if answered.as_ref().is_some_and(|a| a.challenge_id == challenge.id) {
                        match refusal {
                            // finX keeps the refused challenge open: the same TAN request again.
                            Some(error) => return Err(error),
                            // finX has not taken the answer in yet.
                            None => {
                                tokio::time::sleep(self.poll_interval).await;
                                continue;
                            }
                        }
                    }
                    let mut neutral = super::map::sca_challenge(&challenge);
                    match &mut neutral {
                        ScaChallenge::Redirect { context, context_field, .. } => {
                            *context = Some(state.to_owned());
                            *context_field = Some("state".to_owned());
                        }
                        ScaChallenge::Tan { message, .. } => {
                            if let Some(error) = &refusal {
                                let bank = error.bank_message.as_deref().map(|b| format!(" ({b})")).unwrap_or_default();
                                let asked = message.take().map(|m| format!(" {m}")).unwrap_or_default();
                                *message = Some(format!(
                                    "The bank did not accept the TAN{bank} and sent a new challenge.{asked}"
                                ));
                            }
                        }
                        _ => {}
                    }
                    let step = SyncStep {
                        access_id: access_id.to_owned(),
                        sync_id: sync_id.to_owned(),
                        challenge_id: challenge.id,
                        state: state.to_owned(),
                    };
                    return Ok(AuthReply::NeedsAnswer { continuation: step.continuation()?, challenge: neutral });
                }
                SyncStatus::Queued | SyncStatus::Running | SyncStatus::Other(_) => {
                    tokio::time::sleep(self.poll_interval).await;
                }
            }
        }
        Err(KontorError::new(ErrorCode::ProviderUnavailable, "The bank is still synchronising. Sync again later."))
    }
}

/// The challenge a sync step just answered (see [`SyncRound::poll`]).
#[derive(Debug)]
struct Answered<'a> {
    challenge_id: &'a str,
    /// finX refused the answer at once (a TAN, `TanRejected`).
    refused: Option<KontorError>,
}

#[cfg(test)]
mod tests {
    use super::SyncStep;
    use crate::provider::Continuation;

    #[test]
    fn a_step_persists_in_the_format_of_earlier_flows() -> crate::error::Result<()> {
        let step =
            SyncStep { access_id: "X1.1".into(), sync_id: "s".into(), challenge_id: "L1.3".into(), state: "st".into() };
        let continuation = step.continuation()?;
        let json: serde_json::Value =
            serde_json::from_str(&continuation.token).map_err(|e| crate::KontorError::internal(e.to_string()))?;
        assert_eq!(json["step"], "sync");
        assert_eq!(json["access_id"], "X1.1");
        assert_eq!(SyncStep::from(Some(&continuation)), Some(step));
        let widget = Continuation { token: r#"{"step":"widget","flow":"ongoing"}"#.into(), procedure_id: None };
        assert_eq!(SyncStep::from(Some(&widget)), None);
        Ok(())
    }
}
