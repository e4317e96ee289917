//! The PostgreSQL writer task: group commit on its own connection, which holds the chain's
//! advisory lock (see the module docs of `postgres`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use assent_ledger::{ChainHead, Entry};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Statement, Transaction};

use crate::error::{StoreError, describe_pg};
use crate::pgtls::MakeRustls;
use crate::sql::{chain_i32, pg_run, pg_sql, seq_to_i64};
use crate::stats::WriteStats;
use crate::tally::{Counts, PG_UPSERT_MANY};
use crate::types::AppendItem;
use crate::writer::{
    self as requests, INSERT_CHECKPOINT, INSERT_POLICY, LATEST_POLICY_FLOOR, MAX_BATCH, Op,
    POLICY_VERSION_KIND, Req, next_policy_row,
};

use super::connect::{claim_chain, connect, connection_lost};

/// Prepared on the writer's connection (re-prepared after a reconnect).
pub(crate) struct Stmts {
    ins_entries: Statement,
    ins_consents: Statement,
    add_counts: Statement,
}

impl Stmts {
    pub(crate) async fn prepare(client: &Client) -> Result<Stmts, StoreError> {
        Ok(Stmts {
            ins_entries: client
                .prepare(
                    "INSERT INTO ledger_entries \
                     (chain, seq, ts_ms, kind, payload_hash, prev_hash, hash, payload) \
                     SELECT * FROM UNNEST($1::int4[], $2::int8[], $3::int8[], $4::text[], \
                     $5::bytea[], $6::bytea[], $7::bytea[], $8::bytea[])",
                )
                .await?,
            ins_consents: client
                .prepare(
                    "INSERT INTO consents (receipt_id, site, subject, created_at_ms, chain, seq) \
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], \
                     $5::int4[], $6::int8[])",
                )
                .await?,
            add_counts: client.prepare(PG_UPSERT_MANY).await?,
        })
    }
}

pub(crate) struct WConn {
    pub(crate) client: Client,
    pub(crate) task: JoinHandle<()>,
    pub(crate) stmts: Stmts,
}

pub(crate) struct PgWriter {
    pub(crate) cfg: Config,
    pub(crate) tls: MakeRustls,
    pub(crate) addr: String,
    pub(crate) ns: i32,
    pub(crate) policy_ns: i32,
    /// `None` after a lost connection (reconnected before the next batch) or shutdown.
    pub(crate) conn: Option<WConn>,
    pub(crate) head: ChainHead,
    pub(crate) chain: Arc<AtomicU32>,
    pub(crate) stats: Arc<WriteStats>,
}

