//! Plays a bank authentication with whoever is on the other end: a person at the terminal, or a program
//! speaking the `--json` protocol (`docs/cli.md`).
//!
//! The core decides everything about SCA; this module only renders the one [`UserRequest`] of a waiting flow
//! and turns the reply into `Kontor::answer`, `Kontor::handle_callback` or `Kontor::cancel`, until the flow is
//! done or failed. A refused answer comes back as the same request with an `error`, and is asked again.
//!
//! Input: stdin lines are read on a thread of their own, one line per request made, so a prompt that reads the
//! terminal directly (masked secrets) never races a pending read. The loopback listener
//! ([`crate::loopback::Loopback`]) is the other input, for bank redirects.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kontor_cli::answer::{Reply, parse_json_answer};
use kontor_core::api::Kontor;
use kontor_core::api::dto::ConnectionSummary;
use kontor_core::api::link::ProgressSink;
use kontor_core::api::link_dto::{FlowUpdate, StoredIncomeReport, WorkStep};
use kontor_core::domain::SyncWarning;
use kontor_core::provider::{LoginValue, TanChallenge};
use kontor_core::sca::{UserAnswer, UserRequest};
use kontor_core::secret::SecretString;
use kontor_core::{ErrorCode, KontorError, tan};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::commands::{CommandFailure, note, print_json};
use crate::loopback::Loopback;

/// A linked or synced connection.
#[derive(Debug, Clone, Serialize)]
pub struct Finished {
    pub connection: ConnectionSummary,
    pub added: u32,
    pub updated: u32,
    pub warnings: Vec<SyncWarning>,
}

/// How a flow ended well: a connection, or (finX income report) a stored report.
#[derive(Debug, Clone)]
pub enum Played {
    Connection(Box<Finished>),
    Report(Box<StoredIncomeReport>),
}

/// One read from stdin.
#[derive(Debug)]
enum Input {
    Line(String),
    /// A line that is not UTF-8: refused with [`not_text`], and the question is asked again.
    NotText,
    End,
}

/// Answers are text: a line that is not UTF-8 cannot be a PIN, a TAN or JSON.
fn not_text() -> KontorError {
    KontorError::invalid_input("That answer is not valid UTF-8 text; type it again.")
}

/// Lines of stdin, read on demand on a thread of its own (a blocked read cannot hold up the process's exit).
#[derive(Debug)]
struct LineInput {
    ask: std::sync::mpsc::Sender<()>,
    lines: mpsc::UnboundedReceiver<Input>,
    /// A read was requested and its line not taken yet (its `next` was cancelled, e.g. by the loopback).
    requested: bool,
}

impl LineInput {
    fn new() -> Self {
        let (ask, asked) = std::sync::mpsc::channel::<()>();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            while asked.recv().is_ok() {
                let mut bytes = Vec::new();
                let read = match stdin.lock().read_until(b'\n', &mut bytes) {
                    Ok(0) | Err(_) => Input::End,
                    Ok(_) => match String::from_utf8(bytes) {
                        Ok(line) => Input::Line(line.trim_end_matches(['\r', '\n']).to_owned()),
                        Err(_) => Input::NotText,
                    },
                };
                let eof = matches!(read, Input::End);
                if tx.send(read).is_err() || eof {
                    break;
                }
            }
        });
        Self { ask, lines, requested: false }
    }

    /// The next line. Cancel-safe.
    async fn next(&mut self) -> Input {
        if !self.requested {
            if self.ask.send(()).is_err() {
                return Input::End;
            }
            self.requested = true;
        }
        let line = self.lines.recv().await.unwrap_or(Input::End);
        self.requested = false;
        line
    }
}

/// The other end of a flow.
#[derive(Debug)]
pub struct Conversation {
    json: bool,
    input: LineInput,
    loopback: Option<Loopback>,
    /// photoTAN images written for the person to scan: removed once the TAN was typed, and when the
    /// conversation ends in any other way.
    images: Vec<PathBuf>,
}

impl Drop for Conversation {
    fn drop(&mut self) {
        for image in self.images.drain(..) {
            let _ = std::fs::remove_file(image);
        }
    }
}

impl Conversation {
    pub fn new(json: bool, loopback: Option<Loopback>) -> Self {
        Self { json, input: LineInput::new(), loopback, images: Vec::new() }
    }

