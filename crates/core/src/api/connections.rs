//! Connections the user controls: the consent cockpit, renewing a consent, removing a connection,
//! naming, hiding and ordering accounts, duplicates, and the sync history.
//!
//! Invariants:
//!
//! - Renewing keeps the connection: the same row, account ids, transactions and journal. finAPI ends
//!   the old consent (`DELETE …/aisConsent`) and the update that follows asks the bank for a new one
//!   with the SCA it needs; the new end date comes from the provider.
//! - Removing deletes at the provider first where its API allows (finAPI); only when that worked (or
//!   the provider no longer knows the connection) are the vault rows deleted, in one transaction.
//!   Kontor keeps no secret per connection; the provider's last connection takes the provider user
//!   with it (finAPI: `DELETE /users`, and its password leaves the OS keyring; finX: the refresh token).
//! - An IBAN held by two visible accounts (a one-time import of a bank another connection holds)
//!   counts once in the total: the account of an ongoing connection wins, else the older one. The
//!   user settles it by keeping one; the others are hidden, never deleted.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Kontor;
use super::dto::ConnectionSummary;
use super::link::Backend;
use super::link_dto::FlowUpdate;
use crate::domain::{AccountId, AccountType, Connection, ConnectionId, ProviderKind, SyncWarning};
use crate::error::{ErrorCode, KontorError, Result};
use crate::store::connection_control::{AccountChoices, SyncRecord};

/// The longest name the user can give an account.
pub const ACCOUNT_NAME_MAX: usize = 80;
/// How many journal rows the history shows at most.
pub const HISTORY_LIMIT: u32 = 200;

/// One account as the connections screen shows it, hidden ones included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectionAccount {
    pub id: String,
    /// The name shown: the user's, else the bank's.
    pub name: String,
    /// The bank's name for the account.
    pub bank_account_name: String,
    pub custom_name: Option<String>,
    pub iban: Option<String>,
    pub account_type: AccountType,
    pub currency: String,
    pub balance_booked: Option<String>,
    pub hidden: bool,
    #[ts(type = "number")]
    pub transaction_count: u64,
    /// Another visible account with the same IBAN that the total counts instead of this one.
    pub duplicate_of: Option<String>,
}

/// The outcome of one sync as the journal recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// One sync in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncEntry {
    #[ts(type = "number")]
    pub id: i64,
    pub connection_id: Option<String>,
    /// The connection's bank, while the connection exists.
    pub bank_name: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: SyncOutcome,
    #[ts(type = "number")]
    pub added: i64,
    #[ts(type = "number")]
    pub updated: i64,
    #[ts(type = "number")]
    pub removed: i64,
    /// Why it failed; the UI says what to do from the code.
    pub error: Option<KontorError>,
    pub warnings: Vec<SyncWarning>,
}

/// A connection on the connections screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectionDetail {
    pub connection: ConnectionSummary,
    pub provider_label: String,
    pub provider_kind: ProviderKind,
    pub is_demo: bool,
    /// The banking interface (`XS2A`, `FINTS_SERVER`, …, or finX's access kind).
    pub interface: Option<String>,
    pub last_sync: Option<SyncEntry>,
    pub accounts: Vec<ConnectionAccount>,
    #[ts(type = "number")]
    pub transaction_count: u64,
    /// Whether Kontor can renew the consent from here (finAPI).
    pub can_renew: bool,
    /// A deadline is near or passed: the UI shows the amber state, a badge and a notification.
    pub needs_attention: bool,
}

/// What removing a connection deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RemovedConnection {
    #[ts(type = "number")]
    pub accounts: u64,
    #[ts(type = "number")]
    pub transactions: u64,
    /// Whether the provider deleted it too (finAPI); finX keeps nothing Kontor could delete per bank.
    pub deleted_at_provider: bool,
    /// Whether it was the provider's last connection, so Kontor also deleted its provider user and
    /// removed that user's password from the OS keyring (finAPI), or dropped the finX grant.
    pub secrets_removed: bool,
}

fn compact_iban(iban: &str) -> String {
    iban.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase()
}

