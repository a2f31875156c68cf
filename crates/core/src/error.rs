//! Typed errors with codes the UI and the CLI branch on.
//!
//! Every failure that reaches a person is a [`KontorError`]: a stable [`ErrorCode`], an English
//! `message` written for people (the UI translates by code and falls back to it), an optional
//! `bank_message` with the bank's own text where the bank meant it for the user, and `retry_at` where
//! waiting helps. Internal causes go to the log, never across IPC, and never contain secrets.
//! Codes are only added when some consumer reacts to them differently.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum ErrorCode {
    // Vault
    /// The key does not open this vault (a different keyring entry or a wrong passphrase).
    VaultWrongKey,
    /// A vault exists but its key is not in the keyring.
    VaultKeyMissing,
    /// No OS keyring answered; the user can unlock or create the vault with a passphrase instead.
    KeyringUnavailable,
    /// The vault is protected by a passphrase the user has to type.
    PassphraseRequired,
    /// The database file is damaged.
    VaultCorrupt,
    /// The database was written by a newer Kontor.
    VaultNewerSchema,
    /// Another process holds the database's write lock.
    VaultBusy,
    /// The vault has not been opened yet.
    VaultLocked,
    // Input
    InvalidInput,
    NotFound,
    // Providers
    /// The provider or the bank could not be reached or answered with a server error.
    ProviderUnavailable,
    /// The provider asks us to slow down; see `retry_at`.
    RateLimited,
    /// The provider's answer could not be understood (malformed or truncated JSON, unexpected shape).
    ProviderResponseInvalid,
    /// The client id / secret of a provider configuration were refused.
    ProviderAuthFailed,
    /// The bank refused the login (wrong PIN, wrong user id).
    CredentialsRejected,
    /// The bank refused the TAN.
    TanRejected,
    /// The provider does not keep the bank login and needs the user to type it again.
    CredentialsRequired,
    /// The consent for a connection ran out; the user has to renew it.
    ConsentExpired,
    /// The connection is busy with another update (HTTP 423); try again shortly.
    ResourceBusy,
    /// The provider does not support this operation for this bank or interface.
    NotSupported,
    /// The provider needs the user's IP address for this call.
    PsuIpRequired,
    /// Too many synchronisations in a short time.
    TooManySyncs,
    // SCA
    /// The user (or the bank) cancelled the authentication.
    ScaCancelled,
    /// The authentication took too long.
    ScaTimedOut,
    /// A callback carried a `state` that belongs to no pending flow.
    ScaStateMismatch,
    /// The answer no longer fits the flow's current step (for example a stale hash).
    ScaStale,
    /// An authorization code was used after its lifetime.
    AuthorizationExpired,
    // General
    Io,
    Internal,
}

impl ErrorCode {
    /// Whether repeating the same action later may succeed without the user changing anything.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::ProviderUnavailable | Self::RateLimited | Self::ResourceBusy | Self::VaultBusy | Self::TooManySyncs
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct KontorError {
    pub code: ErrorCode,
    pub message: String,
    /// The bank's or provider's own text, where it is meant for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub bank_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub retry_at: Option<DateTime<Utc>>,
}

impl KontorError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), bank_message: None, retry_at: None }
    }

    pub fn with_bank_message(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        if !text.trim().is_empty() {
            self.bank_message = Some(text);
        }
        self
    }

    pub fn with_retry_at(mut self, at: DateTime<Utc>) -> Self {
        self.retry_at = Some(at);
        self
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
}

impl fmt::Display for KontorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)?;
        if let Some(bank) = &self.bank_message {
            write!(f, " (bank: {bank})")?;
        }
        Ok(())
    }
}

impl std::error::Error for KontorError {}

impl From<std::io::Error> for KontorError {
    fn from(err: std::io::Error) -> Self {
        Self::new(ErrorCode::Io, format!("A file operation failed: {err}"))
    }
}

pub type Result<T, E = KontorError> = std::result::Result<T, E>;
