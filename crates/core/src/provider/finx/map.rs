//! finX wire types → Kontor's types (the finX results in [`super::types`], the provider-neutral
//! [`FetchedAccount`]/[`FetchedTransaction`]/[`ScaChallenge`], and [`IncomeReport`]).
//!
//! - Dates: `YYYY-MM-DD` or the date part of an RFC 3339 timestamp. Timestamps: RFC 3339, or a date
//!   (midnight UTC), or `YYYY-MM-DD HH:MM:SS` read as UTC.
//! - Transactions: `booked: false` is [`BookingStatus::Pending`]; a missing `booked` counts as booked
//!   unless there is no booking date. The booking date falls back from `booked_at`/`booking_date` to
//!   `settled_at`/`value_date` to the creation date (pending items often have no booking date yet).
//!   Amounts are signed as finX sends them (negative = outgoing).
//! - Challenges: HTML is turned into plain paragraphs ([`super::html`]); HHD data is parsed into a
//!   [`FlickerCode`](crate::tan::FlickerCode) and PHOTO data URIs into a checked image here, so a
//!   challenge Kontor could not show is an error now rather than a blank screen later.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use super::error::from_sync_error;
use super::html;
use super::types::{
    AuthMethod, ChallengeKind, Consent, EmbeddedChallenge, EmbeddedContent, FinxAccess, FinxAccount, FinxBalance,
    FinxChallenge, IncomeReport, InputFormat, ReportFigures, ReportGroup, ReportStream, SyncInfo, SyncStatus,
    Synchronization,
};
use super::wire;
use crate::domain::{AccountType, BookingStatus, Counterparty, Currency};
use crate::error::{ErrorCode, KontorError, Result};
use crate::provider::{
    ChallengeKind as NeutralKind, FetchedAccount, FetchedTransaction, RemoteConnection, ScaChallenge, ScaProcedure,
    TanChallenge,
};
use crate::tan::{HhdVersion, decode_data_uri, decode_optical_data};

pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn invalid(message: String) -> KontorError {
    KontorError::new(ErrorCode::ProviderResponseInvalid, message)
}

/// `YYYY-MM-DD` or the date part of a timestamp.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let head = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

/// RFC 3339, a naive `YYYY-MM-DD[T ]HH:MM:SS[.f]` (UTC), or a date (midnight UTC).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc());
        }
    }
    if text.len() == 10 {
        return parse_date(text).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| n.and_utc());
    }
    None
}

fn ts(text: Option<&String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| parse_timestamp(t))
}

fn sync_info(state: Option<wire::SyncState>) -> SyncInfo {
    let state = state.unwrap_or_default();
    SyncInfo {
        synced_at: ts(state.synced_at.as_ref()),
        succeeded_at: ts(state.succeeded_at.as_ref()),
        message: non_empty(state.message),
    }
}

pub fn auth_method(wire: wire::AuthMethod) -> Option<AuthMethod> {
    let id = non_empty(wire.id)?;
    let kind = non_empty(wire.kind);
    let medium_name = non_empty(wire.medium_name);
    let kind_label = kind.as_deref().map(|k| match k {
        "SMS_OTP" => "SMS".to_owned(),
        "PUSH_OTP" => "Push notification".to_owned(),
        "CHIP_OTP" => "chipTAN".to_owned(),
        "PHOTO_OTP" => "photoTAN".to_owned(),
        other => other.to_owned(),
    });
    let display_name = match (&kind_label, &medium_name, non_empty(wire.name)) {
        (_, _, Some(name)) if medium_name.is_none() => name,
        (Some(kind), Some(medium), _) => format!("{kind} ({medium})"),
        (None, Some(medium), _) => medium.clone(),
        (Some(kind), None, _) => kind.clone(),
        (None, None, _) => id.clone(),
    };
    Some(AuthMethod { id, kind, medium_name, display_name })
}

