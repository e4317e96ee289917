//! Retention rules bound to a datastore table (`applies_to = "DATASTORE.TABLE"`): the plan
//! (due, held, unanchored, next due) and the purge, chunk by chunk, each chunk one
//! transaction in the controller's database, on a blocking thread. The SQL is
//! `assent_datastore::retention`; the cutoff (the latest anchor due, computed in the
//! controller's time zone by `assent_model::retention`) is passed as a local date-time.
//!
//! Invariants: a datastore that cannot be reached, a table or anchor column that does not
//! exist, fail the rule with a message naming them, after the chunks already committed; the
//! next run recomputes what is due and resumes. Held persons are matched by their emails
//! through the table's identity columns and references; a row whose restriction flag is
//! set is held too. Rows without an anchor are counted (`unanchored`) and never purged.

use std::sync::Arc;

use assent_datastore::retention::{self as dsr, TablePlan, TableRule};
use assent_datastore::{ConnectOptions, Identity};
use assent_model::datastore::{ColumnErasure, Datastore};
use assent_model::registry::RetentionAction;
use assent_model::retention::{AppliesTo, EffectiveRule, due_at};
use assent_store::Store;
use jiff::tz::TimeZone;

use crate::error::{AppError, AppResult};
use crate::fulfil::{ErasureKey, ProcessEnv, UrlSource};
use crate::retention::holds::Held;
use crate::retention::progress::{Progress, RunOptions};

/// How to reach the registry's datastores: their annotations, where their URLs come from
/// (the process environment, `url_env`), connection options, and the key of `hash` columns.
#[derive(Clone)]
pub struct TableAccess {
    pub datastores: Vec<Datastore>,
    pub urls: Arc<dyn UrlSource>,
    pub options: ConnectOptions,
    /// Needed only to anonymise tables with `erase = "hash"` columns.
    pub key: Option<Arc<ErasureKey>>,
}

impl std::fmt::Debug for TableAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableAccess")
            .field("datastores", &self.datastores.len())
            .field("key", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl TableAccess {
    /// The datastores of a registry, URLs from the environment, default options, no key.
    pub fn new(datastores: Vec<Datastore>) -> Self {
        TableAccess {
            datastores,
            urls: Arc::new(ProcessEnv),
            options: ConnectOptions::default(),
            key: None,
        }
    }
}

/// One table rule at one cutoff.
pub(crate) struct TableScope<'a> {
    pub access: &'a TableAccess,
    pub rule: &'a EffectiveRule,
    pub tz: &'a TimeZone,
    pub cut: i64,
    pub held: &'a Held,
}

/// `YYYY-MM-DD HH:MM:SS.fff` of an instant in a zone.
fn local(ms: i64, tz: &TimeZone) -> Option<String> {
    let z = jiff::Timestamp::from_millisecond(ms)
        .ok()?
        .to_zoned_datetime(tz.clone());
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        z.year(),
        z.month(),
        z.day(),
        z.hour(),
        z.minute(),
        z.second(),
        z.millisecond()
    ))
}

/// An anchor read back from a datastore (a date, or a local date-time) as an instant.
fn instant(anchor: &str, tz: &TimeZone) -> Option<i64> {
    let s = anchor.trim().replace(' ', "T");
    let dt: jiff::civil::DateTime = match s.parse() {
        Ok(dt) => dt,
        Err(_) => s
            .parse::<jiff::civil::Date>()
            .ok()?
            .to_datetime(jiff::civil::Time::midnight()),
    };
    Some(
        dt.to_zoned_datetime(tz.clone())
            .ok()?
            .timestamp()
            .as_millisecond(),
    )
}

/// A datastore connection closed on a thread of its own: the blocking PostgreSQL client must
/// not be dropped on an async worker.
struct Closing(Option<Box<dyn assent_datastore::Conn>>);

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            std::thread::spawn(move || drop(c));
        }
    }
}

struct Target {
    ds: Datastore,
    url: String,
    rule: TableRule,
}

impl TableScope<'_> {
    fn target(&self) -> Result<Target, String> {
        let Some(AppliesTo::Table { datastore, table }) = &self.rule.applies_to else {
            return Err(format!("rule `{}` is not bound to a table", self.rule.id));
        };
        let ds = self
            .access
            .datastores
            .iter()
            .find(|d| &d.id == datastore)
            .ok_or_else(|| {
                format!(
                    "datastore `{datastore}` is not declared in the registry this run reads \
                     (`[[datastores]]`; the server needs `registry` in its configuration)"
                )
            })?;
        let url = self.access.urls.url(&ds.url_env).ok_or_else(|| {
            format!(
                "datastore `{datastore}`: environment variable {} (url_env) is not set",
                ds.url_env
            )
        })?;
        let cutoff_local =
            local(self.cut, self.tz).ok_or_else(|| "the cutoff is out of range".to_owned())?;
        let held = self
            .held
            .persons
            .iter()
            .filter(|p| p.contains('@'))
            .map(|e| Identity::new("email", e))
            .collect();
        Ok(Target {
            ds: ds.clone(),
            url,
            rule: TableRule {
                table: table.clone(),
                anchor: self.rule.anchor.clone(),
                tz: self.tz.iana_name().unwrap_or("UTC").to_owned(),
                cutoff_local,
                anonymise: self.rule.action == RetentionAction::Anonymise,
                held,
            },
        })
    }
}

