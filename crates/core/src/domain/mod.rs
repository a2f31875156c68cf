//! Kontor's own model of banking data, independent of any provider's wire format.
//!
//! Providers map their DTOs into these types in their `map.rs`; the store persists them; the api
//! turns them into transport DTOs. Invariants: amounts are exact decimals with an ISO 4217 currency
//! ([`Money`]); ids are newtypes so a connection id cannot be passed where an account id is meant;
//! a transaction's `provider_id` is unique within its account (the sync reconciles on it).

mod ids;
mod model;
mod money;
mod pending_match;
mod sync_warning;

pub use ids::{AccountId, ConnectionId, FlowId, ProviderConfigId, TransactionId};
pub use model::{
    Account, AccountType, BookingStatus, Connection, ConnectionStatus, Counterparty, Direction, ProviderConfig,
    ProviderKind, Transaction,
};
pub use money::{Currency, Money};
pub use pending_match::{MatchField, MatchRule, PendingMatch};
pub use sync_warning::SyncWarning;
