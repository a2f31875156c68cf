//! The very first start, interrupted: the real `kontor` binary is started on a fresh data directory
//! with the OS keyring (run inside `tests/support/desktop-session.sh`) and killed at many moments
//! spread over the time a first start takes; the start after each kill must open or create a vault,
//! never report `VaultCorrupt`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kontor_testkit::{ChildGuard, output_within};

fn kontor(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kontor"));
    command
        .args(["--json", "--data-dir"])
        .arg(dir)
        .arg("connections")
        .stdin(Stdio::null())
        .env_remove("KONTOR_PASSPHRASE")
        .env_remove("KONTOR_LOG");
    command
}

fn run(dir: &Path) -> Output {
    output_within(&mut kontor(dir), Duration::from_secs(60)).unwrap_or_else(|err| panic!("kontor: {err}"))
}

fn describe(output: &Output) -> String {
    format!("{}: {}{}", output.status, String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn a_first_start_killed_at_any_moment_is_followed_by_a_start_that_opens_the_vault() {
    let root = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
    // The creation window: the shortest of a few whole first starts. A start that finishes before its kill
    // narrows it further, so the kills stay inside the window however loaded the machine is.
    let mut window = Duration::MAX;
    for round in 0..3 {
        let dir = root.path().join(format!("whole-{round}"));
        let started = Instant::now();
        let output = run(&dir);
        window = window.min(started.elapsed());
        assert!(output.status.success(), "an uninterrupted first start failed: {}", describe(&output));
    }

    const WANTED: u32 = 50;
    const SPREAD: u32 = 25;
    let mut interrupted: u32 = 0;
    let mut attempts: u32 = 0;
    let mut failures = Vec::new();
    while interrupted < WANTED && attempts < 6 * WANTED {
        let dir = root.path().join(format!("killed-{attempts}"));
        let signal = match attempts % 8 {
            0 => "INT",
            4 => "TERM",
            _ => "KILL",
        };
        attempts += 1;
        let delay = window * (interrupted % SPREAD) / SPREAD;
        let started = Instant::now();
        let mut child = ChildGuard::from(
            kontor(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|err| panic!("could not start kontor: {err}")),
        );
        std::thread::sleep(delay);
        if signal == "KILL" {
            let _ = child.kill();
        } else {
            let _ = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
        }
        let status = child.wait().unwrap_or_else(|err| panic!("wait: {err}"));
        if status.success() {
            window = window.min(started.elapsed());
        } else {
            interrupted += 1;
        }
        drop(child);

        let next = run(&dir);
        let stdout = String::from_utf8_lossy(&next.stdout);
        if !next.status.success() || stdout.contains("VaultCorrupt") {
            failures.push(format!("SIG{signal} after {delay:?}: the next start said {}", describe(&next)));
        }
    }
    assert!(failures.is_empty(), "{} of {attempts} interrupted first starts:\n{}", failures.len(), failures.join("\n"));
    assert!(
        interrupted >= WANTED,
        "only {interrupted} of {attempts} starts were interrupted (a first start takes {window:?}); the test proves too little"
    );
}
