//! Progress of long jobs → the UI, one [`Channel`] per job.
//!
//! The core reports progress through one sink per data directory ([`LinkOptions::progress`]). The
//! shell installs a sink that forwards each update to the channel of the job that produced it: a
//! command runs its facade call inside [`with_progress`], which puts the job's channel in a
//! task-local, so two jobs running at once (a link and a sync) never see each other's progress.
//! Updates from work no command started (a deep-link callback) go out as the
//! [`FLOW_PROGRESS_EVENT`] event instead.

use std::future::Future;
use std::sync::Arc;

use kontor_core::api::Kontor;
use kontor_core::api::link::{LinkOptions, ProgressSink};
use kontor_core::api::link_dto::FlowUpdate;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter};

/// Progress of a job that has no channel (a callback handled in the background).
pub const FLOW_PROGRESS_EVENT: &str = "kontor://flow-progress";

tokio::task_local! {
    static PROGRESS: Channel<FlowUpdate>;
}

/// Installs the progress sink (keeping every other link option as it is).
pub fn install(app: &AppHandle, kontor: &Kontor) {
    let handle = app.clone();
    let sink: ProgressSink = Arc::new(move |update: &FlowUpdate| {
        // Only the `Working` steps: each command returns its final update itself.
        if !matches!(update, FlowUpdate::Working { .. }) {
            return;
        }
        let sent = PROGRESS.try_with(|channel| channel.send(update.clone()));
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::debug!("progress channel closed: {err}"),
            Err(_) => {
                let _ = handle.emit(FLOW_PROGRESS_EVENT, update);
            }
        }
    });
    kontor.set_link_options(LinkOptions { progress: Some(sink), ..LinkOptions::default() });
}

/// Runs `job` with `channel` receiving its progress.
pub async fn with_progress<F: Future>(channel: Channel<FlowUpdate>, job: F) -> F::Output {
    PROGRESS.scope(channel, job).await
}