impl PgWriter {
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<Req>) {
        let mut buf = Vec::with_capacity(MAX_BATCH);
        loop {
            if rx.recv_many(&mut buf, MAX_BATCH).await == 0 {
                break; // every handle was dropped
            }
            let (ops, shutdown) = requests::split_batch(&mut buf);
            if !ops.is_empty() {
                self.process(ops).await;
            }
            if let Some(ack) = shutdown {
                requests::refuse_rest(&mut rx);
                self.release().await;
                let _ = ack.send(());
                return;
            }
        }
        self.release().await;
    }

    /// Unlocks the chain and closes the connection, waiting until it is closed.
    async fn release(&mut self) {
        if let Some(c) = self.conn.take() {
            let unlocked = match chain_i32(self.head.chain) {
                Ok(chain) => c
                    .client
                    .execute("SELECT pg_advisory_unlock($1, $2)", &[&self.ns, &chain])
                    .await
                    .map_err(|e| describe_pg(&e)),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = unlocked {
                tracing::error!(error = %e, "releasing the ledger chain lock failed");
            }
            drop(c.client);
            let _ = c.task.await;
        }
    }

    fn alive(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| !c.client.is_closed())
    }

    async fn ensure_conn(&mut self) -> Result<(), StoreError> {
        if self.alive() {
            return Ok(());
        }
        if let Some(old) = self.conn.take() {
            old.task.abort();
        }
        let (client, task) = connect(&self.cfg, &self.tls, &self.addr).await?;
        let prefer = self.head.chain;
        let (chain, head) = claim_chain(&client, self.ns, Some(prefer)).await?;
        let stmts = Stmts::prepare(&client).await?;
        if chain != prefer {
            tracing::error!(
                old_chain = prefer,
                new_chain = chain,
                "ledger writer reconnected; its chain was taken, continuing on another chain"
            );
        }
        self.head = head;
        self.chain.store(chain, Ordering::Relaxed);
        self.conn = Some(WConn {
            client,
            task,
            stmts,
        });
        Ok(())
    }

    async fn process(&mut self, mut ops: Vec<Op>) {
        let started = std::time::Instant::now();
        self.process_ops(&mut ops).await;
        // Each batch is one transaction (more when replayed) and one commit; its duration
        // stands for the flush (PostgreSQL's commit waits for its WAL flush).
        self.stats.transaction(ops.len());
        self.stats.flush(started.elapsed());
        for op in ops {
            op.answer(None);
        }
    }

    /// Applies `ops` and records each one's result in its answer.
    async fn process_ops(&mut self, ops: &mut [Op]) {
        let fail_all =
            |ops: &mut [Op], e: &StoreError| ops.iter_mut().for_each(|op| op.fail_batch(e));
        let mut retried = false;
        let err = loop {
            if let Err(e) = self.ensure_conn().await {
                tracing::error!(error = %e, "ledger writer cannot reach PostgreSQL");
                return fail_all(ops, &e);
            }
            let start = self.head.clone();
            match self.run_tx(ops).await {
                Ok(()) => return,
                Err((e, at_commit)) => {
                    self.head = start;
                    if self.alive() && !connection_lost(&e) {
                        break e;
                    }
                    // The connection is gone; the head is reloaded from the database when
                    // reconnecting. If COMMIT was not sent, nothing was written: try the
                    // batch once more on a new connection (e.g. after a server restart).
                    self.conn = None;
                    if at_commit || retried {
                        tracing::error!(error = %e, requests = ops.len(), "PostgreSQL batch failed");
                        return fail_all(ops, &e);
                    }
                    retried = true;
                }
            }
        };
        if let [op] = ops {
            return op.fail(err);
        }
        // The batch was rolled back: replay one transaction per request so that only the
        // failing requests fail.
        for op in ops.iter_mut() {
            let before = self.head.clone();
            if let Err((e, _)) = self.run_tx(std::slice::from_mut(op)).await {
                self.head = before;
                if !self.alive() || connection_lost(&e) {
                    self.conn = None;
                }
                op.fail(e);
            }
        }
    }

    /// One transaction for `ops`, recording each one's result in its answer; the head
    /// advances as entries are computed. Errors say whether they happened at COMMIT (outcome
    /// unknown if the connection died).
    async fn run_tx(&mut self, ops: &mut [Op]) -> Result<(), (StoreError, bool)> {
        let PgWriter {
            conn,
            head,
            policy_ns,
            ..
        } = self;
        let WConn { client, stmts, .. } = conn.as_mut().ok_or((StoreError::Closed, false))?;
        let body = async {
            let tx = client.transaction().await?;
            let mut pend = Pending::default();
            for op in ops.iter_mut() {
                match op {
                    Op::Append(items, answer) => {
                        let mut es = Vec::with_capacity(items.len());
                        for it in items.iter() {
                            let e = head.append(it.ts_ms, &it.kind, &it.payload);
                            pend.push(&e, it)?;
                            es.push(e);
                        }
                        answer.set(Ok(es));
                    }
                    Op::Redact(r, answer) => {
                        pend.flush(&tx, stmts).await?;
                        let (chain, seq) = (r.chain, r.seq);
                        let (c, s) = (chain_i32(chain)?, seq_to_i64(seq)?);
                        let row = tx
                            .query_opt(
                                "SELECT payload IS NULL FROM ledger_entries \
                                 WHERE chain = $1 AND seq = $2 FOR UPDATE",
                                &[&c, &s],
                            )
                            .await?;
                        let redacted: bool = match row {
                            None => {
                                return Err(StoreError::NotFound(format!(
                                    "ledger entry {chain}/{seq}"
                                )));
                            }
                            Some(r) => r.try_get(0)?,
                        };
                        if redacted {
                            return Err(StoreError::Conflict(format!(
                                "ledger entry {chain}/{seq} is already redacted"
                            )));
                        }
                        tx.execute(
                            "UPDATE ledger_entries SET payload = NULL WHERE chain = $1 AND seq = $2",
                            &[&c, &s],
                        )
                        .await?;
                        // The consent leaves a tombstone (its receipt id only), so that its
                        // receipt answers 410, not 404.
                        tx.execute(
                            "INSERT INTO consent_tombstones (receipt_id, erased_at_ms) \
                             SELECT receipt_id, $3 FROM consents WHERE chain = $1 AND seq = $2 \
                             ON CONFLICT (receipt_id) DO NOTHING",
                            &[&c, &s, &r.item.ts_ms],
                        )
                        .await?;
                        tx.execute(
                            "DELETE FROM consents WHERE chain = $1 AND seq = $2",
                            &[&c, &s],
                        )
                        .await?;
                        let item = &r.item;
                        let e = head.append(item.ts_ms, &item.kind, &item.payload);
                        pend.push(&e, item)?;
                        answer.set(Ok(Box::new(e)));
                    }
                    Op::InsertPolicy(p, answer) => {
                        tx.execute(
                            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                            &[&*policy_ns, &p.v.site],
                        )
                        .await?;
                        let prev = tx
                            .query_opt(pg_sql(LATEST_POLICY_FLOOR).as_str(), &[&p.v.site])
                            .await?
                            .map(|r| -> Result<(i64, i64), StoreError> {
                                Ok((r.try_get(0)?, r.try_get(1)?))
                            })
                            .transpose()?;
                        let row = next_policy_row(&p.v, prev, p.ts_ms);
                        let e = head.append(p.ts_ms, POLICY_VERSION_KIND, &p.payload);
                        pend.push_entry(&e, POLICY_VERSION_KIND, &p.payload)?;
                        tx.execute(
                            pg_sql(INSERT_POLICY).as_str(),
                            &[
                                &row.site,
                                &row.version,
                                &row.content_hash,
                                &row.requires_fresh_consent,
                                &row.consent_floor,
                                &row.changes_json,
                                &row.registry_json,
                                &row.source_toml,
                                &row.created_at_ms,
                            ],
                        )
                        .await?;
                        answer.set(Ok(Box::new((row, e))));
                    }
                    Op::Stmts(r, answer) => {
                        let counts = pg_run(&tx, &r.stmts, r.guarded).await?;
                        if let (Some(_), Some(ledger)) = (&counts, &r.ledger) {
                            let e = head.append(ledger.ts_ms, &ledger.kind, &ledger.payload);
                            pend.push(&e, ledger)?;
                        }
                        answer.set(Ok(counts));
                    }
                    Op::Checkpoint(cp, answer) => {
                        let row = tx
                            .query_one(pg_sql(INSERT_CHECKPOINT).as_str(), &[&cp.0, &cp.1])
                            .await?;
                        answer.set(Ok(row.try_get(0)?));
                    }
                }
            }
            pend.flush(&tx, stmts).await?;
            let mut counts = Counts::default();
            ops.iter()
                .for_each(|op| crate::writer::count_op(&mut counts, op));
            add_counts(&tx, &stmts.add_counts, &counts, head.chain).await?;
            Ok::<_, StoreError>(tx)
        };
        let tx = body.await.map_err(|e| (e, false))?;
        tx.commit().await.map_err(|e| (StoreError::from(e), true))?;
        Ok(())
    }
}

