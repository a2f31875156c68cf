//! Aggregator providers: one trait, one module per provider (finAPI now, finX later).
//!
//! Concepts:
//!
//! - [`Provider`] is what the rest of Kontor calls. It speaks only the provider-neutral types of this
//!   module; each provider's wire DTOs stay in its own `wire.rs` and are mapped in its `map.rs`.
//! - Linking and re-authorising a connection is an *authorisation round*: one [`AuthCall`] after
//!   another, each answered either by [`AuthReply::Connected`] or by [`AuthReply::NeedsAnswer`] with a
//!   [`ScaChallenge`] and an opaque, non-secret [`Continuation`] (finAPI: the multi-step hash and the
//!   chosen procedure), or by [`AuthReply::Ended`] when the provider closed the round itself (a finX
//!   sync that failed), so that nothing of it is asked again. The SCA state machine in [`crate::sca`] decides what to ask the user and sends
//!   the next call; the provider knows how to phrase it on the wire.
//! - After `Connected` the provider reports the connection's download progress
//!   ([`RemoteConnection::ready`]) and then serves accounts and transactions as
//!   [`FetchedAccount`]/[`FetchedTransaction`], which [`crate::sync`] turns into domain rows.
//!
//! Invariants: money is `rust_decimal`, never a float; secrets (PINs, TANs) travel as
//! [`SecretString`] and are never logged or serialised; user-present calls carry the [`Psu`] headers.

pub mod finapi;
pub mod finx;
pub mod json;
pub mod retry;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::domain::{AccountType, BookingStatus, Counterparty, Currency};
use crate::error::Result;
use crate::secret::SecretString;

/// A boxed `Send` future, so that [`Provider`] stays object-safe (`Arc<dyn Provider>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One login field of a bank interface. `label` is the bank's own text and the key sent back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LoginField {
    pub label: String,
    /// Render as a password field; never store.
    pub secret: bool,
    /// The value changes each time (e.g. a one-time code) and cannot be stored.
    pub volatile: bool,
    pub mandatory: bool,
}

/// How a bank can be reached through a provider, with its SCA properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BankInterface {
    /// The provider's name for it (finAPI: `XS2A`, `FINTS_SERVER`, `WEB_SCRAPER`).
    pub id: String,
    pub login_fields: Vec<LoginField>,
    /// The bank sends the user to its own web page (REDIRECT_APPROACH).
    pub redirect: bool,
    /// The bank may ask for approval in its app (DECOUPLED_APPROACH).
    pub decoupled: bool,
    /// The user has to name the IBANs to include (DETAILED_CONSENT).
    pub detailed_consent: bool,
    /// The bank's hint for its login (German, may contain HTML); always show it.
    pub login_hint: Option<String>,
    /// 0–100, the provider's view of how well this interface works.
    pub health: Option<i32>,
}

/// A bank as found by a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BankSearchHit {
    pub id: String,
    pub name: String,
    pub bic: Option<String>,
    pub blz: Option<String>,
    pub city: Option<String>,
    pub is_test_bank: bool,
    /// Empty means the provider cannot reach this bank.
    pub interfaces: Vec<BankInterface>,
}

impl BankSearchHit {
    /// The interface to use: the named one, or the first by the priority XS2A > FINTS_SERVER > others.
    pub fn choose_interface(&self, wanted: Option<&str>) -> Option<&BankInterface> {
        if let Some(wanted) = wanted {
            return self.interfaces.iter().find(|i| i.id.eq_ignore_ascii_case(wanted));
        }
        let rank = |id: &str| match id {
            "XS2A" => 0,
            "FINTS_SERVER" => 1,
            _ => 2,
        };
        self.interfaces.iter().min_by_key(|i| rank(&i.id))
    }
}

/// A value for one login field, typed by the user. Arrives from the UI or the CLI; never sent back.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
pub struct LoginValue {
    pub label: String,
    #[ts(type = "string")]
    pub value: SecretString,
}

