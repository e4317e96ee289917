//! Rectification reviewed by the DPO: the requester's correction is stored with the request
//! (offline intake's `correction`, or the request's details); the DPO approves the changes
//! to apply (`POST /admin/v1/requests/{id}/rectify`). Each approval is a `rectify` run whose
//! ledger entry names the fields changed, never their old or new values; then the recipients
//! are to be told (Art. 19 tasks).
//!
//! Fields: `name` and `email` are Assent's own record of the person (the request). A
//! datastore's column is named `datastore.table.column`: the datastore must be declared in
//! the registry's `[[datastores]]`, the table annotated and the column annotated as personal
//! (a `category` or an `identity`), and the value must fit the column's type in the live
//! database; otherwise the change is refused (422 naming `changes[k].field` or
//! `changes[k].value`) and nothing is applied. The person's rows are found by the request's
//! email, across the annotated references; each datastore changes in one transaction.

use serde::Deserialize;
use serde_json::{Value, json};

use assent_datastore::ops::Change;
use assent_model::datastore::Datastore;

use super::fulfilment::{RunKind, RunStatus, record_finish, record_start};
use super::identity::normalise_email;
use super::intake::{Correction, check_corrections};
use super::request::{MAX_NAME, count_entry, event, ledger_item};
use super::restrict::verified_open;
use super::stores::{self, Changes, declared, identities, outcome, purposes_touched};
use crate::App;
use crate::error::{AppError, AppResult};

/// The fields of Assent's own record a rectification may change.
pub const OWN_FIELDS: [&str; 2] = ["name", "email"];

/// `POST /admin/v1/requests/{id}/rectify`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rectification {
    pub changes: Vec<Correction>,
}

/// The checked changes: Assent's own record (name, email), and the datastores' columns with,
/// per datastore, the index of each change in the request's list.
#[derive(Debug, Default)]
struct Parsed {
    name: Option<String>,
    email: Option<String>,
    stores: Changes,
    index: Vec<(String, Vec<usize>)>,
}

/// A datastore column named `datastore.table.column`, checked against the annotations.
fn datastore_change(
    list: &[Datastore],
    k: usize,
    field: &str,
    value: &str,
) -> AppResult<(String, Change)> {
    let at = |x: &str| format!("changes[{k}].{x}");
    let parts: Vec<&str> = field.split('.').collect();
    let [store, table, column] = parts.as_slice() else {
        return Err(AppError::invalid(
            at("field"),
            format!("`{field}`: a datastore's column is `datastore.table.column`"),
        ));
    };
    let Some(d) = list.iter().find(|d| d.id == *store) else {
        return Err(AppError::invalid(
            at("field"),
            format!(
                "no datastore `{store}` is declared in the registry: only Assent's own \
                 record (`name`, `email`) and declared datastores' columns can be rectified"
            ),
        ));
    };
    let Some(t) = d.table(table) else {
        return Err(AppError::invalid(
            at("field"),
            format!("table `{table}` is not annotated in datastore `{store}`"),
        ));
    };
    let personal = t
        .column(column)
        .is_some_and(|c| c.category.is_some() || c.identity.is_some());
    if !personal {
        return Err(AppError::invalid(
            at("field"),
            format!(
                "column `{table}.{column}` of datastore `{store}` is not annotated as personal \
                 data (a `category` or an `identity`): only those can be rectified"
            ),
        ));
    }
    Ok((
        d.id.clone(),
        Change {
            table: t.name.clone(),
            column: (*column).to_string(),
            value: Some(value.to_string()),
        },
    ))
}

