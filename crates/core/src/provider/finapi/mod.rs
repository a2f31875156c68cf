//! finAPI Access (v2 by default, v1 by configuration) as a [`Provider`].
//!
//! - [`client`]: HTTP, tokens, retries, the v1/v2 switch, the multi-step (HTTP 510) calls.
//! - [`wire`]: finAPI's JSON, parsed tolerantly and with exact decimals.
//! - [`map`]: wire → provider-neutral types (timestamps, challenges, accounts, transactions).
//! - [`error`]: finAPI's error envelope → [`crate::KontorError`].
//!
//! The 510 loop (finAPI's import guide): every continuation repeats the same endpoint with all fields
//! of the previous request, plus `multiStepAuthentication.hash` of the last 510 and the one answer the
//! status asked for (`twoStepProcedureId`, `challengeResponse`, `redirectCallback`,
//! `decoupledCallback: true`). The chosen procedure id is carried on in later calls. Deciding *when*
//! to call and what to ask the user is the SCA machine's job ([`crate::sca`]), not this module's.

pub mod client;
pub mod error;
pub mod map;
pub mod wire;

use chrono::NaiveDate;

pub use client::{ApiVersion, FinapiClient, FinapiConfig, FinapiUser, RetryPolicy};

use super::{
    AuthCall, AuthReply, BankSearchHit, BoxFuture, FetchedAccount, FetchedTransaction, Provider, Psu, RemoteConnection,
};
use crate::error::Result;

impl Provider for FinapiClient {
    fn search_banks<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<BankSearchHit>>> {
        Box::pin(FinapiClient::search_banks(self, query))
    }

    fn bank<'a>(&'a self, bank_id: &'a str) -> BoxFuture<'a, Result<BankSearchHit>> {
        Box::pin(FinapiClient::bank(self, bank_id))
    }

    fn authorize<'a>(&'a self, call: AuthCall<'a>, psu: &'a Psu) -> BoxFuture<'a, Result<AuthReply>> {
        Box::pin(FinapiClient::authorize(self, call, psu))
    }

    fn connection<'a>(&'a self, provider_connection_id: &'a str) -> BoxFuture<'a, Result<RemoteConnection>> {
        Box::pin(FinapiClient::connection(self, provider_connection_id))
    }

    fn accounts<'a>(&'a self, provider_connection_id: &'a str) -> BoxFuture<'a, Result<Vec<FetchedAccount>>> {
        Box::pin(FinapiClient::accounts(self, provider_connection_id))
    }

    fn transactions<'a>(
        &'a self,
        provider_account_ids: &'a [String],
        since: Option<NaiveDate>,
    ) -> BoxFuture<'a, Result<Vec<FetchedTransaction>>> {
        Box::pin(FinapiClient::transactions(self, provider_account_ids, since))
    }
}
