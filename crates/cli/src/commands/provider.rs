//! `kontor provider …` and `kontor banks search`: provider configurations and the banks they reach.
//!
//! The client secret never appears as an argument (it would land in the shell history and in `ps`): it comes
//! from a masked prompt, the first line of stdin (`--client-secret-stdin`) or `KONTOR_CLIENT_SECRET`, and goes
//! to the OS keyring.

use std::io::BufRead as _;

use clap::{Args, Subcommand, ValueEnum};
use kontor_core::api::link_dto::{NewProviderConfig, ProviderConfigSummary};
use kontor_core::domain::ProviderKind;
use kontor_core::provider::BankSearchHit;
use kontor_core::secret::SecretString;
use serde::Serialize;

use super::{CommandFailure, print_result, print_text};
use crate::session::{Globals, Session, prompt_secret};

/// The client secret for scripts (see [`crate::session::PASSPHRASE_ENV`] on environment variables).
const CLIENT_SECRET_ENV: &str = "KONTOR_CLIENT_SECRET";

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Add a provider configuration; the client secret goes to the OS keyring.
    Add(AddArgs),
    /// List the provider configurations (the Demo Bank included).
    List,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Finapi,
    Finx,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ApiVersionArg {
    V1,
    V2,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// finapi, or finx (finleap connect / Qwist finX API; its widget chooses the bank).
    #[arg(long, value_enum, default_value = "finapi")]
    kind: KindArg,
    /// e.g. https://sandbox.finapi.io, https://live.finapi.io, or for finX https://api.finx-s.qwist.cloud
    #[arg(long, value_name = "URL")]
    base_url: String,
    #[arg(long, value_name = "ID")]
    client_id: String,
    /// The API version your finAPI client is bound to (ignored for finX).
    #[arg(long, value_enum, default_value = "v2")]
    api_version: ApiVersionArg,
    /// A name to tell configurations apart.
    #[arg(long, value_name = "LABEL", default_value = "")]
    label: String,
    /// Read the client secret from the first line of stdin (else $KONTOR_CLIENT_SECRET, else a prompt).
    #[arg(long)]
    client_secret_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum BanksCommand {
    /// Search banks by name, BLZ, BIC, city or IBAN.
    Search {
        query: String,
        /// The provider configuration (default: the only real one, else the Demo Bank).
        #[arg(long, value_name = "ID")]
        provider: Option<String>,
    },
}

#[derive(Debug, Serialize)]
struct ProviderBody<'a> {
    provider: &'a ProviderConfigSummary,
}

#[derive(Debug, Serialize)]
struct ProvidersBody<'a> {
    providers: &'a [ProviderConfigSummary],
}

pub async fn run(command: ProviderCommand, globals: &Globals) -> Result<(), CommandFailure> {
    match command {
        ProviderCommand::Add(args) => add(args, globals),
        ProviderCommand::List => list(globals),
    }
}

fn read_secret(from_stdin: bool) -> Result<SecretString, CommandFailure> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(CommandFailure::Output)?;
        let secret = SecretString::new(line.trim_end_matches(['\r', '\n']).to_owned());
        line.clear();
        return Ok(secret);
    }
    if let Some(secret) = std::env::var(CLIENT_SECRET_ENV).ok().filter(|s| !s.is_empty()) {
        return Ok(SecretString::new(secret));
    }
    prompt_secret("Client secret: ")
}

fn add(args: AddArgs, globals: &Globals) -> Result<(), CommandFailure> {
    let secret = read_secret(args.client_secret_stdin)?;
    if secret.expose().trim().is_empty() {
        return Err(CommandFailure::InvalidInput("The client secret is empty.".to_owned()));
    }
    let session = Session::open(globals)?;
    let summary = session.kontor.add_provider_config(NewProviderConfig {
        kind: match args.kind {
            KindArg::Finapi => ProviderKind::Finapi,
            KindArg::Finx => ProviderKind::Finx,
        },
        label: args.label,
        base_url: args.base_url,
        client_id: args.client_id,
        client_secret: secret,
        api_version: Some(
            match args.api_version {
                ApiVersionArg::V1 => "v1",
                ApiVersionArg::V2 => "v2",
            }
            .to_owned(),
        ),
        is_demo: false,
    })?;
    let _ = session.kontor.close();
    if globals.json {
        print_result("provider", &ProviderBody { provider: &summary })
    } else {
        print_text(&format!(
            "Added {} ({}, {}, API {}) as provider {}.\nThe client secret is in the OS keyring; the Demo Bank is no longer the default.",
            summary.label, summary.base_url, summary.client_id, summary.api_version, summary.id
        ))
    }
}

fn list(globals: &Globals) -> Result<(), CommandFailure> {
    let session = Session::open(globals)?;
    let providers = session.kontor.provider_configs()?;
    let _ = session.kontor.close();
    if globals.json {
        return print_result("providers", &ProvidersBody { providers: &providers });
    }
    if providers.is_empty() {
        return print_text("No provider is configured; the Demo Bank is used.");
    }
    for p in &providers {
        let demo = if p.is_demo { " (Demo Bank)" } else { "" };
        print_text(&format!(
            "{}  {}{}  {}  client {}  API {}",
            p.id, p.label, demo, p.base_url, p.client_id, p.api_version
        ))?;
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct BanksBody<'a> {
    provider_config_id: &'a str,
    banks: &'a [BankSearchHit],
}

pub async fn run_banks(command: BanksCommand, globals: &Globals) -> Result<(), CommandFailure> {
    let BanksCommand::Search { query, provider } = command;
    let session = Session::open_online(globals).await?;
    let outcome = search(&session, &query, provider.as_deref()).await;
    session.close().await;
    let (provider_id, banks) = outcome?;
    if globals.json {
        return print_result("banks", &BanksBody { provider_config_id: &provider_id, banks: &banks });
    }
    if banks.is_empty() {
        return print_text("No bank matches.");
    }
    for bank in &banks {
        let interfaces: Vec<&str> = bank.interfaces.iter().map(|i| i.id.as_str()).collect();
        let reach = if interfaces.is_empty() { "not reachable".to_owned() } else { interfaces.join(", ") };
        print_text(&format!(
            "{:>8}  {}  BLZ {}  BIC {}  {}  [{}]",
            bank.id,
            bank.name,
            bank.blz.as_deref().unwrap_or("-"),
            bank.bic.as_deref().unwrap_or("-"),
            bank.city.as_deref().unwrap_or(""),
            reach
        ))?;
    }
    Ok(())
}

async fn search(
    session: &Session,
    query: &str,
    provider: Option<&str>,
) -> Result<(String, Vec<BankSearchHit>), CommandFailure> {
    let provider = session.provider(provider)?;
    let banks = session.kontor.search_banks(&provider.id, query).await?;
    Ok((provider.id, banks))
}
