//! The Demo Bank's state file ([`crate::DemoBankConfig::state_file`]): a JSON [`Snapshot`] of the finAPI
//! store with the finX face's [`FinxSnapshot`] under the key `finx`, read once at start and rewritten
//! atomically (temporary file in the same directory, then rename) whenever a request to either face changed
//! them. A file without `finx` (written before the finX face was kept) loads with an empty finX face.
//!
//! A file that cannot be read as a snapshot is moved aside to `<name>.corrupt` and the bank starts empty: the
//! Demo Bank only holds demo data, and a client simply links again.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::finapi::store::{Snapshot, Store};
use crate::finx::store::{FinxSnapshot, FinxStore};

/// The finX part of the file; everything else in it is the finAPI [`Snapshot`].
#[derive(serde::Deserialize)]
struct FinxPart {
    #[serde(default)]
    finx: Option<FinxSnapshot>,
}

/// The file's JSON: the finAPI snapshot's fields and `finx`.
pub fn to_json(finapi: &Snapshot, finx: &FinxSnapshot) -> serde_json::Result<String> {
    let mut value = serde_json::to_value(finapi)?;
    if let Some(object) = value.as_object_mut() {
        object.insert("finx".to_owned(), serde_json::to_value(finx)?);
    }
    serde_json::to_string(&value)
}

/// Reads the stores saved at `path` (finAPI, finX); empty stores if there is none.
pub fn load(path: &Path) -> (Store, FinxStore) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Default::default(),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot read the Demo Bank's state file; starting empty");
            return Default::default();
        }
    };
    let parsed = serde_json::from_str::<Snapshot>(&text)
        .and_then(|snapshot| serde_json::from_str::<FinxPart>(&text).map(|part| (snapshot, part.finx)));
    match parsed {
        Ok((snapshot, finx)) => {
            (Store::from_snapshot(snapshot), finx.map(FinxStore::from_snapshot).unwrap_or_default())
        }
        Err(error) => {
            let aside = sibling(path, "corrupt");
            tracing::warn!(path = %path.display(), %error, "the Demo Bank's state file is damaged; moved it aside");
            let _ = std::fs::rename(path, aside);
            Default::default()
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
        // The Demo Bank's users and connections sit next to the vault: readable by this user only.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(json.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn the_state_file_is_readable_by_its_owner_only() {
        let dir = std::env::temp_dir().join(format!("kontor-sandbox-persist-{}", std::process::id()));
        let path = dir.join("demo-bank.json");
        let written = super::write_atomically(&path, "{}");
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
        let _ = std::fs::remove_dir_all(&dir);
        written.unwrap_or_else(|err| panic!("write: {err}"));
        assert_eq!(mode.ok(), Some(0o600));
    }
}