/// The PSU (payment service user) metadata sent on calls the user is present for, so they do not
/// count against the bank's four unattended accesses a day.
///
/// `ip_address` is never a loopback address: the default is this device's outward IPv4 address where
/// it is known ([`outward_ipv4`]), else `None` (the header and field are left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psu {
    /// IPv4 address of the user (finAPI v2 accepts IPv4 only).
    pub ip_address: Option<String>,
    pub device_os: String,
    pub user_agent: String,
}

impl Default for Psu {
    fn default() -> Self {
        Self {
            ip_address: outward_ipv4().map(|ip| ip.to_string()),
            device_os: std::env::consts::OS.to_owned(),
            user_agent: format!("Kontor/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// The IPv4 address this device uses towards the internet: the local address of a UDP socket
/// "connected" to a public address. Connecting a UDP socket only picks the route; no packet is sent.
/// `None` without a route, or when the address would be loopback or unspecified.
pub fn outward_ipv4() -> Option<std::net::Ipv4Addr> {
    let socket = std::net::UdpSocket::bind((std::net::Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    // A public resolver's address: only the routing table is consulted.
    socket.connect((std::net::Ipv4Addr::new(9, 9, 9, 9), 53)).ok()?;
    match socket.local_addr().ok()?.ip() {
        std::net::IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
        _ => None,
    }
}

/// What an authorisation round is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AuthOperation {
    /// Link a new connection.
    Import {
        bank_id: String,
        interface: String,
        /// For DETAILED_CONSENT: the IBANs to include.
        ibans: Vec<String>,
        /// Where the bank sends the user back (REDIRECT_APPROACH).
        redirect_url: Option<String>,
    },
    /// Update (and if needed re-authorise) an existing connection: the manual sync.
    Update { provider_connection_id: String, interface: String, redirect_url: Option<String> },
}

/// The provider's memory between two calls of one round. Never contains a secret, so it is persisted
/// with the flow. finAPI: `token` is the multi-step hash, `procedure_id` the chosen two-step procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continuation {
    pub token: String,
    #[serde(default)]
    pub procedure_id: Option<String>,
}

/// The one answer a call carries on top of the previous request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthAnswer {
    /// The first call.
    None,
    Procedure(String),
    Tan(SecretString),
    /// The whole query string the bank appended to our callback URL.
    RedirectCallback(String),
    /// "The user has been told; has the bank approved yet?"
    DecoupledPoll,
}

/// One call of an authorisation round.
#[derive(Debug, Clone, Copy)]
pub struct AuthCall<'a> {
    pub operation: &'a AuthOperation,
    pub credentials: &'a [LoginValue],
    /// The user agreed that the provider keeps the login's secrets (finAPI `storeSecrets`, finX
    /// `save_secrets`); only meaningful with `credentials`.
    pub store_secrets: bool,
    pub continuation: Option<&'a Continuation>,
    pub answer: &'a AuthAnswer,
}

/// What a challenge's data looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    Text,
    Photo,
    Flicker,
}

/// An SCA method the bank offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ScaProcedure {
    pub id: String,
    pub name: String,
    /// The provider's guess of the challenge kind; may be unknown.
    pub kind: Option<ChallengeKind>,
}

