//! finAPI wire types → Kontor's provider-neutral types.
//!
//! Timestamps: v2 sends RFC 3339 with an offset; v1 sends `YYYY-MM-DD HH:MM:SS.SSS` in German local
//! time without an offset, which [`parse_timestamp`] converts with the EU summer-time rule (CET/CEST).
//! Dates: v2 `YYYY-MM-DD`, v1 a v1 timestamp whose date part is the date. Both formats are accepted
//! whatever the configured version, so a mixed answer still parses.
//!
//! Which challenge a 510 carries is decided by which fields are set, not by finAPI's guessed
//! `procedureChallengeType` (finapi.md §8).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};

use super::wire;
use crate::domain::{AccountType, BookingStatus, Counterparty, Currency};
use crate::error::{ErrorCode, KontorError, Result};
use crate::provider::{
    BankInterface, BankSearchHit, ChallengeKind, Continuation, FetchedAccount, FetchedTransaction, LoginField,
    RemoteConnection, ScaChallenge, ScaProcedure, TanChallenge, UpdateResult,
};

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The last Sunday of `month` in `year`.
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let mut day = first_next.pred_opt()?;
    while day.weekday() != Weekday::Sun {
        day = day.pred_opt()?;
    }
    Some(day)
}

/// German local time (Europe/Berlin) → UTC: CEST (+2) from the last Sunday of March 01:00 UTC to the
/// last Sunday of October 01:00 UTC, CET (+1) otherwise.
pub fn berlin_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    let year = local.year();
    let as_cet = Utc.from_utc_datetime(&(local - Duration::hours(1)));
    let summer = match (last_sunday(year, 3), last_sunday(year, 10)) {
        (Some(start), Some(end)) => {
            let start = Utc.from_utc_datetime(&start.and_hms_opt(1, 0, 0).unwrap_or_default());
            let end = Utc.from_utc_datetime(&end.and_hms_opt(1, 0, 0).unwrap_or_default());
            let as_cest = Utc.from_utc_datetime(&(local - Duration::hours(2)));
            as_cest >= start && as_cest < end
        }
        _ => false,
    };
    if summer { Utc.from_utc_datetime(&(local - Duration::hours(2))) } else { as_cet }
}

/// A v2 (RFC 3339) or v1 (`YYYY-MM-DD HH:MM:SS.SSS`, German time) timestamp.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format) {
            return Some(berlin_to_utc(local));
        }
    }
    None
}

/// A v2 date (`YYYY-MM-DD`) or the date part of a v1 timestamp.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let head = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

pub fn bank_interface(wire: wire::BankInterface) -> Option<BankInterface> {
    let id = non_empty(wire.banking_interface).or(non_empty(wire.interface))?;
    let has = |p: &str| wire.properties.iter().any(|x| x.eq_ignore_ascii_case(p));
    Some(BankInterface {
        id,
        login_fields: wire
            .login_credentials
            .into_iter()
            .filter_map(|c| {
                Some(LoginField {
                    label: non_empty(c.label)?,
                    secret: c.is_secret.unwrap_or(false),
                    volatile: c.is_volatile.unwrap_or(false),
                    mandatory: c.is_mandatory.unwrap_or(true),
                })
            })
            .collect(),
        redirect: has("REDIRECT_APPROACH"),
        decoupled: has("DECOUPLED_APPROACH"),
        detailed_consent: has("DETAILED_CONSENT"),
        login_hint: non_empty(wire.login_hint),
        health: wire.health.and_then(|h| i32::try_from(h).ok()),
    })
}

pub fn bank(wire: wire::Bank) -> BankSearchHit {
    BankSearchHit {
        id: wire.id.to_string(),
        name: non_empty(wire.name).unwrap_or_else(|| format!("Bank {}", wire.id)),
        bic: non_empty(wire.bic),
        blz: non_empty(wire.blz),
        city: non_empty(wire.city),
        is_test_bank: wire.is_test_bank.unwrap_or(false),
        interfaces: wire.interfaces.into_iter().filter_map(bank_interface).collect(),
    }
}

fn challenge_kind(text: Option<&str>) -> Option<ChallengeKind> {
    match text? {
        "TEXT" => Some(ChallengeKind::Text),
        "PHOTO" => Some(ChallengeKind::Photo),
        "FLICKER_CODE" => Some(ChallengeKind::Flicker),
        _ => None,
    }
}

fn invalid(what: &str) -> KontorError {
    KontorError::new(
        ErrorCode::ProviderResponseInvalid,
        format!("finAPI asked for an authentication step Kontor cannot read ({what})."),
    )
}

