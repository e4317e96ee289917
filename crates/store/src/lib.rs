//! Persistence for Assent behind one interface, [`Store`], with two backends:
//!
//! * **SQLite** (embedded default, [`SqliteStore`]): one file in the data directory, WAL
//!   mode, one writer thread with group commit, a small pool of read-only connections. It
//!   uses ledger chain 0 only. See the `sqlite` module docs.
//! * **PostgreSQL** (scale-out, [`PgStore`]): several `assent serve` processes share one
//!   database; each claims its own ledger chain with a session advisory lock held by its
//!   writer connection. See the `postgres` module docs.
//!
//! The backend is chosen from the URL scheme ([`Location::parse`]). Both run the same
//! embedded migrations (same names per backend) at open and pass the same test suite
//! (`tests/suite.rs`).
//!
//! **Writes.** Every ledger append goes through the backend's group-commit writer, which
//! computes entries with the in-memory chain head ([`assent_ledger::ChainHead`]) and writes
//! a whole batch of requests in one transaction. When a write returns `Ok` it is committed
//! and durable (SQLite: the WAL is fsynced before any caller of the batch is answered;
//! PostgreSQL: `synchronous_commit` as configured on the server, `on` by default). A consent row is written in the same transaction as its
//! ledger entry, a policy version in the same transaction as its `policy.version` entry,
//! and a redaction (payload erased, consent row deleted, redaction entry appended) is one
//! transaction too.
//!
//! **Consents.** The ledger entry's payload, the consent record, is the one copy of a
//! decision. A consent row ([`ConsentKey`]) holds only what consents are searched by; the
//! queries return [`ConsentRow`]s whose other fields are read from the record.
//!
//! **Errors.** On PostgreSQL a write that fails because the connection dropped during
//! COMMIT may nevertheless have been committed; the writer reloads its chain head from the
//! database, so the chain stays consistent, but a caller that retries may record the same
//! consent twice (with two receipts).
//!
//! **Shutdown.** Call [`Store::close`] once when the server stops (after the HTTP server has
//! drained): it waits until every queued write is committed and answered, then stops the
//! writer (releasing the PostgreSQL chain lock). Other clones then get
//! [`StoreError::Closed`] on writes. Dropping every clone without `close` also stops the
//! writer, but nothing waits for it.

mod error;
mod location;
mod migrate;
mod pgtls;
mod postgres;
mod rights;
mod sqlite;
mod types;
mod writer;

use std::path::Path;

pub use assent_ledger::{Entry, Hash};
pub use error::StoreError;
pub use location::{Location, SQLITE_FILE_NAME};
pub use migrate::SCHEMA_VERSION;
pub use postgres::{CONNECT_TIMEOUT, MAX_CHAINS, PgStore};
pub use rights::{
    RightsAttachmentRow, RightsEventRow, RightsGuard, RightsMark, RightsPatch, RightsRequestRow,
    RightsTokenRow,
};
pub use sqlite::SqliteStore;
pub use types::{
    AppendItem, ConsentKey, ConsentRow, NewPolicyVersion, OpenOptions, PolicyVersionRow, TokenRow,
    receipt_time,
};
pub use writer::{FLUSH_BOUNDS_US, WriteSnapshot, WriteStats};

use writer::{Op, Reply, unexpected};

/// The store: enum dispatch over the two backends. Cheap to clone (an `Arc` inside);
/// `Send + Sync`.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Store>();
};

macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => s.$method($($arg),*).await,
            Store::Postgres(s) => s.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Counters of the write path (see [`WriteStats`]).
    pub fn write_stats(&self) -> &WriteStats {
        match self {
            Store::Sqlite(s) => s.write_stats(),
            Store::Postgres(s) => s.write_stats(),
        }
    }

    /// Opens the store, creating it if `opts.create`, and applies pending migrations.
    ///
    /// With `create: false` a missing SQLite file or data directory (or PostgreSQL schema
    /// named in the options/URL) is refused with [`StoreError::Missing`]. An unreachable
    /// PostgreSQL fails within about [`CONNECT_TIMEOUT`] with [`StoreError::Connect`] naming
    /// `host:port`.
    pub async fn open(loc: &Location, opts: OpenOptions) -> Result<Store, StoreError> {
        match loc {
            Location::DataDir(dir) => Ok(Store::Sqlite(
                SqliteStore::open(dir.join(SQLITE_FILE_NAME), Some(dir.clone()), opts.create)
                    .await?,
            )),
            Location::SqliteFile(path) => Ok(Store::Sqlite(
                SqliteStore::open(path.clone(), None, opts.create).await?,
            )),
            Location::Postgres(url) => Ok(Store::Postgres(PgStore::open(url, &opts).await?)),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// The ledger chain this process appends to (always 0 on SQLite).
    pub fn writer_chain(&self) -> u32 {
        match self {
            Store::Sqlite(_) => 0,
            Store::Postgres(s) => s.writer_chain(),
        }
    }

    /// PostgreSQL: the TLS version of the connections (`None` when not encrypted, and
    /// always on SQLite).
    pub async fn tls_version(&self) -> Result<Option<String>, StoreError> {
        match self {
            Store::Sqlite(_) => Ok(None),
            Store::Postgres(s) => s.tls_version().await,
        }
    }

    /// Checks that the database answers and the writer is running (for health checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self.ping())
    }

    /// Flushes and stops the writer; see the crate docs on shutdown.
    pub async fn close(self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(s) => s.close().await,
        }
    }

    /// Highest migration applied to the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        dispatch!(self.schema_version())
    }

    async fn call(&self, op: Op) -> Result<Reply, StoreError> {
        dispatch!(self.call(op))
    }

    // --- policy versions ---------------------------------------------------------------

    /// Stores a new policy version of `v.site`, numbered previous max + 1 (1 for the first)
    /// with its consent floor, and appends a `policy.version` ledger entry with
    /// `ledger_payload`, all in one transaction.
    pub async fn insert_policy_version(
        &self,
        v: NewPolicyVersion,
        ledger_payload: Vec<u8>,
        ts_ms: i64,
    ) -> Result<(PolicyVersionRow, Entry), StoreError> {
        match self
            .call(Op::InsertPolicy {
                v: Box::new(v),
                payload: ledger_payload,
                ts_ms,
            })
            .await?
        {
            Reply::Policy(row, entry) => Ok((row, entry)),
            other => Err(unexpected(other)),
        }
    }

    /// The newest policy version of a site.
    pub async fn latest_policy_version(
        &self,
        site: &str,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        dispatch!(self.latest_policy_version(site))
    }

    /// One policy version of a site.
    pub async fn policy_version(
        &self,
        site: &str,
        version: i64,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        dispatch!(self.policy_version(site, version))
    }

    /// All versions of a site, oldest first.
    pub async fn list_policy_versions(
        &self,
        site: &str,
    ) -> Result<Vec<PolicyVersionRow>, StoreError> {
        dispatch!(self.list_policy_versions(site))
    }

    // --- admin tokens ------------------------------------------------------------------

    /// Every site that has at least one policy version, sorted.
    pub async fn list_sites(&self) -> Result<Vec<String>, StoreError> {
        dispatch!(self.list_sites())
    }

    /// Stores a token (its sha256 only). A duplicate id or hash is [`StoreError::Conflict`].
    pub async fn insert_token(&self, t: TokenRow) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => match s.call(Op::InsertToken(t)).await? {
                Reply::Unit => Ok(()),
                other => Err(unexpected(other)),
            },
            Store::Postgres(s) => s.insert_token(&t).await,
        }
    }

    /// Looks a token up by the sha256 of the presented secret (revoked tokens included:
    /// the caller checks `revoked_at_ms`).
    pub async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
        dispatch!(self.find_token(hash))
    }

    /// All tokens, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        dispatch!(self.list_tokens())
    }

    /// Revokes a token; `false` if it does not exist or was already revoked.
    pub async fn revoke_token(&self, id: &str, ts_ms: i64) -> Result<bool, StoreError> {
        match self {
            Store::Sqlite(s) => {
                match s
                    .call(Op::RevokeToken {
                        id: id.to_owned(),
                        ts_ms,
                    })
                    .await?
                {
                    Reply::Bool(b) => Ok(b),
                    other => Err(unexpected(other)),
                }
            }
            Store::Postgres(s) => s.revoke_token(id, ts_ms).await,
        }
    }

    // --- ledger and consents -----------------------------------------------------------

    /// Appends entries (and their consent rows) to this process's chain, in order, through
    /// the group-commit writer. Durable when it returns `Ok`. A duplicate receipt id fails
    /// this call only ([`StoreError::Conflict`]) and consumes no sequence number.
    pub async fn append(&self, items: Vec<AppendItem>) -> Result<Vec<Entry>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        match self.call(Op::Append(items)).await? {
            Reply::Entries(e) => Ok(e),
            other => Err(unexpected(other)),
        }
    }

    /// Entries of one chain from `from_seq`, at most `limit`, with their payloads (`None`
    /// once redacted).
    pub async fn entries(
        &self,
        chain: u32,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<(Entry, Option<Vec<u8>>)>, StoreError> {
        dispatch!(self.entries(chain, from_seq, limit))
    }

    /// Calls `f` for every entry in (chain, seq) order, from one consistent snapshot, and
    /// returns how many there were. Built for the verifier: rows are fetched in large
    /// batches on another thread/task while `f` runs.
    pub async fn for_each_entry<F>(&self, f: F) -> Result<u64, StoreError>
    where
        F: FnMut(&Entry, Option<&[u8]>) + Send,
    {
        dispatch!(self.for_each_entry(f))
    }

    /// The last entry of each chain, by chain.
    pub async fn chain_heads(&self) -> Result<Vec<Entry>, StoreError> {
        dispatch!(self.chain_heads())
    }

    /// Entry hashes of `chain` for `from_seq..to_seq_excl`, in order (for Merkle trees).
    pub async fn entry_hashes(
        &self,
        chain: u32,
        from_seq: u64,
        to_seq_excl: u64,
    ) -> Result<Vec<[u8; 32]>, StoreError> {
        dispatch!(self.entry_hashes(chain, from_seq, to_seq_excl))
    }

    /// Stores a signed checkpoint body verbatim; returns its id (ascending).
    pub async fn insert_checkpoint(
        &self,
        ts_ms: i64,
        body_json: String,
    ) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(s) => match s.call(Op::InsertCheckpoint { ts_ms, body_json }).await? {
                Reply::Id(id) => Ok(id),
                other => Err(unexpected(other)),
            },
            Store::Postgres(s) => s.insert_checkpoint(ts_ms, &body_json).await,
        }
    }

    /// The newest checkpoint `(id, body_json)`.
    pub async fn latest_checkpoint(&self) -> Result<Option<(i64, String)>, StoreError> {
        dispatch!(self.latest_checkpoint())
    }

    /// All checkpoints, oldest first.
    pub async fn list_checkpoints(&self) -> Result<Vec<(i64, String)>, StoreError> {
        dispatch!(self.list_checkpoints())
    }

    /// Erases the payload of entry `(chain, seq)`, deletes its consent row and appends
    /// `redaction`, in one transaction. The erased entry still verifies (it commits to the
    /// payload's hash). [`StoreError::NotFound`] if there is no such entry,
    /// [`StoreError::Conflict`] if it is already redacted.
    pub async fn redact(
        &self,
        chain: u32,
        seq: u64,
        redaction: AppendItem,
    ) -> Result<Entry, StoreError> {
        match self
            .call(Op::Redact {
                chain,
                seq,
                item: Box::new(redaction),
            })
            .await?
        {
            Reply::Entry(e) => Ok(e),
            other => Err(unexpected(other)),
        }
    }

    /// A consent by receipt id, with its ledger entry.
    pub async fn consent_by_receipt(
        &self,
        id: &str,
    ) -> Result<Option<(ConsentRow, Entry)>, StoreError> {
        dispatch!(self.consent_by_receipt(id))
    }

    /// A subject's consents on a site, newest first.
    pub async fn consents_by_subject(
        &self,
        site: &str,
        subject: &str,
    ) -> Result<Vec<(ConsentRow, Entry)>, StoreError> {
        dispatch!(self.consents_by_subject(site, subject))
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
        dispatch!(self.consents_between(site, from_ms, to_ms, after_receipt, limit))
    }

    // --- operations --------------------------------------------------------------------

    /// SQLite: an online, consistent, fsynced copy via `VACUUM INTO` (never overwrites an
    /// existing file). PostgreSQL: [`StoreError::Unsupported`] (use `pg_dump`).
    pub async fn backup_to(&self, path: &Path) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.backup_to(path).await,
            Store::Postgres(_) => Err(StoreError::Unsupported(
                "assent does not back up PostgreSQL itself: use the database's own tools, \
                 e.g. `pg_dump --format=custom --file=assent.dump DBNAME` (plus WAL archiving \
                 for point-in-time recovery)"
                    .to_owned(),
            )),
        }
    }

    /// Reads an instance setting.
    pub async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self.meta_get(key))
    }

    /// Writes (inserts or replaces) an instance setting.
    pub async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                match s
                    .call(Op::MetaSet {
                        key: key.to_owned(),
                        value: value.to_owned(),
                    })
                    .await?
                {
                    Reply::Unit => Ok(()),
                    other => Err(unexpected(other)),
                }
            }
            Store::Postgres(s) => s.meta_set(key, value).await,
        }
    }
}