/// Checks the changes against the registry's annotations (`list`).
fn parse_changes(changes: &[Correction], list: &[Datastore]) -> AppResult<Parsed> {
    check_corrections("changes", changes)?;
    let mut p = Parsed::default();
    let (mut name, mut email) = (None, None);
    for (k, c) in changes.iter().enumerate() {
        let field = c.field.trim();
        let at = |x: &str| format!("changes[{k}].{x}");
        match field {
            "name" => {
                let v = c.value.trim();
                if v.is_empty() || v.chars().count() > MAX_NAME {
                    return Err(AppError::invalid(
                        at("value"),
                        format!("a name of 1 to {MAX_NAME} characters"),
                    ));
                }
                if name.replace(v.to_owned()).is_some() {
                    return Err(AppError::invalid(at("field"), "`name` is changed twice"));
                }
            }
            "email" => {
                let v = normalise_email(&at("value"), &c.value)?;
                if email.replace(v).is_some() {
                    return Err(AppError::invalid(at("field"), "`email` is changed twice"));
                }
            }
            f if f.contains('.') => {
                let (store, ch) = datastore_change(list, k, f, &c.value)?;
                let twice = p.stores.iter().any(|(s, v)| {
                    s == &store
                        && v.iter()
                            .any(|x| x.table == ch.table && x.column == ch.column)
                });
                if twice {
                    return Err(AppError::invalid(
                        at("field"),
                        format!("`{f}` is changed twice"),
                    ));
                }
                match p.stores.iter().position(|(s, _)| s == &store) {
                    Some(i) => {
                        p.stores[i].1.push(ch);
                        p.index[i].1.push(k);
                    }
                    None => {
                        p.stores.push((store.clone(), vec![ch]));
                        p.index.push((store, vec![k]));
                    }
                }
            }
            _ => {
                return Err(AppError::invalid(
                    at("field"),
                    format!(
                        "unknown field `{field}`: Assent's own record has {}; a datastore's \
                         column is `datastore.table.column`",
                        OWN_FIELDS.join(", ")
                    ),
                ));
            }
        }
    }
    p.name = name;
    p.email = email;
    // A change of an identity column goes last in its datastore: the others still find the
    // rows by the old value.
    for (i, (store, v)) in p.stores.iter_mut().enumerate() {
        let is_id = |c: &Change| {
            list.iter()
                .find(|d| d.id == *store)
                .and_then(|d| d.table(&c.table))
                .and_then(|t| t.column(&c.column))
                .is_some_and(|c| c.identity.is_some())
        };
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by_key(|&j| is_id(&v[j]));
        *v = order.iter().map(|&j| v[j].clone()).collect();
        p.index[i].1 = order.iter().map(|&j| p.index[i].1[j]).collect();
    }
    Ok(p)
}