/// A 510's multi-step authentication → the challenge and the continuation for the next call.
/// `previous_procedure` is carried on so the next call repeats "all fields of the previous request".
pub fn challenge(
    msa: wire::MultiStepAuthentication,
    envelope_message: Option<String>,
    previous_procedure: Option<String>,
) -> Result<(Continuation, ScaChallenge)> {
    let hash = non_empty(msa.hash).ok_or_else(|| invalid("no hash"))?;
    let message = non_empty(msa.challenge_message).or(non_empty(envelope_message));
    let status = msa.status.unwrap_or_default();
    let challenge = match status.as_str() {
        "TWO_STEP_PROCEDURE_REQUIRED" => {
            let procedures: Vec<ScaProcedure> = msa
                .two_step_procedures
                .into_iter()
                .filter_map(|p| {
                    let id = non_empty(p.procedure_id)?;
                    Some(ScaProcedure {
                        name: non_empty(p.procedure_name).unwrap_or_else(|| id.clone()),
                        kind: challenge_kind(p.procedure_challenge_type.as_deref()),
                        id,
                    })
                })
                .collect();
            if procedures.is_empty() {
                return Err(invalid("a choice of methods without any method"));
            }
            ScaChallenge::ChooseProcedure { message, procedures }
        }
        "CHALLENGE_RESPONSE_REQUIRED" => {
            let challenge = match (non_empty(msa.optical_data), non_empty(msa.photo_tan_data)) {
                (Some(optical_data), _) => {
                    TanChallenge::flicker(optical_data, msa.optical_data_as_reiner_sct.unwrap_or(false))
                }
                (None, Some(data_base64)) => TanChallenge::Photo {
                    mime_type: non_empty(msa.photo_tan_mime_type).unwrap_or_else(|| "image/png".to_owned()),
                    data_base64,
                },
                (None, None) => TanChallenge::Text,
            };
            ScaChallenge::Tan { message, label: non_empty(msa.answer_field_label), challenge }
        }
        "REDIRECT_REQUIRED" => ScaChallenge::Redirect {
            url: non_empty(msa.redirect_url).ok_or_else(|| invalid("a redirect without a URL"))?,
            context: non_empty(msa.redirect_context),
            context_field: non_empty(msa.redirect_context_field),
        },
        "DECOUPLED_AUTH_REQUIRED" => ScaChallenge::Decoupled { message, in_progress: false },
        "DECOUPLED_AUTH_IN_PROGRESS" => ScaChallenge::Decoupled { message, in_progress: true },
        other => return Err(invalid(&format!("status '{other}'"))),
    };
    Ok((Continuation { token: hash, procedure_id: previous_procedure }, challenge))
}

fn interface_name(banking_interface: Option<String>, interface: Option<String>) -> Option<String> {
    non_empty(banking_interface).or(non_empty(interface))
}

pub fn connection(wire: wire::BankConnection, wanted_interface: Option<&str>) -> RemoteConnection {
    let bank = wire.bank;
    let interfaces: Vec<(Option<String>, wire::ConnectionInterface)> = wire
        .interfaces
        .into_iter()
        .map(|i| (interface_name(i.banking_interface.clone(), i.interface.clone()), i))
        .collect();
    let chosen = interfaces
        .iter()
        .find(|(name, _)| wanted_interface.is_some() && name.as_deref() == wanted_interface)
        .or_else(|| interfaces.first());
    let last_update = chosen.and_then(|(_, i)| i.last_manual_update.clone().or(i.last_auto_update.clone())).map(|u| {
        UpdateResult { ok: u.result.as_deref().is_none_or(|r| r == "OK"), message: non_empty(u.error_message) }
    });
    RemoteConnection {
        provider_connection_id: wire.id.to_string(),
        bank_id: bank.as_ref().map(|b| b.id.to_string()).or(wire.bank_id.map(|id| id.to_string())),
        bank_name: bank.as_ref().and_then(|b| non_empty(b.name.clone())),
        bank_bic: bank.as_ref().and_then(|b| non_empty(b.bic.clone())),
        interface: chosen.and_then(|(name, _)| name.clone()),
        ready: wire.update_status.as_deref() == Some("READY"),
        last_update,
        consent_expires_at: chosen
            .and_then(|(_, i)| i.ais_consent.as_ref())
            .and_then(|c| c.expires_at.as_deref())
            .and_then(parse_timestamp),
        user_action_required: chosen.and_then(|(_, i)| i.user_action_required).unwrap_or(false),
        account_ids: wire.account_ids.iter().map(ToString::to_string).collect(),
        consent_present: chosen
            .and_then(|(_, i)| i.ais_consent.as_ref())
            .and_then(|c| c.status.as_deref())
            .map(|status| status == "PRESENT"),
        stored_login_labels: chosen.and_then(|(_, i)| i.login_credentials.as_ref()).map(|fields| {
            fields
                .iter()
                .filter(|f| f.value.as_deref().is_some_and(|v| !v.is_empty()))
                .filter_map(|f| f.label.clone())
                .collect()
        }),
    }
}