/// The visible accounts in the user's order, each with the account the total counts instead of it
/// when another visible account holds the same IBAN.
pub fn visible_accounts(
    all: Vec<AccountChoices>,
    connections: &[Connection],
) -> Vec<(AccountChoices, Option<AccountId>)> {
    let visible: Vec<AccountChoices> = all.into_iter().filter(|a| !a.hidden).collect();
    let once = |a: &AccountChoices| {
        connections.iter().find(|c| c.id == a.account.connection_id).and_then(|c| c.interface.as_deref())
            == Some(super::finx::ONETIME_INTERFACE)
    };
    let created = |a: &AccountChoices| {
        connections.iter().find(|c| c.id == a.account.connection_id).map(|c| c.created_at).unwrap_or_default()
    };
    let counted = |iban: &str| {
        visible
            .iter()
            .filter(|a| a.account.iban.as_deref().is_some_and(|i| compact_iban(i) == iban))
            .min_by_key(|a| (once(a), created(a), a.account.id.as_str().to_owned()))
            .map(|a| a.account.id.clone())
    };
    visible
        .iter()
        .map(|a| {
            let kept = a.account.iban.as_deref().map(compact_iban).filter(|i| !i.is_empty()).and_then(|i| counted(&i));
            let duplicate_of = kept.filter(|k| k != &a.account.id);
            (a.clone(), duplicate_of)
        })
        .collect()
}

fn outcome_of(text: &str) -> SyncOutcome {
    match text {
        "running" => SyncOutcome::Running,
        "succeeded" => SyncOutcome::Succeeded,
        "cancelled" => SyncOutcome::Cancelled,
        _ => SyncOutcome::Failed,
    }
}

fn entry_of(record: SyncRecord, connections: &[Connection]) -> SyncEntry {
    let error = record.error_code.as_ref().map(|code| {
        let code = serde_json::from_value(serde_json::Value::String(code.clone())).unwrap_or(ErrorCode::Internal);
        KontorError::new(code, record.error_message.clone().unwrap_or_default())
    });
    SyncEntry {
        id: record.id,
        bank_name: record
            .connection_id
            .as_ref()
            .and_then(|id| connections.iter().find(|c| &c.id == id))
            .map(|c| c.bank_name.clone()),
        connection_id: record.connection_id.map(|c| c.to_string()),
        started_at: record.started_at,
        finished_at: record.finished_at,
        outcome: outcome_of(&record.outcome),
        added: record.added,
        updated: record.updated,
        removed: record.removed,
        error,
        warnings: record.warnings,
    }
}

impl Kontor {
    /// Every connection with its provider, deadlines, last sync and accounts (hidden ones included).
    pub fn connections(&self) -> Result<Vec<ConnectionDetail>> {
        let overview = self.overview()?;
        self.with_store(|store| {
            let connections = store.connections()?;
            let configs = store.provider_configs()?;
            let counts = store.transaction_counts()?;
            let mut last = store.last_syncs()?;
            let accounts = store.accounts_with_choices()?;
            let duplicates: std::collections::HashMap<AccountId, AccountId> =
                visible_accounts(accounts.clone(), &connections)
                    .into_iter()
                    .filter_map(|(a, d)| d.map(|d| (a.account.id, d)))
                    .collect();
            let mut out = Vec::with_capacity(connections.len());
            for c in &connections {
                let Some(summary) = overview.connections.iter().find(|s| s.id == c.id.as_str()).cloned() else {
                    continue;
                };
                let config = configs.iter().find(|p| p.id == c.provider_config_id);
                let mine: Vec<ConnectionAccount> = accounts
                    .iter()
                    .filter(|a| a.account.connection_id == c.id)
                    .map(|a| ConnectionAccount {
                        id: a.account.id.to_string(),
                        name: a.shown_name().to_owned(),
                        bank_account_name: a.account.name.clone(),
                        custom_name: a.custom_name.clone(),
                        iban: a.account.iban.clone(),
                        account_type: a.account.account_type,
                        currency: a.account.currency.to_string(),
                        balance_booked: a.account.balance_booked.map(|m| m.amount.to_string()),
                        hidden: a.hidden,
                        transaction_count: counts.get(&a.account.id).copied().unwrap_or(0),
                        duplicate_of: duplicates.get(&a.account.id).map(ToString::to_string),
                    })
                    .collect();
                let once = c.interface.as_deref() == Some(super::finx::ONETIME_INTERFACE);
                out.push(ConnectionDetail {
                    transaction_count: mine.iter().map(|a| a.transaction_count).sum(),
                    provider_label: config.map(|p| p.label.clone()).unwrap_or_default(),
                    provider_kind: config.map_or(ProviderKind::Finapi, |p| p.kind),
                    is_demo: config.is_some_and(|p| p.is_demo),
                    interface: c.interface.clone(),
                    last_sync: last.remove(&c.id).map(|r| entry_of(r, &connections)),
                    accounts: mine,
                    can_renew: config.is_some_and(|p| p.kind == ProviderKind::Finapi) && !once,
                    needs_attention: !summary.deadline_warnings.is_empty(),
                    connection: summary,
                });
            }
            Ok(out)
        })
    }