pub fn access(wire: wire::Access) -> Result<FinxAccess> {
    let id = non_empty(wire.id).ok_or_else(|| invalid("finX sent a provider access without an id.".to_owned()))?;
    let provider = wire.provider.unwrap_or_default();
    Ok(FinxAccess {
        id,
        access_method_id: non_empty(wire.access_method_id),
        provider_id: non_empty(wire.provider_id).or(non_empty(provider.id)),
        provider_name: non_empty(provider.name),
        provider_bic: non_empty(provider.bic),
        secrets_saved: wire.save_secrets.or(wire.save_credentials),
        created_at: ts(wire.created_at.as_ref()),
        consent: wire.consent.map(|c| Consent {
            recurring: c.recurring,
            period_days: c.period,
            scopes: c.scopes,
            expires_at: ts(c.expires_at.as_ref()),
        }),
        auth_methods: wire.auth_methods.into_iter().filter_map(auth_method).collect(),
        auto_sync: wire.auto_sync,
        account_ids: wire.accounts,
        selected_auth_method: non_empty(wire.selected_auth_method),
        last_activity_at: ts(wire.last_activity_at.as_ref())
            .or(ts(wire.last_activity.as_ref()))
            .or(ts(wire.succeeded_at.as_ref()))
            .or(ts(wire.synced_at.as_ref()))
            .or(wire.status.as_ref().and_then(|s| ts(s.succeeded_at.as_ref()).or(ts(s.synced_at.as_ref())))),
        sync: sync_info(wire.status),
    })
}

/// finX's account type names (finx.md §4.2).
pub fn account_type(name: Option<&str>) -> AccountType {
    match name.map(|n| n.trim().to_ascii_lowercase()).as_deref() {
        Some("giro account") => AccountType::Checking,
        Some("savings account" | "daily savings account") => AccountType::Savings,
        Some("credit card") => AccountType::CreditCard,
        Some("loan account") => AccountType::Loan,
        Some("depot") => AccountType::Securities,
        _ => AccountType::Other,
    }
}

pub fn account(wire: wire::Account) -> Result<FinxAccount> {
    let id = non_empty(wire.account_id).ok_or_else(|| invalid("finX sent an account without an id.".to_owned()))?;
    let currency = wire.currency.as_deref().and_then(|c| Currency::parse(c).ok()).unwrap_or(Currency::EUR);
    let sync = sync_info(wire.status);
    let balance = wire.balance.unwrap_or_default();
    let name = non_empty(wire.name)
        .or_else(|| non_empty(wire.iban.clone()))
        .or_else(|| non_empty(wire.account_number.clone()))
        .unwrap_or_else(|| format!("Account {id}"));
    let account = FetchedAccount {
        provider_account_id: id,
        iban: non_empty(wire.iban).map(|i| i.replace(' ', "")),
        name,
        holder: non_empty(wire.owner),
        account_type: account_type(wire.kind.as_deref()),
        currency,
        balance: balance.balance,
        available: balance.available,
        download_failed: sync.failed(),
    };
    Ok(FinxAccount {
        access_id: non_empty(wire.access_id),
        account,
        balance_date: balance.balance_date.as_deref().and_then(parse_date),
        bank_name: non_empty(wire.bank_name),
        bic: non_empty(wire.bic),
        sync,
    })
}

pub fn balance(wire: wire::Balance) -> FinxBalance {
    FinxBalance {
        balance: wire.balance,
        balance_date: wire.balance_date.as_deref().and_then(parse_date),
        credit_line: wire.credit_line,
        available: wire.available,
        sync: sync_info(wire.status),
    }
}

