//! The typed results of the finX client: what the SCA machine, the facade and the sync see.
//!
//! Nothing here is a wire DTO. Secrets (codes, tokens, TANs, PINs) are [`SecretString`]s, so these
//! types are neither `Serialize` nor printable with their secrets; [`IncomeReport`] is the only type
//! meant to be stored and shown as it is (`Serialize` + `ts_rs::TS`).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::KontorError;
use crate::provider::FetchedAccount;
use crate::provider::FetchedTransaction;
use crate::secret::SecretString;
use crate::tan::{FlickerCode, PhotoTan};

/// The answer to a widget-link request: open `location` in the system browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetLink {
    /// The widget URL with its `?token=…`. Treat it like a secret-bearing link: do not log it.
    pub location: String,
    /// The link id; it comes back as `flow_id` in the callback and is the income report's id.
    pub id: Option<String>,
}

/// A successful widget callback (see [`super::callback::parse_callback`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinxCallback {
    /// The state Kontor generated (already checked against the pending flow).
    pub state: String,
    /// The single-use authorization code (lifetime minutes): exchange it at once with
    /// [`super::FinxClient::exchange_code`] and the *same* `redirect_uri` the link was created with.
    pub code: SecretString,
    /// The link id ([`WidgetLink::id`]).
    pub flow_id: Option<String>,
}

/// A bearer token for `/rest` calls and when it stops being usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: SecretString,
    /// Already shortened by a safety margin; do not send the token at or after this instant.
    pub expires_at: DateTime<Utc>,
}

impl AccessToken {
    /// Wraps a token of known expiry (e.g. one restored from memory).
    pub fn new(token: SecretString, expires_at: DateTime<Utc>) -> Self {
        Self { token, expires_at }
    }

    pub fn valid_at(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }
}

/// What `POST /auth/token` returned.
///
/// **Rotation.** On a refresh, `refresh_token` is the *new* refresh token and the one just sent is
/// spent: persist this one (atomically replacing the old) *before* using `access`. `None` means finX
/// did not rotate and the old refresh token stays the valid one. See the module docs of
/// [`super`] for the invariant "a spent refresh token is never the only copy".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access: AccessToken,
    /// No size limit: finX tokens are JWTs of variable length (the guides: plan ≥ 2048 bytes).
    pub refresh_token: Option<SecretString>,
    /// Space-separated scopes, split (`accounts=ro`, `offline`, …).
    pub scope: Vec<String>,
    /// When the token answer arrived (the injected clock).
    pub issued_at: DateTime<Utc>,
    /// When `refresh_token` stops working unless replaced: `refresh_expires_in` if finX sent it,
    /// else `issued_at` + 90 days (the documented maximum). `None` without a refresh token.
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

impl TokenSet {
    /// The documented maximum lifetime of a finX refresh token.
    pub const REFRESH_LIFETIME_DAYS: i64 = 90;

    /// Whether the grant includes `offline` (only then is there a refresh token to keep).
    pub fn is_offline(&self) -> bool {
        self.scope.iter().any(|s| s == "offline")
    }

    /// Whether the refresh token should be used (and so rotated) now to stay alive: less than
    /// `margin` of its life is left. finx.md §3: refresh at least every few weeks.
    pub fn refresh_due(&self, now: DateTime<Utc>, margin: Duration) -> bool {
        self.refresh_expires_at.is_some_and(|at| now + margin >= at)
    }
}

/// A provider access's consent (finx.md §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub recurring: Option<bool>,
    pub period_days: Option<i64>,
    /// `ACCOUNTS`, `BALANCES`, `TRANSACTIONS`.
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// An SCA method a bank offers (`auth_methods[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthMethod {
    /// `M…`; send it back in [`ChallengeAnswer::Method`].
    pub id: String,
    /// `SMS_OTP`, `PUSH_OTP`, `CHIP_OTP`, `PHOTO_OTP` or another value.
    pub kind: Option<String>,
    /// The device, e.g. "iPhone" or "+49 …12"; shown with the kind.
    pub medium_name: Option<String>,
    /// A readable name: the medium, or the method name, or the kind.
    pub display_name: String,
}

