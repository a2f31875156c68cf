//! Tauri commands: each delegates to `kontor_core::api` in one line.

pub mod callbacks;
pub mod connections;
pub mod link;
pub mod overview;
pub mod transactions;
pub mod vault;

use std::sync::Arc;

use kontor_core::api::Kontor;

pub type KontorState<'a> = tauri::State<'a, Arc<Kontor>>;
