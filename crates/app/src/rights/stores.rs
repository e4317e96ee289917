//! The operator's own databases in fulfilment runs: the registry's `[[datastores]]`, reached
//! through `assent-datastore` (blocking clients, run here on a blocking thread, one datastore
//! after the other). Each datastore answers on its own: one that fails (unreachable, wrong
//! password, missing table, lock timeout, permission denied) is rolled back by the engine and
//! reported with its name and table, and the others' results stand.
//!
//! The annotations are read from the configured registry file when the run starts (they are
//! operational configuration: editing them never makes a new policy version), else from the
//! registry the site's current version was applied from.

use assent_datastore::ops::{self, TableData, TableErasure};
use assent_datastore::{Conn, ConnectOptions, DsResult, Identity, connect, url_from_env};
use assent_model::Registry;
use assent_model::datastore::Datastore;
use serde_json::{Map, Value, json};

use crate::App;
use crate::error::{AppError, AppResult};

/// The datastores declared for the runs of `site`.
pub fn declared(st: &App, site: &str) -> AppResult<Vec<Datastore>> {
    if let Some(path) = &st.settings.registry {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AppError::internal(&format!("cannot read the registry {}: {e}", path.display()))
        })?;
        let reg: Registry = toml::from_str(&text).map_err(|e| {
            AppError::internal(&format!(
                "the registry {} does not parse: {e}",
                path.display()
            ))
        })?;
        return Ok(reg.datastores);
    }
    Ok(st
        .sites
        .current(site)
        .map(|v| crate::exports::registry_of(&v).datastores)
        .unwrap_or_default())
}

/// The identities a request gives: its email, and a phone if given.
pub fn identities(email: Option<&str>, phone: Option<&str>) -> Vec<Identity> {
    let mut v = vec![];
    if let Some(e) = email {
        v.push(Identity::new("email", e));
    }
    if let Some(p) = phone.map(str::trim).filter(|p| !p.is_empty()) {
        v.push(Identity::new("phone", p));
    }
    v
}

/// One datastore's answer: its id, and its result or the error naming it (and its table).
pub type Answer<T> = (String, Result<T, String>);

/// Runs `f` on every datastore, one after the other, on a blocking thread.
pub async fn each<T, F>(list: Vec<Datastore>, f: F) -> AppResult<Vec<Answer<T>>>
where
    T: Send + 'static,
    F: Fn(&mut dyn Conn, &Datastore) -> DsResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        list.iter()
            .map(|ds| {
                let res = url_from_env(&ds.url_env)
                    .and_then(|url| {
                        connect(ds.kind, &url, ConnectOptions::default().for_datastore(ds))
                    })
                    .and_then(|mut conn| f(conn.as_mut(), ds));
                (
                    ds.id.clone(),
                    res.map_err(|e| format!("datastore {}: {e}", ds.id)),
                )
            })
            .collect()
    })
    .await
    .map_err(|e| AppError::internal(&e))
}

/// The person's rows found in each datastore (`find`).
pub async fn find(
    list: Vec<Datastore>,
    ids: Vec<Identity>,
) -> AppResult<Vec<Answer<Vec<TableData>>>> {
    each(list, move |c, ds| ops::find(c, ds, &ids)).await
}

/// What erasure does (`dry`: would do) in each datastore.
pub async fn erase(
    list: Vec<Datastore>,
    ids: Vec<Identity>,
    key: Vec<u8>,
    dry: bool,
) -> AppResult<Vec<Answer<Vec<TableErasure>>>> {
    each(list, move |c, ds| {
        if dry {
            ops::plan(c, ds, &ids)
        } else {
            ops::erase(c, ds, &ids, &key)
        }
    })
    .await
}

/// Sets (`on`) or clears the restriction flag (`restrict_column`) of the person's rows in
/// each datastore that has one.
pub async fn restrict(
    list: Vec<Datastore>,
    ids: Vec<Identity>,
    on: bool,
) -> AppResult<Vec<Answer<Vec<ops::Touched>>>> {
    let flagged: Vec<Datastore> = list
        .into_iter()
        .filter(|d| d.tables.iter().any(|t| t.restrict_column.is_some()))
        .collect();
    each(flagged, move |c, ds| ops::restrict(c, ds, &ids, on)).await
}

/// Corrections to apply, per datastore id.
pub type Changes = Vec<(String, Vec<ops::Change>)>;

/// Checks the corrections against each datastore's live catalog, changing nothing:
/// `Err((datastore, index in its list, field, message))` for the first that does not fit.
/// A datastore that cannot be reached is left to the run, which records its failure.
pub async fn check_changes(
    list: Vec<Datastore>,
    changes: Changes,
) -> AppResult<Result<(), (String, usize, &'static str, String)>> {
    let list: Vec<Datastore> = list
        .into_iter()
        .filter(|d| changes.iter().any(|(id, _)| id == &d.id))
        .collect();
    let answers = each(list, move |c, ds| {
        let cat = c.catalog()?;
        let mine = changes
            .iter()
            .find(|(id, _)| id == &ds.id)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default();
        Ok(ops::check_changes(&cat, ds, mine))
    })
    .await?;
    for (id, r) in answers {
        if let Ok(Err((k, field, msg))) = r {
            return Ok(Err((id, k, field, msg)));
        }
    }
    Ok(Ok(()))
}

/// Applies the corrections to the person's rows, one transaction per datastore.
pub async fn rectify(
    list: Vec<Datastore>,
    ids: Vec<Identity>,
    changes: Changes,
) -> AppResult<Vec<Answer<Vec<ops::Touched>>>> {
    let list: Vec<Datastore> = list
        .into_iter()
        .filter(|d| changes.iter().any(|(id, _)| id == &d.id))
        .collect();
    each(list, move |c, ds| {
        let mine = changes
            .iter()
            .find(|(id, _)| id == &ds.id)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default();
        ops::rectify(c, ds, &ids, mine)
    })
    .await
}

/// Per datastore: `ok(result)` as JSON, or `{"error": ...}`; and the errors.
pub fn outcome<T>(
    answers: &[Answer<T>],
    ok: impl Fn(&T) -> Value,
) -> (Map<String, Value>, Vec<String>) {
    let mut out = Map::new();
    let mut errors = vec![];
    for (id, r) in answers {
        match r {
            Ok(x) => {
                out.insert(id.clone(), ok(x));
            }
            Err(e) => {
                out.insert(id.clone(), json!({"error": e}));
                errors.push(e.clone());
            }
        }
    }
    (out, errors)
}

/// An erasure's (or dry run's) tables as the outcome shows them (no personal data).
pub fn erasure_json(tables: &[TableErasure]) -> Value {
    let mut m = Map::new();
    for t in tables {
        m.insert(
            t.table.clone(),
            json!({"action": t.action.as_str(), "rows": t.rows, "columns": t.columns}),
        );
    }
    Value::Object(m)
}

/// Row counts per table (a find, a restriction).
pub fn counts_json(tables: impl Iterator<Item = (String, usize)>) -> Value {
    let mut m = Map::new();
    for (t, n) in tables {
        m.insert(t, json!({"rows": n}));
    }
    Value::Object(m)
}

/// The purposes of the tables that had rows of the person (for the Art. 19 recipients).
pub fn purposes_touched<'a>(
    list: &[Datastore],
    touched: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    let mut out: Vec<String> = touched
        .filter_map(|(ds, table)| {
            list.iter()
                .find(|d| d.id == ds)
                .and_then(|d| d.table(table))
                .and_then(|t| t.purpose.clone())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
