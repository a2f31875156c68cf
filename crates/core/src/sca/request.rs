//! What the app and the CLI render ([`UserRequest`]) and what they send back ([`UserAnswer`]).
//!
//! A front end never decides anything about SCA: it shows the one request of a waiting flow and
//! returns the matching answer. Secret values (PINs, TANs) only ever travel inward: [`UserAnswer`]
//! can be deserialised but not serialised.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::provider::{LoginField, LoginValue, ScaProcedure, TanChallenge};
use crate::secret::SecretString;

/// What the user has to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UserRequest {
    /// Enter the bank's login fields (render `secret` ones as password fields). `hint` is the bank's
    /// text, possibly HTML; show it.
    EnterCredentials { bank_name: String, fields: Vec<LoginField>, hint: Option<String> },
    /// The bank needs the IBANs to include (DETAILED_CONSENT). `known_ibans` are the accounts already
    /// known for this connection (empty on a new link: the user types them).
    SelectAccounts { known_ibans: Vec<String> },
    /// Choose an SCA method.
    ChooseProcedure { message: Option<String>, procedures: Vec<ScaProcedure> },
    /// Enter a TAN: the text, the photoTAN image or the flicker code to show is in `challenge`.
    EnterTan { prompt: Option<String>, label: Option<String>, challenge: TanChallenge },
    /// Continue in the system browser; Kontor waits for the bank's callback.
    OpenBrowser { url: String },
    /// Approve in the banking app, then answer `continue` (Kontor polls the bank meanwhile).
    ApproveInApp { message: Option<String> },
}

/// The answer to a [`UserRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UserAnswer {
    /// For `enter_credentials`: one value per field label. `store_secrets`: the user ticked "let the
    /// provider keep my login" (finAPI `storeSecrets`, finX `save_secrets`), so later syncs need not
    /// ask; off unless ticked.
    Credentials {
        values: Vec<LoginValue>,
        #[serde(default)]
        store_secrets: bool,
    },
    /// For `select_accounts`.
    Accounts { ibans: Vec<String> },
    /// For `choose_procedure`: the procedure's `id`.
    Procedure { id: String },
    /// For `enter_tan`.
    Tan {
        #[ts(type = "string")]
        tan: SecretString,
    },
    /// For `approve_in_app` (keep polling) and to re-show any other request.
    Continue,
}

impl UserAnswer {
    /// A short name for logs; never the value.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Credentials { .. } => "credentials",
            Self::Accounts { .. } => "accounts",
            Self::Procedure { .. } => "procedure",
            Self::Tan { .. } => "tan",
            Self::Continue => "continue",
        }
    }
}
