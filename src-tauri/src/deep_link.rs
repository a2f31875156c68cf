//! `kontor://` callback URLs → the core, and the outcome → the UI.
//!
//! URLs arrive three ways: as the first launch's arguments, from the deep-link plugin while running,
//! and from a second instance through single-instance. Each goes into the [`Inbox`], and the shell
//! hands it to [`Kontor::handle_callback`] itself — the UI does not have to be listening, or even
//! loaded, for a bank redirect to complete its flow. While the vault is locked, URLs wait in the
//! inbox and are handled right after the unlock.
//!
//! Every outcome (the flow's next [`FlowUpdate`], or the error, e.g. `ScaStateMismatch` for a URL
//! whose `state` belongs to no pending flow — which changes nothing) is kept in the inbox and
//! announced with [`CALLBACK_RESULT_EVENT`]; the UI drains them with `take_callback_results`, so an
//! outcome produced before the UI listened is shown, not lost.

use std::sync::{Arc, Mutex, PoisonError};

use kontor_core::KontorError;
use kontor_core::api::Kontor;
use kontor_core::api::link_dto::FlowUpdate;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_deep_link::DeepLinkExt;

use crate::demo::DemoBankHost;

/// A nudge: new callback results are waiting in the inbox.
pub const CALLBACK_RESULT_EVENT: &str = "kontor://callback-result";

/// What handling one callback URL came to.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallbackResult {
    /// The flow the URL belongs to went on.
    Update { update: FlowUpdate },
    /// The URL was refused (`ScaStateMismatch`: no pending flow has its state) or the core failed.
    Error { error: KontorError },
}

/// How many recent callback URLs are remembered to drop duplicates.
const RECENT_URLS: usize = 32;

#[derive(Debug, Default)]
pub struct Inbox {
    urls: Mutex<Vec<String>>,
    /// URLs already accepted: a second launch's URL arrives twice (through single-instance's argv
    /// and through the deep-link plugin's open-url event); a callback is single-use anyway, so the
    /// repeat would only be refused and shown as "ignored".
    recent: Mutex<std::collections::VecDeque<String>>,
    results: Mutex<Vec<CallbackResult>>,
    /// One URL at a time, in arrival order.
    working: tokio::sync::Mutex<()>,
}

impl Inbox {
    pub fn take_results(&self) -> Vec<CallbackResult> {
        std::mem::take(&mut *self.results.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Queues `url` unless the same URL was accepted recently; returns whether it was queued.
    fn push(&self, url: String) -> bool {
        {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            if recent.contains(&url) {
                return false;
            }
            if recent.len() == RECENT_URLS {
                recent.pop_front();
            }
            recent.push_back(url.clone());
        }
        self.urls.lock().unwrap_or_else(PoisonError::into_inner).push(url);
        true
    }

    fn next_url(&self) -> Option<String> {
        let mut urls = self.urls.lock().unwrap_or_else(PoisonError::into_inner);
        (!urls.is_empty()).then(|| urls.remove(0))
    }

    fn record(&self, result: CallbackResult) {
        self.results.lock().unwrap_or_else(PoisonError::into_inner).push(result);
    }
}

pub fn install(app: &AppHandle) {
    // xdg-mime is a shell script that runs several programs: not on the thread that creates the window.
    #[cfg(target_os = "linux")]
    {
        let handle = app.clone();
        let spawned =
            std::thread::Builder::new().name("register-scheme".into()).spawn(move || register_with_desktop(&handle));
        if let Err(err) = spawned {
            tracing::warn!("could not register the kontor:// scheme with the desktop: {err}");
        }
    }
    #[cfg(all(debug_assertions, windows))]
    if let Err(err) = app.deep_link().register_all() {
        tracing::warn!("could not register the kontor:// scheme with the desktop: {err}");
    }
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        accept_urls(app, urls.into_iter().map(|u| u.to_string()));
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        accept_urls(&handle, event.urls().into_iter().map(|u| u.to_string()));
    });
}

/// Makes this program (or the AppImage it runs from) the desktop's handler of `kontor://` addresses.
#[cfg(target_os = "linux")]
fn register_with_desktop(app: &AppHandle) {
    let program = match app.env().appimage.map(std::path::PathBuf::from) {
        Some(appimage) => appimage,
        None => match tauri::utils::platform::current_exe() {
            Ok(exe) => exe,
            Err(err) => {
                tracing::warn!("could not register the kontor:// scheme: no program path ({err})");
                return;
            }
        },
    };
    let registered = app
        .path()
        .data_dir()
        .map_err(|err| std::io::Error::other(err.to_string()))
        .and_then(|dir| crate::desktop_entry::register(&dir.join("applications"), &program));
    if let Err(err) = registered {
        tracing::warn!("could not register the kontor:// scheme with the desktop: {err}");
    }
}

/// A pasted address: only a `kontor://` callback is taken; anything else is refused with a message.
pub fn accept_pasted(app: &AppHandle, url: &str) -> Result<(), KontorError> {
    let url = url.trim();
    if !url.starts_with("kontor://") {
        return Err(KontorError::invalid_input(
            "That is not the address your bank sent you back to. Copy the whole address from the browser's address bar; it starts with kontor://",
        ));
    }
    accept_urls(app, [url.to_owned()]);
    Ok(())
}

pub fn accept_urls(app: &AppHandle, urls: impl IntoIterator<Item = String>) {
    let Some(inbox) = app.try_state::<Inbox>() else { return };
    let mut any = false;
    for url in urls {
        if !url.starts_with("kontor://") {
            continue;
        }
        if inbox.push(url) {
            tracing::info!("callback received");
            any = true;
        } else {
            tracing::debug!("callback received again; ignored");
        }
    }
    if any {
        process_soon(app);
    }
}

/// Handles the waiting URLs in the background (no-op while the vault is locked).
pub fn process_soon(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move { process(&app).await });
}

/// Hands each waiting URL to the core and records the outcome.
pub async fn process(app: &AppHandle) {
    let (Some(inbox), Some(kontor), Some(demo)) =
        (app.try_state::<Inbox>(), app.try_state::<Arc<Kontor>>(), app.try_state::<DemoBankHost>())
    else {
        return;
    };
    let _one_at_a_time = inbox.working.lock().await;
    if !matches!(kontor.status().vault, kontor_core::api::dto::VaultState::Ready) {
        tracing::info!("callback waits for the vault to be unlocked");
        return;
    }
    demo.ensure(&kontor).await;
    while let Some(url) = inbox.next_url() {
        let result = match kontor.handle_callback(&url).await {
            Ok(update) => CallbackResult::Update { update },
            Err(error) => {
                tracing::info!(code = ?error.code, "callback refused: {}", error.message);
                CallbackResult::Error { error }
            }
        };
        inbox.record(result);
        let _ = app.emit(CALLBACK_RESULT_EVENT, ());
    }
}

pub fn focus_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
