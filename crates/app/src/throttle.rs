//! Repeated error lines, throttled: when the disk is full every request fails the same way,
//! and two log lines per request (130,769 lines in 15 s, seen in a security pass) would fill
//! what is left of the disk and drown the first, useful line. A [`Throttle`] lets a few lines
//! a second through and counts the rest; the next line that passes says how many were
//! suppressed. Lock-free: a failing request costs two atomic operations.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// At most `per_second` lines a second.
#[derive(Debug)]
pub struct Throttle {
    per_second: u64,
    /// The second (since the first use) and how many lines passed in it, packed as
    /// `second << 16 | count`.
    window: AtomicU64,
    suppressed: AtomicU64,
}

impl Throttle {
    pub const fn new(per_second: u64) -> Self {
        Throttle {
            per_second,
            window: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when a line may be logged now, `n` being how many were suppressed since the
    /// last one that was; `None` when this one is to be suppressed (and counted).
    pub fn allow(&self) -> Option<u64> {
        self.allow_at(seconds_since_start())
    }

    fn allow_at(&self, second: u64) -> Option<u64> {
        let mut cur = self.window.load(Ordering::Relaxed);
        loop {
            let (sec, count) = (cur >> 16, cur & 0xffff);
            let next = if sec == second {
                if count >= self.per_second {
                    self.suppressed.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                cur + 1
            } else {
                (second << 16) | 1
            };
            match self
                .window
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(self.suppressed.swap(0, Ordering::Relaxed)),
                Err(actual) => cur = actual,
            }
        }
    }
}

/// Seconds since the first call (a monotonic clock: only intervals matter here).
fn seconds_since_start() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs()
}

/// The throttle of internal-error lines (store, IO), shared by the whole process.
pub static INTERNAL_ERRORS: Throttle = Throttle::new(5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_lines_a_second_then_a_count() {
        let t = Throttle::new(3);
        assert_eq!(t.allow_at(10), Some(0));
        assert_eq!(t.allow_at(10), Some(0));
        assert_eq!(t.allow_at(10), Some(0));
        for _ in 0..1000 {
            assert_eq!(t.allow_at(10), None);
        }
        assert_eq!(
            t.allow_at(11),
            Some(1000),
            "the next second says what was dropped"
        );
        assert_eq!(t.allow_at(11), Some(0));
    }
}
