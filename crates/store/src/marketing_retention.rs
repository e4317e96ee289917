//! Retention of marketing records (tables of migration `0006_marketing`): the prospects'
//! opt-ins (`unconfirmed`, `confirmed`) whose last choice (`updated_at_ms`, the last contact
//! coming from the person that Assent records) is at or before a cutoff. Opt-outs are never
//! selected: a suppression entry (its keyed hash) stays, so an opt-out is never lost.
//!
//! The store decides nothing: the app computes the cutoff and the persons held (their
//! emails, matched with the stored address); each delete repeats the whole condition, so a
//! subscription renewed meanwhile is kept.

use crate::error::StoreError;
use crate::sql::{Cols, V, i, t};
use crate::store::Store;

/// An opt-in past its retention: the key of its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSubscription {
    pub site: String,
    pub channel: String,
    pub purpose: String,
    pub addr_hash: [u8; 32],
    pub updated_at_ms: i64,
}

impl DueSubscription {
    /// The row's key as text (for a run's digest): no address, only its keyed hash.
    pub fn key(&self) -> String {
        let hex: String = self.addr_hash.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}/{}/{}/{hex}", self.site, self.channel, self.purpose)
    }
}

fn due_at(r: &dyn Cols) -> Result<DueSubscription, StoreError> {
    Ok(DueSubscription {
        site: r.str_(0)?,
        channel: r.str_(1)?,
        purpose: r.str_(2)?,
        addr_hash: r.hash(3, "marketing address hash")?,
        updated_at_ms: r.i64_(4)?,
    })
}

/// Opt-ins, never opt-outs.
const LIVE: &str = "status IN ('unconfirmed', 'confirmed')";

/// ` AND (address IS NULL OR lower(address) NOT IN (?first, …))`: rows of persons not held.
fn not_held(first: usize, n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    let marks: Vec<String> = (first..first + n).map(|k| format!("?{k}")).collect();
    format!(
        " AND (address IS NULL OR lower(address) NOT IN ({}))",
        marks.join(", ")
    )
}

fn lower(held: &[String]) -> impl Iterator<Item = V> + '_ {
    held.iter().map(|h| t(&h.to_lowercase()))
}

impl Store {
    /// Opt-ins last changed at or before `cut`: `(due, held)`, held being those of a person
    /// in `held` (emails).
    pub async fn marketing_retention_count(
        &self,
        cut: i64,
        held: &[String],
    ) -> Result<(i64, i64), StoreError> {
        let all = format!(
            "SELECT COUNT(*) FROM marketing_subscriptions WHERE {LIVE} AND updated_at_ms <= ?1"
        );
        let all = self
            .row(all, vec![i(cut)], crate::rows::i64_at)
            .await?
            .unwrap_or(0);
        let free = format!(
            "SELECT COUNT(*) FROM marketing_subscriptions WHERE {LIVE} AND updated_at_ms <= ?1{}",
            not_held(2, held.len())
        );
        let mut vals = vec![i(cut)];
        vals.extend(lower(held));
        let free = self
            .row(free, vals, crate::rows::i64_at)
            .await?
            .unwrap_or(0);
        Ok((free, all - free))
    }

    /// The oldest last change of an opt-in after `cut`.
    pub async fn marketing_retention_next(&self, cut: i64) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT MIN(updated_at_ms) FROM marketing_subscriptions WHERE {LIVE} AND updated_at_ms > ?1"
        );
        let v = self.rows(sql, vec![i(cut)], |r| r.oi64(0)).await?;
        Ok(v.into_iter().next().flatten())
    }

    /// At most `limit` due opt-ins of persons not held, oldest first.
    pub async fn marketing_retention_due(
        &self,
        cut: i64,
        held: &[String],
        limit: u32,
    ) -> Result<Vec<DueSubscription>, StoreError> {
        let sql = format!(
            "SELECT site, channel, purpose, addr_hash, updated_at_ms FROM marketing_subscriptions \
             WHERE {LIVE} AND updated_at_ms <= ?1{} \
             ORDER BY updated_at_ms, site, channel, purpose, addr_hash LIMIT {limit}",
            not_held(2, held.len())
        );
        let mut vals = vec![i(cut)];
        vals.extend(lower(held));
        self.rows(sql, vals, due_at).await
    }

    /// Deletes `rows` in one transaction, each only if it is still an opt-in last changed at
    /// or before `cut`; the number of each deleted (0 or 1), in order.
    pub async fn marketing_retention_delete(
        &self,
        rows: &[DueSubscription],
        cut: i64,
    ) -> Result<Vec<u64>, StoreError> {
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let stmts = rows
            .iter()
            .map(|r| {
                (
                    format!(
                        "DELETE FROM marketing_subscriptions WHERE site = ?1 AND channel = ?2 \
                         AND purpose = ?3 AND addr_hash = ?4 AND {LIVE} AND updated_at_ms <= ?5"
                    ),
                    vec![
                        t(&r.site),
                        t(&r.channel),
                        t(&r.purpose),
                        V::B(r.addr_hash.to_vec()),
                        i(cut),
                    ],
                )
            })
            .collect();
        Ok(self.exec(stmts, false, None).await?.unwrap_or_default())
    }
}