/// A provider access (one bank login at finX): `X…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinxAccess {
    pub id: String,
    pub access_method_id: Option<String>,
    pub provider_id: Option<String>,
    pub provider_name: Option<String>,
    pub provider_bic: Option<String>,
    /// Whether finX stores the bank login's secret parts (needed for unattended syncs).
    pub secrets_saved: Option<bool>,
    pub created_at: Option<DateTime<Utc>>,
    pub consent: Option<Consent>,
    pub auth_methods: Vec<AuthMethod>,
    pub auto_sync: Option<bool>,
    /// The access's accounts, when finX lists them (else filter accounts by `access_id`).
    pub account_ids: Vec<String>,
    /// The SCA method finX re-uses for this access, if any.
    pub selected_auth_method: Option<String>,
    /// The access's last synchronisation attempt.
    pub sync: SyncInfo,
    /// The last user or sync activity finX reports, for the 90-day inactivity rule (not in the
    /// public contract; `None` when finX does not send it).
    pub last_activity_at: Option<DateTime<Utc>>,
}

impl FinxAccess {
    /// The consent's end, if known.
    pub fn consent_expires_at(&self) -> Option<DateTime<Utc>> {
        self.consent.as_ref().and_then(|c| c.expires_at)
    }

    /// Whether the consent has ended by `now` (the user has to go through a new widget flow).
    pub fn consent_expired(&self, now: DateTime<Utc>) -> bool {
        self.consent_expires_at().is_some_and(|at| at <= now)
    }
}

/// The last synchronisation attempt of an account (`status`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncInfo {
    pub synced_at: Option<DateTime<Utc>>,
    pub succeeded_at: Option<DateTime<Utc>>,
    /// The last error text, if the last attempt failed.
    pub message: Option<String>,
}

impl SyncInfo {
    /// The last attempt did not succeed (its data may be old).
    pub fn failed(&self) -> bool {
        match (self.synced_at, self.succeeded_at) {
            (Some(tried), Some(ok)) => ok < tried,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

/// An account with the finX-only facts next to the provider-neutral [`FetchedAccount`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinxAccount {
    pub access_id: Option<String>,
    pub account: FetchedAccount,
    pub balance_date: Option<NaiveDate>,
    pub bank_name: Option<String>,
    pub bic: Option<String>,
    pub sync: SyncInfo,
}

/// `GET /rest/accounts/{id}/balance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinxBalance {
    /// finX's one balance; Kontor reads it as booked/current (finx.md §4.2).
    pub balance: Option<Decimal>,
    pub balance_date: Option<NaiveDate>,
    pub credit_line: Option<Decimal>,
    /// Only if finX sends one; otherwise unknown.
    pub available: Option<Decimal>,
    pub sync: SyncInfo,
}

/// One page (or, from [`super::FinxClient::all_transactions`], all pages) of transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionBatch {
    pub transactions: Vec<FetchedTransaction>,
    /// Provider ids (`T…`) finX says are gone: remove them locally.
    pub deleted: Vec<String>,
    /// The page was full: ask for the next offset. Always `false` from `all_transactions`.
    pub has_more: bool,
}

/// A synchronisation's status (finX `JobStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStatus {
    Queued,
    Running,
    /// Waiting for the user: the sync carries a [`FinxChallenge`].
    AwaitAuth,
    Completed,
    Failed,
    /// A status this client does not know; treat as still running.
    Other(String),
}

impl SyncStatus {
    pub fn parse(text: &str) -> Self {
        match text.trim().to_ascii_uppercase().as_str() {
            "QUEUED" => Self::Queued,
            "RUNNING" => Self::Running,
            "AWAIT_AUTH" => Self::AwaitAuth,
            "COMPLETED" => Self::Completed,
            "FAILED" => Self::Failed,
            _ => Self::Other(text.to_owned()),
        }
    }

    /// `COMPLETED` or `FAILED`: polling stops.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// A synchronisation (`/rest/accesses/{aid}/syncs/{sid}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synchronization {
    /// A UUID.
    pub id: String,
    pub status: SyncStatus,
    pub created_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The pending challenge while `AwaitAuth`.
    pub challenge: Option<FinxChallenge>,
    /// Why it failed, in Kontor's words (`bank_message` holds the bank's text).
    pub error: Option<KontorError>,
}

