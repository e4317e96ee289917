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

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use assent_ledger::{ChainHead, Entry};
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_postgres::config::Host;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, IsolationLevel, Row, Statement, Transaction};

use crate::pgtls::{MakeRustls, TlsMode};

use crate::error::describe_pg;
use crate::location::redact_url;
use crate::migrate;
use crate::writer::{
    self, MAX_BATCH, Op, POLICY_VERSION_KIND, QUEUE_DEPTH, Reply, ReplyTx, Req, chain_from_i64,
    hash32, next_policy_row, seq_from_i64, seq_to_i64, snapshot,
};
use crate::{
    AppendItem, ConsentKey, ConsentRow, OpenOptions, PolicyVersionRow, StoreError, TokenRow,
};

/// How long to wait for PostgreSQL to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Highest number of chains (concurrent writing processes) per schema.
pub const MAX_CHAINS: u32 = 1024;
const POOL_SIZE: usize = 16;
/// Rows fetched per portal round trip by `for_each_entry`.
const SCAN_BATCH: i32 = 10_000;

/// Handle to a PostgreSQL store. Cheap to clone; all clones share the writer task.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    tx: mpsc::Sender<Req>,
    chain: Arc<AtomicU32>,
    addr: String,
    schema: String,
    stats: Arc<crate::WriteStats>,
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
        let stats = Arc::new(crate::WriteStats::default());
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

    pub(crate) fn write_stats(&self) -> &crate::WriteStats {
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

    pub(crate) async fn call(&self, op: Op) -> Result<Reply, StoreError> {
        writer::call(&self.inner.tx, op).await
    }

    pub(crate) async fn close(self) {
        writer::shutdown(&self.inner.tx).await;
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

    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql).await?;
        Ok(c.query(&st, params).await?)
    }

    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql).await?;
        Ok(c.execute(&st, params).await?)
    }

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        if self.inner.tx.is_closed() {
            return Err(StoreError::Closed);
        }
        self.query("SELECT 1", &[]).await?;
        Ok(())
    }

    /// The TLS version of a pooled connection (`None`: not encrypted), from `pg_stat_ssl`.
    pub async fn tls_version(&self) -> Result<Option<String>, StoreError> {
        let rows = self
            .query(
                "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl",
                &[],
            )
            .await?;
        rows.first().map(|r| Ok(r.try_get(0)?)).transpose()
    }

    pub(crate) async fn schema_version(&self) -> Result<i64, StoreError> {
        let rows = self
            .query(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await?;
        match rows.first() {
            Some(r) => Ok(r.try_get(0)?),
            None => Ok(0),
        }
    }

    pub(crate) async fn latest_policy_version(
        &self,
        site: &str,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLS} FROM policy_versions WHERE site = $1 ORDER BY version DESC LIMIT 1"
        );
        self.query(&sql, &[&site])
            .await?
            .first()
            .map(policy_at)
            .transpose()
    }

    pub(crate) async fn policy_version(
        &self,
        site: &str,
        version: i64,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        let sql =
            format!("SELECT {POLICY_COLS} FROM policy_versions WHERE site = $1 AND version = $2");
        self.query(&sql, &[&site, &version])
            .await?
            .first()
            .map(policy_at)
            .transpose()
    }

    pub(crate) async fn list_policy_versions(
        &self,
        site: &str,
    ) -> Result<Vec<PolicyVersionRow>, StoreError> {
        let sql =
            format!("SELECT {POLICY_COLS} FROM policy_versions WHERE site = $1 ORDER BY version");
        self.query(&sql, &[&site])
            .await?
            .iter()
            .map(policy_at)
            .collect()
    }

    pub(crate) async fn list_sites(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .query(
                "SELECT DISTINCT site FROM policy_versions ORDER BY site",
                &[],
            )
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    pub(crate) async fn insert_token(&self, t: &TokenRow) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO api_tokens (id, hash, role, label, created_at_ms, revoked_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &t.id,
                &&t.hash[..],
                &t.role,
                &t.label,
                &t.created_at_ms,
                &t.revoked_at_ms,
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE hash = $1");
        self.query(&sql, &[&&hash[..]])
            .await?
            .first()
            .map(token_at)
            .transpose()
    }

    pub(crate) async fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens ORDER BY created_at_ms, id");
        self.query(&sql, &[]).await?.iter().map(token_at).collect()
    }

    pub(crate) async fn revoke_token(&self, id: &str, ts_ms: i64) -> Result<bool, StoreError> {
        let n = self
            .execute(
                "UPDATE api_tokens SET revoked_at_ms = $2 WHERE id = $1 AND revoked_at_ms IS NULL",
                &[&id, &ts_ms],
            )
            .await?;
        Ok(n == 1)
    }

    pub(crate) async fn entries(
        &self,
        chain: u32,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<(Entry, Option<Vec<u8>>)>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLS}, payload FROM ledger_entries \
             WHERE chain = $1 AND seq >= $2 ORDER BY seq LIMIT $3"
        );
        let rows = self
            .query(
                &sql,
                &[
                    &chain_i32(chain)?,
                    &seq_to_i64(from_seq)?,
                    &i64::from(limit),
                ],
            )
            .await?;
        rows.iter().map(entry_with_payload).collect()
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
        let mut n = 0u64;
        while let Some(batch) = brx.recv().await {
            for (e, p) in batch? {
                f(&e, p.as_deref());
                n += 1;
            }
        }
        producer
            .await
            .map_err(|e| StoreError::Internal(format!("scan task failed: {e}")))?;
        Ok(n)
    }

    pub(crate) async fn chain_heads(&self) -> Result<Vec<Entry>, StoreError> {
        let sql = format!("{CHAINS_CTE} SELECT {ENTRY_COLS_E} {CHAIN_HEADS_FROM}");
        self.query(&sql, &[])
            .await?
            .iter()
            .map(|r| entry_at(r, 0))
            .collect()
    }

    pub(crate) async fn entry_hashes(
        &self,
        chain: u32,
        from_seq: u64,
        to_seq_excl: u64,
    ) -> Result<Vec<[u8; 32]>, StoreError> {
        let rows = self
            .query(
                "SELECT hash FROM ledger_entries WHERE chain = $1 AND seq >= $2 AND seq < $3 \
                 ORDER BY seq",
                &[
                    &chain_i32(chain)?,
                    &seq_to_i64(from_seq)?,
                    &seq_to_i64(to_seq_excl)?,
                ],
            )
            .await?;
        rows.iter().map(|r| hash32(r.try_get(0)?, "hash")).collect()
    }

    pub(crate) async fn insert_checkpoint(
        &self,
        ts_ms: i64,
        body_json: &str,
    ) -> Result<i64, StoreError> {
        let rows = self
            .query(
                "INSERT INTO ledger_checkpoints (ts_ms, body_json) VALUES ($1, $2) RETURNING id",
                &[&ts_ms, &body_json],
            )
            .await?;
        match rows.first() {
            Some(r) => Ok(r.try_get(0)?),
            None => Err(StoreError::Internal(
                "INSERT ... RETURNING returned no row".to_owned(),
            )),
        }
    }

    pub(crate) async fn latest_checkpoint(&self) -> Result<Option<(i64, String)>, StoreError> {
        let rows = self
            .query(
                "SELECT id, body_json FROM ledger_checkpoints ORDER BY id DESC LIMIT 1",
                &[],
            )
            .await?;
        rows.first()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .transpose()
    }

    pub(crate) async fn list_checkpoints(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = self
            .query(
                "SELECT id, body_json FROM ledger_checkpoints ORDER BY id",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    pub(crate) async fn consent_by_receipt(
        &self,
        id: &str,
    ) -> Result<Option<(ConsentRow, Entry)>, StoreError> {
        let sql =
            format!("SELECT {CONSENT_COLS}, {ENTRY_COLS_E} {CONSENT_FROM} WHERE c.receipt_id = $1");
        self.query(&sql, &[&id])
            .await?
            .first()
            .map(consent_at)
            .transpose()
    }

    pub(crate) async fn consents_by_subject(
        &self,
        site: &str,
        subject: &str,
    ) -> Result<Vec<(ConsentRow, Entry)>, StoreError> {
        let sql = format!(
            "SELECT {CONSENT_COLS}, {ENTRY_COLS_E} {CONSENT_FROM} \
             WHERE c.site = $1 AND c.subject = $2 \
             ORDER BY c.created_at_ms DESC, c.chain DESC, c.seq DESC"
        );
        self.query(&sql, &[&site, &subject])
            .await?
            .iter()
            .map(consent_at)
            .collect()
    }

    pub(crate) async fn consents_between(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
        after_receipt: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(ConsentRow, Entry)>, StoreError> {
        let (cur_ms, cur_chain, cur_seq): (i64, i32, i64) = match after_receipt {
            None => (i64::MIN, -1, -1),
            Some(id) => {
                let rows = self
                    .query(
                        "SELECT created_at_ms, chain, seq FROM consents WHERE receipt_id = $1",
                        &[&id],
                    )
                    .await?;
                let r = rows
                    .first()
                    .ok_or_else(|| StoreError::NotFound(format!("paging cursor receipt {id}")))?;
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)
            }
        };
        let sql = format!(
            "SELECT {CONSENT_COLS}, {ENTRY_COLS_E} {CONSENT_FROM} \
             WHERE c.site = $1 AND c.created_at_ms >= $2 AND c.created_at_ms < $3 \
               AND (c.created_at_ms, c.chain, c.seq) > ($4, $5, $6) \
             ORDER BY c.created_at_ms, c.chain, c.seq LIMIT $7"
        );
        self.query(
            &sql,
            &[
                &site,
                &from_ms,
                &to_ms,
                &cur_ms,
                &cur_chain,
                &cur_seq,
                &i64::from(limit),
            ],
        )
        .await?
        .iter()
        .map(consent_at)
        .collect()
    }

    pub(crate) async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let rows = self
            .query("SELECT value FROM meta WHERE key = $1", &[&key])
            .await?;
        rows.first().map(|r| Ok(r.try_get(0)?)).transpose()
    }

    pub(crate) async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&key, &value],
        )
        .await?;
        Ok(())
    }
}

