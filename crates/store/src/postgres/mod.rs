//! PostgreSQL backend: the scale-out path.
//!
//! Several `assent serve` processes may share one database (and schema). The ledger is then
//! split into **chains**, one per writing process, so that processes never contend for the
//! same sequence numbers:
//!
//! * At open, a process claims a chain with `pg_try_advisory_lock(ns, chain)`, trying chain
//!   0, 1, 2, ... ([`MAX_CHAINS`] at most). `ns` is a 32-bit FNV-1a hash of the schema name,
//!   so stores in different schemas of one database do not see each other's locks.
//! * The lock is taken on the writer's own dedicated connection, held for the process's
//!   life, and the writer appends only on that connection: a process can only ever write to
//!   a chain whose lock its session holds. If that connection is lost, the session (and the
//!   lock) is gone; the writer reconnects, re-claims a chain (the same one if it is still
//!   free, else the next free one) and reloads the chain head from the database.
//! * A new process whose chain already has entries continues it from the stored head.
//! * Session advisory locks need session-level connections: behind PgBouncer use session
//!   pooling (not transaction pooling) for the writer.
//! * Checkpoints sign the heads of all chains together (see `chain_heads`).
//!
//! The writer is one tokio task doing group commit: every queued request is written in one
//! transaction (one multi-row `INSERT ... SELECT FROM UNNEST(...)` for entries, one for consent
//! rows, pipelined), then committed. Reads and the small admin writes (tokens, meta,
//! checkpoints) use a `deadpool-postgres` pool. Policy versions are numbered under a
//! transaction-scoped advisory lock per (schema, site), so two processes cannot assign the
//! same number.
//!
//! The schema is chosen with `OpenOptions::schema` or a `?schema=NAME` URL parameter (sent as
//! `-c search_path=NAME` on every connection), or otherwise by the role's `search_path`.
//! TLS: libpq's `sslmode` (`disable`, the default here, `prefer`, `require`, `verify-ca`,
//! `verify-full`) and `sslrootcert=PATH` URL parameters, with rustls (see `pgtls`).
//!
//! Files: this one (the handle, its pool, scans), `config.rs` (URL parameters, TLS mode,
//! schema names), `connect.rs` (connecting, schema, migrations, chain claim), `writer.rs`
//! (the writer task).

mod config;
mod connect;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use assent_ledger::Entry;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod};
use tokio::sync::mpsc;
use tokio_postgres::{Client, IsolationLevel};

use crate::error::{StoreError, describe_pg};
use crate::rows::{ENTRY_COLS, ScanBatch, drain_scan, entry_with_payload};
use crate::sql::{Mapper, Stmt, V, pg_params, pg_run, pg_sql};
use crate::stats::WriteStats;
use crate::types::OpenOptions;
use crate::writer::{QUEUE_DEPTH, Req};

use self::config::{config_from, describe_addr};
use self::connect::{claim_chain, connect, lock_namespace, migrate_pg, prepare_schema};
use self::writer::{PgWriter, Stmts, WConn};

pub use self::connect::{CONNECT_TIMEOUT, MAX_CHAINS};

const POOL_SIZE: usize = 16;
/// Rows fetched per portal round trip by `for_each_entry`.
const SCAN_BATCH: i32 = 10_000;

/// Handle to a PostgreSQL store. Cheap to clone; all clones share the writer task.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

/// A session advisory lock held by a connection of its own (see [`PgStore::try_job_lock`]).
pub(crate) struct JobLock {
    client: deadpool_postgres::ClientWrapper,
    ns: i32,
}

impl JobLock {
    /// Releases the lock now (closing the connection releases it too, but the server may
    /// notice a moment later).
    pub(crate) async fn release(self) {
        let _ = self
            .client
            .execute("SELECT pg_advisory_unlock($1, $2)", &[&self.ns, &-2i32])
            .await;
    }
}

struct Inner {
    pool: Pool,
    tx: mpsc::Sender<Req>,
    chain: Arc<AtomicU32>,
    addr: String,
    schema: String,
    stats: Arc<WriteStats>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("addr", &self.inner.addr)
            .field("schema", &self.inner.schema)
            .field("chain", &self.inner.chain.load(Ordering::Relaxed))
            .finish()
    }
}

