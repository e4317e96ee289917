//! Browser sessions of the admin pages: the cookie holds a random session id, never the API
//! token it was opened with. The server keeps, per session, a hash of the id, the hash of the
//! token (so a revoked token ends its sessions at once) and an absolute expiry (8 hours).
//! Kept in memory: a restart logs everyone out, and in a PostgreSQL scale-out a browser
//! needs to stay on one server (sticky sessions) until the console's accounts replace this.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Absolute lifetime of a session.
pub const SESSION_MS: i64 = 8 * 3_600_000;
/// Sessions kept at most (the oldest go first beyond it).
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
struct Session {
    token_hash: [u8; 32],
    expires_ms: i64,
}

#[derive(Debug, Default)]
pub struct Sessions {
    by_id_hash: Mutex<HashMap<[u8; 32], Session>>,
}

fn id_hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// Opens a session for the token whose hash is `token_hash`; returns its id (for the
    /// cookie), or `None` when no randomness is available.
    pub fn open(&self, token_hash: [u8; 32], now_ms: i64) -> Option<String> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).ok()?;
        let id = hex::encode(raw);
        let mut m = self.by_id_hash.lock().ok()?;
        m.retain(|_, s| s.expires_ms > now_ms);
        if m.len() >= MAX_SESSIONS {
            let oldest = m.iter().min_by_key(|(_, s)| s.expires_ms).map(|(k, _)| *k);
            if let Some(k) = oldest {
                m.remove(&k);
            }
        }
        m.insert(
            id_hash(&id),
            Session {
                token_hash,
                expires_ms: now_ms + SESSION_MS,
            },
        );
        Some(id)
    }

    /// The token hash of a live session.
    pub fn token_of(&self, id: &str, now_ms: i64) -> Option<[u8; 32]> {
        if id.len() != 64 {
            return None;
        }
        let m = self.by_id_hash.lock().ok()?;
        m.get(&id_hash(id))
            .filter(|s| s.expires_ms > now_ms)
            .map(|s| s.token_hash)
    }

    /// Ends a session (logout).
    pub fn close(&self, id: &str) {
        if let Ok(mut m) = self.by_id_hash.lock() {
            m.remove(&id_hash(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_close() {
        let s = Sessions::default();
        let id = s.open([7; 32], 0).unwrap();
        assert_eq!(s.token_of(&id, 1), Some([7; 32]));
        assert_eq!(s.token_of(&id, SESSION_MS), None, "absolute expiry");
        let id = s.open([8; 32], 0).unwrap();
        s.close(&id);
        assert_eq!(s.token_of(&id, 1), None);
        assert_eq!(s.token_of("assent_x_token", 1), None);
    }
}