/// Column arrays for the batched `UNNEST` inserts.
#[derive(Default)]
struct Pending<'a> {
    chain: Vec<i32>,
    seq: Vec<i64>,
    ts: Vec<i64>,
    kind: Vec<&'a str>,
    payload_hash: Vec<[u8; 32]>,
    prev_hash: Vec<[u8; 32]>,
    hash: Vec<[u8; 32]>,
    payload: Vec<&'a [u8]>,
    c: PendingConsents<'a>,
}

#[derive(Default)]
struct PendingConsents<'a> {
    receipt_id: Vec<&'a str>,
    site: Vec<&'a str>,
    subject: Vec<&'a str>,
    created_at_ms: Vec<i64>,
    chain: Vec<i32>,
    seq: Vec<i64>,
}

impl<'a> Pending<'a> {
    /// Buffers one entry row; returns its (chain, seq) as SQL integers.
    fn push_entry(
        &mut self,
        e: &Entry,
        kind: &'a str,
        payload: &'a [u8],
    ) -> Result<(i32, i64), StoreError> {
        let chain = chain_i32(e.chain)?;
        let seq = seq_to_i64(e.seq)?;
        self.chain.push(chain);
        self.seq.push(seq);
        self.ts.push(e.ts_ms);
        self.kind.push(kind);
        self.payload_hash.push(e.payload_hash);
        self.prev_hash.push(e.prev_hash);
        self.hash.push(e.hash);
        self.payload.push(payload);
        Ok((chain, seq))
    }