impl PgStore {
    pub(crate) async fn open(url: &str, opts: &OpenOptions) -> Result<PgStore, StoreError> {
        let (cfg, schema, tls) = config_from(url, opts)?;
        let addr = describe_addr(&cfg);
        let (mut client, task) = connect(&cfg, &tls, &addr).await?;
        let current = prepare_schema(&client, schema.as_deref(), opts.create, &addr).await?;
        let ns = lock_namespace("assent-ledger-chain:", &current);
        migrate_pg(&mut client, ns).await?;
        let (chain, head) = claim_chain(&client, ns, None).await?;
        let stmts = Stmts::prepare(&client).await?;
        let chain_cell = Arc::new(AtomicU32::new(chain));
        let mgr = Manager::from_config(
            cfg.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT + Duration::from_secs(1)))
            .wait_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| StoreError::Internal(format!("building the connection pool: {e}")))?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let stats = Arc::new(WriteStats::default());
        let w = PgWriter {
            stats: stats.clone(),
            cfg,
            tls,
            addr: addr.clone(),
            ns,
            policy_ns: lock_namespace("assent-policy-version:", &current),
            conn: Some(WConn {
                client,
                task,
                stmts,
            }),
            head,
            chain: chain_cell.clone(),
        };
        tokio::spawn(w.run(rx));
        Ok(PgStore {
            inner: Arc::new(Inner {
                pool,
                tx,
                chain: chain_cell,
                addr,
                schema: current,
                stats,
            }),
        })
    }

    pub(crate) fn write_stats(&self) -> &WriteStats {
        &self.inner.stats
    }

    /// The ledger chain this process's writer appends to.
    pub fn writer_chain(&self) -> u32 {
        self.inner.chain.load(Ordering::Relaxed)
    }

    /// The schema in use (`current_schema()`).
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// The channel to the backend's group-commit writer (see `writer.rs`).
    pub(crate) fn writer(&self) -> &mpsc::Sender<Req> {
        &self.inner.tx
    }

    /// Closes the connection pool (after the writer was shut down).
    pub(crate) fn close_pool(&self) {
        self.inner.pool.close();
    }

    /// A pooled connection (also used by the rights-request tables, `rights.rs`).
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.inner.pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => StoreError::Connect {
                addr: self.inner.addr.clone(),
                reason: describe_pg(&e),
            },
            PoolError::Closed => StoreError::Closed,
            PoolError::Timeout(t) => StoreError::Connect {
                addr: self.inner.addr.clone(),
                reason: format!("timed out waiting for a pooled connection ({t:?})"),
            },
            other => StoreError::Internal(format!("connection pool: {other}")),
        })
    }

    /// Takes the session advisory lock `(lock_namespace(prefix, schema), -2)` on a connection
    /// taken out of the pool: the lock lives as long as the returned [`JobLock`] (dropping it
    /// closes the connection, which releases the lock, as does a crash). `None` when another
    /// process holds it. Key 2 = -2 never collides with a chain lock (>= 0) nor the
    /// migrations' (-1).
    pub(crate) async fn try_job_lock(&self, prefix: &str) -> Result<Option<JobLock>, StoreError> {
        let client = deadpool_postgres::Object::take(self.client().await?);
        let ns = connect::lock_namespace(prefix, &self.inner.schema);
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&ns, &-2i32])
            .await?
            .try_get(0)?;
        Ok(got.then_some(JobLock { client, ns }))
    }

    /// Runs one statement (SQL of `sql.rs`) on a pooled connection and maps its rows.
    pub(crate) async fn rows<T>(
        &self,
        sql: &str,
        vals: &[V],
        f: Mapper<T>,
    ) -> Result<Vec<T>, StoreError> {
        let c = self.client().await?;
        let st = c.prepare_cached(&pg_sql(sql)).await?;
        let rows = c.query(&st, &pg_params(vals)).await?;
        rows.iter().map(|r| f(r)).collect()
    }

    /// Runs statements in one transaction on a pooled connection (writes that need no
    /// ledger entry); see `sql::pg_run` for `guarded`.
    pub(crate) async fn exec(
        &self,
        stmts: &[Stmt],
        guarded: bool,
    ) -> Result<Option<Vec<u64>>, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let out = pg_run(&tx, stmts, guarded).await?;
        // Nothing to keep when the guard failed: dropping `tx` rolls back.
        if out.is_some() {
            tx.commit().await?;
        }
        Ok(out)
    }

    /// The TLS version of a pooled connection (`None`: not encrypted), from `pg_stat_ssl`.
    pub async fn tls_version(&self) -> Result<Option<String>, StoreError> {
        let sql = "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl";
        Ok(self.rows(sql, &[], crate::rows::str_at).await?.pop())
    }

    pub(crate) async fn for_each_entry<F>(&self, mut f: F) -> Result<u64, StoreError>
    where
        F: FnMut(&Entry, Option<&[u8]>) + Send,
    {
        let obj = self.client().await?;
        let (btx, mut brx) = mpsc::channel::<Result<ScanBatch, StoreError>>(2);
        // Fetching and decoding run in their own task while the callback runs here.
        let producer = tokio::spawn(async move {
            let mut obj = obj;
            if let Err(e) = scan_entries(&mut obj, &btx).await {
                let _ = btx.send(Err(e)).await;
            }
        });
        let n = drain_scan(&mut brx, &mut f).await?;
        producer
            .await
            .map_err(|e| StoreError::Internal(format!("scan task failed: {e}")))?;
        Ok(n)
    }
}

async fn scan_entries(
    obj: &mut deadpool_postgres::Object,
    btx: &mpsc::Sender<Result<ScanBatch, StoreError>>,
) -> Result<(), StoreError> {
    // One REPEATABLE READ transaction: the whole scan sees one snapshot.
    let client: &mut Client = obj;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let sql = format!("SELECT {ENTRY_COLS}, payload FROM ledger_entries ORDER BY chain, seq");
    let st = tx.prepare(&sql).await?;
    let portal = tx.bind(&st, &[]).await?;
    let full = usize::try_from(SCAN_BATCH).unwrap_or(usize::MAX);
    let mut rows = tx.query_portal(&portal, SCAN_BATCH).await?;
    loop {
        let done = rows.len() < full;
        // Ask for the next rows first, then decode these while the server works.
        let next = async {
            if done {
                Ok(Vec::new())
            } else {
                tx.query_portal(&portal, SCAN_BATCH).await
            }
        };
        let decode = async {
            rows.iter()
                .map(|r| entry_with_payload(r))
                .collect::<Result<Vec<_>, _>>()
        };
        let (next, batch) = futures_util::future::join(next, decode).await;
        let batch = batch?;
        if !batch.is_empty() && btx.send(Ok(batch)).await.is_err() {
            break;
        }
        if done {
            break;
        }
        rows = next?;
    }
    tx.commit().await?;
    Ok(())
}
