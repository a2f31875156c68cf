use kontor_core::KontorError;
use kontor_core::api::dto::Overview;

use super::KontorState;
use crate::startup;

#[tauri::command]
pub fn overview(kontor: KontorState<'_>) -> Result<Overview, KontorError> {
    let overview = kontor.overview();
    startup::mark("overview-answered");
    overview
}

/// The UI calls this once, two animation frames after the overview's data was first rendered,
/// with its own startup marks (printed as `ui-<step>` steps of the timeline).
#[tauri::command]
pub fn overview_painted(marks: Vec<startup::UiMark>) {
    startup::ui_marks(&marks);
    startup::painted();
}
