//! Connecting to PostgreSQL, checking or creating the schema, migrating, and claiming a
//! ledger chain with a session advisory lock (see the module docs of `postgres`).

use std::time::Duration;

use assent_ledger::ChainHead;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config};

use crate::error::{StoreError, describe_pg};
use crate::migrate;
use crate::pgtls::MakeRustls;
use crate::rows::{ENTRY_COLS, entry_at};
use crate::sql::chain_i32;

/// How long to wait for PostgreSQL to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Highest number of chains (concurrent writing processes) per schema.
pub const MAX_CHAINS: u32 = 1024;

pub(crate) async fn connect(
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
pub(crate) async fn prepare_schema(
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
pub(crate) fn lock_namespace(prefix: &str, schema: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in prefix.bytes().chain(schema.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    i32::from_ne_bytes(h.to_ne_bytes())
}

pub(crate) async fn migrate_pg(client: &mut Client, ns: i32) -> Result<(), StoreError> {
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
pub(crate) async fn claim_chain(
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
pub(crate) fn connection_lost(e: &StoreError) -> bool {
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