/// The input the bank expects for an embedded challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Any characters.
    Text,
    /// Digits only.
    Integer,
}

/// What an embedded challenge shows. Raw bank HTML never leaves the client: it is turned into
/// plain paragraphs by [`super::html::to_paragraphs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddedContent {
    /// Plain instructions (e.g. "Enter the SMS TAN").
    Text { text: String },
    /// Instructions that came as HTML, as plain-text paragraphs.
    Html { paragraphs: Vec<String> },
    /// chipTAN flicker: `raw` as the bank sent it, `code` parsed and rendered.
    Flicker { raw: String, code: FlickerCode },
    /// photoTAN / QR image from an RFC 2397 `data:` URI (type and magic bytes checked).
    Photo { image: PhotoTan },
}

/// A TAN challenge (`type: EMBEDDED`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedChallenge {
    pub content: EmbeddedContent,
    /// The input's label, e.g. "TAN".
    pub label: Option<String>,
    pub input_format: InputFormat,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    /// `version` of the format (HHD: `1.3`/`1.4`), if sent.
    pub version: Option<String>,
}

/// What the bank wants before the sync goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeKind {
    /// Choose one of `methods`; answer [`ChallengeAnswer::Method`].
    MethodSelection { methods: Vec<AuthMethod> },
    /// Enter a TAN; answer [`ChallengeAnswer::Tan`].
    Embedded(Box<EmbeddedChallenge>),
    /// Open `url` in the system browser; the bank returns to the sync's `redirect_uri` with `state`.
    /// Then poll ([`ChallengeAnswer::Acknowledge`]).
    Redirect { url: String },
    /// Approve in the banking app; poll ([`ChallengeAnswer::Acknowledge`]).
    Decoupled { message: Option<String> },
}

/// A pending SCA challenge of a synchronisation (`L…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinxChallenge {
    pub id: String,
    pub created_at: Option<DateTime<Utc>>,
    pub kind: ChallengeKind,
}

/// The answer to a [`FinxChallenge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeAnswer {
    /// `{"method_id": …}` for `METHOD_SELECTION`.
    Method(String),
    /// `{"value": …}` for `EMBEDDED`.
    Tan(SecretString),
    /// `REDIRECT` / `DECOUPLED`: finx.md §6 documents no request body; nothing is sent and the caller
    /// keeps polling the sync.
    Acknowledge,
}

// ---------------------------------------------------------------------------------------------
// Income report
// ---------------------------------------------------------------------------------------------

/// Summary figures of a group of bookings. Amounts are exact decimals (serialised as strings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportFigures {
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub total: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub low: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub high: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub average: Option<Decimal>,
    /// Number of bookings (summaries).
    pub count: Option<u32>,
    /// Share of income (disposable / discretionary income).
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub ratio: Option<Decimal>,
}

/// One recurring stream of bookings, e.g. "Salary" or "Rent".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportStream {
    pub category_id: Option<String>,
    pub category: Option<String>,
    #[ts(type = "string | null")]
    pub first_booked_on: Option<NaiveDate>,
    #[ts(type = "string | null")]
    pub last_booked_on: Option<NaiveDate>,
    /// Who pays or is paid, when known.
    pub payment_partner: Option<String>,
    /// The stream's own figures, when finX sends them.
    pub summary: Option<ReportFigures>,
}

/// A group of streams with its summary (income, or one expense group).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportGroup {
    /// The group's category (expense groups), e.g. "Housing".
    pub category_id: Option<String>,
    pub category: Option<String>,
    pub summary: Option<ReportFigures>,
    pub streams: Vec<ReportStream>,
}

/// A finX income report (finx.md §7.1), ready to be stored and shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IncomeReport {
    /// The link id (callback `flow_id`).
    pub id: Option<String>,
    /// Months covered.
    pub period_months: Option<u32>,
    /// ISO 4217 code of all amounts, when finX names it.
    pub currency: Option<String>,
    pub income: ReportGroup,
    /// The main income stream, if finX identified one.
    pub primary_income: Option<ReportStream>,
    pub regular_expenses: Vec<ReportGroup>,
    pub variable_expenses: Vec<ReportGroup>,
    pub disposable_income: Option<ReportFigures>,
    pub discretionary_income: Option<ReportFigures>,
}
