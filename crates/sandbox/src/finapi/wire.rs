//! finAPI's JSON shapes in v1 and v2 (finapi.md §0–§5).
//!
//! The differences the Demo Bank reproduces:
//!
//! | | v1 | v2 |
//! |---|---|---|
//! | interface field | `interface` | `bankingInterface` |
//! | timestamps | `2025-06-15 09:30:00.000` (German local time, no offset) | `2025-06-15T09:30:00.000+02:00` |
//! | dates | `2025-06-15 00:00:00.000` | `2025-06-15` |
//! | nulls | every field present, `null` when empty | the same here (v2 *may* omit; we do not) |
//! | extras | deprecated fields (`bankId`, `type`, `accountTypeId`, top-level account `status`, …) | `isMandatory`, `isPisSupported`, `paymentConstraints`, `aisConsent.supportsImportNewAccounts` |
//!
//! German local time is computed with the EU rule (CEST from the last Sunday of March 01:00 UTC to the last
//! Sunday of October 01:00 UTC), so no time-zone database is needed.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Utc, Weekday};
use serde_json::{Map, Value, json};

use super::ApiVersion;
use super::banks::{Bank, InterfaceSpec};
use super::store::{AccountRecord, ConnectionRecord, Row, StoredBooking, UserRecord};
use crate::json::{money, money_opt};

/// The name of the interface field.
pub fn interface_key(version: ApiVersion) -> &'static str {
    match version {
        ApiVersion::V1 => "interface",
        ApiVersion::V2 => "bankingInterface",
    }
}

/// Germany's UTC offset at `instant`.
pub fn berlin_offset(instant: DateTime<Utc>) -> FixedOffset {
    let year = instant.year();
    let summer_start = last_sunday_0100_utc(year, 3);
    let summer_end = last_sunday_0100_utc(year, 10);
    let hours = if instant >= summer_start && instant < summer_end { 2 } else { 1 };
    FixedOffset::east_opt(hours * 3600).unwrap_or_else(|| Utc.fix())
}

fn last_sunday_0100_utc(year: i32, month: u32) -> DateTime<Utc> {
    let next_month = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    let mut day = NaiveDate::from_ymd_opt(next_month.0, next_month.1, 1).unwrap_or_default() - Duration::days(1);
    while day.weekday() != Weekday::Sun {
        day -= Duration::days(1);
    }
    Utc.from_utc_datetime(&day.and_hms_opt(1, 0, 0).unwrap_or_default())
}

/// A timestamp in the version's format.
pub fn timestamp(version: ApiVersion, instant: DateTime<Utc>) -> Value {
    let local = instant.with_timezone(&berlin_offset(instant));
    Value::String(match version {
        ApiVersion::V1 => local.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        ApiVersion::V2 => local.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
    })
}

/// A date in the version's format.
pub fn date(version: ApiVersion, day: NaiveDate) -> Value {
    Value::String(match version {
        ApiVersion::V1 => format!("{} 00:00:00.000", day.format("%Y-%m-%d")),
        ApiVersion::V2 => day.format("%Y-%m-%d").to_string(),
    })
}

/// `{page, perPage, pageCount, totalCount}`.
pub fn paging(page: u64, per_page: u64, total: u64) -> Value {
    let page_count = if per_page == 0 { 0 } else { total.div_ceil(per_page) };
    json!({"page": page, "perPage": per_page, "pageCount": page_count, "totalCount": total})
}

fn payment_capabilities() -> Value {
    json!({
        "sepaDirectDebit": false,
        "sepaMoneyTransfer": true,
        "sepaInstantMoneyTransfer": false,
        "sepaCollectiveMoneyTransfer": false,
        "sepaFutureDatedMoneyTransfer": true,
        "sepaStandingOrder": false,
        "domesticMoneyTransfer": false,
        "domesticCollectiveMoneyTransfer": false,
        "domesticFutureDatedMoneyTransfer": false,
    })
}

fn insert(value: &mut Value, key: &str, field: Value) {
    if let Some(object) = value.as_object_mut() {
        object.insert(key.to_owned(), field);
    }
}