    fn account_id(&self, account_id: &str) -> Result<(AccountId, ConnectionId)> {
        let id = AccountId::from(account_id);
        let connection = self
            .with_store(|s| s.account_connection(&id))?
            .ok_or_else(|| KontorError::not_found("This account does not exist."))?;
        Ok((id, connection))
    }

    /// Gives an account Kontor's own name (shown beside the bank's); `None` or blank: the bank's again.
    pub fn rename_account(&self, account_id: &str, name: Option<&str>) -> Result<()> {
        let (id, _) = self.account_id(account_id)?;
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if name.is_some_and(|n| n.chars().count() > ACCOUNT_NAME_MAX) {
            return Err(KontorError::invalid_input(format!(
                "An account name can have at most {ACCOUNT_NAME_MAX} characters."
            )));
        }
        self.with_store(|s| s.set_account_custom_name(&id, name)).map(|_| ())
    }

    /// Hides an account from the overview and the total, or shows it again.
    pub fn set_account_hidden(&self, account_id: &str, hidden: bool) -> Result<()> {
        let (id, _) = self.account_id(account_id)?;
        self.with_store(|s| s.set_account_hidden(&id, hidden)).map(|_| ())
    }

    /// Orders a connection's accounts as given (every account of the connection, each once).
    pub fn reorder_accounts(&self, connection_id: &str, ordered: &[String]) -> Result<()> {
        let connection = ConnectionId::from(connection_id);
        let mut held: Vec<String> =
            self.with_store(|s| s.connection_accounts(&connection))?.into_iter().map(|a| a.id.to_string()).collect();
        let mut given = ordered.to_vec();
        held.sort();
        given.sort();
        if held.is_empty() || held != given {
            return Err(KontorError::invalid_input("List every account of this connection exactly once."));
        }
        let ids: Vec<AccountId> = ordered.iter().map(|id| AccountId::from(id.as_str())).collect();
        self.with_store(|s| s.set_account_positions(&ids))
    }

    /// Settles a duplicate: keeps this account and hides every other account with its IBAN.
    pub fn keep_account(&self, account_id: &str) -> Result<()> {
        let (id, _) = self.account_id(account_id)?;
        self.with_store(|s| {
            let all = s.accounts_with_choices()?;
            let iban = all
                .iter()
                .find(|a| a.account.id == id)
                .and_then(|a| a.account.iban.as_deref())
                .map(compact_iban)
                .ok_or_else(|| KontorError::invalid_input("This account has no IBAN to compare."))?;
            s.set_account_hidden(&id, false)?;
            for other in all.iter().filter(|a| {
                a.account.id != id && a.account.iban.as_deref().map(compact_iban).as_deref() == Some(iban.as_str())
            }) {
                s.set_account_hidden(&other.account.id, true)?;
            }
            Ok(())
        })
    }