/// One transaction row; `raw` keeps the row's JSON (decimals as strings).
pub fn transaction(row: Value) -> Result<FetchedTransaction> {
    let raw = row.to_string();
    let wire: wire::Transaction =
        serde_json::from_value(row).map_err(|e| invalid(format!("finX sent a transaction Kontor cannot read: {e}")))?;
    let id =
        non_empty(wire.transaction_id).ok_or_else(|| invalid("finX sent a transaction without an id.".to_owned()))?;
    let account_id =
        non_empty(wire.account_id).ok_or_else(|| invalid(format!("finX sent transaction {id} without an account.")))?;
    let amount = wire.amount.ok_or_else(|| invalid(format!("finX sent transaction {id} without an amount.")))?;
    let date = |a: &Option<String>, b: &Option<String>| {
        a.as_deref().and_then(parse_date).or_else(|| b.as_deref().and_then(parse_date))
    };
    let booked_on = date(&wire.booked_at, &wire.booking_date);
    let value_date = date(&wire.settled_at, &wire.value_date);
    let created_on = date(&wire.created_at, &wire.creation_timestamp);
    let status = match wire.booked {
        Some(false) => BookingStatus::Pending,
        Some(true) => BookingStatus::Booked,
        None if booked_on.is_some() => BookingStatus::Booked,
        None => BookingStatus::Pending,
    };
    let booking_date = booked_on
        .or(value_date)
        .or(created_on)
        .or_else(|| date(&wire.modified_at, &wire.modification_timestamp))
        .ok_or_else(|| invalid(format!("finX sent transaction {id} without a date.")))?;
    Ok(FetchedTransaction {
        provider_account_id: account_id,
        provider_id: id,
        booking_date,
        value_date,
        amount,
        currency: wire.currency.as_deref().and_then(|c| Currency::parse(c).ok()),
        counterparty: Counterparty {
            name: non_empty(wire.name),
            iban: non_empty(wire.iban).map(|i| i.replace(' ', "")),
            bic: non_empty(wire.bic),
        },
        purpose: non_empty(wire.purpose),
        kind: non_empty(wire.booking_text).or(non_empty(wire.kind)),
        status,
        raw: Some(raw),
    })
}

fn to_u32(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

fn embedded(wire: &wire::Challenge, id: &str) -> Result<EmbeddedChallenge> {
    let format = wire.format.as_deref().map(str::trim).unwrap_or("TEXT").to_ascii_uppercase();
    let data = wire.data.clone().unwrap_or_default();
    let version = non_empty(wire.version.clone());
    let content = match format.as_str() {
        "TEXT" | "" => EmbeddedContent::Text { text: data.trim().to_owned() },
        "HTML" => EmbeddedContent::Html { paragraphs: html::to_paragraphs(&data) },
        "HHD" | "FLICKER" => {
            let hint = version.as_deref().and_then(HhdVersion::from_hint);
            let code =
                // Rendered code first, then the raw challenge, then base64 of either.
                decode_optical_data(&data, hint).map_err(|e| {
                    invalid(format!("finX sent a chipTAN flicker code Kontor cannot read (challenge {id}: {e})."))
                })?;
            EmbeddedContent::Flicker { raw: data, code }
        }
        "PHOTO" => {
            let image = decode_data_uri(&data).map_err(|e| {
                invalid(format!("finX sent a photoTAN image Kontor cannot read (challenge {id}: {e})."))
            })?;
            EmbeddedContent::Photo { image }
        }
        other => return Err(invalid(format!("finX sent a TAN challenge of unknown format '{other}'."))),
    };
    let input_format = match wire.input_format.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("INTEGER" | "NUMERIC" | "NUMBER") => InputFormat::Integer,
        _ => InputFormat::Text,
    };
    Ok(EmbeddedChallenge {
        content,
        label: non_empty(wire.label.clone()),
        input_format,
        min_length: to_u32(wire.min_length),
        max_length: to_u32(wire.max_length),
        version,
    })
}

