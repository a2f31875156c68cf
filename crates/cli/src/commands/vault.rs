//! `kontor vault check`: reads every page of the vault through SQLCipher, the check that does not
//! run on open because its cost grows with the file (see `kontor_core::store`).

use clap::Subcommand;
use serde::Serialize;

use super::{CommandFailure, print_result, print_text};
use crate::session::{Globals, Session};

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Read and decrypt every page: a damaged vault is reported (VaultCorrupt) and left as it is.
    Check,
}

#[derive(Debug, Serialize)]
struct Checked {
    database_bytes: u64,
    milliseconds: u128,
}

pub fn run(command: VaultCommand, globals: &Globals) -> Result<(), CommandFailure> {
    let VaultCommand::Check = command;
    let session = Session::open(globals)?;
    let started = std::time::Instant::now();
    let checked = session.kontor.check_pages();
    let milliseconds = started.elapsed().as_millis();
    let closed = session.kontor.close();
    checked?;
    closed?;
    let database_bytes = std::fs::metadata(kontor_core::vault::VaultPaths::new(session.kontor.data_dir()).database())
        .map(|m| m.len())
        .unwrap_or_default();
    if globals.json {
        return print_result("vault_checked", &Checked { database_bytes, milliseconds });
    }
    print_text(&format!("The vault is intact: every page of its {database_bytes} bytes read in {milliseconds} ms."))
}
