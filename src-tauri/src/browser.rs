//! Opening the bank's page in the system browser, and telling the user when that failed.
//!
//! On Linux the page goes through `xdg-open`, which reports a failure only by its exit status (3 when no
//! browser is set up, 4 when the handler failed) and which tauri-plugin-opener does not wait for: the app
//! said the bank "opened in your web browser" when nothing had opened. Kontor waits for the status for a
//! short while. A browser that stays in the foreground keeps `xdg-open` running; once [`GRACE`] has passed
//! without a status the page is taken to be open, and the opener is reaped in the background.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kontor_core::{ErrorCode, KontorError};

/// How long to wait for the opener's verdict.
pub const GRACE: Duration = Duration::from_secs(4);

/// Runs `program url` and waits up to `grace` for it to say whether the page opened.
pub fn open_with(program: &str, url: &str, grace: Duration) -> Result<(), KontorError> {
    let mut child = Command::new(program)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| not_opened(&format!("{program} could not be started: {err}")))?;
    let deadline = Instant::now() + grace;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(not_opened(&format!("{program} ended with {status}"))),
            Ok(None) if Instant::now() >= deadline => {
                std::thread::spawn(move || child.wait());
                return Ok(());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(err) => return Err(not_opened(&format!("{program}: {err}"))),
        }
    }
}

fn not_opened(detail: &str) -> KontorError {
    KontorError::new(
        ErrorCode::Io,
        format!("Your web browser could not be opened ({detail}). Copy the address and open it in a browser yourself."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_opener_is_reported() {
        let err = open_with("false", "https://bank.example/", GRACE).err();
        assert_eq!(err.map(|e| e.code), Some(ErrorCode::Io));
    }

    #[test]
    fn a_missing_opener_is_reported() {
        let err = open_with("/nonexistent/xdg-open", "https://bank.example/", GRACE).err();
        assert!(err.is_some_and(|e| e.message.contains("could not be started")));
    }

    #[test]
    fn an_opener_that_succeeds_or_stays_running_counts_as_opened() {
        assert!(open_with("true", "https://bank.example/", GRACE).is_ok());
        // `sleep` takes the URL for a duration and fails at once; a real duration keeps it running
        assert!(open_with("sleep", "5", Duration::from_millis(200)).is_ok());
    }
}
