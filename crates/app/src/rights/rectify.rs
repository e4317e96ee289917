//! Rectification reviewed by the DPO: the requester's correction is stored with the request
//! (offline intake's `correction`, or the request's details); the DPO approves the changes
//! to apply (`POST /admin/v1/requests/{id}/rectify`). Each approval is a `rectify` run whose
//! ledger entry names the fields changed, never their old or new values; then the recipients
//! are to be told (Art. 19 tasks).
//!
//! Fields: `name` and `email` are Assent's own record of the person (the request). A
//! datastore's column is named `datastore.table.column`: it needs the datastore engine and a
//! `[[datastores]]` entry in the registry; until one exists, such a change is refused with a
//! message naming it, and nothing is applied.

use serde::Deserialize;
use serde_json::{Value, json};

use super::fulfilment::{RunKind, RunStatus, record_finish, record_start};
use super::identity::normalise_email;
use super::intake::{Correction, check_corrections};
use super::request::{MAX_NAME, count_entry, event, ledger_item};
use super::restrict::verified_open;
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

/// The checked changes to Assent's own record: (name, email).
fn own_changes(changes: &[Correction]) -> AppResult<(Option<String>, Option<String>)> {
    check_corrections("changes", changes)?;
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
                let store = f.split('.').next().unwrap_or_default();
                return Err(AppError::invalid(
                    at("field"),
                    format!(
                        "no datastore `{store}` is declared in the registry: only Assent's own \
                         record (`name`, `email`) can be rectified here"
                    ),
                ));
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
    Ok((name, email))
}

/// Applies the approved changes to request `id`: a `rectify` run, a `rights.rectified`
/// ledger entry naming the fields, then the Art. 19 tasks. Answers the run's outcome.
pub async fn rectify(st: &App, actor: &str, id: &str, b: &Rectification) -> AppResult<Value> {
    let (name, email) = own_changes(&b.changes)?;
    let r = verified_open(st, id).await?;
    let fields: Vec<String> = [("name", &name), ("email", &email)]
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(f, _)| format!("assent.rights_requests.{f}"))
        .collect();
    let run = record_start(st, id, RunKind::Rectify, actor).await?;
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
    let applied = st
        .store
        .rights_rectify_record(id, name.as_deref(), email.as_deref(), &line, Some(entry))
        .await;
    let outcome = json!({"assent": {"rights_requests": {"rows": 1, "fields": fields}}});
    match applied {
        Ok(true) => {
            count_entry(st);
            record_finish(st, &run, RunStatus::Succeeded, outcome, None).await?;
        }
        Ok(false) => {
            let err = "the request was erased meanwhile: nothing changed".to_owned();
            record_finish(st, &run, RunStatus::Failed, json!({}), Some(err.clone())).await?;
            return Err(AppError::conflict("erased", err));
        }
        Err(e) => {
            let err = format!("Assent's records could not be changed: {e}");
            record_finish(st, &run, RunStatus::Failed, json!({}), Some(err)).await?;
            return Err(e.into());
        }
    }
    let r = verified_open(st, id).await?;
    let n = super::notify::create_tasks(st, &r, "rectification", None, actor).await?;
    Ok(json!({"run": run.id, "fields": fields, "recipients": n}))
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
        let (n, e) =
            own_changes(&[c("name", " Zoé Martin "), c("email", "Zoe@Example.org")]).unwrap();
        assert_eq!(n.as_deref(), Some("Zoé Martin"));
        assert_eq!(e.as_deref(), Some("zoe@example.org"));
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
            let e = own_changes(&list).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{list:?}");
        }
    }
}
