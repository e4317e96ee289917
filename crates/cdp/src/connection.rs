//! The single WebSocket to the browser: request/response matching and event fan-out.
//!
//! One reader task parses every incoming message. Answers (`{"id": ...}`) complete the pending
//! call with that id; events (`{"method": ...}`) are copied to every live subscription whose
//! filter matches. Subscriptions are unbounded so that a slow consumer never loses an event
//! (they are short-lived and drained by their owner); a dropped subscription is pruned on the
//! next event.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{SinkExt, Stream, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::error::{CdpError, Result};

/// One protocol event, as sent by the browser.
#[derive(Debug, Clone)]
pub struct Event {
    /// The event name, e.g. `Network.responseReceived`.
    pub method: String,
    /// The event parameters (`Value::Null` when absent).
    pub params: Value,
    /// The flattened session the event belongs to; `None` for browser-level events.
    pub session_id: Option<String>,
}

/// Which events a subscription receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFilter {
    /// Every event of every session.
    All,
    /// Only events of one session (`None`: browser-level events only).
    Session(Option<String>),
}

impl EventFilter {
    fn matches(&self, event: &Event) -> bool {
        match self {
            EventFilter::All => true,
            EventFilter::Session(id) => event.session_id == *id,
        }
    }
}

/// A stream of events for one subscription. Ends when the connection closes.
#[derive(Debug)]
pub struct EventStream {
    rx: mpsc::UnboundedReceiver<Event>,
}

impl EventStream {
    /// The next event, or `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// Waits for the first event for which `pred` is true, skipping the others.
    ///
    /// Fails with [`CdpError::Timeout`] after `timeout` (the `what` text names the awaited
    /// event in the error) and with [`CdpError::ConnectionClosed`] if the browser goes away.
    pub async fn wait_for<F>(&mut self, what: &str, timeout: Duration, mut pred: F) -> Result<Event>
    where
        F: FnMut(&Event) -> bool,
    {
        let fut = async {
            while let Some(ev) = self.rx.recv().await {
                if pred(&ev) {
                    return Ok(ev);
                }
            }
            Err(CdpError::ConnectionClosed)
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(CdpError::Timeout {
                method: what.to_owned(),
                timeout,
            }),
        }
    }

    /// Returns an already-received event without waiting, if there is one.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.rx.try_recv().ok()
    }
}

impl Stream for EventStream {
    type Item = Event;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.rx.poll_recv(cx)
    }
}

struct Pending {
    method: String,
    tx: oneshot::Sender<Result<Value>>,
}

struct Subscriber {
    filter: EventFilter,
    tx: mpsc::UnboundedSender<Event>,
}

struct Inner {
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, Pending>>,
    subscribers: Mutex<Vec<Subscriber>>,
    outgoing: mpsc::UnboundedSender<Message>,
    closed: AtomicBool,
    default_timeout: Duration,
}

/// Locks a mutex, recovering from poisoning (the protected maps stay consistent on panic).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A cheap-to-clone handle on the browser's WebSocket.
#[derive(Clone)]
pub(crate) struct Connection {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish()
    }
}

impl Connection {
    /// Connects to `ws_url` and starts the reader and writer tasks.
    pub(crate) async fn connect(ws_url: &str, default_timeout: Duration) -> Result<Self> {
        let mut config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default();
        config.max_message_size = Some(512 << 20);
        config.max_frame_size = Some(512 << 20);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(ws_url, Some(config), false)
            .await
            .map_err(|e| CdpError::WebSocket(e.to_string()))?;
        let (mut sink, mut stream) = ws.split();
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let inner = Arc::new(Inner {
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            subscribers: Mutex::new(Vec::new()),
            outgoing: out_tx,
            closed: AtomicBool::new(false),
            default_timeout,
        });

        tokio::spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });

        // The reader holds only a weak reference so that dropping every handle ends it.
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                let Some(inner) = weak.upgrade() else { break };
                match msg {
                    Ok(Message::Text(text)) => dispatch(&inner, text.as_str()),
                    Ok(Message::Binary(bytes)) => {
                        if let Ok(text) = std::str::from_utf8(&bytes) {
                            dispatch(&inner, text);
                        }
                    }
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            if let Some(inner) = weak.upgrade() {
                shut(&inner);
            }
        });

        Ok(Connection { inner })
    }

    /// The default per-call timeout.
    pub(crate) fn default_timeout(&self) -> Duration {
        self.inner.default_timeout
    }

    /// Whether the connection has been closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// Subscribes to events matching `filter`.
    pub(crate) fn subscribe(&self, filter: EventFilter) -> EventStream {
        let (tx, rx) = mpsc::unbounded_channel();
        if !self.is_closed() {
            lock(&self.inner.subscribers).push(Subscriber { filter, tx });
        }
        EventStream { rx }
    }

    /// Sends one command and waits for its answer.
    pub(crate) async fn call(
        &self,
        session_id: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value> {
        if self.is_closed() {
            return Err(CdpError::ConnectionClosed);
        }
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(sid) = session_id {
            msg["sessionId"] = Value::String(sid.to_owned());
        }
        let (tx, rx) = oneshot::channel();
        lock(&self.inner.pending).insert(
            id,
            Pending {
                method: method.to_owned(),
                tx,
            },
        );
        if self
            .inner
            .outgoing
            .send(Message::text(msg.to_string()))
            .is_err()
        {
            lock(&self.inner.pending).remove(&id);
            return Err(CdpError::ConnectionClosed);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(CdpError::ConnectionClosed),
            Err(_) => {
                lock(&self.inner.pending).remove(&id);
                Err(CdpError::Timeout {
                    method: method.to_owned(),
                    timeout,
                })
            }
        }
    }
}

/// Marks the connection closed: pending calls fail, subscriptions end.
fn shut(inner: &Inner) {
    inner.closed.store(true, Ordering::SeqCst);
    let pending: Vec<Pending> = lock(&inner.pending).drain().map(|(_, p)| p).collect();
    for p in pending {
        let _ = p.tx.send(Err(CdpError::ConnectionClosed));
    }
    lock(&inner.subscribers).clear();
}

/// Routes one incoming message. Malformed input is ignored.
fn dispatch(inner: &Inner, text: &str) {
    let Ok(mut msg) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let session_id = msg
        .get("sessionId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(id) = msg.get("id").and_then(Value::as_u64) {
        let Some(pending) = lock(&inner.pending).remove(&id) else {
            return;
        };
        let result = if let Some(err) = msg.get("error") {
            Err(CdpError::Protocol {
                method: pending.method,
                code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error")
                    .to_owned(),
            })
        } else {
            Ok(msg
                .get_mut("result")
                .map(Value::take)
                .unwrap_or(Value::Null))
        };
        let _ = pending.tx.send(result);
        return;
    }
    let Some(method) = msg.get("method").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    let event = Event {
        method,
        params: msg
            .get_mut("params")
            .map(Value::take)
            .unwrap_or(Value::Null),
        session_id,
    };
    let mut subs = lock(&inner.subscribers);
    subs.retain(|s| {
        if s.tx.is_closed() {
            return false;
        }
        if s.filter.matches(&event) {
            return s.tx.send(event.clone()).is_ok();
        }
        true
    });
}
