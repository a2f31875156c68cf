//! `kontor link`, `sync`, `callback`, `cancel`: the commands that run a bank authentication.
//!
//! Each starts the loopback listener for bank redirects and makes it the callback URL (unless `--callback-url`
//! names another, e.g. `kontor://sca-callback`), then hands the flow to a [`Conversation`].

use clap::Args;
use clap::ValueEnum;
use kontor_core::api::link_dto::{FinxFlow, FlowUpdate, StartFinxLink, StartLink, StoredIncomeReport};
use kontor_core::domain::{ProviderKind, SyncWarning};
use kontor_core::{ErrorCode, KontorError};
use serde::Serialize;

use super::{CommandFailure, print_error_line, print_result, print_text};
use crate::conversation::{Conversation, Finished, Played};
use crate::loopback::Loopback;
use crate::session::{Globals, Session};

/// The finX widget flow of `kontor link` (finAPI ignores it).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FlowArg {
    /// One-time access: accounts, balances and transactions fetched once; no access is kept.
    Onetime,
    /// Ongoing access: kept (refresh token in the vault) and synced with `kontor sync`.
    Ongoing,
    /// Income report: fetched, stored in the vault and shown (`kontor income-report`).
    IncomeReport,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The bank's id from `kontor banks search` (finAPI; required there). finX: a finX provider id to
    /// pre-select the bank in the widget (optional). Required unless `--flow` is given.
    #[arg(long, value_name = "ID", required_unless_present = "flow")]
    bank: Option<String>,
    /// finX: which widget flow to run (default: ongoing).
    #[arg(long, value_enum, value_name = "FLOW")]
    flow: Option<FlowArg>,
    /// finX ongoing: the finX user id (default: the one Kontor created for this provider).
    #[arg(long, value_name = "ID")]
    user_id: Option<String>,
    /// finX ongoing: let finX keep the bank login for unattended syncs.
    #[arg(long)]
    save_secrets: bool,
    /// finX: an IBAN to pre-select bank and account (repeatable).
    #[arg(long = "account", value_name = "IBAN")]
    accounts: Vec<String>,
    /// finX: days of transaction history to request.
    #[arg(long, value_name = "DAYS")]
    sync_period: Option<u32>,
    /// finX income report: months to cover (4–24).
    #[arg(long, value_name = "MONTHS", conflicts_with = "sync_period")]
    reporting_period: Option<u32>,
    /// The provider configuration (default: the only real one, else the Demo Bank).
    #[arg(long, value_name = "ID")]
    provider: Option<String>,
    /// The interface: XS2A, FINTS_SERVER, … (default: the best one the bank offers).
    #[arg(long, value_name = "NAME")]
    interface: Option<String>,
    /// Where the bank sends the browser back (default: a loopback listener of this process).
    #[arg(long, value_name = "URL")]
    callback_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The connection to sync (an id from `kontor connections`).
    #[arg(value_name = "CONNECTION_ID", required_unless_present = "all", conflicts_with = "all")]
    connection: Option<String>,
    /// Sync every connection in turn.
    #[arg(long)]
    all: bool,
    /// Where the bank sends the browser back (default: a loopback listener of this process).
    #[arg(long, value_name = "URL")]
    callback_url: Option<String>,
    /// finX: when the bank login has to be entered for a sync, let finX keep it afterwards.
    #[arg(long)]
    save_secrets: bool,
}

#[derive(Debug, Serialize)]
struct NothingToSync {
    message: &'static str,
}

#[derive(Debug, Serialize)]
struct CancelledBody<'a> {
    flow_id: &'a str,
}

