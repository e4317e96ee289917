//! The operator's own databases, as the registry's `[[datastores]]` describe them: connect to
//! PostgreSQL, MariaDB/MySQL or SQLite ([`connect`]), read the catalog, find a person's rows
//! across the annotated references ([`ops::find`]), erase them ([`ops::erase`], one
//! transaction), restrict and rectify them; purge a table's rows past their retention
//! ([`retention`], chunk by chunk); propose annotations from a live schema
//! ([`introspect`]) and compare annotations with it ([`inspect`]).
//!
//! Layer: above `assent-model` (the annotations), below `assent-app` (which runs these
//! blocking calls on blocking threads and writes the ledger). No clock, no ledger, no files.
//!
//! Invariants: values read from a datastore never appear in an error message; identity
//! values are bound as parameters; emails compare case-insensitively on every engine.

pub mod catalog;
pub mod conn;
pub mod error;
pub mod graph;
pub mod hash;
pub mod inspect;
pub mod introspect;
mod mysql;
pub mod ops;
mod pg;
pub mod retention;
mod sqlite;

use assent_model::datastore::DatastoreKind;

pub use catalog::Catalog;
pub use conn::{Conn, ConnectOptions};
pub use error::{DsError, DsResult, ErrorKind};
pub use graph::Identity;

/// Opens a connection of `kind` to `url` (the URL's scheme must agree with `kind`).
pub fn connect(kind: DatastoreKind, url: &str, opts: ConnectOptions) -> DsResult<Box<dyn Conn>> {
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    let ok = match kind {
        DatastoreKind::Postgres => scheme == "postgres" || scheme == "postgresql",
        DatastoreKind::Mysql => scheme == "mysql" || scheme == "mariadb",
        DatastoreKind::Sqlite => scheme == "sqlite",
    };
    if !ok {
        return Err(DsError::new(
            ErrorKind::Config,
            format!(
                "a {} datastore needs a {}:// URL, not {scheme}://",
                kind.as_str(),
                kind.as_str()
            ),
        ));
    }
    Ok(match kind {
        DatastoreKind::Postgres => Box::new(pg::connect(url, opts)?),
        DatastoreKind::Mysql => {
            let url = match url.strip_prefix("mariadb") {
                Some(rest) => format!("mysql{rest}"),
                None => url.to_string(),
            };
            Box::new(mysql::connect(&url, opts)?)
        }
        DatastoreKind::Sqlite => Box::new(sqlite::connect(url, opts)?),
    })
}

/// The URL in environment variable `name`, or a configuration error naming it.
pub fn url_from_env(name: &str) -> DsResult<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(DsError::new(
            ErrorKind::Config,
            format!("environment variable {name} (url_env) is not set"),
        )),
    }
}
