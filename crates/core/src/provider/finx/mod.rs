//! finX (finleap connect → Qwist; formerly figo API v4): a self-contained typed client.
//!
//! - [`client`]: HTTP, Basic/Bearer auth, retries, widget links, tokens, data, synchronisations.
//! - [`callback`]: the widget's return (`state`, `code`, `success`, `cancel`/`abort`, `flow_id`).
//! - [`wire`]: finX's JSON, parsed tolerantly and with exact decimals; never leaves this module.
//! - [`map`]: wire → [`types`] and the provider-neutral types of [`crate::provider`].
//! - [`error`]: finX's error envelope → [`crate::KontorError`] (the mapping table is there).
//! - [`html`]: bank HTML in challenges → plain paragraphs (raw HTML is never passed on).
//! - [`sync_round`]: a provider synchronisation as one SCA round (start, poll, answer challenges),
//!   with the ongoing grant's tokens from a [`sync_round::TokenSource`] the facade implements.
//!
//! # Concepts
//!
//! - **Widget flows.** Kontor asks finX for a widget link ([`FinxClient::create_onetime_access`],
//!   [`FinxClient::create_ongoing_access`], [`FinxClient::create_income_report`]) with a random
//!   `state` and a `redirect_uri`, opens the link's `location` in the system browser, and finX runs
//!   bank selection, login and SCA itself. It returns to the `redirect_uri` with `state`, a
//!   single-use `code` and `flow_id` (the link id); [`parse_callback`] checks the state first.
//! - **Tokens.** The code is exchanged once, with the *same* `redirect_uri`, for a [`TokenSet`]: a
//!   short-lived bearer [`AccessToken`] (about an hour, from `expires_in`) and, with the `offline`
//!   scope, a refresh token valid for at most 90 days. The client holds no user tokens at all; the
//!   caller keeps the token set (in the encrypted store) and passes the access token to each `/rest`
//!   call. A new widget flow for the same finX `user_id` invalidates that user's previous refresh
//!   token: keep one refresh token per finX user, not per bank.
//! - **Rotation.** Every use of a refresh token may return a new one, and then the old one is
//!   spent. [`FinxClient::refresh`] therefore returns the whole new [`TokenSet`] and never caches it.
//!
//!   **Invariant: a spent refresh token is never the only copy.** The caller persists the new
//!   refresh token (replacing the old one in one write) *before* it uses the new access token, and
//!   never sends the same refresh token twice (the client does not retry a refresh that may have
//!   reached finX). [`FinxClient::refresh_and_persist`] makes this the only order possible: it hands
//!   out the tokens only after `persist` succeeded. If the write fails, the access token is not used
//!   and the refresh is treated as possibly spent; a refused refresh is `ConsentExpired` (link again).
//!   Refresh well before [`TokenSet::refresh_expires_at`] ([`TokenSet::refresh_due`]): the 90 days
//!   also run out without activity.
//! - **Provider synchronisation** (finx.md §5–6), the API-driven alternative to the widget for an
//!   existing access: [`FinxClient::start_sync`] → poll [`FinxClient::get_sync`] (`QUEUED`,
//!   `RUNNING`, `AWAIT_AUTH` with a [`FinxChallenge`], then `COMPLETED` or `FAILED` with a
//!   [`crate::KontorError`]) → [`FinxClient::answer_challenge`] → poll again. Challenges map onto the
//!   provider-neutral [`crate::provider::ScaChallenge`] with [`map::sca_challenge`].
//! - **Data.** Accesses (consent expiry, last activity), accounts, balances and transactions
//!   (`count`/`offset` paging, `since`/`since_type`, `include_pending`, and the `deleted` ids to
//!   remove locally) map to [`crate::provider::FetchedAccount`]/[`crate::provider::FetchedTransaction`]
//!   with exact decimals and [`crate::domain::BookingStatus`]; income reports to [`IncomeReport`].
//!
//! Invariants: money is `rust_decimal`, never a float; secrets (client secret, codes, tokens,
//! credentials, TANs) are [`crate::secret::SecretString`]s and are never logged; tokens have no size
//! limit (finX: plan for at least 2048 bytes); time comes from the injected clock.

pub mod callback;
pub mod client;
pub mod error;
pub mod html;
pub mod map;
pub mod sync_round;
pub mod types;
pub mod wire;

pub use callback::parse_callback;
pub use client::{
    FinxClient, FinxConfig, IncomeReportRequest, OnetimeAccessRequest, OngoingAccessRequest, ReportWindow, RetryPolicy,
    Since, SinceType, SyncRequest, SyncScope, TransactionQuery,
};
pub use types::{
    AccessToken, AuthMethod, ChallengeAnswer, ChallengeKind, Consent, EmbeddedChallenge, EmbeddedContent, FinxAccess,
    FinxAccount, FinxBalance, FinxCallback, FinxChallenge, IncomeReport, InputFormat, ReportFigures, ReportGroup,
    ReportStream, SyncInfo, SyncStatus, Synchronization, TokenSet, TransactionBatch, WidgetLink,
};
