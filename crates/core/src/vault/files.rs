//! The vault's files on disk: a private data directory and files only the user can read.
//!
//! Invariants (Unix):
//!
//! - A data directory Kontor creates is 0700; one that exists already keeps its mode. Kontor refuses
//!   to use an existing directory that other users could write to or that belongs to someone else,
//!   rather than changing it: the user chose that folder, and its mode may matter to others.
//! - Every file Kontor writes into it is created 0600. SQLite creates `-wal` and `-shm` with the
//!   mode of the database file, so a 0600 database gives 0600 companions.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{KontorError, Result};

/// Creates `dir` (0700) or checks that an existing one is safe to keep a vault in.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => check_private_dir(dir, &meta),
        Ok(_) => Err(KontorError::invalid_input(format!(
            "{} is not a folder; choose a folder for Kontor's data.",
            dir.display()
        ))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => create_private_dir(dir),
        Err(err) => Err(err.into()),
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    Ok(())
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)?;
    Ok(())
}

#[cfg(unix)]
fn check_private_dir(dir: &Path, meta: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(KontorError::invalid_input(format!(
            "The folder {} can be changed by other users (mode {mode:o}), so Kontor will not keep your bank data in it. Choose a folder only you can write to, or make this one private (chmod 700); Kontor does not change it for you.",
            dir.display()
        )));
    }
    let me = rustix::process::getuid().as_raw();
    if meta.uid() != me {
        return Err(KontorError::invalid_input(format!(
            "The folder {} belongs to another user (uid {}), so Kontor will not keep your bank data in it. Choose a folder of your own.",
            dir.display(),
            meta.uid()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_dir(_dir: &Path, _meta: &fs::Metadata) -> Result<()> {
    Ok(())
}

/// Creates a new file only the user can read and write; fails if it exists.
pub fn create_private_file(path: &Path) -> Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    Ok(options.open(path)?)
}

/// Writes `bytes` to a new private file and flushes it to disk.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = create_private_file(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Takes group and other permissions away from a file an older Kontor created 0644.
pub fn restrict_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::metadata(path)?;
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(meta.permissions().mode() & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Whether two paths name the same file (hard links of one another).
pub fn same_file(a: &Path, b: &Path) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (a, b) = (fs::metadata(a)?, fs::metadata(b)?);
        Ok(a.dev() == b.dev() && a.ino() == b.ino())
    }
    #[cfg(not(unix))]
    {
        Ok(fs::read(a)? == fs::read(b)?)
    }
}

/// Makes renames and links inside `dir` durable. Best effort where directories cannot be opened.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