/// The plan of a table rule, and when the next rows fall due; `Err` says why it could not
/// be computed (the datastore, table or column named).
pub(crate) async fn plan_table(c: &TableScope<'_>) -> Result<(TablePlan, Option<i64>), String> {
    let t = c.target()?;
    let opts = c.access.options;
    let ds_id = t.ds.id.clone();
    let plan = tokio::task::spawn_blocking(move || {
        let mut conn = assent_datastore::connect(t.ds.kind, &t.url, opts)?;
        dsr::plan(conn.as_mut(), &t.ds, &t.rule)
    })
    .await
    .map_err(|e| format!("the worker failed: {e}"))?
    .map_err(|e| format!("datastore `{ds_id}`: {e}"))?;
    let next = plan
        .next_anchor
        .as_deref()
        .and_then(|a| instant(a, c.tz))
        .and_then(|a| due_at(a, c.rule.period, c.rule.trigger, c.tz));
    Ok((plan, next))
}

/// Purges the due rows of a table rule, chunk after chunk, recording progress after each.
/// `Ok(false)`: stopped by the budget; `Err`: the datastore failed (the chunks before stay
/// done).
pub(crate) async fn purge_table(
    c: &TableScope<'_>,
    store: &Store,
    opts: &RunOptions,
    p: &mut Progress,
) -> AppResult<bool> {
    let (plan, _) = plan_table(c).await.map_err(AppError::unavailable)?;
    p.row.held = i64::try_from(plan.held).unwrap_or(i64::MAX);
    p.unanchored = i64::try_from(plan.unanchored).unwrap_or(i64::MAX);
    let t = c.target().map_err(AppError::unavailable)?;
    let anonymise = t.rule.anonymise;
    let needs_key = anonymise
        && t.ds.table(&t.rule.table).is_some_and(|tb| {
            tb.columns
                .iter()
                .any(|col| col.erasure() == ColumnErasure::Hash)
        });
    let key: Arc<Vec<u8>> = match (&c.access.key, needs_key) {
        (_, false) => Arc::new(vec![]),
        (Some(k), true) => Arc::new(k.bytes().to_vec()),
        (None, true) => {
            return Err(AppError::invalid(
                "erasure_key",
                format!(
                    "anonymising `{}` rewrites `hash` columns: set {} or give --data DIR",
                    t.rule.table,
                    ErasureKey::ENV
                ),
            ));
        }
    };
    let ds_id = t.ds.id.clone();
    let (ds, rule, url, conn_opts) = (Arc::new(t.ds), Arc::new(t.rule), t.url, c.access.options);
    let fail =
        |e: assent_datastore::DsError| AppError::unavailable(format!("datastore `{ds_id}`: {e}"));
    let kind = ds.kind;
    let mut conn = Closing(Some(
        tokio::task::spawn_blocking(move || assent_datastore::connect(kind, &url, conn_opts))
            .await
            .map_err(|e| AppError::internal(&e))?
            .map_err(&fail)?,
    ));
    loop {
        if !p.budget_left(opts) {
            return Ok(false);
        }
        let left = opts
            .max_rows
            .map_or(u64::from(opts.chunk), |m| m.saturating_sub(p.changed()))
            .min(u64::from(opts.chunk));
        let limit = u32::try_from(left).unwrap_or(opts.chunk);
        let (ds2, rule2, key2) = (ds.clone(), rule.clone(), key.clone());
        let mut c = conn.0.take();
        let (back, out) = tokio::task::spawn_blocking(move || {
            let out = match c.as_mut() {
                Some(c) => dsr::purge_chunk(c.as_mut(), &ds2, &rule2, limit, &key2),
                None => Err(assent_datastore::DsError::new(
                    assent_datastore::ErrorKind::Unreachable,
                    "the connection was lost",
                )),
            };
            (c, out)
        })
        .await
        .map_err(|e| AppError::internal(&e))?;
        conn.0 = back;
        let chunk = match out {
            Ok(chunk) => chunk,
            Err(e) => return Err(fail(e)),
        };
        if chunk.keys.is_empty() {
            return Ok(true);
        }
        for k in &chunk.keys {
            if anonymise {
                p.anonymised(k);
            } else {
                p.purged(k);
            }
        }
        store.retention_run_update(&p.row, None).await?;
    }
}
