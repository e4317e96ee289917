//! The harness shared by the store's integration tests (`suite.rs`, `rights.rs`): each test
//! gets a fresh database on each backend and it is removed afterwards, even when the test
//! panics. SQLite: a fresh temporary directory. PostgreSQL: `ASSENT_TEST_DATABASE_URL`
//! (default `postgres://root@127.0.0.1:5432/test`), a fresh schema, dropped at the end. An
//! unreachable PostgreSQL FAILS the postgres tests: they are never skipped.

// Each test binary uses a part of the harness only.
#![allow(dead_code, clippy::unwrap_used)]

use assent_store::{Location, OpenOptions, Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `sqlite::NAME` and `postgres::NAME` for every test function named.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await
                }
            )*
        }
    };
}

pub fn pg_url() -> String {
    std::env::var("ASSENT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_owned())
}

pub use assent_testkit::{TempDir, random_hex};

/// A PostgreSQL schema dropped on drop (even when the test panics).
pub struct PgSchema {
    pub url: String,
    pub name: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop may run inside the test's runtime: use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(c) = raw_pg(&url).await {
                    let _ = c
                        .batch_execute(&format!(
                            "SET lock_timeout = '20s'; DROP SCHEMA IF EXISTS {name} CASCADE"
                        ))
                        .await;
                }
            });
        })
        .join();
    }
}

pub async fn raw_pg(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

pub struct TestDb {
    pub backend: Backend,
    pub loc: Location,
    pub schema: Option<String>,
    pub dir: TempDir,
    _pg: Option<PgSchema>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = TempDir::new("store-test");
        match backend {
            Backend::Sqlite => TestDb {
                backend,
                loc: Location::DataDir(dir.path().join("data")),
                schema: None,
                dir,
                _pg: None,
            },
            Backend::Postgres => {
                let url = pg_url();
                let client = raw_pg(&url).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL for the store tests is unreachable at {url}: {e:?}. Start \
                         PostgreSQL or set ASSENT_TEST_DATABASE_URL (these tests never skip)"
                    )
                });
                let name = format!("assent_t_{}", random_hex(6));
                client
                    .batch_execute(&format!("CREATE SCHEMA {name}"))
                    .await
                    .unwrap();
                TestDb {
                    backend,
                    loc: Location::Postgres(url.clone()),
                    schema: Some(name.clone()),
                    dir,
                    _pg: Some(PgSchema { url, name }),
                }
            }
        }
    }

    pub fn opts(&self, create: bool) -> OpenOptions {
        OpenOptions {
            create,
            schema: self.schema.clone(),
        }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.loc, self.opts(true)).await.unwrap()
    }

    pub async fn reopen(&self) -> Result<Store, StoreError> {
        Store::open(&self.loc, self.opts(false)).await
    }

    /// Runs SQL directly against the database, bypassing the store.
    pub async fn exec_raw(&self, sql: &str) {
        self.raw(sql, |c, sql| c.execute_batch(sql).map(|()| 0), false)
            .await;
    }

    /// Runs a scalar integer query directly against the database.
    pub async fn count_raw(&self, sql: &str) -> i64 {
        self.raw(sql, |c, sql| c.query_row(sql, [], |r| r.get(0)), true)
            .await
    }

    /// `sqlite` on a fresh SQLite connection; on PostgreSQL, in the test's schema, the SQL
    /// as a batch or (with `scalar`) as a query of one integer.
    async fn raw(
        &self,
        sql: &str,
        sqlite: fn(&rusqlite::Connection, &str) -> rusqlite::Result<i64>,
        scalar: bool,
    ) -> i64 {
        match self.backend {
            Backend::Sqlite => {
                let path = self.loc.sqlite_path().unwrap();
                let sql = sql.to_owned();
                tokio::task::spawn_blocking(move || {
                    sqlite(&rusqlite::Connection::open(path).unwrap(), &sql).unwrap()
                })
                .await
                .unwrap()
            }
            Backend::Postgres => {
                let c = raw_pg(&pg_url()).await.unwrap();
                let schema = self.schema.as_deref().unwrap();
                let path = format!("SET search_path TO {schema}");
                if !scalar {
                    c.batch_execute(&format!("{path}; {sql}")).await.unwrap();
                    return 0;
                }
                c.batch_execute(&path).await.unwrap();
                c.query_one(sql, &[]).await.unwrap().get(0)
            }
        }
    }
}