type ScanBatch = Vec<(Entry, Option<Vec<u8>>)>;

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
                .map(entry_with_payload)
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

// ---------------------------------------------------------------------------------------
// Connecting, schema, migrations, chain claim

/// Parses the URL, takes off the parameters that tokio-postgres does not know (`schema`,
/// and `sslmode`/`sslrootcert`, which Assent handles: see `pgtls`), and sets timeouts,
/// `search_path` and TLS.
fn config_from(
    url: &str,
    opts: &OpenOptions,
) -> Result<(Config, Option<String>, MakeRustls), StoreError> {
    let (url, params) = take_params(url);
    let schema = opts.schema.clone().or(params.schema);
    if let Some(s) = &schema {
        validate_schema_name(s)?;
    }
    let mut cfg: Config = url.parse().map_err(|e: tokio_postgres::Error| {
        StoreError::InvalidLocation(format!(
            "invalid PostgreSQL URL {}: {}",
            redact_url(&url),
            describe_pg(&e)
        ))
    })?;
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(CONNECT_TIMEOUT);
    }
    if cfg.get_application_name().is_none() {
        cfg.application_name("assent");
    }
    if let Some(s) = &schema {
        let opt = match cfg.get_options() {
            Some(o) if !o.trim().is_empty() => format!("{o} -c search_path={s}"),
            _ => format!("-c search_path={s}"),
        };
        cfg.options(opt);
    }
    let mode = match &params.sslmode {
        Some(m) => TlsMode::parse(m)?,
        None => TlsMode::Disable,
    };
    if params.sslrootcert.is_some() && !matches!(mode, TlsMode::VerifyCa | TlsMode::VerifyFull) {
        return Err(StoreError::InvalidLocation(
            "sslrootcert is only used with sslmode=verify-ca or verify-full".to_owned(),
        ));
    }
    cfg.ssl_mode(mode.ssl_mode());
    let tls = MakeRustls::new(
        mode,
        params.sslrootcert.as_deref().map(std::path::Path::new),
    )?;
    if mode == TlsMode::Disable && !all_local(&cfg) {
        tracing::warn!(
            database = %describe_addr(&cfg),
            "PostgreSQL on another host without TLS: add sslmode=verify-full to the URL"
        );
    }
    Ok((cfg, schema, tls))
}

