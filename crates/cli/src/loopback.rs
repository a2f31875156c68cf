//! The loopback listener for bank redirects: `http://127.0.0.1:<port>/callback`.
//!
//! A command that may meet a redirect bank starts one and passes its URL as the callback URL, so the bank's
//! page sends the browser straight back to this process. Each `GET /callback?…` is answered with a short page
//! ("return to the terminal") and its full URL is handed to the conversation, which gives it to
//! `Kontor::handle_callback` (the core checks `state`; a foreign one changes nothing). Other paths get 404.
//! The listener only binds 127.0.0.1 and lives as long as the command.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const PAGE: &str = "<!doctype html><meta charset=utf-8><title>Kontor</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Back to Kontor</h1>\
<p>The bank sent you back. You can close this window and return to the terminal.</p></body>";

/// A running listener; dropping it stops listening.
#[derive(Debug)]
pub struct Loopback {
    url: String,
    received: mpsc::UnboundedReceiver<String>,
    task: JoinHandle<()>,
}

impl Loopback {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let url = format!("http://{address}/callback");
        let (tx, received) = mpsc::unbounded_channel();
        let base = format!("http://{address}");
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                let base = base.clone();
                tokio::spawn(async move {
                    if let Some(target) = serve(stream).await {
                        let _ = tx.send(format!("{base}{target}"));
                    }
                });
            }
        });
        Ok(Self { url, received, task })
    }

    /// The callback URL to give the bank.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next callback URL that reached the listener. Cancel-safe.
    pub async fn next(&mut self) -> Option<String> {
        self.received.recv().await
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers one HTTP request; returns its request target when it is `GET /callback…`.
async fn serve(mut stream: TcpStream) -> Option<String> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") && buffer.len() < 16 * 1024 {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(chunk.get(..read)?);
    }
    let head = String::from_utf8_lossy(&buffer);
    let mut parts = head.lines().next()?.split_whitespace();
    let (method, target) = (parts.next()?, parts.next()?.to_owned());
    let is_callback = method == "GET" && (target == "/callback" || target.starts_with("/callback?"));
    let response = if is_callback {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PAGE}",
            PAGE.len()
        )
    } else {
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    is_callback.then_some(target)
}
