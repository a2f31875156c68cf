use kontor_core::KontorError;
use kontor_core::api::dto::{AppStatus, KeySourceDto};
use kontor_core::api::preferences::Preferences;
use kontor_core::secret::SecretString;

use super::KontorState;
use crate::startup::{self, VaultOpening};
use crate::vault_opened;

/// The UI's first question: waits for the vault's open at startup (on its own thread, see
/// [`crate::startup`]), so it runs off the main thread.
#[tauri::command(async)]
pub fn app_status(kontor: KontorState<'_>, opening: tauri::State<'_, VaultOpening>) -> AppStatus {
    startup::mark("status-asked");
    opening.wait();
    kontor.status()
}

#[tauri::command]
pub fn create_vault_with_passphrase(
    app: tauri::AppHandle,
    kontor: KontorState<'_>,
    passphrase: SecretString,
) -> Result<AppStatus, KontorError> {
    kontor.create_with_passphrase(&passphrase).inspect(|_| vault_opened(&app))
}

#[tauri::command]
pub fn unlock_vault(
    app: tauri::AppHandle,
    kontor: KontorState<'_>,
    passphrase: SecretString,
) -> Result<AppStatus, KontorError> {
    kontor.unlock_with_passphrase(&passphrase).inspect(|_| vault_opened(&app))
}

/// Moves the vault's key to the OS keyring or to a passphrase (`passphrase` only for the latter).
#[tauri::command]
pub fn change_key_source(
    kontor: KontorState<'_>,
    target: KeySourceDto,
    passphrase: Option<SecretString>,
) -> Result<AppStatus, KontorError> {
    kontor.change_key_source(target.into(), passphrase.as_ref())
}

#[tauri::command]
pub fn complete_onboarding(kontor: KontorState<'_>) -> Result<AppStatus, KontorError> {
    kontor.complete_onboarding()
}

#[tauri::command]
pub fn preferences(kontor: KontorState<'_>) -> Result<Preferences, KontorError> {
    kontor.preferences()
}

#[tauri::command]
pub fn set_preferences(kontor: KontorState<'_>, preferences: Preferences) -> Result<Preferences, KontorError> {
    kontor.set_preferences(preferences)
}
