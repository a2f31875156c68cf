//! The Kontor desktop shell: the only Rust code that depends on Tauri.
//!
//! It builds one window, wires the `kontor://` deep-link scheme through single-instance (so a
//! second launch with a callback URL reaches the running window), and exposes
//! [`kontor_core::api::Kontor`] to the UI through one-line [`commands`]. Everything that matters
//! happens in kontor-core.

#[cfg(target_os = "linux")]
mod browser;
mod commands;
mod deep_link;
mod demo;
#[cfg(target_os = "linux")]
mod desktop_entry;
mod events;
mod logging;
mod startup;

use std::sync::Arc;

use kontor_core::api::Kontor;
use kontor_core::vault::OsKeyring;
use tauri::{AppHandle, Manager};

use crate::demo::DemoBankHost;

/// `--data-dir PATH` (or `--data-dir=PATH`) runs Kontor on another vault, e.g. a portable one.
fn data_dir_argument() -> Option<std::path::PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--data-dir" {
            return args.next().map(Into::into);
        }
        if let Some(path) = text.strip_prefix("--data-dir=") {
            return Some(path.into());
        }
    }
    None
}

/// Ends the process when there is no window to show an error in.
#[expect(clippy::print_stderr, reason = "the terminal is the only place left to say why Kontor stopped")]
fn exit_with(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1);
}

/// How long after the vault opened its full page check starts: it reads and decrypts the whole
/// file (seconds at a million transactions), which should not compete with the first paint.
const PAGE_CHECK_DELAY: std::time::Duration = std::time::Duration::from_secs(2);

/// Once the vault is open (at startup, or after an unlock): start its page check in the
/// background, start the Demo Bank if it is the provider, then handle the callback URLs that
/// waited for the vault.
pub(crate) fn vault_opened(app: &AppHandle) {
    if let Some(check) = app.try_state::<Arc<Kontor>>().and_then(|kontor| kontor.take_page_check()) {
        let spawned = std::thread::Builder::new().name("vault-page-check".into()).spawn(move || {
            std::thread::sleep(PAGE_CHECK_DELAY);
            match check.run() {
                Ok(()) => tracing::info!("the vault's page check passed"),
                // The next call to the vault reports VaultCorrupt and closes it without writing.
                Err(err) => tracing::warn!(code = ?err.code, "the vault's page check: {}", err.message),
            }
        });
        if let Err(err) = spawned {
            tracing::warn!("the vault's page check did not start ({err}); closing the vault runs it");
        }
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let (Some(kontor), Some(demo)) = (app.try_state::<Arc<Kontor>>(), app.try_state::<DemoBankHost>()) {
            demo.ensure(&kontor).await;
        }
        deep_link::process(&app).await;
    });
}

/// Starts the app. Errors during setup are shown by the UI (the vault status), not by panicking.
pub fn run() {
    #[cfg(target_os = "linux")]
    startup::without_accelerated_compositing();
    startup::mark("process");
    let data_dir = match data_dir_argument().map_or_else(kontor_core::paths::data_dir, Ok) {
        Ok(dir) => dir,
        Err(err) => {
            exit_with(&format!("Kontor cannot start: {}", err.message));
        }
    };
    logging::init(&data_dir.join("logs"));
    let demo_bank = DemoBankHost::new(&data_dir);
    let kontor = Arc::new(Kontor::new(data_dir, Arc::new(OsKeyring::default()), kontor_core::clock::system()));

    let builder = tauri::Builder::default()
        // Must be first: a second instance hands its arguments (a kontor:// URL) to the first.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            deep_link::focus_main_window(app);
            deep_link::accept_urls(app, argv.iter().filter(|a| a.starts_with("kontor://")).cloned());
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .manage(kontor.clone())
        .manage(deep_link::Inbox::default())
        .manage(demo_bank)
        .invoke_handler(tauri::generate_handler![
            commands::vault::app_status,
            commands::vault::create_vault_with_passphrase,
            commands::vault::unlock_vault,
            commands::vault::change_key_source,
            commands::vault::complete_onboarding,
            commands::transactions::transactions,
            commands::transactions::transaction,
            commands::transactions::monthly_flows,
            commands::transactions::balance_history,
            commands::transactions::export_transactions,
            commands::vault::preferences,
            commands::vault::set_preferences,
            commands::overview::overview,
            commands::overview::overview_painted,
            commands::callbacks::take_callback_results,
            commands::callbacks::paste_callback,
            commands::link::provider_configs,
            commands::link::add_provider_config,
            commands::link::start_finx_link,
            commands::link::income_reports,
            commands::link::income_report,
            commands::link::search_banks,
            commands::link::start_link,
            commands::link::answer_flow,
            commands::link::cancel_flow,
            commands::link::pending_flows,
            commands::link::sync_connection,
            commands::link::sync_all,
            commands::link::open_in_browser,
            commands::connections::connections,
            commands::connections::rename_account,
            commands::connections::set_account_hidden,
            commands::connections::reorder_accounts,
            commands::connections::keep_account,
            commands::connections::sync_history,
            commands::connections::remove_connection,
            commands::connections::renew_consent,
            commands::connections::notify,
        ])
        .setup(move |app| {
            startup::mark("setup");
            events::install(app.handle(), &kontor);
            startup::configure_window(app.handle());
            startup::open_vault(app.handle(), kontor.clone());
            deep_link::install(app.handle());
            startup::mark("setup-done");
            Ok(())
        });

    let result = builder.build(tauri::generate_context!()).map(|app| {
        app.run(|handle, event| {
            if let tauri::RunEvent::Exit = event {
                if let Some(kontor) = handle.try_state::<Arc<Kontor>>() {
                    if let Err(err) = kontor.close() {
                        tracing::warn!(code = ?err.code, "closing the vault: {}", err.message);
                    }
                }
            }
        })
    });
    if let Err(err) = result {
        tracing::error!("Kontor stopped: {err}");
        exit_with(&format!("Kontor stopped: {err}"));
    }
}
