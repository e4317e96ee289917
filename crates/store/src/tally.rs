//! The dashboard's counters (`consent_stats`, schema 8): what a consent adds to them
//! ([`Tally`], computed by the application), their sums per batch ([`Counts`]), the
//! statements that add them, and the queries that read them back.
//!
//! Invariant: the group-commit writers add the tallies of a batch's consents in the batch's
//! own transaction (one upsert per distinct counter, not per consent), so the counters equal
//! what the ledger holds; a consent whose request failed adds nothing. The store decides
//! nothing here: which counters a consent adds to is the application's [`Tally`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::StoreError;
use crate::sql::{Stmt, V, i, t};

/// What one consent adds to the counters: one to each of `kinds[b]` whose bit `b` is set
/// in `bits`, under (site, `day`, `version`, `lang`). Built by the application, which knows
/// the controller's time zone and what the kinds mean; `kinds` is shared by every consent
/// of a policy version (no allocation per consent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Days since 1970-01-01 in the controller's time zone.
    pub day: i32,
    pub version: i64,
    pub lang: String,
    /// The counter kinds of the policy version (at most 128).
    pub kinds: Arc<[String]>,
    pub bits: u128,
}

impl Tally {
    /// The kinds of counter this consent adds one to.
    pub fn counted(&self) -> impl Iterator<Item = &str> {
        let mut bits = self.bits;
        std::iter::from_fn(move || {
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if let Some(kind) = self.kinds.get(b) {
                    return Some(kind.as_str());
                }
            }
            None
        })
    }
}

pub use assent_model::stats::StatRow;

/// The SQL that adds `n` to a counter (`?1..?7`: site, day, version, lang, kind, chain, n),
/// the same text on both backends.
pub(crate) const UPSERT: &str = "INSERT INTO consent_stats (site, day, version, lang, kind, \
     chain, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (site, day, version, lang, kind, \
     chain) DO UPDATE SET n = consent_stats.n + excluded.n";

/// PostgreSQL's writer: a batch's counters in one statement (keys are distinct: [`Counts`]
/// sums them first, as `ON CONFLICT` may touch a row once per statement).
pub(crate) const PG_UPSERT_MANY: &str = "INSERT INTO consent_stats (site, day, version, lang, \
     kind, chain, n) SELECT s, d, v, l, k, $6, n FROM UNNEST($1::text[], $2::int4[], \
     $3::int8[], $4::text[], $5::text[], $7::int8[]) AS u(s, d, v, l, k, n) \
     ON CONFLICT (site, day, version, lang, kind, chain) DO UPDATE SET n = consent_stats.n + \
     excluded.n";

/// Counter key borrowed from the batch: (site, day, version, lang, kind).
type Key<'a> = (&'a str, i32, i64, &'a str, &'a str);

/// The counters a batch adds to, summed per counter.
#[derive(Debug, Default)]
pub(crate) struct Counts<'a> {
    map: HashMap<Key<'a>, i64>,
}

impl<'a> Counts<'a> {
    /// Adds a consent's tally for `site`.
    pub(crate) fn add(&mut self, site: &'a str, t: &'a Tally) {
        for kind in t.counted() {
            *self
                .map
                .entry((site, t.day, t.version, &t.lang, kind))
                .or_insert(0) += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The counters, in key order (so that concurrent transactions lock rows in one order).
    pub(crate) fn sorted(&self) -> Vec<(Key<'a>, i64)> {
        let mut v: Vec<(Key<'a>, i64)> = self.map.iter().map(|(k, n)| (*k, *n)).collect();
        v.sort_unstable();
        v
    }

    /// The SQLite writer: one upsert per counter, on `chain`.
    pub(crate) fn write_sqlite(
        &self,
        c: &rusqlite::Connection,
        chain: u32,
    ) -> Result<(), StoreError> {
        let mut st = c.prepare_cached(UPSERT)?;
        for ((site, day, version, lang, kind), n) in self.sorted() {
            st.execute(rusqlite::params![site, day, version, lang, kind, chain, n])?;
        }
        Ok(())
    }
}

/// Upserts adding `rows` to the counters of `chain`, in key order.
pub(crate) fn upserts(rows: &[StatRow], chain: i64) -> Vec<Stmt> {
    let mut rows: Vec<&StatRow> = rows.iter().filter(|r| r.n != 0).collect();
    rows.sort_unstable_by(|a, b| {
        (&a.site, a.day, a.version, &a.lang, &a.kind)
            .cmp(&(&b.site, b.day, b.version, &b.lang, &b.kind))
    });
    rows.into_iter()
        .map(|r| {
            (
                UPSERT.to_owned(),
                vec![
                    t(&r.site),
                    V::I4(r.day),
                    i(r.version),
                    t(&r.lang),
                    t(&r.kind),
                    V::I4(i32::try_from(chain).unwrap_or(-1)),
                    i(r.n),
                ],
            )
        })
        .collect()
}