    /// Progress for the facade's sink: `{"type":"progress",…}` lines, or notes on stderr for people.
    pub fn progress_sink(json: bool) -> ProgressSink {
        Arc::new(move |update: &FlowUpdate| {
            let FlowUpdate::Working { flow_id, step } = update else { return };
            if json {
                let _ = print_json(&ProgressLine { line: "progress", flow_id: flow_id.as_deref(), step: *step });
            } else {
                note(match step {
                    WorkStep::Authorizing => "… talking to the bank",
                    WorkStep::WaitingForApproval => "… waiting for your approval",
                    WorkStep::Downloading => "… downloading accounts and transactions",
                    WorkStep::Saving => "… saving",
                });
            }
        })
    }

    /// Drives a flow from `update` until it is linked/synced (Ok) or fails (Err with the flow's error).
    pub async fn play(&mut self, kontor: &Kontor, update: FlowUpdate) -> Result<Finished, CommandFailure> {
        match self.play_any(kontor, update).await? {
            Played::Connection(finished) => Ok(*finished),
            Played::Report(_) => {
                Err(CommandFailure::Kontor(KontorError::internal("The flow made a report instead of a connection.")))
            }
        }
    }

    /// Like [`Conversation::play`], also accepting a finX income report as the end.
    pub async fn play_any(&mut self, kontor: &Kontor, mut update: FlowUpdate) -> Result<Played, CommandFailure> {
        loop {
            let (flow_id, request, error) = match update {
                FlowUpdate::Done { connection, added, updated, warnings } => {
                    return Ok(Played::Connection(Box::new(Finished { connection, added, updated, warnings })));
                }
                FlowUpdate::ReportReady { report } => return Ok(Played::Report(report)),
                FlowUpdate::Failed { flow_id, error } => {
                    return Err(match flow_id {
                        Some(flow_id) => CommandFailure::Flow { flow_id, error },
                        None => CommandFailure::Kontor(error),
                    });
                }
                FlowUpdate::Working { .. } => {
                    return Err(CommandFailure::Kontor(KontorError::internal(
                        "The authentication stopped while still working.",
                    )));
                }
                FlowUpdate::NeedsInput { flow_id, request, error } => (flow_id, request, error),
            };
            let reply = self.ask(&flow_id, &request, error.as_ref()).await?;
            let outcome = match reply {
                Reply::Answer(answer) => kontor.answer(&flow_id, answer).await,
                Reply::Callback(url) => kontor.handle_callback(&url).await,
                Reply::Cancel => kontor.cancel(&flow_id).await,
            };
            update = match outcome {
                Ok(next) => next,
                // Refusals that leave the flow as it was: ask again, saying why.
                Err(error) if is_retryable(&error) => FlowUpdate::NeedsInput { flow_id, request, error: Some(error) },
                Err(error) => return Err(CommandFailure::Flow { flow_id, error }),
            };
        }
    }

    async fn ask(
        &mut self,
        flow_id: &str,
        request: &UserRequest,
        error: Option<&KontorError>,
    ) -> Result<Reply, CommandFailure> {
        if self.json {
            print_json(&RequestLine { line: "request", flow_id, request, error })?;
            return self.json_reply(flow_id, request).await;
        }
        if let Some(error) = error {
            note(&format!("! {}", error.message));
            if let Some(bank) = &error.bank_message {
                note(&format!("  the bank says: {bank}"));
            }
        }
        let cancelled = tokio::signal::ctrl_c();
        tokio::pin!(cancelled);
        tokio::select! {
            reply = self.human_reply(flow_id, request) => reply,
            _ = &mut cancelled => {
                note("\nCancelling …");
                Ok(Reply::Cancel)
            }
        }
    }

