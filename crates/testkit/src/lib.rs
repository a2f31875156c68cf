//! Child processes that end with their test.
//!
//! A test that starts a process (the `kontor` CLI, or its own binary again as a crash or keyring child) must
//! not leave it running when the test fails, panics or the child hangs. [`ChildGuard`] kills and reaps its
//! child when dropped, which also happens while a failing test unwinds; [`output_within`] bounds how long a
//! test waits for a child and ends it when the bound passes, so a stuck child fails its test with the output
//! so far instead of hanging the run.

use std::fmt;
use std::io::{self, Read};
use std::ops::{Deref, DerefMut};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A running child that is killed and waited for when the guard is dropped.
pub struct ChildGuard {
    child: Option<Child>,
}

impl fmt::Debug for ChildGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildGuard").field("pid", &self.child.as_ref().map(Child::id)).finish()
    }
}

impl ChildGuard {
    /// Starts `command`.
    pub fn spawn(command: &mut Command) -> io::Result<Self> {
        command.spawn().map(Self::from)
    }

    /// Waits for the child to end, at most `limit`; `Ok(None)` if it still runs then (it is not killed).
    pub fn wait_within(&mut self, limit: Duration) -> io::Result<Option<ExitStatus>> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the child (if it still runs) and reaps it.
    pub fn end(&mut self) -> io::Result<Option<ExitStatus>> {
        match self.child.take() {
            Some(mut child) => {
                if child.try_wait()?.is_none() {
                    // it may end between the check and the kill; waiting below reaps it either way
                    let _ = child.kill();
                }
                child.wait().map(Some)
            }
            None => Ok(None),
        }
    }

    fn inner(&self) -> &Child {
        match &self.child {
            Some(child) => child,
            None => panic!("the child was already ended"),
        }
    }

    fn inner_mut(&mut self) -> &mut Child {
        match &mut self.child {
            Some(child) => child,
            None => panic!("the child was already ended"),
        }
    }
}

impl From<Child> for ChildGuard {
    fn from(child: Child) -> Self {
        Self { child: Some(child) }
    }
}

impl Deref for ChildGuard {
    type Target = Child;

    fn deref(&self) -> &Child {
        self.inner()
    }
}

impl DerefMut for ChildGuard {
    fn deref_mut(&mut self) -> &mut Child {
        self.inner_mut()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.end();
    }
}

/// Why [`output_within`] gave up.
#[derive(Debug)]
pub enum BoundedError {
    /// The child could not be started or waited for.
    Io(io::Error),
    /// The child still ran after the limit and was killed; what it printed until then.
    TimedOut { limit: Duration, stdout: Vec<u8>, stderr: Vec<u8> },
}

impl fmt::Display for BoundedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(err) => write!(f, "{err}"),
            Self::TimedOut { limit, stdout, stderr } => write!(
                f,
                "the child still ran after {limit:?} and was killed\n--- stdout\n{}\n--- stderr\n{}",
                String::from_utf8_lossy(stdout),
                String::from_utf8_lossy(stderr)
            ),
        }
    }
}

impl std::error::Error for BoundedError {}

fn collect(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Like [`Command::output`] (stdin closed, stdout and stderr captured), but the child is killed once
/// `limit` has passed; the child never outlives the call.
pub fn output_within(command: &mut Command, limit: Duration) -> Result<Output, BoundedError> {
    ChildGuard::spawn(command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()))
        .map_err(BoundedError::Io)?
        .output_within(limit)
}

impl ChildGuard {
    /// Like [`Child::wait_with_output`] for a child started with piped stdout and stderr, but killed once
    /// `limit` has passed.
    pub fn output_within(mut self, limit: Duration) -> Result<Output, BoundedError> {
        let child = &mut self;
        let stdout = collect(child.stdout.take());
        let stderr = collect(child.stderr.take());
        let status = child.wait_within(limit).map_err(BoundedError::Io)?;
        child.end().map_err(BoundedError::Io)?;
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        match status {
            Some(status) => Ok(Output { status, stdout, stderr }),
            None => Err(BoundedError::TimedOut { limit, stdout, stderr }),
        }
    }
}
