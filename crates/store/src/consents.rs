//! Consent queries. A consent row holds only what consents are searched by (see
//! [`ConsentKey`](crate::types::ConsentKey)); each query joins its ledger entry, whose payload is
//! the decision. The SQL differs by backend, because each follows its own indexes (SQLite:
//! one chain, rowid tables keyed by `seq`, receipts found by time; PostgreSQL: several
//! chains): both texts stand side by side in [`consent_sql`]; the methods and the row mapper
//! are written once.

use assent_ledger::Entry;

use crate::error::StoreError;
use crate::rows::{CONSENT_COLS, consent_at};
use crate::sql::{Dialect, V, chain_i32, i, seq_to_i64, t};
use crate::store::Store;
use crate::types::{ConsentRow, receipt_time};

/// The consent queries, one place for their SQL (their SQLite query plans are tested).
#[derive(Clone, Copy, Debug)]
enum ConsentQuery {
    /// PostgreSQL: `?1` receipt id.
    ByReceipt,
    /// SQLite: `?1` creation time, `?2` receipt id: Assent's receipt ids begin with their
    /// time.
    ByTime,
    /// SQLite: `?1` receipt id, for ids of any other form.
    ByOtherId,
    /// `?1` site, `?2` subject; newest first.
    BySubject,
    /// `?1` site, `?2..?3` creation time range, after the cursor, then the limit: SQLite
    /// `(?4, ?5)` = (time, seq), `?6` limit; PostgreSQL `(?4, ?5, ?6)` = (time, chain, seq),
    /// `?7` limit.
    Between,
}

fn consent_sql(d: Dialect, q: ConsentQuery) -> String {
    let (from, filter) = match d {
        Dialect::Sqlite => (
            "FROM consents c JOIN ledger_entries e ON e.seq = c.seq",
            match q {
                ConsentQuery::ByTime | ConsentQuery::ByReceipt => {
                    "WHERE c.created_at_ms = ?1 AND c.receipt_id = ?2"
                }
                ConsentQuery::ByOtherId => {
                    "WHERE c.seq = (SELECT seq FROM consent_receipt_ids WHERE receipt_id = ?1)"
                }
                ConsentQuery::BySubject => {
                    "WHERE c.site = ?1 AND c.subject = ?2 \
                     ORDER BY c.created_at_ms DESC, c.seq DESC"
                }
                // The time index gives (created_at_ms, seq) order and other sites are
                // skipped; `+` keeps the planner off the (site, subject) index, which would
                // read every consent of the site and sort them.
                ConsentQuery::Between => {
                    "WHERE c.created_at_ms >= ?2 AND c.created_at_ms < ?3 \
                     AND (c.created_at_ms, c.seq) > (?4, ?5) AND +c.site = ?1 \
                     ORDER BY c.created_at_ms, c.seq LIMIT ?6"
                }
            },
        ),
        Dialect::Postgres => (
            "FROM consents c JOIN ledger_entries e ON e.chain = c.chain AND e.seq = c.seq",
            match q {
                ConsentQuery::ByReceipt | ConsentQuery::ByTime | ConsentQuery::ByOtherId => {
                    "WHERE c.receipt_id = ?1"
                }
                ConsentQuery::BySubject => {
                    "WHERE c.site = ?1 AND c.subject = ?2 \
                     ORDER BY c.created_at_ms DESC, c.chain DESC, c.seq DESC"
                }
                ConsentQuery::Between => {
                    "WHERE c.site = ?1 AND c.created_at_ms >= ?2 AND c.created_at_ms < ?3 \
                     AND (c.created_at_ms, c.chain, c.seq) > (?4, ?5, ?6) \
                     ORDER BY c.created_at_ms, c.chain, c.seq LIMIT ?7"
                }
            },
        ),
    };
    format!("SELECT {CONSENT_COLS} {from} {filter}")
}

