//! Access and portability (Arts. 15 and 20): the person's rows in every datastore, following
//! the annotated references, plus Assent's own records of them (consents by subject or
//! receipt id, rights requests by email) when a store is given; and the package written from
//! them: `data.json` (datastore → table → rows), one CSV per table (cells that a spreadsheet
//! would run as a formula are prefixed with `'`), and `index.html` saying where each table
//! comes from, its categories, purpose and retention.
//!
//! Invariants: a package that found nothing says so; one that did not search Assent's own
//! records says so; the output directory must be new or empty (a package never mixes with
//! another's files).

use std::path::Path;

use assent_datastore::ops;
use assent_model::Registry;
use assent_pages::package::{PackageTable, PackageView, package_index};
use assent_store::Store;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::run::{StoreFailure, each};
use super::subject::{Fulfilment, Subject};
use crate::error::{AppError, AppResult};

/// The person's rows of one table of one datastore.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundTable {
    pub datastore: String,
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// Assent's own records of the person.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OwnRecords {
    pub consents: Vec<Value>,
    pub requests: Vec<Value>,
}

/// What [`access`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessResult {
    pub tables: Vec<FoundTable>,
    /// `None` when Assent's own records were not searched (no store given).
    pub own: Option<OwnRecords>,
    pub failures: Vec<StoreFailure>,
}

impl AccessResult {
    /// Whether nothing at all was found.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|t| t.rows.is_empty())
            && self
                .own
                .as_ref()
                .is_none_or(|o| o.consents.is_empty() && o.requests.is_empty())
    }
}

/// Finds the subject's rows in every datastore and, with `own`, in Assent's own store.
pub async fn access(
    f: &Fulfilment<'_>,
    subject: &Subject,
    own: Option<&Store>,
) -> AppResult<AccessResult> {
    let results = each(f, None, &subject.identities, |c, d, ids| {
        ops::find(c, d, ids)
    })
    .await;
    let mut out = AccessResult {
        tables: vec![],
        own: None,
        failures: vec![],
    };
    for (id, r) in results {
        match r {
            Ok(ts) => out.tables.extend(ts.into_iter().map(|t| FoundTable {
                datastore: id.clone(),
                table: t.table,
                columns: t.columns,
                rows: t.rows,
            })),
            Err(e) => out.failures.push(e),
        }
    }
    if let Some(store) = own {
        out.own = Some(own_records(store, subject).await?);
    }
    Ok(out)
}

async fn own_records(store: &Store, subject: &Subject) -> AppResult<OwnRecords> {
    let mut own = OwnRecords::default();
    let consent = |c: &assent_store::ConsentRow| {
        json!({
            "receipt_id": c.receipt_id, "site": c.site, "subject": c.subject,
            "policy_version": c.policy_version, "action": c.action, "method": c.method,
            "channel": c.channel, "language": c.language,
            "choices": serde_json::from_str::<Value>(&c.choices_json).unwrap_or(Value::Null),
            "created_at_ms": c.created_at_ms, "expires_at_ms": c.expires_at_ms,
        })
    };
    for r in &subject.receipts {
        if let Some((c, _)) = store.consent_by_receipt(r).await? {
            own.consents.push(consent(&c));
        }
    }
    if !subject.consent_subjects.is_empty() {
        for site in store.list_sites().await? {
            for s in &subject.consent_subjects {
                for (c, _) in store.consents_by_subject(&site, s).await? {
                    own.consents.push(consent(&c));
                }
            }
        }
    }
    if let Some(email) = subject.email() {
        for r in store.rights_list(None).await? {
            if r.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
            {
                own.requests.push(json!({
                    "id": r.id, "site": r.site, "type": r.kind.as_str(),
                    "status": r.status.as_str(), "language": r.language, "email": r.email,
                    "name": r.name, "details": r.details, "received_at_ms": r.received_at_ms,
                    "due_at_ms": r.due_at_ms, "closed_at_ms": r.closed_at_ms,
                }));
            }
        }
    }
    Ok(own)
}

/// A cell as CSV text: a leading `=`, `+`, `-` or `@` (a formula to a spreadsheet) is
/// prefixed with `'`.
fn csv_cell(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

/// A file name from registry names: letters, digits, `_`, `-`, `.` kept, others `_`.
fn file_name(parts: &[&str]) -> String {
    let mut s: String = parts
        .join(".")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.push_str(".csv");
    s
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> AppResult<()> {
    std::fs::write(dir.join(name), bytes).map_err(|e| {
        AppError::invalid(
            "out",
            format!("{}: cannot write {name}: {e}", dir.display()),
        )
    })
}

fn csv_bytes(columns: &[String], rows: &[Vec<String>]) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![]);
    let err = |e: csv::Error| AppError::internal(&e);
    w.write_record(columns).map_err(err)?;
    for r in rows {
        w.write_record(r).map_err(err)?;
    }
    w.into_inner().map_err(|e| AppError::internal(&e))
}

/// The purpose's name and the retention rule in words, in `lang`, for a table.
fn why(
    reg: &Registry,
    datastore: &str,
    table: &str,
    lang: &str,
) -> (Option<String>, Option<String>, bool) {
    let t = reg
        .datastores
        .iter()
        .find(|d| d.id == datastore)
        .and_then(|d| d.table(table));
    let Some(t) = t else {
        return (None, None, false);
    };
    let purpose = t
        .purpose
        .as_deref()
        .and_then(|p| reg.purpose(p))
        .map(|p| p.name.get(lang, "en").to_string());
    let retention = t
        .retention
        .as_deref()
        .and_then(|r| reg.retention_rule(r))
        .map(|r| {
            format!(
                "{}: {} {}",
                r.data_category.get(lang, "en"),
                r.period.display(lang),
                r.trigger.label(lang)
            )
        });
    (purpose, retention, t.legal_hold)
}

