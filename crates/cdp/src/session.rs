//! A flattened DevTools session: the handle every command goes through.
//!
//! Invariant: a `Session` is only a connection and an optional session id; it owns nothing,
//! so clones are cheap and dropping one detaches nothing.

use std::time::Duration;

use serde_json::Value;

use crate::connection::{Connection, EventFilter, EventStream};
use crate::error::Result;

/// A handle for sending commands on one flattened session (or on the browser itself).
///
/// Cheap to clone. Use it for targets this crate does not wrap (iframes, workers) after
/// receiving their `Target.attachedToTarget` event.
#[derive(Clone, Debug)]
pub struct Session {
    pub(crate) conn: Connection,
    pub(crate) id: Option<String>,
}

impl Session {
    /// The session id; `None` for the browser-level session.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Sends `method` with `params` and returns its `result`, with the default timeout.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.conn
            .call(
                self.id.as_deref(),
                method,
                params,
                self.conn.default_timeout(),
            )
            .await
    }

    /// Like [`Session::call`] with an explicit timeout.
    pub async fn call_with_timeout(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value> {
        self.conn
            .call(self.id.as_deref(), method, params, timeout)
            .await
    }

    /// Events of this session only.
    pub fn events(&self) -> EventStream {
        self.conn.subscribe(EventFilter::Session(self.id.clone()))
    }

    /// A handle on another session of the same connection, e.g. a child target's.
    pub fn with_id(&self, session_id: impl Into<String>) -> Session {
        Session {
            conn: self.conn.clone(),
            id: Some(session_id.into()),
        }
    }
}