/// Applies the approved changes to request `id`: the datastores' columns first (one
/// transaction per datastore), then Assent's own record; a `rectify` run, a
/// `rights.rectified` ledger entry naming the fields changed (never the values), then the
/// Art. 19 tasks. Answers the run's outcome.
pub async fn rectify(st: &App, actor: &str, id: &str, b: &Rectification) -> AppResult<Value> {
    check_corrections("changes", &b.changes)?;
    let r = verified_open(st, id).await?;
    let list = if b.changes.iter().any(|c| c.field.contains('.')) {
        declared(st, &r.site)?
    } else {
        vec![]
    };
    let p = parse_changes(&b.changes, &list)?;
    let ids = identities(r.email.as_deref(), None);
    if !p.stores.is_empty() {
        if ids.is_empty() {
            return Err(AppError::invalid(
                "changes",
                "this request has no email address to find the person's rows in the datastores",
            ));
        }
        // Types against the live catalogs before anything changes.
        if let Err((store, i, field, msg)) =
            stores::check_changes(list.clone(), p.stores.clone()).await?
        {
            let k = p
                .index
                .iter()
                .find(|(s, _)| s == &store)
                .and_then(|(_, v)| v.get(i).copied())
                .unwrap_or(0);
            return Err(AppError::invalid(
                format!("changes[{k}].{field}"),
                format!(
                    "{}: {msg}",
                    b.changes.get(k).map(|c| c.field.trim()).unwrap_or("")
                ),
            ));
        }
    }
    let run = record_start(st, id, RunKind::Rectify, actor).await?;
    let answers = if p.stores.is_empty() {
        vec![]
    } else {
        stores::rectify(list.clone(), ids, p.stores.clone()).await?
    };
    let (mut out, errors) = outcome(&answers, |tables| {
        let mut m = serde_json::Map::new();
        for t in tables {
            m.insert(
                t.table.clone(),
                json!({"rows": t.rows, "fields": t.columns}),
            );
        }
        Value::Object(m)
    });
    let mut fields: Vec<String> = vec![];
    let mut touched: Vec<(String, String)> = vec![];
    for (store, res) in &answers {
        if let Ok(tables) = res {
            for t in tables {
                fields.extend(t.columns.iter().map(|c| format!("{store}.{}.{c}", t.table)));
                if t.rows > 0 {
                    touched.push((store.clone(), t.table.clone()));
                }
            }
        }
    }
    let own: Vec<String> = [("name", &p.name), ("email", &p.email)]
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(f, _)| format!("assent.rights_requests.{f}"))
        .collect();
    fields.extend(own.iter().cloned());
    if !own.is_empty() {
        out.insert(
            "assent".into(),
            json!({"rights_requests": {"rows": 1, "fields": own}}),
        );
    }
    let now = st.clock.now_ms();
    let entry = ledger_item(
        "rights.rectified",
        &r,
        r.status.as_str(),
        now,
        json!({"run": run.id, "fields": fields}),
    )?;
    let line = event(
        id,
        now,
        "rectified",
        actor,
        Some(format!("fields changed: {}", fields.join(", "))),
    );
    let applied = if own.is_empty() {
        st.store
            .rights_add_event(&line, Some(entry))
            .await
            .map(|()| true)
    } else {
        st.store
            .rights_rectify_record(
                id,
                p.name.as_deref(),
                p.email.as_deref(),
                &line,
                Some(entry),
            )
            .await
    };
    let outcome = Value::Object(out);
    match applied {
        Ok(true) => count_entry(st),
        Ok(false) => {
            let err = "the request was erased meanwhile: nothing changed".to_owned();
            record_finish(st, &run, RunStatus::Failed, outcome, Some(err.clone())).await?;
            return Err(AppError::conflict("erased", err));
        }
        Err(e) => {
            let err = format!("Assent's records could not be changed: {e}");
            record_finish(st, &run, RunStatus::Failed, outcome, Some(err)).await?;
            return Err(e.into());
        }
    }
    let status = match (errors.is_empty(), fields.is_empty()) {
        (true, _) => RunStatus::Succeeded,
        (false, false) => RunStatus::Partial,
        (false, true) => RunStatus::Failed,
    };
    let error = (!errors.is_empty()).then(|| errors.join("; "));
    record_finish(st, &run, status, outcome, error.clone()).await?;
    if fields.is_empty() {
        return Ok(json!({"run": run.id, "fields": fields, "error": error, "recipients": 0}));
    }
    let r = verified_open(st, id).await?;
    // The recipients of the purposes whose data changed; all of them when Assent's own
    // record changed (it serves every purpose).
    let purposes = purposes_touched(&list, touched.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let affected = own.is_empty().then_some(purposes.as_slice());
    let n = super::notify::create_tasks(st, &r, "rectification", affected, actor).await?;
    Ok(json!({"run": run.id, "fields": fields, "error": error, "recipients": n}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(field: &str, value: &str) -> Correction {
        Correction {
            field: field.into(),
            value: value.into(),
        }
    }

    #[test]
    fn own_changes_name_the_bad_change() {
        let p = parse_changes(
            &[c("name", " Zoé Martin "), c("email", "Zoe@Example.org")],
            &[],
        )
        .unwrap();
        assert_eq!(p.name.as_deref(), Some("Zoé Martin"));
        assert_eq!(p.email.as_deref(), Some("zoe@example.org"));
        for (list, field) in [
            (
                vec![c("name", "a"), c("shop.customers.phone", "1")],
                "changes[1].field",
            ),
            (vec![c("address", "x")], "changes[0].field"),
            (vec![c("email", "nope")], "changes[0].value"),
            (vec![c("name", "")], "changes[0].value"),
            (vec![c("name", "a"), c("name", "b")], "changes[1].field"),
        ] {
            let e = parse_changes(&list, &[]).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{list:?}");
        }
    }
}
