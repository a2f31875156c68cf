//! The connections screen: consents, renewing, removing, account names, visibility and order, the
//! sync history, and the OS notification about a consent near its end. Each command delegates to
//! the facade in one line (after waiting for the in-process Demo Bank where the provider is called).

use kontor_core::KontorError;
use kontor_core::api::connections::{ConnectionDetail, RemovedConnection, SyncEntry};
use kontor_core::api::link_dto::FlowUpdate;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_notification::NotificationExt;

use super::KontorState;
use crate::demo::DemoBankHost;
use crate::events::with_progress;

#[tauri::command]
pub fn connections(kontor: KontorState<'_>) -> Result<Vec<ConnectionDetail>, KontorError> {
    kontor.connections()
}

#[tauri::command]
pub fn rename_account(kontor: KontorState<'_>, account_id: String, name: Option<String>) -> Result<(), KontorError> {
    kontor.rename_account(&account_id, name.as_deref())
}

#[tauri::command]
pub fn set_account_hidden(kontor: KontorState<'_>, account_id: String, hidden: bool) -> Result<(), KontorError> {
    kontor.set_account_hidden(&account_id, hidden)
}

#[tauri::command]
pub fn reorder_accounts(
    kontor: KontorState<'_>,
    connection_id: String,
    ordered: Vec<String>,
) -> Result<(), KontorError> {
    kontor.reorder_accounts(&connection_id, &ordered)
}

#[tauri::command]
pub fn keep_account(kontor: KontorState<'_>, account_id: String) -> Result<(), KontorError> {
    kontor.keep_account(&account_id)
}

#[tauri::command]
pub fn sync_history(kontor: KontorState<'_>, connection_id: Option<String>) -> Result<Vec<SyncEntry>, KontorError> {
    kontor.sync_history(connection_id.as_deref())
}

#[tauri::command]
pub async fn remove_connection(
    kontor: KontorState<'_>,
    demo: State<'_, DemoBankHost>,
    connection_id: String,
) -> Result<RemovedConnection, KontorError> {
    demo.ensure(&kontor).await;
    kontor.remove_connection(&connection_id).await
}

#[tauri::command]
pub async fn renew_consent(
    kontor: KontorState<'_>,
    demo: State<'_, DemoBankHost>,
    connection_id: String,
    on_progress: Channel<FlowUpdate>,
) -> Result<FlowUpdate, KontorError> {
    demo.ensure(&kontor).await;
    with_progress(on_progress, kontor.renew_consent(&connection_id)).await
}

/// Shows an OS notification (the UI words it in the user's language). A desktop without a
/// notification service is not an error for the user: the badge and the amber state remain.
#[tauri::command]
pub fn notify(app: AppHandle, title: String, body: String) -> Result<(), KontorError> {
    if let Err(err) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("the notification could not be shown: {err}");
    }
    Ok(())
}
