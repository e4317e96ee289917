//! Erasure (and its dry run), restriction and rectification across every datastore: each
//! datastore on a blocking thread, in its own transaction; a failure is recorded with its
//! datastore and table and the others go on. Real runs append one ledger entry (erasure
//! receipt, restriction, rectification) without personal data.

use assent_datastore::ops::{self, Change, TableErasure, Touched};
use assent_datastore::{Conn, DsError, Identity};
use assent_model::datastore::Datastore;
use assent_store::Store;
use serde::Serialize;
use serde_json::json;

use super::key::ErasureKey;
use super::subject::{Fulfilment, Subject};
use crate::error::{AppError, AppResult};

/// A datastore that failed: which, where, why. `message` is the engine's explanation (for
/// the DPO; it may quote a value, so it is never written to the ledger).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreFailure {
    pub datastore: String,
    pub table: Option<String>,
    /// `config`, `unreachable`, `auth`, `missing`, `permission`, `lock_timeout`, `engine`.
    pub kind: &'static str,
    pub message: String,
    /// The kind in words.
    #[serde(skip)]
    pub what: &'static str,
}

impl std::fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "datastore `{}`", self.datastore)?;
        if let Some(t) = &self.table {
            write!(f, ", table `{t}`")?;
        }
        write!(f, ": {}: {}", self.what, self.message)
    }
}

impl StoreFailure {
    pub(crate) fn of(datastore: &str, e: DsError) -> Self {
        Self {
            datastore: datastore.to_string(),
            table: e.table,
            kind: e.kind.as_str(),
            what: e.kind.describe(),
            message: e.message,
        }
    }
}

/// What erasure did (or would do) to one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasedTable {
    pub table: String,
    /// `delete`, `mask` or `kept` (restricted, kept for a legal obligation).
    pub action: &'static str,
    pub rows: u64,
    pub columns: Vec<String>,
}

impl From<TableErasure> for ErasedTable {
    fn from(t: TableErasure) -> Self {
        Self {
            table: t.table,
            action: t.action.as_str(),
            rows: t.rows,
            columns: t.columns,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatastoreErasure {
    pub datastore: String,
    pub tables: Vec<ErasedTable>,
}

/// The outcome of [`preview`] or [`erase`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureRun {
    pub dry_run: bool,
    /// The keyed hash naming the subject (real runs; empty in a dry run).
    pub subject: String,
    pub datastores: Vec<DatastoreErasure>,
    pub failures: Vec<StoreFailure>,
    /// Whether the receipt was appended to Assent's ledger.
    pub recorded: bool,
    /// Assent's own records (a real run given Assent's store); `None`: not searched.
    pub own: Option<OwnErasure>,
}

/// What erasure did to Assent's own records of the subject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OwnErasure {
    /// Consent records (found by the subject ids and receipt ids given) erased through the
    /// ledger's redaction: the entry stays and verifies, its content goes.
    pub consents_erased: u64,
    /// Consent records found already erased.
    pub consents_already_erased: u64,
    /// Rights-request records of the subject's email: kept, the proof the request was
    /// handled (erased by their retention rule).
    pub requests_kept: u64,
}

/// Rows changed by a restriction or a rectification in one datastore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatastoreChange {
    pub datastore: String,
    pub table: String,
    pub columns: Vec<String>,
    pub rows: u64,
}

/// The outcome of [`restrict`] or [`rectify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeRun {
    pub subject: String,
    pub changes: Vec<DatastoreChange>,
    pub failures: Vec<StoreFailure>,
    pub recorded: bool,
}