/// A row of v2's `GET /pendingTransactions`: the fields of a transaction, status `Pending`, and the
/// provider id `pending:<id>` (finAPI numbers pending rows on their own; the prefix keeps them apart
/// from booked ids).
pub fn pending_transaction(row: serde_json::Value) -> Result<FetchedTransaction> {
    let mut fetched = transaction(row)?;
    fetched.provider_id = format!("pending:{}", fetched.provider_id);
    fetched.status = BookingStatus::Pending;
    Ok(fetched)
}

fn account_type(name: Option<&str>, v1_id: Option<i64>) -> AccountType {
    match (name, v1_id) {
        (Some("Checking"), _) | (None, Some(1)) => AccountType::Checking,
        (Some("Savings"), _) | (Some("Bausparen"), _) | (None, Some(2 | 8)) => AccountType::Savings,
        (Some("CreditCard"), _) | (None, Some(3)) => AccountType::CreditCard,
        (Some("Security"), _) | (None, Some(4)) => AccountType::Securities,
        (Some("Loan"), _) | (None, Some(5)) => AccountType::Loan,
        _ => AccountType::Other,
    }
}

pub fn account(wire: wire::Account) -> FetchedAccount {
    let failed_status = |s: &Option<String>| s.as_deref() == Some("DOWNLOAD_FAILED");
    let download_failed = wire.interfaces.iter().any(|i| failed_status(&i.status)) || failed_status(&wire.status);
    let currency = wire.account_currency.as_deref().and_then(|c| Currency::parse(c).ok()).unwrap_or(Currency::EUR);
    let name = non_empty(wire.account_name)
        .or_else(|| non_empty(wire.iban.clone()))
        .or_else(|| non_empty(wire.account_number.clone()))
        .unwrap_or_else(|| format!("Account {}", wire.id));
    FetchedAccount {
        provider_account_id: wire.id.to_string(),
        iban: non_empty(wire.iban),
        name,
        holder: non_empty(wire.account_holder_name),
        account_type: account_type(wire.account_type.as_deref(), wire.account_type_id),
        currency,
        balance: wire.balance,
        available: wire.available_funds,
        download_failed,
    }
}

/// One transaction row. `raw` is the row's JSON (decimals as strings). Rows without an amount or a
/// booking date cannot be shown and are an error.
pub fn transaction(row: serde_json::Value) -> Result<FetchedTransaction> {
    let raw = row.to_string();
    let wire: wire::Transaction = serde_json::from_value(row).map_err(|e| {
        KontorError::new(
            ErrorCode::ProviderResponseInvalid,
            format!("finAPI sent a transaction Kontor cannot read: {e}"),
        )
    })?;
    let booking_date = wire
        .bank_booking_date
        .as_deref()
        .and_then(parse_date)
        .or_else(|| wire.finapi_booking_date.as_deref().and_then(parse_date))
        .or_else(|| wire.value_date.as_deref().and_then(parse_date))
        .ok_or_else(|| {
            KontorError::new(
                ErrorCode::ProviderResponseInvalid,
                format!("finAPI sent transaction {} without a date.", wire.id),
            )
        })?;
    let amount = wire.amount.ok_or_else(|| {
        KontorError::new(
            ErrorCode::ProviderResponseInvalid,
            format!("finAPI sent transaction {} without an amount.", wire.id),
        )
    })?;
    Ok(FetchedTransaction {
        provider_account_id: wire.account_id.to_string(),
        provider_id: wire.id.to_string(),
        booking_date,
        value_date: wire.value_date.as_deref().and_then(parse_date),
        amount,
        currency: wire.currency.as_deref().and_then(|c| Currency::parse(c).ok()),
        counterparty: Counterparty {
            name: non_empty(wire.counterpart_name),
            iban: non_empty(wire.counterpart_iban),
            bic: non_empty(wire.counterpart_bic),
        },
        purpose: non_empty(wire.purpose),
        kind: non_empty(wire.kind),
        status: BookingStatus::Booked,
        raw: Some(raw),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berlin_summer_and_winter_time() {
        let parse = |s: &str| parse_timestamp(s).map(|t| t.to_rfc3339());
        assert_eq!(parse("2018-01-01 00:00:00.000").as_deref(), Some("2017-12-31T23:00:00+00:00"));
        assert_eq!(parse("2019-11-27 08:13:32.155").as_deref(), Some("2019-11-27T07:13:32.155+00:00"));
        assert_eq!(parse("2024-07-01 12:00:00.000").as_deref(), Some("2024-07-01T10:00:00+00:00"));
        assert_eq!(parse("2020-11-19T16:54:06.854+01:00").as_deref(), Some("2020-11-19T15:54:06.854+00:00"));
        assert_eq!(parse("yesterday"), None);
    }

    #[test]
    fn dates_from_both_versions() {
        assert_eq!(parse_date("2024-03-05"), NaiveDate::from_ymd_opt(2024, 3, 5));
        assert_eq!(parse_date("2024-03-05 00:00:00.000"), NaiveDate::from_ymd_opt(2024, 3, 5));
        assert_eq!(parse_date("05.03.2024"), None);
    }
}
