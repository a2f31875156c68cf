//! Logs go to `<data dir>/logs/kontor.log` (and stderr in debug builds). Nothing secret is ever
//! logged: secrets are `Sensitive` and print as `<redacted>`.

use std::fs::{self, OpenOptions};
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

/// Installs the global subscriber. Returns nothing to keep alive; the file is flushed per line.
pub fn init(dir: &Path) {
    let filter = EnvFilter::try_from_env("KONTOR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let file = fs::create_dir_all(dir)
        .and_then(|()| OpenOptions::new().create(true).append(true).open(dir.join("kontor.log")))
        .ok();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false);
    let _ = match file {
        Some(file) => builder.with_writer(Mutex::new(file).and(std::io::stderr)).try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
}