/// Whether every host of the URL is a loopback address, `localhost` or a Unix socket.
fn all_local(cfg: &Config) -> bool {
    let hosts_local = cfg.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|a| a.is_loopback())
        }
        #[cfg(unix)]
        Host::Unix(_) => true,
    });
    hosts_local && cfg.get_hostaddrs().iter().all(|a| a.is_loopback())
}

/// The URL parameters Assent takes off before tokio-postgres parses the rest.
#[derive(Debug, Default, PartialEq, Eq)]
struct OwnParams {
    schema: Option<String>,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

/// Splits Assent's own parameters ([`OwnParams`]) off the query string (tokio-postgres
/// rejects unknown parameters and does not know the `verify-*` modes).
fn take_params(url: &str) -> (String, OwnParams) {
    let mut own = OwnParams::default();
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), own);
    };
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| {
            let slot = match kv.split_once('=') {
                Some(("schema", v)) => Some((&mut own.schema, v)),
                Some(("sslmode", v)) => Some((&mut own.sslmode, v)),
                Some(("sslrootcert", v)) => Some((&mut own.sslrootcert, v)),
                _ => None,
            };
            match slot {
                Some((field, v)) => {
                    *field = Some(v.to_owned());
                    false
                }
                None => !kv.is_empty(),
            }
        })
        .collect();
    if rest.is_empty() {
        (base.to_owned(), own)
    } else {
        (format!("{base}?{}", rest.join("&")), own)
    }
}