/// Opens the vault online and prepares the conversation with its callback listener.
async fn prepare(
    globals: &Globals,
    callback_url: Option<String>,
    finx_save_secrets: bool,
) -> Result<(Session, Conversation), CommandFailure> {
    let session = Session::open_online(globals).await?;
    let loopback = match callback_url {
        Some(_) => None,
        None => Some(Loopback::start().await.map_err(|err| {
            KontorError::new(ErrorCode::Io, format!("Kontor could not listen for the bank's redirect: {err}"))
        })?),
    };
    let url = callback_url.or_else(|| loopback.as_ref().map(|l| l.url().to_owned()));
    session.set_link_options(url, Conversation::progress_sink(globals.json), finx_save_secrets);
    Ok((session, Conversation::new(globals.json, loopback)))
}

fn report(kind: &str, finished: &Finished, json: bool) -> Result<(), CommandFailure> {
    if json {
        return print_result(kind, finished);
    }
    let verb = match kind {
        "linked" => "Linked",
        "synced" => "Synced",
        "renewed" => "Renewed the consent of",
        _ => "Finished",
    };
    print_text(&format!(
        "{verb} {} (connection {}): {} new, {} updated.",
        finished.connection.bank_name, finished.connection.id, finished.added, finished.updated
    ))?;
    for warning in &finished.warnings {
        print_text(&format!("  note: {}", describe_warning(warning)))?;
    }
    Ok(())
}

/// A sync warning in words (the CLI speaks English; `--json` prints the code and its parameters).
fn describe_warning(warning: &SyncWarning) -> String {
    match warning {
        SyncWarning::AccountNotDelivered { account_name } => {
            format!("The bank could not send new data for {account_name}.")
        }
        SyncWarning::WithdrawnRemoved { count } => format!("{count} bookings the bank withdrew were removed."),
        SyncWarning::UnknownAccountSkipped { count } => {
            format!("{count} bookings of accounts Kontor does not know were skipped.")
        }
        SyncWarning::BalanceMismatch { account_name, expected, reported, currency, .. } => format!(
            "The balance of {account_name} does not add up: the bank reports {reported} {currency}, \
             the previous balance plus the new bookings make {expected} {currency}."
        ),
    }
}

#[derive(Debug, Serialize)]
struct ReportBody<'a> {
    report: &'a StoredIncomeReport,
}

fn report_played(kind: &str, played: &Played, json: bool) -> Result<(), CommandFailure> {
    match played {
        Played::Connection(finished) => report(kind, finished, json),
        Played::Report(stored) if json => print_result("income_report", &ReportBody { report: stored }),
        Played::Report(stored) => super::data::print_income_report(stored),
    }
}

pub async fn link(args: LinkArgs, globals: &Globals) -> Result<(), CommandFailure> {
    let (session, mut conversation) = prepare(globals, args.callback_url, false).await?;
    let outcome = async {
        let provider = session.provider(args.provider.as_deref())?;
        let first = if provider.kind == ProviderKind::Finx {
            let flow = match args.flow.unwrap_or(FlowArg::Ongoing) {
                FlowArg::Onetime => FinxFlow::OneTime,
                FlowArg::Ongoing => FinxFlow::Ongoing,
                FlowArg::IncomeReport => FinxFlow::IncomeReport,
            };
            session
                .kontor
                .start_finx_link(StartFinxLink {
                    provider_config_id: provider.id,
                    flow,
                    user_id: args.user_id,
                    provider_id: args.bank,
                    accounts: args.accounts,
                    save_secrets: args.save_secrets.then_some(true),
                    sync_period_days: args.sync_period,
                    reporting_period_months: args.reporting_period,
                    callback_url: None,
                })
                .await?
        } else {
            let bank_id = args.bank.ok_or_else(|| {
                CommandFailure::InvalidInput("finAPI needs --bank (an id from `kontor banks search`).".to_owned())
            })?;
            session
                .kontor
                .start_link(StartLink {
                    provider_config_id: provider.id,
                    bank_id,
                    interface: args.interface,
                    callback_url: None,
                })
                .await?
        };
        conversation.play_any(&session.kontor, first).await
    }
    .await;
    session.close().await;
    report_played("linked", &outcome?, globals.json)
}