/// The data of a TAN challenge, raw as the bank sent it. [`crate::tan`] parses and renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TanChallenge {
    /// Only the message: the TAN arrives by SMS, push, or is read off a device.
    Text,
    /// A photoTAN / chipTAN-QR image: base64 of the image bytes.
    Photo { mime_type: String, data_base64: String },
    /// chipTAN optical: finAPI's `opticalData` (an already rendered HHD code, see `tan::decode_optical_data`).
    Flicker {
        optical_data: String,
        /// `optical_data` parsed ([`crate::tan::decode_optical_data`]), so front ends need not parse it;
        /// `None` when it cannot be read (then show `optical_data` as text). Derived data: never read
        /// back from JSON, recomputed with [`TanChallenge::with_parsed_flicker`]. Boxed to keep
        /// every message that carries a challenge small.
        #[serde(default, skip_deserializing)]
        flicker: Option<Box<crate::tan::FlickerCode>>,
        /// Render with the Reiner SCT algorithm (finAPI v2 `opticalDataAsReinerSct`).
        reiner_sct: bool,
        /// The parsed code as a chipTAN-QR image ([`crate::tan::chiptan_qr_image`]), for TAN generators that
        /// read QR codes instead of the flicker; `None` when `flicker` is. Derived like `flicker`: never read
        /// back from JSON, recomputed with [`TanChallenge::with_parsed_flicker`].
        #[serde(default, skip_deserializing)]
        qr_fallback: Option<Box<crate::tan::PhotoTan>>,
    },
}

impl TanChallenge {
    /// A flicker challenge from finAPI's `opticalData`, with the parsed code.
    pub fn flicker(optical_data: String, reiner_sct: bool) -> Self {
        Self::Flicker { optical_data, flicker: None, reiner_sct, qr_fallback: None }.with_parsed_flicker()
    }

    /// Fills in the parsed flicker code and its chipTAN-QR image of a flicker challenge (other kinds are
    /// returned as they are).
    pub fn with_parsed_flicker(self) -> Self {
        match self {
            Self::Flicker { optical_data, flicker: None, reiner_sct, .. } => {
                let flicker = crate::tan::decode_optical_data(&optical_data, None).ok().map(Box::new);
                let qr_fallback =
                    flicker.as_ref().and_then(|code| crate::tan::chiptan_qr_image(&code.render_hex).ok()).map(Box::new);
                Self::Flicker { optical_data, flicker, reiner_sct, qr_fallback }
            }
            other => other,
        }
    }
}

/// What the bank wants before it goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScaChallenge {
    ChooseProcedure {
        message: Option<String>,
        procedures: Vec<ScaProcedure>,
    },
    Tan {
        message: Option<String>,
        label: Option<String>,
        challenge: TanChallenge,
    },
    /// Open `url` in the system browser; the bank returns to our callback URL carrying `context` in the
    /// query parameter `context_field`.
    Redirect {
        url: String,
        context: Option<String>,
        context_field: Option<String>,
    },
    /// Approve in the banking app; `in_progress` once the bank knows the user has been told.
    Decoupled {
        message: Option<String>,
        in_progress: bool,
    },
}

/// The answer to one [`AuthCall`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthReply {
    Connected {
        provider_connection_id: String,
    },
    NeedsAnswer {
        continuation: Continuation,
        challenge: ScaChallenge,
    },
    /// The provider itself ended the round with `error` (a finX synchronisation that is `FAILED`, a
    /// finAPI 422 after a TAN, which spends the multi-step hash): its challenge is gone, so nothing of
    /// this round can be answered again. With `new_round`, the provider expects a *new* round (a new
    /// import or update) for another try, e.g. with a new TAN. A failed *call* (`Err`), by contrast,
    /// may leave the provider's step open.
    Ended {
        error: crate::error::KontorError,
        new_round: bool,
    },
}

/// The outcome of the provider's last update of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateResult {
    pub ok: bool,
    /// The bank's or provider's text when it failed.
    pub message: Option<String>,
}