/// Lower-case SQL identifiers only: they need no quoting and mean the same in `options`.
fn validate_schema_name(s: &str) -> Result<(), StoreError> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidLocation(format!(
            "invalid PostgreSQL schema name `{s}`: use lower-case letters, digits and `_` \
             (at most 63, not starting with a digit)"
        )))
    }
}

/// `host:port[,host:port]` for messages (never the password).
fn describe_addr(cfg: &Config) -> String {
    let ports = cfg.get_ports();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let hosts: Vec<String> = cfg
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| match h {
            Host::Tcp(name) => format!("{name}:{}", port(i)),
            #[cfg(unix)]
            Host::Unix(dir) => format!("{}/.s.PGSQL.{}", dir.display(), port(i)),
        })
        .collect();
    if hosts.is_empty() {
        let addrs: Vec<String> = cfg
            .get_hostaddrs()
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{a}:{}", port(i)))
            .collect();
        if addrs.is_empty() {
            return "(no host in the URL)".to_owned();
        }
        return addrs.join(",");
    }
    hosts.join(",")
}

async fn connect(
    cfg: &Config,
    tls: &MakeRustls,
    addr: &str,
) -> Result<(Client, JoinHandle<()>), StoreError> {
    let limit = cfg
        .get_connect_timeout()
        .copied()
        .unwrap_or(CONNECT_TIMEOUT)
        + Duration::from_secs(1);
    let (client, connection) = tokio::time::timeout(limit, cfg.connect(tls.clone()))
        .await
        .map_err(|_| StoreError::Connect {
            addr: addr.to_owned(),
            reason: format!("no answer within {} s", limit.as_secs()),
        })?
        .map_err(|e| StoreError::Connect {
            addr: addr.to_owned(),
            reason: describe_pg(&e),
        })?;
    let task = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::error!(error = %describe_pg(&e), "PostgreSQL writer connection failed");
        }
    });
    Ok((client, task))
}

