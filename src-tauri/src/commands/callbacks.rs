use crate::deep_link::{CallbackResult, Inbox};

/// Outcomes of `kontor://` callbacks the shell handled since the UI last asked (also those from
/// before the UI listened).
#[tauri::command]
pub fn take_callback_results(inbox: tauri::State<'_, Inbox>) -> Vec<CallbackResult> {
    inbox.take_results()
}