    /// Buffers an append item's entry and its consent row, if any.
    fn push(&mut self, e: &Entry, it: &'a AppendItem) -> Result<(), StoreError> {
        let (chain, seq) = self.push_entry(e, &it.kind, &it.payload)?;
        if let Some(k) = &it.consent {
            let c = &mut self.c;
            c.receipt_id.push(&k.receipt_id);
            c.site.push(&k.site);
            c.subject.push(&k.subject);
            c.created_at_ms.push(k.created_at_ms);
            c.chain.push(chain);
            c.seq.push(seq);
        }
        Ok(())
    }

    /// Sends the buffered rows (entries, then consents, pipelined) and clears the buffers.
    async fn flush(&mut self, tx: &Transaction<'_>, st: &Stmts) -> Result<(), StoreError> {
        if self.seq.is_empty() {
            return Ok(());
        }
        let ph: Vec<&[u8]> = self.payload_hash.iter().map(|h| &h[..]).collect();
        let pv: Vec<&[u8]> = self.prev_hash.iter().map(|h| &h[..]).collect();
        let hs: Vec<&[u8]> = self.hash.iter().map(|h| &h[..]).collect();
        let e_params: [&(dyn ToSql + Sync); 8] = [
            &self.chain,
            &self.seq,
            &self.ts,
            &self.kind,
            &ph,
            &pv,
            &hs,
            &self.payload,
        ];
        let entries = tx.execute(&st.ins_entries, &e_params);
        let c = &self.c;
        if c.receipt_id.is_empty() {
            entries.await?;
        } else {
            let c_params: [&(dyn ToSql + Sync); 6] = [
                &c.receipt_id,
                &c.site,
                &c.subject,
                &c.created_at_ms,
                &c.chain,
                &c.seq,
            ];
            let consents = tx.execute(&st.ins_consents, &c_params);
            futures_util::future::try_join(entries, consents).await?;
        }
        *self = Pending::default();
        Ok(())
    }
}

/// Adds a batch's counters (the dashboard's, see `tally.rs`) in one statement, on `chain`.
async fn add_counts(
    tx: &Transaction<'_>,
    st: &Statement,
    counts: &Counts<'_>,
    chain: u32,
) -> Result<(), StoreError> {
    if counts.is_empty() {
        return Ok(());
    }
    let rows = counts.sorted();
    let site: Vec<&str> = rows.iter().map(|r| r.0.0).collect();
    let day: Vec<i32> = rows.iter().map(|r| r.0.1).collect();
    let version: Vec<i64> = rows.iter().map(|r| r.0.2).collect();
    let lang: Vec<&str> = rows.iter().map(|r| r.0.3).collect();
    let kind: Vec<&str> = rows.iter().map(|r| r.0.4).collect();
    let n: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let chain = chain_i32(chain)?;
    let params: [&(dyn ToSql + Sync); 7] = [&site, &day, &version, &lang, &kind, &chain, &n];
    tx.execute(st, &params).await?;
    Ok(())
}