/// Checks/creates the requested schema; returns the schema in use.
async fn prepare_schema(
    client: &Client,
    schema: Option<&str>,
    create: bool,
    addr: &str,
) -> Result<String, StoreError> {
    if let Some(s) = schema {
        let exists: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                &[&s],
            )
            .await?
            .try_get(0)?;
        if !exists {
            if !create {
                return Err(StoreError::Missing(format!(
                    "PostgreSQL schema `{s}` does not exist at {addr}: check the name (it is \
                     only created when creation is requested)"
                )));
            }
            // Validated identifier: safe to interpolate.
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))
                .await?;
        }
        client
            .batch_execute(&format!("SET search_path TO {s}"))
            .await?;
    }
    let current: Option<String> = client
        .query_one("SELECT current_schema()", &[])
        .await?
        .try_get(0)?;
    current.ok_or_else(|| {
        StoreError::InvalidLocation(format!(
            "no schema to use at {addr}: the role's search_path names no existing schema \
             (pass ?schema=NAME)"
        ))
    })
}

/// 32-bit FNV-1a of `prefix + schema`, the first key of our advisory locks.
fn lock_namespace(prefix: &str, schema: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in prefix.bytes().chain(schema.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    i32::from_ne_bytes(h.to_ne_bytes())
}

async fn migrate_pg(client: &mut Client, ns: i32) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    // Serialises concurrent starts; key 2 = -1 never collides with a chain lock.
    tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&ns, &-1i32])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY,
             name    TEXT NOT NULL
         )",
    )
    .await?;
    let applied: Vec<(i64, String)> = tx
        .query(
            "SELECT version, name FROM schema_migrations ORDER BY version",
            &[],
        )
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, StoreError>>()?;
    for m in migrate::pending(migrate::POSTGRES, &applied)? {
        tx.batch_execute(m.sql)
            .await
            .map_err(|e| StoreError::MigrationFailed {
                name: m.name.to_owned(),
                message: describe_pg(&e),
            })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Claims the first free chain (`prefer` first) on this session; returns it and its head.
async fn claim_chain(
    client: &Client,
    ns: i32,
    prefer: Option<u32>,
) -> Result<(u32, ChainHead), StoreError> {
    let st = client
        .prepare("SELECT pg_try_advisory_lock($1, $2)")
        .await?;
    for chain in prefer.into_iter().chain(0..MAX_CHAINS) {
        let got: bool = client
            .query_one(&st, &[&ns, &chain_i32(chain)?])
            .await?
            .try_get(0)?;
        if got {
            let head = load_head(client, chain).await?;
            return Ok((chain, head));
        }
    }
    Err(StoreError::Conflict(format!(
        "all {MAX_CHAINS} ledger chains are claimed by other assent processes"
    )))
}

async fn load_head(client: &Client, chain: u32) -> Result<ChainHead, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_COLS} FROM ledger_entries WHERE chain = $1 ORDER BY seq DESC LIMIT 1"
    );
    match client.query_opt(&sql, &[&chain_i32(chain)?]).await? {
        Some(r) => Ok(ChainHead::after(&entry_at(&r, 0)?)),
        None => Ok(ChainHead::new(chain)),
    }
}

/// The error means the session is gone (closed socket, terminated backend, server
/// shutting down, connection failure).
fn connection_lost(e: &StoreError) -> bool {
    match e {
        StoreError::Postgres { source, .. } => {
            source.is_closed()
                || source.code().is_some_and(|c| {
                    let c = c.code();
                    c.starts_with("57P") || c.starts_with("08")
                })
        }
        StoreError::Closed => true,
        _ => false,
    }
}

fn chain_i32(chain: u32) -> Result<i32, StoreError> {
    i32::try_from(chain).map_err(|_| StoreError::NotFound(format!("ledger chain {chain}")))
}

// ---------------------------------------------------------------------------------------
// Writer task

/// Prepared on the writer's connection (re-prepared after a reconnect).
struct Stmts {
    ins_entries: Statement,
    ins_consents: Statement,
}

impl Stmts {
    async fn prepare(client: &Client) -> Result<Stmts, StoreError> {
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
        })
    }
}

struct WConn {
    client: Client,
    task: JoinHandle<()>,
    stmts: Stmts,
}

