//! What a retention run is asked for ([`RunOptions`]) and how far one rule's run has got
//! ([`Progress`]: its `retention_runs` row and the digest of the keys purged so far), shared
//! by the purges of Assent's own records and of datastore tables.

use assent_store::RetentionRunRow;
use sha2::{Digest, Sha256};

/// How a run is asked for.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The instant to purge as of (`--at`; the clock's now otherwise).
    pub at_ms: i64,
    /// The real time (recorded next to `at_ms`).
    pub now_ms: i64,
    /// Records per chunk (one batch of redactions).
    pub chunk: u32,
    /// Stop each rule after this many records (the run is then `partial`; the next resumes).
    pub max_rows: Option<u64>,
}

impl RunOptions {
    pub fn at(at_ms: i64, now_ms: i64) -> Self {
        RunOptions {
            at_ms,
            now_ms,
            chunk: DEFAULT_CHUNK,
            max_rows: None,
        }
    }
}

/// Records per chunk by default.
pub const DEFAULT_CHUNK: u32 = 1_000;

/// Progress of one rule's run.
pub(crate) struct Progress {
    pub row: RetentionRunRow,
    pub hasher: Sha256,
    /// Rows without an anchor (datastore tables), kept and reported.
    pub unanchored: i64,
}

impl Progress {
    pub(crate) fn purged(&mut self, key: &str) {
        self.row.deleted += 1;
        self.hasher.update(key.as_bytes());
        self.hasher.update(b"\n");
    }
    /// A row anonymised (its key joins the digest).
    pub(crate) fn anonymised(&mut self, key: &str) {
        self.row.anonymised += 1;
        self.hasher.update(key.as_bytes());
        self.hasher.update(b"\n");
    }
    /// Rows changed so far (deleted or anonymised).
    pub(crate) fn changed(&self) -> u64 {
        u64::try_from(self.row.deleted.saturating_add(self.row.anonymised)).unwrap_or(0)
    }
    pub(crate) fn budget_left(&self, opts: &RunOptions) -> bool {
        opts.max_rows.is_none_or(|m| self.changed() < m)
    }
}
