use kontor_core::KontorError;
use kontor_core::api::dto::AppStatus;
use kontor_core::secret::SecretString;

use super::KontorState;
use crate::vault_opened;

#[tauri::command]
pub fn app_status(kontor: KontorState<'_>) -> AppStatus {
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

#[tauri::command]
pub fn complete_onboarding(kontor: KontorState<'_>) -> Result<AppStatus, KontorError> {
    kontor.complete_onboarding()
}
