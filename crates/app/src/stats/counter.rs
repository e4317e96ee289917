//! The banner displays counted in memory between two flushes (`shown.rs` counts and
//! flushes them); it lives in the application's state (`App::shown`).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{AppError, AppResult};

/// Distinct (site, day, version, language) keys held between two flushes; displays of a new
/// key beyond it are refused (only a flood of invented keys could reach it: the keys are
/// checked against the sites' versions and languages).
const MAX_KEYS: usize = 10_000;

pub(crate) type Key = (String, i32, i64, String);

/// The displays counted since the last flush.
#[derive(Debug, Default)]
pub struct ShownCounter {
    pending: Mutex<HashMap<Key, i64>>,
    /// Held by a flush while it writes: a flush returns once every display counted before
    /// it is in the database, even those another flush took.
    pub(crate) flushing: tokio::sync::Mutex<()>,
}

impl ShownCounter {
    pub(crate) fn add(&self, key: Key) -> AppResult<()> {
        let mut m = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if !m.contains_key(&key) && m.len() >= MAX_KEYS {
            return Err(AppError::too_many(5));
        }
        *m.entry(key).or_insert(0) += 1;
        Ok(())
    }

    pub(crate) fn take(&self) -> HashMap<Key, i64> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn put_back(&self, rows: HashMap<Key, i64>) {
        let mut m = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (k, n) in rows {
            *m.entry(k).or_insert(0) += n;
        }
    }
}