struct PgWriter {
    cfg: Config,
    tls: MakeRustls,
    addr: String,
    ns: i32,
    policy_ns: i32,
    /// `None` after a lost connection (reconnected before the next batch) or shutdown.
    conn: Option<WConn>,
    head: ChainHead,
    chain: Arc<AtomicU32>,
    stats: Arc<crate::WriteStats>,
}

impl PgWriter {
    async fn run(mut self, mut rx: mpsc::Receiver<Req>) {
        let mut buf = Vec::with_capacity(MAX_BATCH);
        loop {
            if rx.recv_many(&mut buf, MAX_BATCH).await == 0 {
                break; // every handle was dropped
            }
            let (ops, shutdown) = writer::split_batch(&mut buf);
            if !ops.is_empty() {
                self.process(ops).await;
            }
            if let Some(ack) = shutdown {
                writer::refuse_rest(&mut rx);
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

    async fn process(&mut self, batch: Vec<(Op, ReplyTx)>) {
        let (ops, txs): (Vec<Op>, Vec<ReplyTx>) = batch.into_iter().unzip();
        let started = std::time::Instant::now();
        let results = self.process_ops(&ops).await;
        // Each batch is one transaction (more when replayed) and one commit; its duration
        // stands for the flush (PostgreSQL's commit waits for its WAL flush).
        self.stats.transaction(txs.len());
        self.stats.flush(started.elapsed());
        for (tx, r) in txs.into_iter().zip(results) {
            let _ = tx.send(r);
        }
    }

    async fn process_ops(&mut self, ops: &[Op]) -> Vec<Result<Reply, StoreError>> {
        let all: Vec<&Op> = ops.iter().collect();
        let mut retried = false;
        let err = loop {
            if let Err(e) = self.ensure_conn().await {
                tracing::error!(error = %e, "ledger writer cannot reach PostgreSQL");
                return ops.iter().map(|_| Err(e.clone())).collect();
            }
            let start = snapshot(&self.head);
            match self.run_tx(&all).await {
                Ok(replies) => return replies.into_iter().map(Ok).collect(),
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
                        return ops.iter().map(|_| Err(e.clone())).collect();
                    }
                    retried = true;
                }
            }
        };
        if ops.len() == 1 {
            return vec![Err(err)];
        }
        // The batch was rolled back: replay one transaction per request so that only the
        // failing requests fail.
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let before = snapshot(&self.head);
            let r = match self.run_tx(&[op]).await {
                Ok(mut v) => v
                    .pop()
                    .ok_or_else(|| StoreError::Internal("empty writer reply".to_owned())),
                Err((e, _)) => Err(e),
            };
            if let Err(e) = &r {
                self.head = before;
                if !self.alive() || connection_lost(e) {
                    self.conn = None;
                }
            }
            out.push(r);
        }
        out
    }

