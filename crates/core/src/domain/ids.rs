use std::fmt;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A new random id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::new_v4().simple().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

string_id!(
    /// A provider configuration (one set of finAPI or finX client credentials, or the Demo Bank).
    ProviderConfigId
);
string_id!(
    /// A bank connection as Kontor knows it (a finAPI bank connection, a finX access).
    ConnectionId
);
string_id!(
    /// An account in the vault.
    AccountId
);
string_id!(
    /// A pending SCA flow; also the `state` value of its callbacks.
    FlowId
);

/// A transaction row; integer because the transaction list pages by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct TransactionId(pub i64);
