//! The balance truth check after every sync: for each account, the balance Kontor stored at the
//! previous sync plus the booked changes of this one must equal the balance the bank reports now.
//!
//! Skipped for an account without a previous or a reported balance (the first sync, a bank that
//! reports none), with a currency change, or whose download failed. A difference is not an error —
//! the sync is applied — but a [`SyncWarning::BalanceMismatch`] in the journal and in the result,
//! with exact decimal strings the UI formats.

use rust_decimal::Decimal;

use super::Plan;
use crate::domain::{Account, SyncWarning};

/// The mismatches of `plan` against the accounts as they were before it.
pub fn balance_warnings(before: &[Account], plan: &Plan) -> Vec<SyncWarning> {
    let mut warnings = Vec::new();
    for account in &plan.accounts {
        if plan.failed_accounts.iter().any(|a| a.id == account.id) {
            continue;
        }
        let Some(previous) = before.iter().find(|a| a.id == account.id).and_then(|a| a.balance_booked) else {
            continue;
        };
        let Some(reported) = account.balance_booked else { continue };
        if previous.currency != reported.currency {
            continue;
        }
        let change = plan.booked_change.get(&account.id).copied().unwrap_or(Decimal::ZERO);
        let expected = previous.amount + change;
        if expected != reported.amount {
            warnings.push(SyncWarning::BalanceMismatch {
                account_id: account.id.to_string(),
                account_name: account.name.clone(),
                expected: expected.to_string(),
                reported: reported.amount.to_string(),
                currency: reported.currency.to_string(),
            });
        }
    }
    warnings
}