    /// Reads JSON answers until one parses; a bad line is reported as the same request with an error.
    async fn json_reply(&mut self, flow_id: &str, request: &UserRequest) -> Result<Reply, CommandFailure> {
        loop {
            let line = if let Some(loopback) = self.loopback.as_mut() {
                tokio::select! {
                    line = self.input.next() => line,
                    url = loopback.next() => match url {
                        Some(url) => return Ok(Reply::Callback(url)),
                        None => self.input.next().await,
                    },
                }
            } else {
                self.input.next().await
            };
            let line = match line {
                Input::Line(line) => line,
                // The program went away: do not leave a half-done authentication behind.
                Input::End => return Ok(Reply::Cancel),
                Input::NotText => {
                    print_json(&RequestLine { line: "request", flow_id, request, error: Some(&not_text()) })?;
                    continue;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            match parse_json_answer(&line) {
                Ok(reply) => return Ok(reply),
                Err(error) => {
                    print_json(&RequestLine { line: "request", flow_id, request, error: Some(&error) })?;
                }
            }
        }
    }

    async fn human_reply(&mut self, flow_id: &str, request: &UserRequest) -> Result<Reply, CommandFailure> {
        match request {
            UserRequest::EnterCredentials { bank_name, fields, hint } => {
                note(&format!("Log in to {bank_name}."));
                if let Some(hint) = hint {
                    note(&strip_tags(hint));
                }
                let mut values = Vec::with_capacity(fields.len());
                for field in fields {
                    let optional = if field.mandatory { "" } else { " (optional)" };
                    let prompt = format!("{}{optional}: ", field.label);
                    let value =
                        if field.secret { self.secret_line(&prompt).await? } else { self.line(&prompt).await? };
                    values.push(LoginValue { label: field.label.clone(), value });
                }
                let store_secrets = if fields.iter().any(|f| f.secret) {
                    let answer =
                        self.line("Let the provider keep this login, so later syncs need not ask? [y/N]: ").await?;
                    matches!(answer.expose().trim().to_lowercase().as_str(), "y" | "yes" | "j" | "ja")
                } else {
                    false
                };
                Ok(Reply::Answer(UserAnswer::Credentials { values, store_secrets }))
            }
            UserRequest::SelectAccounts { known_ibans } => {
                if known_ibans.is_empty() {
                    note("The bank needs the IBANs of the accounts to include.");
                } else {
                    note("The bank needs the accounts to include; known:");
                    for iban in known_ibans {
                        note(&format!("  {iban}"));
                    }
                }
                let text = self.line("IBANs (separated by spaces or commas; empty = all known): ").await?;
                let mut ibans: Vec<String> = text
                    .expose()
                    .split([',', ' ', ';'])
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
                if ibans.is_empty() {
                    ibans.clone_from(known_ibans);
                }
                Ok(Reply::Answer(UserAnswer::Accounts { ibans }))
            }
            UserRequest::ChooseProcedure { message, procedures } => {
                if let Some(message) = message {
                    note(message);
                }
                note("Choose how to authenticate:");
                for (n, p) in procedures.iter().enumerate() {
                    note(&format!("  {}) {}", n + 1, p.name));
                }
                loop {
                    let text = self.line("Number: ").await?;
                    let choice = text.expose().trim().to_owned();
                    if choice.eq_ignore_ascii_case("cancel") {
                        return Ok(Reply::Cancel);
                    }
                    let by_number =
                        choice.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| procedures.get(i));
                    if let Some(p) = by_number.or_else(|| procedures.iter().find(|p| p.id == choice)) {
                        return Ok(Reply::Answer(UserAnswer::Procedure { id: p.id.clone() }));
                    }
                    note("Type one of the numbers above.");
                }
            }
            UserRequest::EnterTan { prompt, label, challenge } => {
                if let Some(prompt) = prompt {
                    note(&strip_tags(prompt));
                }
                if let Some(image) = show_challenge(flow_id, challenge) {
                    self.images.push(image);
                }
                let label = label.clone().unwrap_or_else(|| "TAN".to_owned());
                let tan = self.line(&format!("{label}: ")).await;
                for image in self.images.drain(..) {
                    let _ = std::fs::remove_file(image);
                }
                let tan = tan?;
                if tan.expose().trim().eq_ignore_ascii_case("cancel") {
                    return Ok(Reply::Cancel);
                }
                Ok(Reply::Answer(UserAnswer::Tan { tan }))
            }
            UserRequest::OpenBrowser { url } => {
                note(&format!("Continue at your bank in the browser:\n  {url}"));
                if let Err(err) = open::that_detached(url) {
                    note(&format!("(Kontor could not open a browser: {err}; open the address yourself.)"));
                }
                note(
                    "Kontor waits for the bank to send you back. If the browser shows an address that starts with the callback URL instead, paste it here (or type cancel).",
                );
                loop {
                    let line = match self.loopback.as_mut() {
                        Some(loopback) => tokio::select! {
                            line = self.input.next() => line,
                            url = loopback.next() => match url {
                                Some(url) => return Ok(Reply::Callback(url)),
                                None => self.input.next().await,
                            },
                        },
                        None => self.input.next().await,
                    };
                    let line = match line {
                        Input::Line(line) => line,
                        Input::End => return Ok(Reply::Cancel),
                        Input::NotText => {
                            note(&format!("! {}", not_text().message));
                            continue;
                        }
                    };
                    let line = line.trim();
                    if line.eq_ignore_ascii_case("cancel") {
                        return Ok(Reply::Cancel);
                    }
                    if !line.is_empty() {
                        return Ok(Reply::Callback(line.to_owned()));
                    }
                }
            }
            UserRequest::ApproveInApp { message } => {
                note(&message.clone().unwrap_or_else(|| "Approve the login in your banking app.".to_owned()));
                note("Kontor checks with the bank until you have approved (Ctrl-C cancels).");
                Ok(Reply::Answer(UserAnswer::Continue))
            }
        }
    }

    /// A visible line from the person.
    async fn line(&mut self, prompt: &str) -> Result<SecretString, CommandFailure> {
        loop {
            prompt_note(prompt);
            match self.input.next().await {
                Input::Line(line) => return Ok(SecretString::new(line)),
                Input::End => return Err(cancelled("The input ended.")),
                Input::NotText => note(&format!("! {}", not_text().message)),
            }
        }
    }

    /// A masked line from the terminal; without a terminal, a plain line from stdin.
    async fn secret_line(&mut self, prompt: &str) -> Result<SecretString, CommandFailure> {
        let prompt_owned = prompt.to_owned();
        let read = tokio::task::spawn_blocking(move || rpassword::prompt_password(prompt_owned)).await;
        match read {
            Ok(Ok(value)) => Ok(SecretString::new(value)),
            _ => self.line(prompt).await,
        }
    }
}

fn cancelled(message: &str) -> CommandFailure {
    CommandFailure::Kontor(KontorError::new(ErrorCode::ScaCancelled, message))
}

/// Errors after which the same request stands and can be answered again.
fn is_retryable(error: &KontorError) -> bool {
    matches!(
        error.code,
        ErrorCode::InvalidInput | ErrorCode::ScaStateMismatch | ErrorCode::ResourceBusy | ErrorCode::ScaStale
    )
}

/// Shows a TAN challenge for manual entry: flicker codes as start code and data elements, photoTAN images as a
/// file, whose path it returns.
fn show_challenge(flow_id: &str, challenge: &TanChallenge) -> Option<PathBuf> {
    match challenge {
        TanChallenge::Text => {}
        TanChallenge::Flicker { optical_data, .. } => match tan::decode_optical_data(optical_data, None) {
            Ok(code) => {
                note("chipTAN: press TAN on your reader and enter by hand:");
                note(&format!("  start code: {}", code.start_code.value));
                for (n, element) in code.data_elements.iter().enumerate() {
                    note(&format!("  data element {}: {}", n + 1, element.value));
                }
            }
            Err(err) => note(&format!("(The flicker code could not be read: {err}.)")),
        },
        TanChallenge::Photo { mime_type, data_base64 } => {
            match tan::decode_photo_base64(data_base64, Some(mime_type)) {
                Ok(photo) => {
                    let extension = match photo.mime_type.as_str() {
                        "image/jpeg" => "jpg",
                        "image/gif" => "gif",
                        _ => "png",
                    };
                    let path = std::env::temp_dir()
                        .join(format!("kontor-phototan-{flow_id}-{}.{extension}", std::process::id()));
                    match write_private(&path, &photo.image) {
                        Ok(()) => {
                            note(&format!("Scan the image with your TAN app or reader: {}", path.display()));
                            let _ = open::that_detached(&path);
                            return Some(path);
                        }
                        Err(err) => note(&format!("(The image could not be saved: {err}.)")),
                    }
                }
                Err(err) => note(&format!("(The image could not be read: {err}.)")),
            }
        }
    }
    None
}

/// Writes a new file only this user can read (a photoTAN image shows what the bank asks to authorise); an
/// existing file or link of that name is an error, never followed.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, bytes)
}

/// Removes HTML tags from a bank's hint (banks send `<br>` and friends).
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A prompt without a line break.
fn prompt_note(prompt: &str) {
    use std::io::Write as _;
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{prompt}");
    let _ = stderr.flush();
}

#[derive(Debug, Serialize)]
struct RequestLine<'a> {
    #[serde(rename = "type")]
    line: &'static str,
    flow_id: &'a str,
    request: &'a UserRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a KontorError>,
}

#[derive(Debug, Serialize)]
struct ProgressLine<'a> {
    #[serde(rename = "type")]
    line: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    flow_id: Option<&'a str>,
    step: WorkStep,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_lose_their_tags() {
        assert_eq!(strip_tags("Ihre <b>Onlinebanking-ID</b><br/>und PIN"), "Ihre Onlinebanking-ID und PIN");
    }
}
