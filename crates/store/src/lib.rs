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
//! **Layout.** One way to write a query for both backends (`sql.rs`: SQL text in SQLite's
//! dialect with `?N` placeholders, a parameter enum, a row trait both drivers implement);
//! row mappers (`rows.rs`); the operations once per resource (`policy.rs`, `tokens.rs`,
//! `ledger.rs`, `consents.rs`, `rights.rs`, `marketing.rs`, `tally.rs`: the dashboard's counters) on [`Store`] (`store.rs`); the group-commit
//! requests with their typed answers (`writer.rs`); the backends (`sqlite/`, `postgres/`,
//! `pgtls.rs`); migrations (`migrate.rs`). No file imports from a file that imports from it.
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

mod accounts;
mod consents;
mod counters;
mod error;
mod files;
mod ledger;
mod location;
mod marketing;
mod marketing_retention;
mod migrate;
mod pgtls;
mod policy;
mod postgres;
mod retention;
mod rights;
mod rights_work;
mod rows;
mod scans;
mod sql;
mod sqlite;
mod stats;
mod store;
mod tally;
mod tokens;
mod types;
mod writer;

pub use accounts::{LoginFailures, SessionRow, UserRow};
pub use assent_ledger::{Entry, Hash};
pub use counters::BACKFILL_CHAIN;
pub use error::StoreError;
pub use files::{create_private_dir, create_private_file, loose_mode};
pub use location::{Location, SQLITE_FILE_NAME};
pub use marketing::{LOOKUP_CHUNK, PendingRow, Standing, SubscriptionRow};
pub use marketing_retention::DueSubscription;
pub use migrate::SCHEMA_VERSION;
pub use postgres::{CONNECT_TIMEOUT, MAX_CHAINS, PgStore};
pub use retention::{DueConsent, RetentionLock, RetentionRunRow};
pub use rights::{
    RightsAttachmentRow, RightsEventRow, RightsGuard, RightsMark, RightsPatch, RightsRequestRow,
    RightsTokenRow,
};
pub use rights_work::{NotificationRow, RestrictionRow, RightsIntakeRow, RunRow};
pub use scans::{ScanOutcome, ScanRow, ScanScheduleRow};
pub use sqlite::SqliteStore;
pub use stats::{FLUSH_BOUNDS_US, WriteSnapshot, WriteStats};
pub use store::Store;
pub use tally::{StatRow, Tally};
pub use types::{
    AppendItem, ConsentKey, ConsentRow, NewPolicyVersion, OpenOptions, PolicyVersionRow, TokenRow,
    receipt_time,
};
