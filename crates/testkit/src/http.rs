//! A tiny HTTP/1.1 server for browser tests: raw responses over a tokio `TcpListener`.
//!
//! One request per connection (`Connection: close`), nothing cached (`Cache-Control:
//! no-store`), request bodies read and ignored. A connection that misbehaves (no head within
//! 1 MiB, a closed socket) is dropped without an answer; it never stops the server.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the handler sees of a request.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`...
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Header names and values, in order, as sent.
    pub headers: Vec<(String, String)>,
    /// The address the request came in on.
    pub local: SocketAddr,
}

impl Request {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the handler answers; `Content-Length`, `Connection` and `Cache-Control` are added.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Headers, in order (repeat a name for several `Set-Cookie`).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// A 200 HTML page.
    pub fn html(body: impl Into<String>) -> Self {
        Response {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.into().into_bytes(),
        }
    }

    /// A 200 JavaScript file.
    pub fn js(body: impl Into<String>) -> Self {
        Response {
            status: 200,
            headers: vec![("Content-Type".into(), "text/javascript".into())],
            body: body.into().into_bytes(),
        }
    }

    /// A plain 404.
    pub fn not_found() -> Self {
        Response {
            status: 404,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: b"not found".to_vec(),
        }
    }

    /// Adds a header (builder style).
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// Answers every request of a server; shared by its connection tasks.
pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// Serves `handler` on `bind` (e.g. `127.0.0.1:0`) until the test ends.
pub async fn serve(bind: &str, handler: Handler) -> SocketAddr {
    let listener = match TcpListener::bind(bind).await {
        Ok(l) => l,
        Err(e) => panic!("cannot bind the test HTTP server to {bind}: {e}"),
    };
    let Ok(addr) = listener.local_addr() else {
        panic!("the test HTTP server on {bind} has no local address");
    };
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                break;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = find(&buf, b"\r\n\r\n") {
                        break i;
                    }
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    if buf.len() > 1 << 20 {
                        return;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut lines = head.split("\r\n");
                let mut first = lines.next().unwrap_or("").split(' ');
                let method = first.next().unwrap_or("GET").to_owned();
                let target = first.next().unwrap_or("/").to_owned();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut have = buf.len() - head_end - 4;
                while have < len {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => have += n,
                    }
                }
                let Ok(local) = stream.local_addr() else {
                    return;
                };
                let req = Request {
                    method,
                    target,
                    headers,
                    local,
                };
                let resp = handler(&req);
                let mut out = format!("HTTP/1.1 {} X\r\n", resp.status);
                for (k, v) in &resp.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str(&format!(
                    "Content-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n",
                    resp.body.len()
                ));
                let mut bytes = out.into_bytes();
                bytes.extend_from_slice(&resp.body);
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}