/// A connection as the provider sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteConnection {
    pub provider_connection_id: String,
    pub bank_id: Option<String>,
    pub bank_name: Option<String>,
    pub bank_bic: Option<String>,
    pub interface: Option<String>,
    /// Balances and transactions have finished downloading.
    pub ready: bool,
    pub last_update: Option<UpdateResult>,
    pub consent_expires_at: Option<DateTime<Utc>>,
    /// Unattended updates stopped; the user has to run one.
    pub user_action_required: bool,
    pub account_ids: Vec<String>,
    /// The labels of the login fields whose values the provider keeps (finAPI: `loginCredentials`
    /// with a value); `None` when the provider does not say.
    pub stored_login_labels: Option<Vec<String>>,
    /// Whether the provider holds a consent for the connection (finAPI `aisConsent.status`); `None`
    /// when it does not say. Without one, the next update has to give a new consent (login and SCA).
    pub consent_present: Option<bool>,
}

/// An account as downloaded, before it becomes a [`crate::domain::Account`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedAccount {
    pub provider_account_id: String,
    pub iban: Option<String>,
    pub name: String,
    pub holder: Option<String>,
    pub account_type: AccountType,
    pub currency: Currency,
    pub balance: Option<Decimal>,
    pub available: Option<Decimal>,
    /// The last download of this account failed (its data may be old).
    pub download_failed: bool,
}

/// A booking as downloaded, before it becomes a [`crate::domain::Transaction`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedTransaction {
    pub provider_account_id: String,
    pub provider_id: String,
    pub booking_date: NaiveDate,
    pub value_date: Option<NaiveDate>,
    pub amount: Decimal,
    /// `None`: the account's currency.
    pub currency: Option<Currency>,
    pub counterparty: Counterparty,
    pub purpose: Option<String>,
    pub kind: Option<String>,
    pub status: BookingStatus,
    /// The provider's JSON of this row (decimals as strings).
    pub raw: Option<String>,
}

/// One aggregator, as the rest of Kontor sees it. Implementations are cheap to share (`Arc`) and cache
/// their tokens internally.
pub trait Provider: Send + Sync + fmt::Debug {
    fn search_banks<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<BankSearchHit>>>;
    fn bank<'a>(&'a self, bank_id: &'a str) -> BoxFuture<'a, Result<BankSearchHit>>;
    /// One call of an authorisation round (user present: sends the PSU headers).
    fn authorize<'a>(&'a self, call: AuthCall<'a>, psu: &'a Psu) -> BoxFuture<'a, Result<AuthReply>>;
    fn connection<'a>(&'a self, provider_connection_id: &'a str) -> BoxFuture<'a, Result<RemoteConnection>>;
    fn accounts<'a>(&'a self, provider_connection_id: &'a str) -> BoxFuture<'a, Result<Vec<FetchedAccount>>>;
    /// All transactions of these accounts booked on or after `since` (all of them when `None`), and
    /// the pending ones where the provider serves them (status `Pending`, provider id `pending:<id>`
    /// so that it never collides with a booked id).
    fn transactions<'a>(
        &'a self,
        provider_account_ids: &'a [String],
        since: Option<NaiveDate>,
    ) -> BoxFuture<'a, Result<Vec<FetchedTransaction>>>;
}

#[cfg(test)]
mod tests {
    use super::TanChallenge;

    #[test]
    fn flicker_challenge_derives_the_qr_fallback_and_never_reads_it_back() -> Result<(), serde_json::Error> {
        let challenge = TanChallenge::flicker("0D85012045201998041234567855".to_owned(), false);
        let TanChallenge::Flicker { flicker: Some(_), qr_fallback: Some(qr), .. } = &challenge else {
            panic!("expected a parsed flicker code with a QR fallback: {challenge:?}")
        };
        assert_eq!(qr.mime_type, "image/png");

        let read_back: TanChallenge = serde_json::from_str(&serde_json::to_string(&challenge)?)?;
        assert!(matches!(read_back, TanChallenge::Flicker { flicker: None, qr_fallback: None, .. }));
        assert_eq!(read_back.with_parsed_flicker(), challenge);

        let unreadable = TanChallenge::flicker("not a code".to_owned(), false);
        assert!(matches!(unreadable, TanChallenge::Flicker { flicker: None, qr_fallback: None, .. }));
        Ok(())
    }
}
