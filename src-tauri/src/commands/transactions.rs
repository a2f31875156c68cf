//! Transactions: the list, one booking, charts, and the export, which first asks the user where to save
//! through the system's save dialog. The file is written only by the user's choice and readable by the user
//! alone (0600 on Unix).

use std::io::BufWriter;

use kontor_core::api::dto::{BalancePoint, MonthlyFlow, TransactionDetail, TransactionPage, TransactionQuery};
use kontor_core::api::transactions::{ExportFormat, ExportLocale};
use kontor_core::{ErrorCode, KontorError};
use tauri_plugin_dialog::DialogExt;

use super::KontorState;

#[tauri::command]
pub fn transactions(kontor: KontorState<'_>, query: TransactionQuery) -> Result<TransactionPage, KontorError> {
    kontor.transactions(&query)
}

#[tauri::command]
pub fn transaction(kontor: KontorState<'_>, id: i64) -> Result<TransactionDetail, KontorError> {
    kontor.transaction(id)
}

#[tauri::command]
pub fn monthly_flows(kontor: KontorState<'_>, query: TransactionQuery) -> Result<Vec<MonthlyFlow>, KontorError> {
    kontor.monthly_flows(&query)
}

#[tauri::command]
pub fn balance_history(kontor: KontorState<'_>, account_id: String) -> Result<Vec<BalancePoint>, KontorError> {
    kontor.balance_history(&account_id)
}

/// Asks where to save, then writes the filtered transactions there; `None` when the user cancelled.
#[tauri::command]
pub async fn export_transactions(
    app: tauri::AppHandle,
    kontor: KontorState<'_>,
    query: TransactionQuery,
    format: ExportFormat,
    locale: ExportLocale,
) -> Result<Option<String>, KontorError> {
    let (extension, kind) = match format {
        ExportFormat::Csv => ("csv", "CSV"),
        ExportFormat::Json => ("json", "JSON"),
    };
    let chosen = app
        .dialog()
        .file()
        .add_filter(kind, &[extension])
        .set_file_name(format!("kontor-transactions.{extension}"))
        .blocking_save_file();
    let Some(chosen) = chosen else { return Ok(None) };
    let path = chosen
        .into_path()
        .map_err(|err| KontorError::invalid_input(format!("That is not a place Kontor can save to ({err}).")))?;
    let io = |err: std::io::Error| {
        KontorError::new(ErrorCode::Io, format!("Kontor could not write {}: {err}", path.display()))
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).map_err(io)?;
    let mut out = BufWriter::new(file);
    kontor.export_transactions(&query, format, locale, &mut out)?;
    out.into_inner().map_err(|err| io(err.into_error()))?.sync_all().map_err(io)?;
    Ok(Some(path.display().to_string()))
}
