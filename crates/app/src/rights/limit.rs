//! How many verification emails one address may receive: a submission for an address that
//! already got [`MAX_PER_HOUR`] in the last hour is stored, but no email is sent, so the form
//! cannot be used to flood someone's mailbox. Kept in memory, keyed by a hash of the address
//! (never the address); the check and the count are one step under a lock, so parallel
//! submissions cannot overrun it. Each server of a PostgreSQL scale-out counts its own.

use std::collections::HashMap;
use std::sync::Mutex;

/// Verification emails per address and hour.
pub const MAX_PER_HOUR: u32 = 3;
const HOUR_MS: i64 = 3_600_000;

#[derive(Debug, Default)]
pub struct RecipientLimit {
    /// Address hash → (start of its window, emails sent in it).
    windows: Mutex<HashMap<[u8; 32], (i64, u32)>>,
}

impl RecipientLimit {
    /// Counts one email to `address_hash` at `now_ms`: `true` when it may be sent.
    pub fn allow(&self, address_hash: [u8; 32], now_ms: i64) -> bool {
        let Ok(mut w) = self.windows.lock() else {
            return false;
        };
        if w.len() > 100_000 {
            // Forget windows that have ended, so the map stays small.
            w.retain(|_, (start, _)| now_ms - *start < HOUR_MS);
        }
        let slot = w.entry(address_hash).or_insert((now_ms, 0));
        if now_ms - slot.0 >= HOUR_MS {
            *slot = (now_ms, 0);
        }
        if slot.1 >= MAX_PER_HOUR {
            return false;
        }
        slot.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_an_hour_per_address() {
        let l = RecipientLimit::default();
        let a = [1; 32];
        assert!((0..3).all(|i| l.allow(a, i)));
        assert!(!l.allow(a, 10));
        assert!(l.allow([2; 32], 10), "another address has its own count");
        assert!(l.allow(a, HOUR_MS), "a new hour starts a new count");
    }
}
