//! Counters of the write path (`/metrics`), shared by both backends' writers.

/// Counters of a store's write path, for `/metrics`: requests per transaction and per
/// flush show how well group commit works under the current load.
#[derive(Debug, Default)]
pub struct WriteStats {
    /// Write transactions committed (SQLite: by the writer thread; PostgreSQL: by the writer
    /// task).
    pub transactions: std::sync::atomic::AtomicU64,
    /// Write requests answered (each usually one ledger append).
    pub requests: std::sync::atomic::AtomicU64,
    /// Durable flushes (SQLite: WAL `fdatasync`; PostgreSQL: one per commit).
    pub flushes: std::sync::atomic::AtomicU64,
    /// Flushes by duration: one count per bound of [`FLUSH_BOUNDS_US`], then the rest.
    flush_hist: [std::sync::atomic::AtomicU64; FLUSH_BOUNDS_US.len() + 1],
    /// Time spent in flushes, in microseconds.
    flush_us: std::sync::atomic::AtomicU64,
}

/// Upper bounds (microseconds) of the flush-duration histogram. Every acknowledged write
/// waits for its group's flush, so these are the disk's share of the write latency.
pub const FLUSH_BOUNDS_US: [u64; 9] = [
    250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000,
];

/// A reading of [`WriteStats`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteSnapshot {
    pub transactions: u64,
    pub requests: u64,
    pub flushes: u64,
    /// Flushes per bucket of [`FLUSH_BOUNDS_US`] (not cumulative), the last one unbounded.
    pub flush_hist: [u64; FLUSH_BOUNDS_US.len() + 1],
    pub flush_us: u64,
}

impl WriteStats {
    /// One committed transaction answering `requests` requests.
    pub(crate) fn transaction(&self, requests: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.transactions.fetch_add(1, Relaxed);
        self.requests.fetch_add(requests as u64, Relaxed);
    }

    /// One durable flush, which took `took`.
    pub(crate) fn flush(&self, took: std::time::Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket = FLUSH_BOUNDS_US
            .iter()
            .position(|b| us <= *b)
            .unwrap_or(FLUSH_BOUNDS_US.len());
        if let Some(b) = self.flush_hist.get(bucket) {
            b.fetch_add(1, Relaxed);
        }
        self.flush_us.fetch_add(us, Relaxed);
        self.flushes.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self) -> WriteSnapshot {
        use std::sync::atomic::Ordering::Relaxed;
        WriteSnapshot {
            transactions: self.transactions.load(Relaxed),
            requests: self.requests.load(Relaxed),
            flushes: self.flushes.load(Relaxed),
            flush_hist: std::array::from_fn(|i| self.flush_hist[i].load(Relaxed)),
            flush_us: self.flush_us.load(Relaxed),
        }
    }
}
