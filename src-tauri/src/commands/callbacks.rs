use kontor_core::KontorError;

use crate::deep_link::{self, CallbackResult, Inbox};

/// Outcomes of `kontor://` callbacks the shell handled since the UI last asked (also those from
/// before the UI listened).
#[tauri::command]
pub fn take_callback_results(inbox: tauri::State<'_, Inbox>) -> Vec<CallbackResult> {
    inbox.take_results()
}

/// A callback address the user pasted because their browser could not hand it back to Kontor; it goes
/// through the same inbox as one from the desktop, so it is handled and checked the same way.
#[tauri::command]
pub fn paste_callback(app: tauri::AppHandle, url: String) -> Result<(), KontorError> {
    deep_link::accept_pasted(&app, &url)
}
