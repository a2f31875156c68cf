//! kontor-core: everything Kontor knows, with no UI and no Tauri.
//!
//! The desktop shell (`src-tauri/`), the `kontor` CLI and the journeys in `tests/` all go through
//! [`api`], the one facade. Below it:
//!
//! - [`vault`]: the database key (OS keyring, or a passphrase through Argon2id) and the key's lifecycle.
//! - [`store`]: the SQLCipher database, opened through one function, with append-only migrations.
//! - [`domain`]: money, ids, connections, accounts, transactions; independent of any provider's wire format.
//! - [`provider`]: one trait, and one module per aggregator (finAPI, finX) whose wire types never leak.
//! - [`sca`]: the strong-customer-authentication state machine shared by every provider and front end.
//! - [`tan`]: chipTAN flicker (HHD 1.3/1.4), photoTAN and chipTAN-QR.
//! - [`sync`]: plan, reconcile, apply in one transaction.
//! - [`seed`]: a vault of any size with realistic bookings, through the sync path, for tests and benchmarks.
//!
//! Time comes from an injected [`clock::Clock`]; money is `rust_decimal`; secrets are wrapped in
//! [`secret::Sensitive`], which cannot be printed or serialized.

pub mod api;
pub mod clock;
pub mod domain;
pub mod error;
pub mod paths;
pub mod provider;
pub mod sca;
pub mod secret;
pub mod seed;
pub mod store;
pub mod sync;
pub mod tan;
pub mod vault;

pub use error::{ErrorCode, KontorError, Result};
