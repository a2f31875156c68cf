//! The CLI for people (no `--json`), driven over pipes against a Demo Bank in this test process: what it leaves
//! on disk while and after it asks for a TAN.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kontor_sandbox::{DemoBank, DemoBankConfig};
use kontor_testkit::ChildGuard;

fn phototan_images(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("kontor-phototan-")))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_phototan_image_is_private_and_deleted_once_the_tan_is_typed() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|err| panic!("runtime: {err}"));
    let bank =
        runtime.block_on(DemoBank::start(DemoBankConfig::for_tests())).unwrap_or_else(|err| panic!("Demo Bank: {err}"));
    let data = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
    let tmp = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));

    let mut kontor = ChildGuard::from(
        Command::new(env!("CARGO_BIN_EXE_kontor"))
            .args(["link", "--bank", "280001"])
            .env("KONTOR_DATA_DIR", data.path())
            .env("KONTOR_PASSPHRASE", "correct horse battery")
            .env("KONTOR_DEMO_BANK_URL", bank.base_url())
            .env("KONTOR_POLL_INTERVAL_MS", "0")
            .env("TMPDIR", tmp.path())
            // No image viewer may start from a test.
            .env("PATH", "/nonexistent")
            .env_remove("KONTOR_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("could not start kontor: {err}")),
    );
    let mut stdin = kontor.stdin.take().unwrap_or_else(|| panic!("no stdin"));
    // login, PIN, "keep this login? [y/N]", method
    stdin.write_all(b"demo\ndemo\nn\nDEMO-TSP-04\n").unwrap_or_else(|err| panic!("write: {err}"));
    stdin.flush().unwrap_or_else(|err| panic!("flush: {err}"));

    let started = Instant::now();
    let image = loop {
        if let Some(image) = phototan_images(tmp.path()).pop() {
            break image;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no photoTAN image appeared");
        assert!(kontor.try_wait().ok().flatten().is_none(), "kontor ended before asking for the TAN");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mode = std::fs::metadata(&image).map(|m| m.permissions().mode() & 0o777).unwrap_or_default();
    assert_eq!(mode, 0o600, "{}", image.display());

    stdin.write_all(b"123456\n").unwrap_or_else(|err| panic!("write: {err}"));
    drop(stdin);
    let status = kontor.wait().unwrap_or_else(|err| panic!("wait: {err}"));
    assert!(status.success(), "{status}");
    assert_eq!(phototan_images(tmp.path()), Vec::<PathBuf>::new());
    runtime.block_on(bank.shutdown());
}