/// Writes the package of `found` into `dir` (created if missing; it must be empty), with the
/// page in `lang`; `generated` is the date shown. Returns the files written.
pub fn write_package(
    reg: &Registry,
    found: &AccessResult,
    dir: &Path,
    lang: &str,
    generated: &str,
) -> AppResult<Vec<String>> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(AppError::invalid(
                "out",
                format!("{} exists and is not empty", dir.display()),
            ));
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::invalid("out", format!("{}: {e}", dir.display())))?;
    let files = package_files(reg, found, lang, generated, Map::new())?;
    for (name, bytes) in &files {
        write(dir, name, bytes)?;
    }
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

/// The package as one ZIP archive (the workflow's download): the same files as
/// [`write_package`] writes.
pub fn package_zip(
    reg: &Registry,
    found: &AccessResult,
    lang: &str,
    generated: &str,
    extra: Map<String, Value>,
) -> AppResult<Vec<u8>> {
    super::zip::stored_zip(&package_files(reg, found, lang, generated, extra)?)
}

/// The package's files, in memory: one CSV per table with rows, `data.json` (with `extra`'s
/// keys added at its top level) and `index.html` in `lang`.
pub fn package_files(
    reg: &Registry,
    found: &AccessResult,
    lang: &str,
    generated: &str,
    extra: Map<String, Value>,
) -> AppResult<Vec<(String, Vec<u8>)>> {
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    let mut data = Map::new();
    let mut view = PackageView {
        controller: reg.controller.name.clone(),
        generated: generated.to_string(),
        tables: vec![],
        own_searched: found.own.is_some(),
    };
    for t in &found.tables {
        let rows: Vec<Value> = t
            .rows
            .iter()
            .map(|r| {
                Value::Object(
                    t.columns
                        .iter()
                        .cloned()
                        .zip(r.iter().cloned())
                        .collect::<Map<_, _>>(),
                )
            })
            .collect();
        let ds = data
            .entry(t.datastore.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = ds {
            m.insert(t.table.clone(), Value::Array(rows));
        }
        if t.rows.is_empty() {
            continue;
        }
        let text: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|r| r.iter().map(csv_cell).collect())
            .collect();
        let name = file_name(&[&t.datastore, &t.table]);
        files.push((name.clone(), csv_bytes(&t.columns, &text)?));
        let (purpose, retention, legal_hold) = why(reg, &t.datastore, &t.table, lang);
        let annotated = reg
            .datastores
            .iter()
            .find(|d| d.id == t.datastore)
            .and_then(|d| d.table(&t.table));
        view.tables.push(PackageTable {
            source: t.datastore.clone(),
            table: t.table.clone(),
            purpose,
            retention,
            columns: t
                .columns
                .iter()
                .map(|c| {
                    let cat = annotated
                        .and_then(|a| a.column(c))
                        .and_then(|a| a.category.clone());
                    (c.clone(), cat)
                })
                .collect(),
            rows: text,
            csv: name,
            legal_hold,
        });
    }
    let own = found
        .own
        .as_ref()
        .map(|o| json!({"consents": o.consents, "requests": o.requests}));
    if let Some(o) = &found.own {
        for (table, rows) in [("consents", &o.consents), ("requests", &o.requests)] {
            let Some(first) = rows.first().and_then(Value::as_object) else {
                continue;
            };
            let columns: Vec<String> = first.keys().cloned().collect();
            let text: Vec<Vec<String>> = rows
                .iter()
                .map(|r| columns.iter().map(|c| csv_cell(&r[c])).collect())
                .collect();
            let name = file_name(&["assent", table]);
            files.push((name.clone(), csv_bytes(&columns, &text)?));
            view.tables.push(PackageTable {
                source: "assent".into(),
                table: table.into(),
                purpose: None,
                retention: None,
                columns: columns.into_iter().map(|c| (c, None)).collect(),
                rows: text,
                csv: name,
                legal_hold: false,
            });
        }
    }
    let mut doc = json!({
        "generated": generated,
        "controller": reg.controller.name,
        "empty": found.is_empty(),
        "datastores": data,
        "assent": own,
        "assent_searched": found.own.is_some(),
        "failures": found.failures,
    });
    if let Value::Object(m) = &mut doc {
        m.extend(extra);
    }
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| AppError::internal(&e))?;
    files.push(("data.json".into(), bytes));
    files.push(("index.html".into(), package_index(lang, &view).into_bytes()));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_names_are_safe() {
        assert_eq!(csv_cell(&json!("=SUM(A1)")), "'=SUM(A1)");
        assert_eq!(csv_cell(&json!("@x")), "'@x");
        assert_eq!(csv_cell(&json!(-3)), "'-3");
        assert_eq!(csv_cell(&json!("ok")), "ok");
        assert_eq!(csv_cell(&Value::Null), "");
        assert_eq!(
            file_name(&["shop", "../etc/passwd"]),
            "shop..._etc_passwd.csv"
        );
    }
}
