//! The cold start: what runs before the first overview is painted, and its timeline.
//!
//! The window and its webview load while the vault opens on its own thread ([`open_vault`]): the
//! keyring's D-Bus round trips and SQLCipher's open no longer hold the event loop that creates the
//! window. `app_status`, the UI's first question, waits for that open ([`VaultOpening::wait`]);
//! nothing else touches the vault before the UI has its answer.
//!
//! With `KONTOR_REPORT_FIRST_PAINT` set (`make bench`), each step prints one line
//! `KONTOR_STARTUP <step> unix_ms=<wall clock>` ([`mark`]); the benchmark subtracts the process
//! start and reports where the time went.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use kontor_core::api::Kontor;
use tauri::{AppHandle, Manager};

/// With this variable set, the app prints the timeline above and the first paint (`make bench`).
pub const REPORT_FIRST_PAINT_ENV: &str = "KONTOR_REPORT_FIRST_PAINT";

fn unix_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
}

/// Prints one step of the timeline (only under [`REPORT_FIRST_PAINT_ENV`]).
#[expect(clippy::print_stdout, reason = "make bench reads the timeline from the app's output")]
pub fn mark(step: &str) {
    if std::env::var_os(REPORT_FIRST_PAINT_ENV).is_some() {
        println!("KONTOR_STARTUP {step} unix_ms={}", unix_ms());
    }
}

/// One step of the UI's own startup (its wall clock: `performance.timeOrigin + performance.now()`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiMark {
    pub step: String,
    pub unix_ms: f64,
}

/// Prints the UI's marks as steps `ui-<step>` of the timeline (only under [`REPORT_FIRST_PAINT_ENV`]).
#[expect(clippy::print_stdout, reason = "make bench reads the timeline from the app's output")]
pub fn ui_marks(marks: &[UiMark]) {
    if std::env::var_os(REPORT_FIRST_PAINT_ENV).is_none() {
        return;
    }
    for mark in marks {
        let step: String = mark
            .step
            .chars()
            .take(40)
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        if mark.unix_ms.is_finite() && mark.unix_ms > 0.0 {
            println!("KONTOR_STARTUP ui-{step} unix_ms={:.0}", mark.unix_ms);
        }
    }
}

/// The first paint, the benchmark's end mark: `KONTOR_FIRST_PAINT unix_ms=<wall clock>`.
#[expect(clippy::print_stdout, reason = "make bench reads the first paint from the app's output")]
pub fn painted() {
    if std::env::var_os(REPORT_FIRST_PAINT_ENV).is_some() {
        println!("KONTOR_FIRST_PAINT unix_ms={}", unix_ms());
    }
}

/// Whether the vault's first open at startup has finished (managed state).
#[derive(Debug, Clone, Default)]
pub struct VaultOpening(Arc<(Mutex<bool>, Condvar)>);

impl VaultOpening {
    fn finish(&self) {
        let (done, changed) = &*self.0;
        *done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        changed.notify_all();
    }

    /// Blocks until the startup open has finished (at once afterwards).
    pub fn wait(&self) {
        let (done, changed) = &*self.0;
        let mut finished = done.lock().unwrap_or_else(PoisonError::into_inner);
        while !*finished {
            finished = changed.wait(finished).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Opens the vault on its own thread, then does what follows an open ([`crate::vault_opened`]).
pub fn open_vault(app: &AppHandle, kontor: Arc<Kontor>) {
    let opening = VaultOpening::default();
    app.manage(opening.clone());
    let handle = app.clone();
    let run = move || {
        kontor.start();
        mark("vault-open");
        opening.finish();
        crate::vault_opened(&handle);
    };
    let spawned = std::thread::Builder::new().name("vault-open".into()).spawn(run.clone());
    if let Err(err) = spawned {
        tracing::warn!("opening the vault on its own thread failed ({err}); opening it here");
        run();
    }
}

/// WebKitGTK's switch for accelerated compositing, read once when its first web view starts (any value turns
/// compositing off, `0` too).
#[cfg(target_os = "linux")]
const DISABLE_COMPOSITING_ENV: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Set (to anything), Kontor leaves accelerated compositing as WebKit chooses.
#[cfg(target_os = "linux")]
pub const KEEP_COMPOSITING_ENV: &str = "KONTOR_ACCELERATED_COMPOSITING";

/// Turns WebKit's accelerated compositing off, unless the user set `WEBKIT_DISABLE_COMPOSITING_MODE` themselves or
/// asked to keep it ([`KEEP_COMPOSITING_ENV`]). Call it first in `main`, while the process has one thread: WebKit reads the variable when the
/// first web view is created.
///
/// Kontor's pages are static documents: without compositing WebKit paints them on the CPU into one backing store
/// instead of GL layers through Mesa's software rasteriser (no GPU under Xvfb, and on many desktops). Measured with
/// `make bench` (release build, 1M vault, same minutes): the web process' PSS falls from 206 MB to 118 MB, and the
/// frame with the overview starts ~190 ms after it is rendered instead of ~380 ms (the compositor's setup).
///
/// `std::env::set_var` is `unsafe` (another thread may read the environment meanwhile) and this workspace forbids
/// `unsafe`; GLib's `g_setenv` is the same C call behind a safe binding, sound here because no other thread exists
/// yet. Starting the process again with the variable (`exec`) worked too but costs ~120 ms of loading the binary
/// and its libraries a second time; WebKit's policy setting would be too late (see [`configure_webview`]).
#[cfg(target_os = "linux")]
pub fn without_accelerated_compositing() {
    if std::env::var_os(DISABLE_COMPOSITING_ENV).is_some() || std::env::var_os(KEEP_COMPOSITING_ENV).is_some() {
        return;
    }
    if let Err(err) = webkit2gtk::glib::setenv(DISABLE_COMPOSITING_ENV, "1", false) {
        tracing::warn!("accelerated compositing stays on: {err}");
    }
}

/// Applies the webview settings chosen for memory (see [`configure_webview`] on Linux).
pub fn configure_window(app: &AppHandle) {
    #[cfg(target_os = "linux")]
    if let Some(window) = app.get_webview_window("main") {
        if let Err(err) = window.with_webview(|webview| configure_webview(&webview.inner())) {
            tracing::warn!("the webview's settings could not be applied: {err}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// WebKitGTK settings that cost no feature Kontor uses, measured with `make bench` (PSS after the
/// first overview, app + WebKit processes): the smallest cache model (one local page: no memory
/// cache of other documents), and no back/forward page cache (there is no navigation).
/// Accelerated compositing is switched off before GTK starts ([`without_accelerated_compositing`]): its policy
/// could only be set here, after the webview started loading, and changing it then replaces the page's web
/// process, which WebDriver (and with it every window test) loses track of.
#[cfg(target_os = "linux")]
fn configure_webview(webview: &webkit2gtk::WebView) {
    use webkit2gtk::{CacheModel, SettingsExt as _, WebContextExt as _, WebViewExt};
    if let Some(settings) = WebViewExt::settings(webview) {
        settings.set_enable_page_cache(false);
    }
    if let Some(context) = webview.context() {
        context.set_cache_model(CacheModel::DocumentViewer);
    }
}
