//! Where Kontor keeps its files, shared by the app and the CLI so both open the same vault.
//!
//! `KONTOR_DATA_DIR` overrides the location (tests, portable installs). Otherwise the platform's data
//! directory is used: `~/.local/share/kontor` on Linux, `~/Library/Application Support/kontor` on
//! macOS, `%APPDATA%\kontor` on Windows. Logs go to `<data dir>/logs`.

use std::path::PathBuf;

use crate::error::{ErrorCode, KontorError};

pub const DATA_DIR_ENV: &str = "KONTOR_DATA_DIR";

pub fn data_dir() -> Result<PathBuf, KontorError> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir().map(|d| d.join("kontor")).ok_or_else(|| {
        KontorError::new(
            ErrorCode::Io,
            format!("No data directory is known for this user; set {DATA_DIR_ENV} to a folder Kontor may use."),
        )
    })
}

pub fn log_dir() -> Result<PathBuf, KontorError> {
    Ok(data_dir()?.join("logs"))
}