    /// The journal, newest first: one connection's syncs, or every sync.
    pub fn sync_history(&self, connection_id: Option<&str>) -> Result<Vec<SyncEntry>> {
        let connection = connection_id.map(ConnectionId::from);
        self.with_store(|s| {
            let connections = s.connections()?;
            let records = s.sync_history(connection.as_ref(), HISTORY_LIMIT)?;
            Ok(records.into_iter().map(|r| entry_of(r, &connections)).collect())
        })
    }

    /// Removes a connection: at the provider where its API allows it (finAPI), then its accounts,
    /// transactions, balances and journal rows from the vault in one transaction. A finX ongoing
    /// grant (refresh token) that no connection uses any more is dropped as well.
    pub async fn remove_connection(&self, connection_id: &str) -> Result<RemovedConnection> {
        let id = ConnectionId::from(connection_id);
        let connection = self
            .with_store(|s| s.connection(&id))?
            .ok_or_else(|| KontorError::not_found("This connection does not exist."))?;
        let backend = self.backend(&connection.provider_config_id).await?;
        let deleted_at_provider = match &backend {
            Backend::Finapi(client) => match client.delete_connection(&connection.provider_connection_id).await {
                Ok(()) => true,
                Err(e) if e.code == ErrorCode::NotFound => false,
                Err(e) => {
                    return Err(KontorError {
                        message: format!(
                            "{}. Nothing was removed; try again in a moment.",
                            e.message.trim_end_matches('.')
                        ),
                        ..e
                    });
                }
            },
            Backend::Finx(_) => false,
        };
        let ongoing = connection.interface.as_deref() == Some(super::finx::ONGOING_INTERFACE);
        let (removed, grant_dropped, last_of_provider) = self.with_store(|s| {
            let removed = s.remove_connection(&id)?;
            let left = s.connections()?;
            let mine = |c: &&crate::domain::Connection| c.provider_config_id == connection.provider_config_id;
            let grant_unused =
                !left.iter().filter(mine).any(|c| c.interface.as_deref() == Some(super::finx::ONGOING_INTERFACE));
            let grant_dropped = ongoing && grant_unused;
            if grant_dropped {
                s.delete_provider_session(&connection.provider_config_id, super::finx::TOKEN_SCOPE)?;
            }
            Ok((removed, grant_dropped, !left.iter().any(|c| mine(&c))))
        })?;
        let mut secrets_removed = grant_dropped;
        if let (Backend::Finapi(client), true) = (&backend, last_of_provider) {
            // The user holds nothing any more: delete it at finAPI and forget its password.
            if let Err(e) = client.delete_user().await {
                tracing::warn!(code = ?e.code, "the finAPI user could not be deleted: {}", e.message);
            }
            self.forget_finapi_user(&connection.provider_config_id)?;
            secrets_removed = true;
        }
        tracing::info!(accounts = removed.accounts, transactions = removed.transactions, "connection removed");
        Ok(RemovedConnection {
            accounts: removed.accounts,
            transactions: removed.transactions,
            deleted_at_provider,
            secrets_removed,
        })
    }

    /// Renews a connection's consent while keeping the connection, its accounts and history.
    /// finAPI: ends the current consent and runs an update, which asks for the bank's SCA and
    /// brings a new consent. finX renews only through a new widget flow, which Kontor cannot tie to
    /// this connection yet: `NotSupported` with what to do.
    pub async fn renew_consent(&self, connection_id: &str) -> Result<FlowUpdate> {
        let id = ConnectionId::from(connection_id);
        let connection = self
            .with_store(|s| s.connection(&id))?
            .ok_or_else(|| KontorError::not_found("This connection does not exist."))?;
        match self.backend(&connection.provider_config_id).await? {
            Backend::Finapi(client) => {
                match client.delete_consent(&connection.provider_connection_id).await {
                    Ok(()) => {}
                    // no consent left to end: the update below asks for a new one all the same
                    Err(e) if e.code == ErrorCode::NotFound => {}
                    Err(e) => return Err(e),
                }
                self.sync_connection(connection_id).await
            }
            Backend::Finx(_) => Err(KontorError::new(
                ErrorCode::NotSupported,
                "finX renews a consent only in its own window: link this bank again through finX (Link a bank). Kontor keeps this connection's transactions; remove it afterwards if you like.",
            )),
        }
    }
}
