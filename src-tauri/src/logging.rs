//! Logs go to `<data dir>/logs/kontor.log` (and stderr in debug builds). Nothing secret is ever
//! logged: secrets are `Sensitive` and print as `<redacted>`. Still, the log names banks and
//! accounts: on Unix the folders this creates are 0700 (the data directory too, when the log is the
//! first thing written there) and the file is 0600.

use std::fs::{self, OpenOptions};
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

/// Installs the global subscriber. Returns nothing to keep alive; the file is flushed per line.
pub fn init(dir: &Path) {
    let filter = EnvFilter::try_from_env("KONTOR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let file = open_private_log(dir).ok();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false);
    let _ = match file {
        Some(file) => builder.with_writer(Mutex::new(file).and(std::io::stderr)).try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
}

fn open_private_log(dir: &Path) -> std::io::Result<fs::File> {
    let mut folders = fs::DirBuilder::new();
    folders.recursive(true);
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
        folders.mode(0o700);
        options.mode(0o600);
    }
    folders.create(dir)?;
    let file = options.open(dir.join("kontor.log"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // A log an older Kontor created 0644.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}
