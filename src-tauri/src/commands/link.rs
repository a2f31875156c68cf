//! Linking banks and syncing: each command waits for the in-process Demo Bank (when it is the
//! provider) and then delegates to the facade in one line. Long jobs report their `Working` steps
//! through the `on_progress` channel (see [`crate::events`]).

use kontor_core::KontorError;
use kontor_core::api::link_dto::{
    FlowUpdate, NewProviderConfig, PendingFlow, ProviderConfigSummary, StartFinxLink, StartLink, StoredIncomeReport,
};
use kontor_core::provider::BankSearchHit;
use kontor_core::sca::UserAnswer;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
#[cfg(not(target_os = "linux"))]
use tauri_plugin_opener::OpenerExt;

use super::KontorState;
use crate::demo::DemoBankHost;
use crate::events::with_progress;

type Demo<'a> = State<'a, DemoBankHost>;

#[tauri::command]
pub async fn provider_configs(
    kontor: KontorState<'_>,
    demo: Demo<'_>,
) -> Result<Vec<ProviderConfigSummary>, KontorError> {
    demo.ensure(&kontor).await;
    kontor.provider_configs()
}

/// Adds a real provider (finAPI or finX); the client secret goes to the OS keyring. The UI cannot
/// add demo configurations: those are the Demo Bank's own.
#[tauri::command]
pub fn add_provider_config(
    kontor: KontorState<'_>,
    config: NewProviderConfig,
) -> Result<ProviderConfigSummary, KontorError> {
    kontor.add_provider_config(NewProviderConfig { is_demo: false, ..config })
}

#[tauri::command]
pub async fn search_banks(
    kontor: KontorState<'_>,
    demo: Demo<'_>,
    provider_config_id: String,
    query: String,
) -> Result<Vec<BankSearchHit>, KontorError> {
    demo.ensure(&kontor).await;
    kontor.search_banks(&provider_config_id, &query).await
}

#[tauri::command]
pub async fn start_link(
    kontor: KontorState<'_>,
    demo: Demo<'_>,
    request: StartLink,
    on_progress: Channel<FlowUpdate>,
) -> Result<FlowUpdate, KontorError> {
    demo.ensure(&kontor).await;
    with_progress(on_progress, kontor.start_link(request)).await
}

/// Starts a finX widget flow (one-time, ongoing, income report): answers with the widget to open.
#[tauri::command]
pub async fn start_finx_link(
    kontor: KontorState<'_>,
    demo: Demo<'_>,
    request: StartFinxLink,
    on_progress: Channel<FlowUpdate>,
) -> Result<FlowUpdate, KontorError> {
    demo.ensure(&kontor).await;
    with_progress(on_progress, kontor.start_finx_link(request)).await
}

/// Stored finX income reports, newest first (from the vault: readable offline).
#[tauri::command]
pub fn income_reports(kontor: KontorState<'_>) -> Result<Vec<StoredIncomeReport>, KontorError> {
    kontor.income_reports()
}

#[tauri::command]
pub fn income_report(kontor: KontorState<'_>, id: String) -> Result<StoredIncomeReport, KontorError> {
    kontor.income_report(&id)
}

#[tauri::command]
pub async fn answer_flow(
    kontor: KontorState<'_>,
    demo: Demo<'_>,
    flow_id: String,
    answer: UserAnswer,
    on_progress: Channel<FlowUpdate>,
) -> Result<FlowUpdate, KontorError> {
    demo.ensure(&kontor).await;
    with_progress(on_progress, kontor.answer(&flow_id, answer)).await
}

#[tauri::command]
pub async fn cancel_flow(kontor: KontorState<'_>, flow_id: String) -> Result<FlowUpdate, KontorError> {
    kontor.cancel(&flow_id).await
}

#[tauri::command]
pub fn pending_flows(kontor: KontorState<'_>) -> Result<Vec<PendingFlow>, KontorError> {
    kontor.pending_flows()
}

#[tauri::command]
pub async fn sync_connection(
    kontor: KontorState<'_>,
    demo: Demo<'_>,
    connection_id: String,
    on_progress: Channel<FlowUpdate>,
) -> Result<FlowUpdate, KontorError> {
    demo.ensure(&kontor).await;
    with_progress(on_progress, kontor.sync_connection(&connection_id)).await
}

#[tauri::command]
pub async fn sync_all(
    kontor: KontorState<'_>,
    demo: Demo<'_>,
    on_progress: Channel<FlowUpdate>,
) -> Result<Vec<FlowUpdate>, KontorError> {
    demo.ensure(&kontor).await;
    with_progress(on_progress, kontor.sync_all()).await
}

/// Opens a bank's page in the system browser (never inside the webview). Only http(s) URLs. On Linux
/// the opener's exit status is waited for, so a browser that did not open is reported (`crate::browser`).
#[tauri::command]
pub async fn open_in_browser(app: AppHandle, url: String) -> Result<(), KontorError> {
    let parsed = tauri::Url::parse(url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| KontorError::invalid_input("Only web addresses (https://…) can be opened."))?;
    #[cfg(target_os = "linux")]
    {
        let _ = &app;
        let url = parsed.to_string();
        tauri::async_runtime::spawn_blocking(move || crate::browser::open_with("xdg-open", &url, crate::browser::GRACE))
            .await
            .map_err(|err| KontorError::internal(format!("opening the browser: {err}")))?
    }
    #[cfg(not(target_os = "linux"))]
    app.opener().open_url(parsed.as_str(), None::<&str>).map_err(|err| {
        KontorError::new(
            kontor_core::ErrorCode::Io,
            format!("The browser could not be opened ({err}). Copy the address and open it yourself."),
        )
    })
}