/// One `BankInterface`.
pub fn bank_interface(version: ApiVersion, spec: &InterfaceSpec) -> Value {
    let now = Utc::now();
    let credentials: Vec<Value> = spec
        .login_fields
        .iter()
        .map(|field| {
            let mut value = json!({"label": field.label, "isSecret": field.is_secret, "isVolatile": field.is_volatile});
            if version == ApiVersion::V2 {
                insert(&mut value, "isMandatory", Value::Bool(field.is_mandatory));
            }
            value
        })
        .collect();
    let mut value = json!({
        interface_key(version): spec.interface.as_str(),
        "tppAuthenticationGroup": spec.tpp_authentication_group.map(|(id, name)| json!({"id": id, "name": name})),
        "loginCredentials": credentials,
        "properties": spec.properties.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "loginHint": spec.login_hint,
        "health": 100,
        "lastCommunicationAttempt": timestamp(version, now),
        "lastSuccessfulCommunication": timestamp(version, now),
        "isAisSupported": true,
        "paymentCapabilities": payment_capabilities(),
        "aisAccountTypes": ["Checking", "Savings"],
    });
    match version {
        ApiVersion::V1 => insert(&mut value, "isMoneyTransferSupported", Value::Bool(true)),
        ApiVersion::V2 => {
            insert(&mut value, "isPisSupported", Value::Bool(true));
            insert(
                &mut value,
                "paymentConstraints",
                json!({"ibanOnly": true, "maxPurposeLength": 140, "maxCounterpartNameLength": 70}),
            );
        }
    }
    value
}

/// One `Bank`.
pub fn bank(version: ApiVersion, bank: &Bank) -> Value {
    let mut value = json!({
        "id": bank.id,
        "name": bank.name,
        "blz": bank.blz,
        "bic": bank.bic,
        "location": bank.location,
        "city": bank.city,
        "isTestBank": bank.is_test_bank,
        "isBeta": false,
        "popularity": bank.popularity,
        "interfaces": bank.interfaces.iter().map(|spec| bank_interface(version, spec)).collect::<Vec<_>>(),
        "bankGroup": null,
        "logo": null,
        "icon": null,
    });
    if version == ApiVersion::V1 {
        let first = bank.interfaces.first();
        let extras = json!({
            "loginHint": first.map(|spec| spec.login_hint.clone()),
            "blzs": [bank.blz],
            "isSupported": !bank.interfaces.is_empty(),
            "health": 100,
            "loginFieldUserId": first.and_then(|spec| spec.login_fields.first()).map(|f| f.label),
            "loginFieldCustomerId": null,
            "loginFieldPin": first.and_then(|spec| spec.login_fields.iter().find(|f| f.is_secret)).map(|f| f.label),
            "pinsAreVolatile": first.is_some_and(|spec| spec.login_fields.iter().any(|f| f.is_volatile)),
            "isCustomerIdPassword": false,
            "supportedDataSources": ["FINTS_SERVER"],
            "lastCommunicationAttempt": timestamp(version, Utc::now()),
            "lastSuccessfulCommunication": timestamp(version, Utc::now()),
        });
        merge(&mut value, extras);
    }
    value
}

fn merge(value: &mut Value, extras: Value) {
    if let (Some(object), Value::Object(more)) = (value.as_object_mut(), extras) {
        object.extend(more);
    }
}

/// A `User`; the password is in clear text only right after creation.
pub fn user(user: &UserRecord, show_password: bool) -> Value {
    json!({
        "id": user.id,
        "password": if show_password { user.password.as_str() } else { "XXXXX" },
        "email": user.email,
        "phone": user.phone,
        "isAutoUpdateEnabled": user.is_auto_update_enabled,
    })
}

fn procedure_list(connection: &ConnectionRecord) -> Value {
    Value::Array(
        connection
            .procedures
            .iter()
            .map(|p| {
                json!({
                    "procedureId": p.id,
                    "procedureName": p.name,
                    "procedureChallengeType": p.kind.challenge_type(),
                    "implicitExecute": false,
                })
            })
            .collect(),
    )
}

