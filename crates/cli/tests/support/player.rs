//! The other side of `kontor --json`: spawns the CLI, reads its JSON lines (skipping progress), sends
//! answers, and keeps the conversation as a transcript (`>` = sent to kontor, `<` = printed by kontor),
//! written to `KONTOR_TRANSCRIPT_DIR` when set; `docs/cli.md` quotes them. The CLI ends with its test:
//! a test that fails mid-conversation kills it as the player is dropped.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use kontor_testkit::ChildGuard;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

pub fn parse(line: &str, all: &str) -> Value {
    let value: Value = serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}\n{all}"));
    assert!(value.is_object(), "{line}");
    value
}

/// A running `kontor --json …` with its conversation; killed and reaped when dropped, so a failing test
/// leaves no process behind.
pub struct Player {
    child: ChildGuard,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    pub transcript: Vec<String>,
}

impl Player {
    pub fn spawn(mut command: Command, args: &[&str]) -> Self {
        let mut child =
            ChildGuard::spawn(command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()))
                .unwrap_or_else(|err| panic!("could not start kontor: {err}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Self { child, stdin, lines, transcript: vec![format!("$ kontor --json {}", args.join(" "))] }
    }

    /// The next line that is not progress.
    pub fn next(&mut self) -> Value {
        loop {
            let line = self.lines.recv_timeout(WAIT).unwrap_or_else(|err| {
                panic!("kontor said nothing more ({err}); so far:\n{}", self.transcript.join("\n"))
            });
            self.transcript.push(format!("< {line}"));
            let value = parse(&line, &self.transcript.join("\n"));
            if value["type"] != "progress" {
                return value;
            }
        }
    }

    /// The next request; asserts its kind.
    pub fn request(&mut self, kind: &str) -> Value {
        let line = self.next();
        assert_eq!(line["type"], "request", "{line}");
        assert_eq!(line["request"]["kind"], kind, "{line}");
        line
    }

    pub fn send(&mut self, answer: Value) {
        let text = answer.to_string();
        self.transcript.push(format!("> {text}"));
        let stdin = self.stdin.as_mut().unwrap_or_else(|| panic!("stdin closed"));
        writeln!(stdin, "{text}").and_then(|()| stdin.flush()).unwrap_or_else(|err| panic!("write: {err}"));
    }

    /// Sends bytes as they are, e.g. a line that is not UTF-8.
    #[allow(dead_code, reason = "only the JSON protocol tests send raw bytes")]
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.transcript.push(format!("> {}", String::from_utf8_lossy(bytes).trim_end()));
        let stdin = self.stdin.as_mut().unwrap_or_else(|| panic!("stdin closed"));
        stdin.write_all(bytes).and_then(|()| stdin.flush()).unwrap_or_else(|err| panic!("write: {err}"));
    }

    #[allow(dead_code, reason = "the finX test binary answers other login fields")]
    pub fn credentials(&mut self, id: &str, pin: &str) {
        self.send(json!({"kind":"credentials","values":[
            {"label":"Onlinebanking-ID","value":id},{"label":"PIN","value":pin}]}));
    }

    /// Closes stdin, waits for the end and writes the transcript; returns the status and the lines left
    /// (progress excluded).
    pub fn finish(mut self, name: &str) -> (ExitStatus, Vec<Value>) {
        self.stdin.take();
        let status =
            self.child.wait_within(WAIT).unwrap_or_else(|err| panic!("wait: {err}")).unwrap_or_else(|| {
                panic!("kontor did not end within {WAIT:?}; so far:\n{}", self.transcript.join("\n"))
            });
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.transcript.push(format!("< {line}"));
            let value = parse(&line, &self.transcript.join("\n"));
            if value["type"] != "progress" {
                rest.push(value);
            }
        }
        self.transcript.push(format!("(exit {})", status.code().unwrap_or(-1)));
        if let Some(dir) = std::env::var_os("KONTOR_TRANSCRIPT_DIR") {
            let _ = std::fs::write(
                std::path::Path::new(&dir).join(format!("{name}.txt")),
                self.transcript.join("\n") + "\n",
            );
        }
        (status, rest)
    }
}
