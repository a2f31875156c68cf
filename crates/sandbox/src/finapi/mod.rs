//! The Demo Bank's finAPI Access face: v1 and v2 paths per `shared/docs/finapi.md`.
//!
//! - [`routes`]: tokens, users, banks, reading connections, accounts, transactions;
//! - [`connections`]: import and update with the multi-step authentication loop of [`msa`];
//! - [`banks`]: the bank directory (finAPI's test banks 280001/280002 plus 280003 DETAILED_CONSENT and
//!   280004 decoupled-only);
//! - [`store`]: what the server remembers; [`wire`]: the JSON shapes of both versions; [`errors`]: finAPI's
//!   error envelope.
//!
//! Both versions are served by the same handlers; the version comes from the path (an [`ApiVersion`] request
//! extension) and only changes field names and formats. A client bound to one version gets 403
//! "API Version mismatch" on the other (see [`crate::DemoBankConfig::client_api_version`]).

pub mod banks;
pub mod connections;
pub mod errors;
pub mod msa;
pub mod routes;
pub mod store;
pub mod wire;

use std::fmt;

use axum::Extension;
use axum::Router;
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};

use crate::state::SharedState;

/// A finAPI Access API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ApiVersion {
    V1,
    V2,
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        })
    }
}

/// The routes shared by `/api/v1` and `/api/v2`.
fn versioned_routes() -> Router<SharedState> {
    Router::new()
        .route("/users", post(routes::create_user).get(routes::get_user).delete(routes::delete_user))
        .route("/banks", get(routes::list_banks))
        .route("/banks/{id}", get(routes::get_bank))
        .route("/bankConnections", get(routes::list_connections))
        .route("/bankConnections/import", post(connections::import))
        .route("/bankConnections/update", post(connections::update))
        .route("/bankConnections/{id}", get(routes::get_connection).delete(routes::delete_connection))
        .route("/bankConnections/{id}/aisConsent", delete(routes::delete_consent))
        .route("/accounts", get(routes::list_accounts))
        .route("/accounts/{id}", get(routes::get_account))
        .route("/transactions", get(routes::list_transactions))
        .route("/transactions/{id}", get(routes::get_transaction))
}

/// All finAPI routes: `/api/v1/…`, `/api/v2/…`, the v1 token endpoint `/oauth/token` and the v2 one
/// `/api/v2/oauth/token`.
pub fn router() -> Router<SharedState> {
    let v1 = versioned_routes().layer(Extension(ApiVersion::V1));
    let v2 = versioned_routes()
        .route("/oauth/token", post(routes::token))
        .route("/oauth/revoke", post(routes::revoke))
        .route("/pendingTransactions", get(routes::list_pending_transactions))
        .layer(Extension(ApiVersion::V2));
    Router::new()
        .nest("/api/v1", v1)
        .nest("/api/v2", v2)
        .route("/oauth/token", post(routes::token).layer(Extension(ApiVersion::V1)))
        .route("/oauth/revoke", post(routes::revoke).layer(Extension(ApiVersion::V1)))
}
