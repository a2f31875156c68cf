//! `kontor://` callback URLs → the UI and the core.
//!
//! URLs arrive three ways: as the first launch's arguments, from the deep-link plugin while running,
//! and from a second instance through single-instance. All go into the [`Inbox`] and are announced
//! with the `kontor://callback` event; the UI drains the inbox with `take_callbacks` when it starts,
//! so a URL that arrived before the UI was ready is replayed, not lost.

use std::sync::{Mutex, PoisonError};

use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_deep_link::DeepLinkExt;

pub const CALLBACK_EVENT: &str = "kontor://callback";

#[derive(Debug, Default)]
pub struct Inbox(Mutex<Vec<String>>);

impl Inbox {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn push(&self, url: String) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(url);
    }
}

pub fn install(app: &AppHandle) {
    #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
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

pub fn accept_urls(app: &AppHandle, urls: impl IntoIterator<Item = String>) {
    let Some(inbox) = app.try_state::<Inbox>() else { return };
    for url in urls {
        if !url.starts_with("kontor://") {
            continue;
        }
        tracing::info!("callback received");
        inbox.push(url.clone());
        let _ = app.emit(CALLBACK_EVENT, url);
    }
}

pub fn focus_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