/// A `BankConnection`. `updating` decides `updateStatus`.
pub fn connection(version: ApiVersion, connection: &ConnectionRecord, bank_data: &Bank, updating: bool) -> Value {
    let last_update = json!({
        "result": "OK",
        "errorMessage": null,
        "errorType": null,
        "timestamp": timestamp(version, connection.last_manual_update.timestamp),
    });
    let credentials: Vec<Value> = connection
        .credentials
        .iter()
        .map(|(label, value)| {
            let secret = label == "PIN";
            json!({"label": label, "value": value.as_ref().map(|v| if secret { "XXXXX".to_owned() } else { v.clone() })})
        })
        .collect();
    let mut consent = if connection.consent_revoked {
        json!({"status": "NOT_PRESENT", "expiresAt": null})
    } else {
        json!({"status": "PRESENT", "expiresAt": timestamp(version, connection.consent_expires_at)})
    };
    if version == ApiVersion::V2 {
        insert(&mut consent, "supportsImportNewAccounts", Value::Bool(true));
    }
    let interface = json!({
        interface_key(version): connection.interface.as_str(),
        "loginCredentials": credentials,
        "defaultTwoStepProcedureId": connection.default_procedure.as_ref().map(|p| p.id),
        "twoStepProcedures": procedure_list(connection),
        "aisConsent": consent,
        "lastManualUpdate": last_update,
        "lastAutoUpdate": null,
        "userActionRequired": false,
        "maxDaysForDownload": connection.max_days_for_download,
    });
    let holder = connection.accounts.first().map(|a| a.holder_name.clone()).unwrap_or_default();
    let (first_name, last_name) = holder.split_once(' ').unwrap_or(("", holder.as_str()));
    let mut value = json!({
        "id": connection.id,
        "name": connection.name,
        "updateStatus": if updating { "IN_PROGRESS" } else { "READY" },
        "categorizationStatus": if updating { "PENDING" } else { "READY" },
        "interfaces": [interface],
        "accountIds": connection.accounts.iter().map(|a| a.id).collect::<Vec<_>>(),
        "owners": [{
            "firstName": first_name, "lastName": last_name, "salutation": null, "title": null, "email": null,
            "dateOfBirth": null, "postCode": null, "country": null, "city": null, "street": null, "houseNumber": null,
        }],
        "bank": bank(version, bank_data),
    });
    if version == ApiVersion::V1 {
        let login = connection.credentials.iter().find(|(label, _)| label == "Onlinebanking-ID");
        merge(
            &mut value,
            json!({
                "bankId": connection.bank_id,
                "bankingUserId": login.and_then(|(_, v)| v.clone()),
                "bankingCustomerId": null,
                "bankingPin": connection.credentials.iter().find(|(l, _)| l == "PIN").and_then(|(_, v)| v.as_ref()).map(|_| "XXXXX"),
                "type": "DEMO",
                "lastManualUpdate": last_update,
                "lastAutoUpdate": null,
                "ibanOnlyMoneyTransferSupported": true,
                "ibanOnlyDirectDebitSupported": false,
                "collectiveMoneyTransferSupported": false,
                "defaultTwoStepProcedureId": connection.default_procedure.as_ref().map(|p| p.id),
                "twoStepProcedures": procedure_list(connection),
                "furtherLoginNotRecommended": false,
            }),
        );
    }
    value
}

/// An `Account`.
pub fn account(version: ApiVersion, connection: &ConnectionRecord, account: &AccountRecord) -> Value {
    let status = if connection.is_busy() { "DOWNLOAD_IN_PROGRESS" } else { "UPDATED" };
    let balance = account.balance();
    let available = account.overdraft_limit.map(|limit| balance + limit).or(Some(balance));
    let interface = json!({
        interface_key(version): connection.interface.as_str(),
        "status": status,
        "capabilities": ["DATA_DOWNLOAD", "IBAN_ONLY_SEPA_MONEY_TRANSFER"],
        "paymentCapabilities": payment_capabilities(),
        "lastSuccessfulUpdate": timestamp(version, account.last_successful_update),
        "lastUpdateAttempt": timestamp(version, account.last_successful_update),
    });
    let mut value = json!({
        "id": account.id,
        "bankConnectionId": account.connection_id,
        "accountName": account.name,
        "iban": account.iban,
        "accountNumber": account.account_number,
        "subAccountNumber": null,
        "accountHolderName": account.holder_name,
        "accountHolderId": "XXXXX",
        "accountCurrency": "EUR",
        "accountType": account.kind.finapi_name(),
        "balance": money(balance),
        "overdraft": money(if balance.is_sign_negative() { -balance } else { rust_decimal::Decimal::ZERO }),
        "overdraftLimit": money_opt(account.overdraft_limit),
        "availableFunds": money_opt(available),
        "isNew": account.is_new,
        "isSeized": false,
        "interfaces": [interface],
    });
    if version == ApiVersion::V1 {
        merge(
            &mut value,
            json!({
                "accountTypeId": account.kind.finapi_v1_id(),
                "accountTypeName": account.kind.finapi_name(),
                "lastSuccessfulUpdate": timestamp(version, account.last_successful_update),
                "lastUpdateAttempt": timestamp(version, account.last_successful_update),
                "status": status,
                "supportedOrders": ["SEPA_MONEY_TRANSFER"],
                "clearingAccounts": [],
            }),
        );
    }
    value
}

