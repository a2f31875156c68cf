//! The Demo Bank's state file ([`crate::DemoBankConfig::state_file`]): a JSON [`Snapshot`] of the store,
//! read once at start and rewritten atomically (temporary file in the same directory, then rename) whenever
//! a finAPI request changed it.
//!
//! A file that cannot be read as a snapshot is moved aside to `<name>.corrupt` and the bank starts empty: the
//! Demo Bank only holds demo data, and a client simply links again.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::finapi::store::{Snapshot, Store};

/// Reads the store saved at `path`; an empty store if there is none.
pub fn load(path: &Path) -> Store {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Store::default(),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot read the Demo Bank's state file; starting empty");
            return Store::default();
        }
    };
    match serde_json::from_str::<Snapshot>(&text) {
        Ok(snapshot) => Store::from_snapshot(snapshot),
        Err(error) => {
            let aside = sibling(path, "corrupt");
            tracing::warn!(path = %path.display(), %error, "the Demo Bank's state file is damaged; moved it aside");
            let _ = std::fs::rename(path, aside);
            Store::default()
        }
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{suffix}"));
    path.with_file_name(name)
}

/// Writes `json` to `path` atomically.
pub fn write_atomically(path: &Path, json: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = sibling(path, &format!("tmp-{}", std::process::id()));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(json.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
