use kontor_core::KontorError;
use kontor_core::api::dto::AppStatus;
use kontor_core::secret::SecretString;

use super::KontorState;

#[tauri::command]
pub fn app_status(kontor: KontorState<'_>) -> AppStatus {
    kontor.status()
}

#[tauri::command]
pub fn create_vault_with_passphrase(
    kontor: KontorState<'_>,
    passphrase: SecretString,
) -> Result<AppStatus, KontorError> {
    kontor.create_with_passphrase(&passphrase)
}

#[tauri::command]
pub fn unlock_vault(kontor: KontorState<'_>, passphrase: SecretString) -> Result<AppStatus, KontorError> {
    kontor.unlock_with_passphrase(&passphrase)
}

#[tauri::command]
pub fn complete_onboarding(kontor: KontorState<'_>) -> Result<AppStatus, KontorError> {
    kontor.complete_onboarding()
}