/// Runs `op` on every datastore (or only `only`), each on a blocking thread with its own
/// connection; results in registry order.
pub(crate) async fn each<T: Send + 'static>(
    f: &Fulfilment<'_>,
    only: Option<&str>,
    ids: &[Identity],
    op: impl Fn(&mut dyn Conn, &Datastore, &[Identity]) -> Result<T, DsError>
    + Send
    + Sync
    + Clone
    + 'static,
) -> Vec<(String, Result<T, StoreFailure>)> {
    let mut out = vec![];
    for d in &f.registry.datastores {
        if only.is_some_and(|o| o != d.id) {
            continue;
        }
        let url = match f.url_of(d) {
            Ok(u) => u,
            Err(e) => {
                out.push((d.id.clone(), Err(StoreFailure::of(&d.id, e))));
                continue;
            }
        };
        let opts = f.options.for_datastore(d);
        let (d2, ids2, op2) = (d.clone(), ids.to_vec(), op.clone());
        let joined = tokio::task::spawn_blocking(move || {
            let mut conn = assent_datastore::connect(d2.kind, &url, opts)?;
            op2(conn.as_mut(), &d2, &ids2)
        })
        .await;
        let r = match joined {
            Ok(r) => r.map_err(|e| StoreFailure::of(&d.id, e)),
            Err(e) => Err(StoreFailure {
                datastore: d.id.clone(),
                table: None,
                kind: "engine",
                what: "database error",
                message: format!("the worker failed: {e}"),
            }),
        };
        out.push((d.id.clone(), r));
    }
    out
}

/// Kind and table of each failure, for the ledger (the engine's text may quote values).
fn failures_for_ledger(failures: &[StoreFailure]) -> serde_json::Value {
    failures
        .iter()
        .map(|x| json!({"datastore": x.datastore, "table": x.table, "kind": x.kind}))
        .collect()
}

async fn record(
    store: Option<&Store>,
    now_ms: i64,
    kind: &str,
    payload: serde_json::Value,
) -> AppResult<bool> {
    let Some(store) = store else {
        return Ok(false);
    };
    crate::ledger::audit(store, now_ms, kind, payload)
        .await
        .map_err(|e| AppError::internal(&e))?;
    Ok(true)
}

/// The dry run: per datastore and table, the rows erasure would delete or mask and the
/// columns it would rewrite. Changes nothing, records nothing.
pub async fn preview(f: &Fulfilment<'_>, subject: &Subject) -> ErasureRun {
    let results = each(f, None, &subject.identities, |c, d, ids| {
        ops::plan(c, d, ids)
    })
    .await;
    erasure_run(true, String::new(), results, false)
}

fn erasure_run(
    dry_run: bool,
    subject: String,
    results: Vec<(String, Result<Vec<TableErasure>, StoreFailure>)>,
    recorded: bool,
) -> ErasureRun {
    let mut run = ErasureRun {
        dry_run,
        subject,
        datastores: vec![],
        failures: vec![],
        recorded,
        own: None,
    };
    for (id, r) in results {
        match r {
            Ok(tables) => run.datastores.push(DatastoreErasure {
                datastore: id,
                tables: tables.into_iter().map(ErasedTable::from).collect(),
            }),
            Err(e) => run.failures.push(e),
        }
    }
    run
}

/// Erases the subject's data in every datastore (one transaction each; a failed datastore is
/// rolled back and reported, the others keep their result), then appends the erasure
/// receipt to the ledger when `store` is given. Running it again changes nothing more.
pub async fn erase(
    f: &Fulfilment<'_>,
    subject: &Subject,
    key: &ErasureKey,
    store: Option<&Store>,
    now_ms: i64,
) -> AppResult<ErasureRun> {
    let k = key.bytes().to_vec();
    let results = each(f, None, &subject.identities, move |c, d, ids| {
        ops::erase(c, d, ids, &k)
    })
    .await;
    let mut run = erasure_run(false, key.subject_hash(subject), results, false);
    if let Some(st) = store {
        run.own = Some(erase_own(st, subject, now_ms).await?);
    }
    let payload = json!({
        "subject": run.subject,
        "datastores": run.datastores,
        "assent": run.own,
        "failures": failures_for_ledger(&run.failures),
    });
    run.recorded = record(store, now_ms, "erasure", payload).await?;
    Ok(run)
}