pub fn challenge(wire: wire::Challenge) -> Result<FinxChallenge> {
    let id = non_empty(wire.id.clone()).ok_or_else(|| invalid("finX sent a challenge without an id.".to_owned()))?;
    let kind_name = wire.kind.as_deref().map(str::trim).unwrap_or_default().to_ascii_uppercase();
    let kind = match kind_name.as_str() {
        "METHOD_SELECTION" => {
            let methods: Vec<AuthMethod> = wire.auth_methods.iter().cloned().filter_map(auth_method).collect();
            if methods.is_empty() {
                return Err(invalid(format!("finX asked to choose a TAN method but offered none (challenge {id}).")));
            }
            ChallengeKind::MethodSelection { methods }
        }
        "EMBEDDED" => ChallengeKind::Embedded(Box::new(embedded(&wire, &id)?)),
        "REDIRECT" => {
            let url = non_empty(wire.location.clone())
                .or(non_empty(wire.redirect_uri_legacy.clone()))
                .ok_or_else(|| invalid(format!("finX sent a redirect challenge without a URL (challenge {id}).")))?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid(format!("finX sent a redirect challenge with a non-web URL (challenge {id}).")));
            }
            ChallengeKind::Redirect { url }
        }
        "DECOUPLED" => {
            let message = non_empty(wire.message.clone()).or(non_empty(wire.data.clone()));
            ChallengeKind::Decoupled { message: message.map(|m| if m.contains('<') { html::to_text(&m) } else { m }) }
        }
        other => return Err(invalid(format!("finX sent a challenge of unknown type '{other}' (challenge {id})."))),
    };
    Ok(FinxChallenge { id, created_at: ts(wire.created_at.as_ref()), kind })
}

pub fn synchronization(wire: wire::Sync) -> Result<Synchronization> {
    let id = non_empty(wire.id).ok_or_else(|| invalid("finX sent a synchronisation without an id.".to_owned()))?;
    let status = SyncStatus::parse(wire.status.as_deref().unwrap_or("QUEUED"));
    let challenge = match (wire.challenge, &status) {
        (Some(c), SyncStatus::AwaitAuth) => Some(challenge(c)?),
        // A stale challenge on a sync that moved on is ignored.
        _ => None,
    };
    let error = match (wire.error, &status) {
        (Some(e), _) => Some(from_sync_error(e)),
        (None, SyncStatus::Failed) => Some(KontorError::new(
            ErrorCode::ProviderUnavailable,
            "The synchronisation with the bank failed. Try again later.",
        )),
        (None, _) => None,
    };
    Ok(Synchronization {
        id,
        status,
        created_at: ts(wire.created_at.as_ref()),
        started_at: ts(wire.started_at.as_ref()),
        ended_at: ts(wire.ended_at.as_ref()),
        challenge,
        error,
    })
}

fn method_kind(kind: Option<&str>) -> Option<NeutralKind> {
    match kind? {
        "SMS_OTP" | "PUSH_OTP" => Some(NeutralKind::Text),
        "CHIP_OTP" => Some(NeutralKind::Flicker),
        "PHOTO_OTP" => Some(NeutralKind::Photo),
        _ => None,
    }
}

/// A finX challenge as the provider-neutral [`ScaChallenge`] the SCA machine and the front ends
/// render. Flicker codes travel as their rendered hex (`tan::decode_optical_data` reads it back);
/// photo images as base64 of the checked bytes; HTML as plain paragraphs joined by blank lines.
pub fn sca_challenge(challenge: &FinxChallenge) -> ScaChallenge {
    match &challenge.kind {
        ChallengeKind::MethodSelection { methods } => ScaChallenge::ChooseProcedure {
            message: None,
            procedures: methods
                .iter()
                .map(|m| ScaProcedure {
                    id: m.id.clone(),
                    name: m.display_name.clone(),
                    kind: method_kind(m.kind.as_deref()),
                })
                .collect(),
        },
        ChallengeKind::Embedded(embedded) => {
            let (message, tan) = match &embedded.content {
                EmbeddedContent::Text { text } => (Some(text.clone()).filter(|t| !t.is_empty()), TanChallenge::Text),
                EmbeddedContent::Html { paragraphs } => {
                    (Some(paragraphs.join("\n\n")).filter(|t| !t.is_empty()), TanChallenge::Text)
                }
                EmbeddedContent::Flicker { code, .. } => (None, TanChallenge::flicker(code.render_hex.clone(), false)),
                EmbeddedContent::Photo { image } => {
                    use base64::Engine as _;
                    (
                        None,
                        TanChallenge::Photo {
                            mime_type: image.mime_type.clone(),
                            data_base64: base64::engine::general_purpose::STANDARD.encode(&image.image),
                        },
                    )
                }
            };
            ScaChallenge::Tan { message, label: embedded.label.clone(), challenge: tan }
        }
        ChallengeKind::Redirect { url } => {
            ScaChallenge::Redirect { url: url.clone(), context: None, context_field: None }
        }
        ChallengeKind::Decoupled { message } => {
            ScaChallenge::Decoupled { message: message.clone(), in_progress: false }
        }
    }
}

