//! Connections the user controls from the command line: the sync history, removing a connection,
//! and naming, hiding and keeping accounts (`kontor history`, `kontor remove`, `kontor account …`).
//! Renewing a consent is a flow and lives with the others (`super::flows::renew`).

use clap::Subcommand;
use kontor_core::api::connections::SyncEntry;
use serde::Serialize;

use super::{CommandFailure, print_result, print_text};
use crate::Globals;
use crate::session::Session;

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Give an account Kontor's own name (shown beside the bank's); without NAME the bank's name again.
    Rename {
        /// The account id from `kontor accounts`.
        account_id: String,
        name: Option<String>,
    },
    /// Hide an account from the overview and the total.
    Hide { account_id: String },
    /// Show a hidden account again.
    Show { account_id: String },
    /// Keep this account where two connections hold the same IBAN; the others are hidden.
    Keep { account_id: String },
}

#[derive(Debug, Serialize)]
struct History<'a> {
    syncs: &'a [SyncEntry],
}

#[derive(Debug, Serialize)]
struct Done<'a> {
    account_id: &'a str,
}

pub fn history(connection: Option<&str>, globals: &Globals) -> Result<(), CommandFailure> {
    let session = Session::open(globals)?;
    let syncs = session.kontor.sync_history(connection);
    let _ = session.kontor.close();
    let syncs = syncs?;
    if globals.json {
        return print_result("history", &History { syncs: &syncs });
    }
    if syncs.is_empty() {
        return print_text("No sync yet.");
    }
    for s in &syncs {
        let what = match &s.error {
            Some(error) => format!("{:?}: {}", error.code, error.message),
            None => format!("{} new, {} updated, {} removed", s.added, s.updated, s.removed),
        };
        print_text(&format!(
            "{}  {:<24} {:?}  {what}",
            s.started_at,
            s.bank_name.as_deref().unwrap_or("(removed)"),
            s.outcome
        ))?;
        for warning in &s.warnings {
            print_text(&format!("  note: {}", serde_json::to_string(warning).unwrap_or_default()))?;
        }
    }
    Ok(())
}

pub async fn remove(connection_id: &str, confirmed: bool, globals: &Globals) -> Result<(), CommandFailure> {
    let session = Session::open_online(globals).await?;
    let outcome = async {
        let detail = session
            .kontor
            .connections()?
            .into_iter()
            .find(|c| c.connection.id == connection_id)
            .ok_or_else(|| kontor_core::KontorError::not_found("This connection does not exist."))?;
        if !confirmed {
            return Err(CommandFailure::InvalidInput(format!(
                "Removing {} deletes {} accounts and {} transactions from Kontor; repeat with --yes to do it.",
                detail.connection.bank_name,
                detail.accounts.len(),
                detail.transaction_count
            )));
        }
        Ok(session.kontor.remove_connection(connection_id).await?)
    }
    .await;
    session.close().await;
    let removed = outcome?;
    if globals.json {
        return print_result("removed", &removed);
    }
    print_text(&format!(
        "Removed connection {connection_id}: {} accounts, {} transactions{}.",
        removed.accounts,
        removed.transactions,
        if removed.deleted_at_provider { ", deleted at the provider too" } else { "" }
    ))
}

pub fn account(command: AccountCommand, globals: &Globals) -> Result<(), CommandFailure> {
    let session = Session::open(globals)?;
    let (kind, id, outcome) = match &command {
        AccountCommand::Rename { account_id, name } => {
            ("renamed", account_id, session.kontor.rename_account(account_id, name.as_deref()))
        }
        AccountCommand::Hide { account_id } => {
            ("hidden", account_id, session.kontor.set_account_hidden(account_id, true))
        }
        AccountCommand::Show { account_id } => {
            ("shown", account_id, session.kontor.set_account_hidden(account_id, false))
        }
        AccountCommand::Keep { account_id } => ("kept", account_id, session.kontor.keep_account(account_id)),
    };
    let _ = session.kontor.close();
    outcome?;
    if globals.json {
        return print_result(kind, &Done { account_id: id });
    }
    print_text(&format!("Account {id} {kind}."))
}
