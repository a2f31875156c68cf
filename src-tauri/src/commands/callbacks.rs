use crate::deep_link::Inbox;

/// Callback URLs that arrived before the UI listened (or since it last asked).
#[tauri::command]
pub fn take_callbacks(inbox: tauri::State<'_, Inbox>) -> Vec<String> {
    inbox.take()
}