impl Store {
    /// A consent by receipt id, with its ledger entry.
    pub async fn consent_by_receipt(
        &self,
        id: &str,
    ) -> Result<Option<(ConsentRow, Entry)>, StoreError> {
        let d = self.dialect();
        if d == Dialect::Postgres {
            let sql = consent_sql(d, ConsentQuery::ByReceipt);
            return self.row(sql, vec![t(id)], consent_at).await;
        }
        // Assent's receipt ids start with their creation time: the time index narrows the
        // search to that millisecond. Any other id is in `consent_receipt_ids`.
        if let Some(ms) = receipt_time(id) {
            let sql = consent_sql(d, ConsentQuery::ByTime);
            if let Some(found) = self.row(sql, vec![i(ms), t(id)], consent_at).await? {
                return Ok(Some(found));
            }
        }
        let sql = consent_sql(d, ConsentQuery::ByOtherId);
        self.row(sql, vec![t(id)], consent_at).await
    }

    /// When the consent of receipt `id` was erased, if it was (its tombstone).
    pub async fn consent_erased_at(&self, id: &str) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT erased_at_ms FROM consent_tombstones WHERE receipt_id = ?1";
        self.row(sql.to_owned(), vec![t(id)], crate::rows::i64_at)
            .await
    }

    /// A subject's consents on a site, newest first.
    pub async fn consents_by_subject(
        &self,
        site: &str,
        subject: &str,
    ) -> Result<Vec<(ConsentRow, Entry)>, StoreError> {
        let sql = consent_sql(self.dialect(), ConsentQuery::BySubject);
        self.rows(sql, vec![t(site), t(subject)], consent_at).await
    }

    /// Consents of a site with `from_ms <= created_at_ms < to_ms`, ordered by
    /// `(created_at_ms, chain, seq)` (i.e. by time, then ledger order), at most `limit`,
    /// after the consent `after_receipt`
    /// (the last receipt of the previous page). A cursor that no longer exists (redacted
    /// meanwhile) is [`StoreError::NotFound`].
    pub async fn consents_between(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
        after_receipt: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(ConsentRow, Entry)>, StoreError> {
        // The cursor is resolved to its (created_at_ms, chain, seq) position.
        let (cur_ms, cur_chain, cur_seq) = match after_receipt {
            None => (i64::MIN, -1, -1),
            Some(id) => {
                let (row, e) = self
                    .consent_by_receipt(id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("paging cursor receipt {id}")))?;
                (row.created_at_ms, chain_i32(e.chain)?, seq_to_i64(e.seq)?)
            }
        };
        let d = self.dialect();
        let mut vals = vec![t(site), i(from_ms), i(to_ms), i(cur_ms)];
        if d == Dialect::Postgres {
            vals.push(V::I4(cur_chain));
        }
        vals.extend([i(cur_seq), i(i64::from(limit))]);
        self.rows(consent_sql(d, ConsentQuery::Between), vals, consent_at)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every consent query is answered through an index, never a scan, and the export
    /// without a sort: on a large ledger anything else reads every consent. (One subject's
    /// few consents are sorted by time.)
    #[test]
    fn consent_queries_use_their_indexes() {
        let dir = std::env::temp_dir().join(format!("assent-plan-{}", std::process::id()));
        let path = dir.join("plan.db");
        let (conn, _) = crate::sqlite::open_for_test(&path, None, true).unwrap();
        let expect = [
            (ConsentQuery::ByTime, "consents_created (created_at_ms=?)"),
            (
                ConsentQuery::ByOtherId,
                "sqlite_autoindex_consent_receipt_ids_1",
            ),
            (
                ConsentQuery::BySubject,
                "consents_site_subject (site=? AND subject=?)",
            ),
            (
                ConsentQuery::Between,
                "consents_created (created_at_ms>? AND created_at_ms<?)",
            ),
        ];
        for (q, index) in expect {
            let mut st = conn
                .prepare(&format!(
                    "EXPLAIN QUERY PLAN {}",
                    consent_sql(Dialect::Sqlite, q)
                ))
                .unwrap();
            let unbound = vec![rusqlite::types::Null; st.parameter_count()];
            let plan: Vec<String> = st
                .query_map(rusqlite::params_from_iter(unbound), |r| r.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let plan = plan.join("\n");
            assert!(plan.contains(index), "{q:?}: {plan}");
            assert!(!plan.contains("SCAN"), "{q:?}: {plan}");
            let may_sort = matches!(q, ConsentQuery::BySubject);
            assert!(may_sort || !plan.contains("TEMP B-TREE"), "{q:?}: {plan}");
        }
        drop(conn);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
