use std::time::{SystemTime, UNIX_EPOCH};

use kontor_core::KontorError;
use kontor_core::api::dto::Overview;

use super::KontorState;

/// With this variable set, the app prints one line when the UI has painted its first overview, for `make bench`
/// (cold start to the first painted overview): `KONTOR_FIRST_PAINT unix_ms=<wall clock in ms>`.
pub const REPORT_FIRST_PAINT_ENV: &str = "KONTOR_REPORT_FIRST_PAINT";

#[tauri::command]
pub fn overview(kontor: KontorState<'_>) -> Result<Overview, KontorError> {
    kontor.overview()
}

/// The UI calls this once, two animation frames after the overview's data was first rendered.
#[tauri::command]
pub fn overview_painted() {
    if std::env::var_os(REPORT_FIRST_PAINT_ENV).is_none() {
        return;
    }
    let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    println!("KONTOR_FIRST_PAINT unix_ms={unix_ms}");
}