/// An access and its accounts as the provider-neutral [`RemoteConnection`].
pub fn remote_connection(access: &FinxAccess, accounts: &[FinxAccount], now: DateTime<Utc>) -> RemoteConnection {
    let mine: Vec<&FinxAccount> =
        accounts.iter().filter(|a| a.access_id.as_deref().is_none_or(|id| id == access.id)).collect();
    let failed = mine.iter().find(|a| a.sync.failed());
    let last_update = mine.iter().filter_map(|a| a.sync.synced_at).max().map(|_| crate::provider::UpdateResult {
        ok: failed.is_none(),
        message: failed.and_then(|a| a.sync.message.clone()),
    });
    RemoteConnection {
        provider_connection_id: access.id.clone(),
        bank_id: access.provider_id.clone(),
        bank_name: access.provider_name.clone().or_else(|| mine.iter().find_map(|a| a.bank_name.clone())),
        bank_bic: access.provider_bic.clone().or_else(|| mine.iter().find_map(|a| a.bic.clone())),
        interface: None,
        ready: mine.iter().all(|a| a.sync.synced_at.is_some()),
        last_update,
        consent_expires_at: access.consent_expires_at(),
        user_action_required: access.consent_expired(now),
        account_ids: mine.iter().map(|a| a.account.provider_account_id.clone()).collect(),
        stored_login_labels: None,
        consent_present: None,
    }
}

fn figures(wire: Option<wire::Figures>) -> Option<ReportFigures> {
    let f = wire?;
    Some(ReportFigures {
        total: f.total,
        low: f.low,
        high: f.high,
        average: f.average,
        count: to_u32(f.count),
        ratio: f.ratio,
    })
}

fn partner_name(value: Option<Value>) -> Option<String> {
    match value? {
        Value::String(s) => non_empty(Some(s)),
        Value::Object(map) => {
            map.get("name").and_then(Value::as_str).map(str::to_owned).and_then(|s| non_empty(Some(s)))
        }
        _ => None,
    }
}

fn stream(wire: wire::Stream) -> ReportStream {
    let category = wire.category.unwrap_or_default();
    ReportStream {
        category_id: non_empty(category.id),
        category: non_empty(category.name),
        first_booked_on: wire.first_booked_on.as_deref().and_then(parse_date),
        last_booked_on: wire.last_booked_on.as_deref().and_then(parse_date),
        payment_partner: partner_name(wire.payment_partner),
        summary: figures(wire.summary),
    }
}

fn group(wire: wire::StreamGroup) -> ReportGroup {
    let category = wire.category.unwrap_or_default();
    ReportGroup {
        category_id: non_empty(category.id),
        category: non_empty(category.name),
        summary: figures(wire.summary),
        streams: wire.streams.into_iter().map(stream).collect(),
    }
}

pub fn income_report(wire: wire::IncomeReport, id: &str) -> IncomeReport {
    let income = wire.income.unwrap_or_default();
    let primary_income = income.primary.clone().map(stream);
    IncomeReport {
        id: non_empty(wire.id).or_else(|| non_empty(Some(id.to_owned()))),
        period_months: to_u32(wire.period),
        currency: non_empty(wire.currency).map(|c| c.to_ascii_uppercase()),
        income: group(income),
        primary_income,
        regular_expenses: wire.regular_expenses.into_iter().map(group).collect(),
        variable_expenses: wire.variable_expenses.into_iter().map(group).collect(),
        disposable_income: figures(wire.disposable_income),
        discretionary_income: figures(wire.discretionary_income),
    }
}
