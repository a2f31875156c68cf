//! Where flows are kept: [`FlowStore`], implemented for the vault's [`Store`].
//!
//! The store keeps a flow as a neutral [`FlowRecord`] (the columns it is found by, the state as JSON)
//! and knows nothing of [`Flow`]; the JSON is written and read only here. A stored flow Kontor cannot
//! read (written by a newer version) counts as absent.

use chrono::{DateTime, Utc};

use super::Flow;
use crate::domain::FlowId;
use crate::error::{KontorError, Result};
use crate::store::Store;
use crate::store::sync_queries::FlowRecord;

/// Saving and finding SCA flows (no secrets are in them; see [`super::state`]).
pub trait FlowStore {
    fn save_flow(&self, flow: &Flow, now: DateTime<Utc>) -> Result<()>;
    fn flow(&self, id: &FlowId) -> Result<Option<Flow>>;
    /// The flow a callback's `state` parameter belongs to.
    fn flow_by_callback_state(&self, state: &str) -> Result<Option<Flow>>;
    /// Every stored flow, oldest first.
    fn flows(&self) -> Result<Vec<Flow>>;
}

fn parse(json: &str) -> Option<Flow> {
    serde_json::from_str(json).ok()
}

impl FlowStore for Store {
    fn save_flow(&self, flow: &Flow, now: DateTime<Utc>) -> Result<()> {
        let state =
            serde_json::to_string(flow).map_err(|e| KontorError::internal(format!("Cannot save a flow: {e}")))?;
        let record = FlowRecord {
            id: flow.id.clone(),
            provider_config_id: flow.provider_config_id.clone(),
            purpose: flow.purpose.as_str().to_owned(),
            state,
            callback_state: flow.state.callback_state().map(str::to_owned),
            created_at: flow.created_at,
            expires_at: flow.deadline,
        };
        self.save_flow_record(&record, now)
    }

    fn flow(&self, id: &FlowId) -> Result<Option<Flow>> {
        Ok(self.flow_state(id)?.as_deref().and_then(parse))
    }

    fn flow_by_callback_state(&self, state: &str) -> Result<Option<Flow>> {
        Ok(self.flow_state_by_callback(state)?.as_deref().and_then(parse))
    }

    fn flows(&self) -> Result<Vec<Flow>> {
        Ok(self.flow_states()?.iter().filter_map(|json| parse(json)).collect())
    }
}
