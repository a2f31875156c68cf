//! The `kontor://` scheme's registration with the Linux desktop.
//!
//! The browser hands a `kontor://sca-callback?…` address to `xdg-open`, which starts the program named in
//! the `Exec` line of the desktop entry registered for `x-scheme-handler/kontor`; that second Kontor
//! forwards the address to the running one (single instance) and exits.
//!
//! tauri-plugin-deep-link writes `Exec="/path/to/kontor-app" %u`. Quoting the program is legal in the
//! Desktop Entry specification, but the xdg-utils of Debian 12 (1.1.3) runs the quoted word literally when
//! no desktop environment is detected and fails with "Permission denied", so the bank's redirect never
//! reaches Kontor. Kontor therefore writes its own entry and quotes the program only where the specification
//! requires it: when its path holds a reserved character.

use std::path::Path;
use std::process::Command;

/// The entry's file name, the one tauri-plugin-deep-link used, so an entry it wrote is replaced.
fn file_name(program: &Path) -> String {
    let stem = program.file_name().map_or_else(|| "kontor".into(), |name| name.to_string_lossy());
    format!("{stem}-handler.desktop")
}

/// Characters that force quoting of an `Exec` argument (Desktop Entry specification, "The Exec key").
const RESERVED: &[char] =
    &[' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')', '`'];

/// The `Exec` value that starts `program` with the URL: the program bare where the specification allows it.
pub fn exec_line(program: &str) -> String {
    if program.contains(RESERVED) {
        let escaped: String = program
            .chars()
            .flat_map(|c| match c {
                '"' | '`' | '$' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        // the desktop file format itself escapes the backslashes once more
        format!("\"{}\" %u", escaped.replace('\\', "\\\\"))
    } else {
        format!("{program} %u")
    }
}

/// The desktop entry that makes `program` the handler of `kontor://` addresses.
pub fn entry(name: &str, program: &str) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName={name}\nExec={}\nTerminal=false\nMimeType=x-scheme-handler/kontor\nNoDisplay=true\n",
        exec_line(program)
    )
}

/// Writes the entry into `applications_dir` (normally `$XDG_DATA_HOME/applications`) and makes it the
/// default handler of the scheme.
pub fn register(applications_dir: &Path, program: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(applications_dir)?;
    let name = file_name(program);
    let path = applications_dir.join(&name);
    let text = entry("Kontor", &program.to_string_lossy());
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, text)?;
        // refreshes the MIME cache where desktop-file-utils is installed; xdg-mime below is what counts
        let _ = Command::new("update-desktop-database").arg(applications_dir).output();
    }
    let status = Command::new("xdg-mime").args(["default", &name, "x-scheme-handler/kontor"]).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("xdg-mime default {name} x-scheme-handler/kontor failed: {status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_path_is_not_quoted() {
        assert_eq!(exec_line("/usr/bin/kontor-app"), "/usr/bin/kontor-app %u");
    }

    #[test]
    fn a_path_with_reserved_characters_is_quoted_and_escaped() {
        assert_eq!(exec_line("/home/a b/kontor-app"), "\"/home/a b/kontor-app\" %u");
        assert_eq!(exec_line("/opt/$x/kontor"), "\"/opt/\\\\$x/kontor\" %u");
    }

    #[test]
    fn the_entry_handles_the_scheme() {
        let text = entry("Kontor", "/usr/bin/kontor-app");
        assert!(text.contains("\nExec=/usr/bin/kontor-app %u\n"), "{text}");
        assert!(text.contains("\nMimeType=x-scheme-handler/kontor\n"), "{text}");
        assert_eq!(file_name(Path::new("/usr/bin/kontor-app")), "kontor-app-handler.desktop");
    }
}