/// A booked `Transaction`.
pub fn transaction(version: ApiVersion, row: &Row) -> Value {
    let booking = &row.booking;
    let counterpart = booking.counterpart.as_ref();
    let mut value = Map::new();
    let mut put = |key: &str, field: Value| {
        value.insert(key.to_owned(), field);
    };
    put("id", json!(row.id));
    put("parentId", Value::Null);
    put("accountId", json!(row.account_id));
    put("valueDate", date(version, booking.value_date));
    put("bankBookingDate", date(version, booking.booking_date));
    put("finapiBookingDate", date(version, booking.booking_date));
    put("amount", money(booking.amount));
    put("currency", json!("EUR"));
    put("purpose", json!(booking.purpose));
    put("counterpartName", json!(counterpart.map(|c| c.name.clone())));
    put("counterpartAccountNumber", json!(counterpart.and_then(|c| c.iban.as_ref()).and_then(|iban| iban.get(12..))));
    put("counterpartIban", json!(counterpart.and_then(|c| c.iban.clone())));
    put("counterpartBlz", json!(counterpart.and_then(|c| c.iban.as_ref()).and_then(|iban| iban.get(4..12))));
    put("counterpartBic", json!(counterpart.and_then(|c| c.bic.clone())));
    put("counterpartBankName", json!(counterpart.and_then(|c| c.bank_name.clone())));
    put("counterpartMandateReference", json!(counterpart.and_then(|c| c.mandate_reference.clone())));
    put("counterpartCustomerReference", Value::Null);
    put("counterpartCreditorId", json!(counterpart.and_then(|c| c.creditor_id.clone())));
    put("counterpartDebitorId", Value::Null);
    put("type", json!(booking.kind.type_text()));
    put("typeCodeZka", json!(booking.kind.zka_code()));
    put("typeCodeSwift", json!(booking.kind.swift_code()));
    put("sepaPurposeCode", json!(booking.kind.sepa_purpose_code()));
    put("bankTransactionCode", json!(booking.kind.bank_transaction_code()));
    put("primanota", Value::Null);
    put("endToEndReference", json!(booking.end_to_end_reference));
    put("category", Value::Null);
    put("labels", json!([]));
    put("isPotentialDuplicate", json!(false));
    put("isAdjustingEntry", json!(false));
    put("isNew", json!(row.is_new));
    put("importDate", timestamp(version, row.imported_at));
    put("children", Value::Null);
    put("paypalData", Value::Null);
    put("compensationAmount", Value::Null);
    put("originalAmount", Value::Null);
    put("originalCurrency", Value::Null);
    put("differentDebitor", Value::Null);
    put("differentCreditor", Value::Null);
    if version == ApiVersion::V2 {
        put("certisData", Value::Null);
        put("feeAmount", Value::Null);
        put("feeCurrency", Value::Null);
    }
    Value::Object(value)
}

/// A v2 pending transaction (finapi.md names the endpoint but not the schema; this mirrors `Transaction`'s
/// names for the fields a pending card payment has).
pub fn pending_transaction(account_id: u64, stored: &StoredBooking) -> Value {
    let booking = &stored.booking;
    json!({
        "id": stored.id,
        "accountId": account_id,
        "amount": money(booking.amount),
        "currency": "EUR",
        "purpose": booking.purpose,
        "counterpartName": booking.counterpart.as_ref().map(|c| c.name.clone()),
        "counterpartIban": booking.counterpart.as_ref().and_then(|c| c.iban.clone()),
        "counterpartBic": booking.counterpart.as_ref().and_then(|c| c.bic.clone()),
        "valueDate": booking.value_date.format("%Y-%m-%d").to_string(),
        "bankBookingDate": booking.booking_date.format("%Y-%m-%d").to_string(),
        "type": booking.kind.type_text(),
        "importDate": timestamp(ApiVersion::V2, stored.imported_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_time_follows_summer_time() {
        let winter = Utc.with_ymd_and_hms(2025, 1, 10, 12, 0, 0).single().unwrap_or_default();
        let summer = Utc.with_ymd_and_hms(2025, 7, 10, 12, 0, 0).single().unwrap_or_default();
        assert_eq!(timestamp(ApiVersion::V2, winter), json!("2025-01-10T13:00:00.000+01:00"));
        assert_eq!(timestamp(ApiVersion::V2, summer), json!("2025-07-10T14:00:00.000+02:00"));
        assert_eq!(timestamp(ApiVersion::V1, summer), json!("2025-07-10 14:00:00.000"));
        // 2025-03-30 01:00 UTC is the switch.
        let before = Utc.with_ymd_and_hms(2025, 3, 30, 0, 59, 0).single().unwrap_or_default();
        assert_eq!(berlin_offset(before).local_minus_utc(), 3600);
    }
}