pub async fn sync(args: SyncArgs, globals: &Globals) -> Result<(), CommandFailure> {
    let (session, mut conversation) = prepare(globals, args.callback_url, args.save_secrets).await?;
    let outcome = async {
        let ids: Vec<String> = match args.connection {
            Some(id) => vec![id],
            None => session.kontor.overview()?.connections.into_iter().map(|c| c.id).collect(),
        };
        if args.all && ids.is_empty() {
            const NONE_LINKED: &str = "No bank is linked yet.";
            if globals.json {
                print_result("nothing_to_sync", &NothingToSync { message: NONE_LINKED })?;
            } else {
                print_text(NONE_LINKED)?;
            }
        }
        let single = ids.len() == 1 && !args.all;
        let mut last_failure = None;
        for id in ids {
            let played = match session.kontor.sync_connection(&id).await {
                Ok(first) => conversation.play(&session.kontor, first).await,
                Err(error) => Err(CommandFailure::Kontor(error)),
            };
            match played {
                Ok(finished) => report("synced", &finished, globals.json)?,
                Err(failure) if single => return Err(failure),
                // --all: report each failure and go on with the next connection.
                Err(failure) => {
                    let error = failure.as_error();
                    if globals.json {
                        let flow_id = match &failure {
                            CommandFailure::Flow { flow_id, .. } => Some(flow_id.as_str()),
                            _ => None,
                        };
                        print_error_line(&error, flow_id)?;
                    } else {
                        super::note(&format!("error: connection {id}: {failure}"));
                    }
                    last_failure = Some(failure);
                }
            }
        }
        match last_failure {
            // Already reported; the exit status still says that something failed.
            Some(failure) => Err(CommandFailure::Reported(failure.exit_status())),
            None => Ok(()),
        }
    }
    .await;
    session.close().await;
    outcome
}

pub async fn callback(url: &str, globals: &Globals) -> Result<(), CommandFailure> {
    let (session, mut conversation) = prepare(globals, None, false).await?;
    let outcome = async {
        let first = session.kontor.handle_callback(url).await?;
        conversation.play_any(&session.kontor, first).await
    }
    .await;
    session.close().await;
    report_played("done", &outcome?, globals.json)
}

pub async fn cancel(flow_id: &str, globals: &Globals) -> Result<(), CommandFailure> {
    let session = Session::open_online(globals).await?;
    let outcome = session.kontor.cancel(flow_id).await;
    session.close().await;
    match outcome? {
        FlowUpdate::Failed { error, .. } if error.code == ErrorCode::ScaCancelled => {
            if globals.json {
                print_result("cancelled", &CancelledBody { flow_id })
            } else {
                print_text(&format!("Cancelled {flow_id}."))
            }
        }
        FlowUpdate::Failed { error, .. } => Err(CommandFailure::Flow { flow_id: flow_id.to_owned(), error }),
        FlowUpdate::Done { .. }
        | FlowUpdate::NeedsInput { .. }
        | FlowUpdate::Working { .. }
        | FlowUpdate::ReportReady { .. } => {
            if globals.json {
                print_result("unchanged", &CancelledBody { flow_id })
            } else {
                print_text(&format!("{flow_id} had already moved on; nothing was cancelled."))
            }
        }
    }
}

#[derive(Debug, Args)]
pub struct RenewArgs {
    /// The connection whose consent to renew (an id from `kontor connections`).
    #[arg(value_name = "CONNECTION_ID")]
    connection: String,
    /// Where the bank sends the browser back (default: a loopback listener of this process).
    #[arg(long, value_name = "URL")]
    callback_url: Option<String>,
}

/// Renews a connection's consent: the same conversation as a sync that needs the bank.
pub async fn renew(args: RenewArgs, globals: &Globals) -> Result<(), CommandFailure> {
    let (session, mut conversation) = prepare(globals, args.callback_url, false).await?;
    let outcome = async {
        let first = session.kontor.renew_consent(&args.connection).await?;
        conversation.play(&session.kontor, first).await
    }
    .await;
    session.close().await;
    report("renewed", &outcome?, globals.json)
}