    /// One transaction for `ops`; the head advances as entries are computed.
    /// Errors say whether they happened at COMMIT (outcome unknown if the connection died).
    async fn run_tx(&mut self, ops: &[&Op]) -> Result<Vec<Reply>, (StoreError, bool)> {
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
            let mut out = Vec::with_capacity(ops.len());
            for op in ops {
                match op {
                    Op::Append(items) => {
                        let mut es = Vec::with_capacity(items.len());
                        for it in items {
                            let e = head.append(it.ts_ms, &it.kind, &it.payload);
                            pend.push(&e, it)?;
                            es.push(e);
                        }
                        out.push(Reply::Entries(es));
                    }
                    Op::Redact { chain, seq, item } => {
                        pend.flush(&tx, stmts).await?;
                        let (c, s) = (chain_i32(*chain)?, seq_to_i64(*seq)?);
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
                        tx.execute(
                            "DELETE FROM consents WHERE chain = $1 AND seq = $2",
                            &[&c, &s],
                        )
                        .await?;
                        let e = head.append(item.ts_ms, &item.kind, &item.payload);
                        pend.push(&e, item)?;
                        out.push(Reply::Entry(e));
                    }
                    Op::InsertPolicy { v, payload, ts_ms } => {
                        tx.execute(
                            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                            &[&*policy_ns, &v.site],
                        )
                        .await?;
                        let prev = tx
                        .query_opt(
                            "SELECT version, consent_floor FROM policy_versions WHERE site = $1 \
                             ORDER BY version DESC LIMIT 1",
                            &[&v.site],
                        )
                        .await?
                        .map(|r| -> Result<(i64, i64), StoreError> {
                            Ok((r.try_get(0)?, r.try_get(1)?))
                        })
                        .transpose()?;
                        let row = next_policy_row(v, prev, *ts_ms);
                        let e = head.append(*ts_ms, POLICY_VERSION_KIND, payload);
                        pend.push_entry(&e, POLICY_VERSION_KIND, payload)?;
                        tx.execute(
                            "INSERT INTO policy_versions (site, version, content_hash, \
                         requires_fresh_consent, consent_floor, changes_json, registry_json, \
                         source_toml, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
                        out.push(Reply::Policy(row, e));
                    }
                    Op::Rights(r) => match crate::rights::pg_run(&tx, &r.stmts, r.guarded).await? {
                        None => out.push(Reply::Rights(None)),
                        Some(counts) => {
                            let e = head.append(r.ledger.ts_ms, &r.ledger.kind, &r.ledger.payload);
                            pend.push(&e, &r.ledger)?;
                            out.push(Reply::Rights(Some((counts, e))));
                        }
                    },
                    other => {
                        return Err(StoreError::Internal(format!(
                            "operation {other:?} is not handled by the PostgreSQL writer"
                        )));
                    }
                }
            }
            pend.flush(&tx, stmts).await?;
            Ok::<_, StoreError>((out, tx))
        };
        let (out, tx) = body.await.map_err(|e| (e, false))?;
        tx.commit().await.map_err(|e| (StoreError::from(e), true))?;
        Ok(out)
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

// ---------------------------------------------------------------------------------------
// Row mapping

const ENTRY_COLS: &str = "chain, seq, ts_ms, kind, payload_hash, prev_hash, hash";
const ENTRY_COLS_E: &str = "e.chain, e.seq, e.ts_ms, e.kind, e.payload_hash, e.prev_hash, e.hash";
const POLICY_COLS: &str = "site, version, content_hash, requires_fresh_consent, changes_json, \
                           registry_json, source_toml, created_at_ms, consent_floor";
const TOKEN_COLS: &str = "id, hash, role, label, created_at_ms, revoked_at_ms";
const CONSENT_COLS: &str = "c.receipt_id, c.site, c.subject, c.created_at_ms, e.payload";
const CONSENT_FROM: &str =
    "FROM consents c JOIN ledger_entries e ON e.chain = c.chain AND e.seq = c.seq";
/// Distinct chains by skip-scan over the primary key (few chains, many entries).
const CHAINS_CTE: &str = "WITH RECURSIVE chains(chain) AS ( \
        SELECT MIN(chain) FROM ledger_entries \
        UNION ALL \
        SELECT (SELECT MIN(l.chain) FROM ledger_entries l WHERE l.chain > chains.chain) \
        FROM chains WHERE chains.chain IS NOT NULL)";
const CHAIN_HEADS_FROM: &str = "FROM chains JOIN ledger_entries e ON e.chain = chains.chain \
        AND e.seq = (SELECT MAX(m.seq) FROM ledger_entries m WHERE m.chain = chains.chain) \
        ORDER BY e.chain";

fn entry_at(r: &Row, i: usize) -> Result<Entry, StoreError> {
    Ok(Entry {
        chain: chain_from_i64(i64::from(r.try_get::<_, i32>(i)?))?,
        seq: seq_from_i64(r.try_get(i + 1)?)?,
        ts_ms: r.try_get(i + 2)?,
        kind: r.try_get(i + 3)?,
        payload_hash: hash32(r.try_get(i + 4)?, "payload_hash")?,
        prev_hash: hash32(r.try_get(i + 5)?, "prev_hash")?,
        hash: hash32(r.try_get(i + 6)?, "hash")?,
    })
}

fn entry_with_payload(r: &Row) -> Result<(Entry, Option<Vec<u8>>), StoreError> {
    Ok((entry_at(r, 0)?, r.try_get(7)?))
}

fn policy_at(r: &Row) -> Result<PolicyVersionRow, StoreError> {
    Ok(PolicyVersionRow {
        site: r.try_get(0)?,
        version: r.try_get(1)?,
        content_hash: r.try_get(2)?,
        requires_fresh_consent: r.try_get(3)?,
        changes_json: r.try_get(4)?,
        registry_json: r.try_get(5)?,
        source_toml: r.try_get(6)?,
        created_at_ms: r.try_get(7)?,
        consent_floor: r.try_get(8)?,
    })
}

fn token_at(r: &Row) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        id: r.try_get(0)?,
        hash: hash32(r.try_get(1)?, "token hash")?,
        role: r.try_get(2)?,
        label: r.try_get(3)?,
        created_at_ms: r.try_get(4)?,
        revoked_at_ms: r.try_get(5)?,
    })
}