/// Erases the subject's consent records in Assent's store through the ledger's redaction
/// (as `POST /admin/v1/consents/{receipt}/erase`), found by the receipt ids and subject ids
/// given; counts the rights-request records kept. Running it again erases nothing more.
async fn erase_own(store: &Store, subject: &Subject, now_ms: i64) -> AppResult<OwnErasure> {
    let mut out = OwnErasure::default();
    let mut receipts: Vec<String> = subject.receipts.clone();
    if !subject.consent_subjects.is_empty() {
        for site in store.list_sites().await? {
            for s in &subject.consent_subjects {
                for (c, _) in store.consents_by_subject(&site, s).await? {
                    receipts.push(c.receipt_id);
                }
            }
        }
    }
    receipts.sort();
    receipts.dedup();
    for r in &receipts {
        match crate::consent::erase_in(store, now_ms, "cli", r, "rights request: erasure").await {
            Ok(_) => out.consents_erased += 1,
            Err(e) if e.code == "already_erased" => out.consents_already_erased += 1,
            Err(e) if e.code == "not_found" => {}
            Err(e) => return Err(e),
        }
    }
    if let Some(email) = subject.email() {
        out.requests_kept = store
            .rights_list(None)
            .await?
            .iter()
            .filter(|r| {
                r.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .count() as u64;
    }
    Ok(out)
}

fn change_run(
    subject: String,
    results: Vec<(String, Result<Vec<Touched>, StoreFailure>)>,
) -> ChangeRun {
    let mut run = ChangeRun {
        subject,
        changes: vec![],
        failures: vec![],
        recorded: false,
    };
    for (id, r) in results {
        match r {
            Ok(ts) => run.changes.extend(ts.into_iter().map(|t| DatastoreChange {
                datastore: id.clone(),
                table: t.table,
                columns: t.columns,
                rows: t.rows,
            })),
            Err(e) => run.failures.push(e),
        }
    }
    run
}

/// Sets (`on`) or lifts the restriction of processing (Art. 18): the `restrict_column` of
/// every table that has one is set for the subject's rows. Recorded in the ledger when
/// `store` is given.
pub async fn restrict(
    f: &Fulfilment<'_>,
    subject: &Subject,
    on: bool,
    key: &ErasureKey,
    store: Option<&Store>,
    now_ms: i64,
) -> AppResult<ChangeRun> {
    let results = each(f, None, &subject.identities, move |c, d, ids| {
        ops::restrict(c, d, ids, on)
    })
    .await;
    let mut run = change_run(key.subject_hash(subject), results);
    let payload = json!({
        "subject": run.subject,
        "restricted": on,
        "changes": run.changes,
        "failures": failures_for_ledger(&run.failures),
    });
    run.recorded = record(store, now_ms, "restriction", payload).await?;
    Ok(run)
}

/// Applies corrections the DPO reviewed (Art. 16) to the subject's rows in `datastore`, in
/// one transaction. The ledger records which fields changed and how many rows, never the
/// values.
pub async fn rectify(
    f: &Fulfilment<'_>,
    subject: &Subject,
    datastore: &str,
    changes: Vec<Change>,
    key: &ErasureKey,
    store: Option<&Store>,
    now_ms: i64,
) -> AppResult<ChangeRun> {
    if !f.registry.datastores.iter().any(|d| d.id == datastore) {
        return Err(AppError::invalid(
            "datastore",
            format!("no datastore `{datastore}` in the registry"),
        ));
    }
    if changes.is_empty() {
        return Err(AppError::invalid("fields", "no field to correct"));
    }
    let results = each(f, Some(datastore), &subject.identities, move |c, d, ids| {
        ops::rectify(c, d, ids, &changes)
    })
    .await;
    let mut run = change_run(key.subject_hash(subject), results);
    let payload = json!({
        "subject": run.subject,
        "changes": run.changes,
        "failures": failures_for_ledger(&run.failures),
    });
    run.recorded = record(store, now_ms, "rectification", payload).await?;
    Ok(run)
}
