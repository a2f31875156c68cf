use kontor_core::KontorError;
use kontor_core::api::dto::Overview;

use super::KontorState;

#[tauri::command]
pub fn overview(kontor: KontorState<'_>) -> Result<Overview, KontorError> {
    kontor.overview()
}