fn consent_at(r: &Row) -> Result<(ConsentRow, Entry), StoreError> {
    let entry = entry_at(r, 5)?;
    let key = ConsentKey {
        receipt_id: r.try_get(0)?,
        site: r.try_get(1)?,
        subject: r.try_get(2)?,
        created_at_ms: r.try_get(3)?,
    };
    ConsentRow::with_entry(key, r.try_get(4)?, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_params_are_taken_off_the_url() {
        let (url, p) = take_params(
            "postgres://u@h/db?schema=abc&connect_timeout=2&sslmode=verify-full&sslrootcert=/r.pem",
        );
        assert_eq!(url, "postgres://u@h/db?connect_timeout=2");
        assert_eq!(
            p,
            OwnParams {
                schema: Some("abc".to_owned()),
                sslmode: Some("verify-full".to_owned()),
                sslrootcert: Some("/r.pem".to_owned()),
            }
        );
        let (url, p) = take_params("postgres://u@h/db?schema=abc");
        assert_eq!(url, "postgres://u@h/db");
        assert_eq!(p.schema.as_deref(), Some("abc"));
        assert_eq!(
            take_params("postgres://u@h/db"),
            ("postgres://u@h/db".to_owned(), OwnParams::default())
        );
    }

    #[test]
    fn tls_parameters_are_checked() {
        let opts = OpenOptions::existing();
        let e = config_from("postgres://u@h/db?sslmode=allow", &opts).unwrap_err();
        assert!(e.to_string().contains("sslmode `allow`"), "{e}");
        let e = config_from(
            "postgres://u@h/db?sslmode=require&sslrootcert=/r.pem",
            &opts,
        )
        .unwrap_err();
        assert!(e.to_string().contains("sslrootcert is only used"), "{e}");
        let (cfg, _, _) = config_from("postgres://u@h/db?sslmode=verify-full", &opts).unwrap();
        assert_eq!(cfg.get_ssl_mode(), tokio_postgres::config::SslMode::Require);
        let (cfg, _, _) = config_from("postgres://u@127.0.0.1/db", &opts).unwrap();
        assert_eq!(cfg.get_ssl_mode(), tokio_postgres::config::SslMode::Disable);
        assert!(all_local(&cfg));
        let (cfg, _, _) = config_from("postgres://u@db.example/db", &opts).unwrap();
        assert!(!all_local(&cfg));
    }

    #[test]
    fn schema_names() {
        assert!(validate_schema_name("assent_t_0a1b").is_ok());
        for bad in ["", "A", "1x", "a-b", "a;drop", "a b", &"x".repeat(64)] {
            assert!(validate_schema_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addr_and_namespace() {
        let cfg: Config = "postgres://u:pw@db.example:6543/x".parse().unwrap();
        assert_eq!(describe_addr(&cfg), "db.example:6543");
        let cfg: Config = "postgres://u@127.0.0.1/x".parse().unwrap();
        assert_eq!(describe_addr(&cfg), "127.0.0.1:5432");
        assert_ne!(lock_namespace("p:", "a"), lock_namespace("p:", "b"));
        assert_eq!(lock_namespace("p:", "a"), lock_namespace("p:", "a"));
    }
}
