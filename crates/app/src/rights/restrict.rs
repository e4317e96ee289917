//! The restriction list (Art. 18): Assent's own list of people whose data may be stored but
//! not otherwise processed, until the restriction is lifted. The operator's systems ask it
//! over the admin API (`GET /admin/v1/restrictions?email=`) before processing someone.
//!
//! A person is kept as a keyed hash of their normalised email or phone (`identity`), the
//! request that asked for it and the DPO's reason; lifting keeps the entry with who lifted it,
//! when and why. Ledger entries (`rights.restricted`, `rights.restriction_lifted`) carry the
//! restriction's id and the kind of identifier, never the identifier or its hash. A lookup is
//! an audit entry naming the token that made it and the answer, not the person.

use assent_model::clock::rfc3339;
use assent_model::rights::Status;
use assent_store::{RestrictionRow, RightsRequestRow};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::fulfilment::{RunKind, RunStatus, record_finish, record_start};
use super::identity::{
    IdentityKind, normalise_email, normalise_phone, subject_hash_with, subject_key,
};
use super::request::{count_entry, event, ledger_item, new_id};
use crate::App;
use crate::error::{AppError, AppResult};

/// At most this many characters of reason.
pub const MAX_REASON: usize = 2_000;

/// `POST /admin/v1/requests/{id}/restrict`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictBody {
    /// Why (Art. 18(1)(a)-(d)), kept with the entry (not in the ledger).
    pub reason: String,
    /// A phone number to restrict too (the request's email is always used when it has one).
    #[serde(default)]
    pub phone: Option<String>,
}

/// A required reason.
fn reason_field(field: &str, s: &str) -> AppResult<String> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > MAX_REASON {
        return Err(AppError::invalid(
            field,
            format!("a reason of 1 to {MAX_REASON} characters is required"),
        ));
    }
    Ok(s.to_owned())
}

/// The request, when its requester's identity was verified and it is open.
pub async fn verified_open(st: &App, id: &str) -> AppResult<RightsRequestRow> {
    let r = st
        .store
        .rights_get(id)
        .await?
        .ok_or_else(|| AppError::not_found("no such request").field("id"))?;
    if r.erased_at_ms.is_some() {
        return Err(AppError::conflict("erased", "this request has been erased"));
    }
    match r.status {
        Status::Received => Err(AppError::conflict(
            "not_verified",
            "the requester's identity is not verified yet: verify it first",
        )),
        s if s.is_closed() => Err(AppError::conflict("closed", format!("this request is {s}"))),
        _ => Ok(r),
    }
}

/// The identifiers a restriction of `r` covers: its email, and `phone` if given.
fn identities(r: &RightsRequestRow, phone: Option<&str>) -> AppResult<Vec<(IdentityKind, String)>> {
    let mut v = vec![];
    if let Some(e) = &r.email {
        v.push((IdentityKind::Email, normalise_email("email", e)?));
    }
    if let Some(p) = phone.map(str::trim).filter(|p| !p.is_empty()) {
        v.push((IdentityKind::Phone, normalise_phone("phone", p)?));
    }
    if v.is_empty() {
        return Err(AppError::invalid(
            "phone",
            "this request has no email address: give the phone number to restrict",
        ));
    }
    Ok(v)
}

/// Restricts the requester of request `id`: one entry per identifier (already restricted
/// identifiers keep their entry), recorded as a `restrict` run; then the recipients are to
/// be told (Art. 19 tasks). Answers the entries in force for the request.
pub async fn restrict(st: &App, actor: &str, id: &str, b: &RestrictBody) -> AppResult<Value> {
    let reason = reason_field("reason", &b.reason)?;
    let r = verified_open(st, id).await?;
    let ids = identities(&r, b.phone.as_deref())?;
    let key = subject_key(st).await?;
    let run = record_start(st, id, RunKind::Restrict, actor).await?;
    let mut added = 0;
    let mut kept = 0;
    for (kind, value) in &ids {
        let hash = subject_hash_with(&key, *kind, value);
        if !st.store.restrictions_active(&hash).await?.is_empty() {
            kept += 1;
            continue;
        }
        let now = st.clock.now_ms();
        let row = RestrictionRow {
            id: new_id(now)?,
            subject_hash: hash,
            identity_kind: kind.as_str().to_owned(),
            request_id: Some(id.to_owned()),
            reason: reason.clone(),
            created_at_ms: now,
            created_by: actor.to_owned(),
            lifted_at_ms: None,
            lifted_by: None,
            lift_reason: None,
        };
        let entry = ledger_item(
            "rights.restricted",
            &r,
            r.status.as_str(),
            now,
            json!({"restriction": row.id, "identity": kind.as_str()}),
        )?;
        let line = event(
            id,
            now,
            "restricted",
            actor,
            Some(format!("{} restricted: {reason}", kind.as_str())),
        );
        if let Err(e) = st
            .store
            .restriction_insert(&row, Some(&line), Some(entry))
            .await
        {
            let err = format!("the restriction list could not be written: {e}");
            let status = if added > 0 {
                RunStatus::Partial
            } else {
                RunStatus::Failed
            };
            record_finish(
                st,
                &run,
                status,
                json!({"assent": {"restrictions_added": added}}),
                Some(err),
            )
            .await?;
            return Err(e.into());
        }
        count_entry(st);
        added += 1;
    }
    // The flag column of the datastores that have one (`restrict_column`), set for the
    // person's rows; the list above is kept in any case (systems without a flag ask it).
    let (flags, errors) = set_flags(st, &r, b.phone.as_deref(), true).await?;
    let mut outcome = flags;
    outcome.insert(
        "assent".into(),
        json!({"restrictions_added": added, "already_restricted": kept}),
    );
    let (status, error) = if errors.is_empty() {
        (RunStatus::Succeeded, None)
    } else {
        (RunStatus::Partial, Some(errors.join("; ")))
    };
    record_finish(
        st,
        &run,
        status,
        Value::Object(outcome.clone()),
        error.clone(),
    )
    .await?;
    super::notify::create_tasks(st, &r, "restriction", None, actor).await?;
    let mut v = json!({"restrictions": of_request(st, id).await?});
    outcome.remove("assent");
    v["datastores"] = Value::Object(outcome);
    if let Some(e) = error {
        v["error"] = json!(e);
    }
    Ok(v)
}

/// Sets (`on`) or clears the restriction flag of the requester's rows in every datastore
/// whose tables have a `restrict_column`: per datastore the rows flagged, and the errors
/// naming the datastore and table.
async fn set_flags(
    st: &App,
    r: &RightsRequestRow,
    phone: Option<&str>,
    on: bool,
) -> AppResult<(Map<String, Value>, Vec<String>)> {
    let list = super::stores::declared(st, &r.site)?;
    let ids = super::stores::identities(r.email.as_deref(), phone);
    if ids.is_empty()
        || !list
            .iter()
            .any(|d| d.tables.iter().any(|t| t.restrict_column.is_some()))
    {
        return Ok((Map::new(), vec![]));
    }
    let answers = super::stores::restrict(list, ids, on).await?;
    Ok(super::stores::outcome(&answers, |tables| {
        let mut m = Map::new();
        for t in tables {
            m.insert(
                t.table.clone(),
                json!({"rows": t.rows, "flag": t.columns.first()}),
            );
        }
        Value::Object(m)
    }))
}

/// A restriction as the admin API shows it (no identifier, no hash).
pub fn restriction_json(x: &RestrictionRow) -> Value {
    json!({
        "id": x.id,
        "identity": x.identity_kind,
        "request": x.request_id,
        "reason": x.reason,
        "created_at": rfc3339(x.created_at_ms),
        "created_by": x.created_by,
        "active": x.lifted_at_ms.is_none(),
        "lifted_at": x.lifted_at_ms.map(rfc3339),
        "lifted_by": x.lifted_by,
        "lift_reason": x.lift_reason,
    })
}

/// The restrictions recorded through request `id`.
pub async fn of_request(st: &App, id: &str) -> AppResult<Vec<Value>> {
    Ok(st
        .store
        .restrictions_of_request(id)
        .await?
        .iter()
        .map(restriction_json)
        .collect())
}

/// Lifts restriction `rid` (Art. 18(3): the requester is told before; the reason says how).
pub async fn lift(st: &App, actor: &str, rid: &str, reason: &str) -> AppResult<Value> {
    let reason = reason_field("reason", reason)?;
    let x = st
        .store
        .restriction_get(rid)
        .await?
        .ok_or_else(|| AppError::not_found("no such restriction").field("id"))?;
    if x.lifted_at_ms.is_some() {
        return Err(AppError::conflict(
            "already_lifted",
            "this restriction was already lifted",
        ));
    }
    let now = st.clock.now_ms();
    let req = match &x.request_id {
        Some(q) => st.store.rights_get(q).await?,
        None => None,
    };
    let payload = json!({
        "version": "assent-rights/1",
        "restriction": x.id,
        "identity": x.identity_kind,
        "request": x.request_id,
        "at": now,
    });
    let entry = match &req {
        Some(r) => ledger_item(
            "rights.restriction_lifted",
            r,
            r.status.as_str(),
            now,
            payload,
        )?,
        None => {
            let bytes =
                assent_ledger::canonical_json(&payload).map_err(|e| AppError::internal(&e))?;
            assent_store::AppendItem {
                ts_ms: now,
                kind: "rights.restriction_lifted".into(),
                payload: bytes,
                consent: None,
            }
        }
    };
    let line = req.as_ref().map(|r| {
        event(
            &r.id,
            now,
            "restriction_lifted",
            actor,
            Some(format!("{}: {reason}", x.identity_kind)),
        )
    });
    if !st
        .store
        .restriction_lift(rid, now, actor, &reason, line.as_ref(), Some(entry))
        .await?
    {
        return Err(AppError::conflict(
            "already_lifted",
            "this restriction was already lifted",
        ));
    }
    count_entry(st);
    let x = st
        .store
        .restriction_get(rid)
        .await?
        .ok_or_else(|| AppError::internal(&"restriction vanished"))?;
    let mut v = restriction_json(&x);
    // The datastores' flags are cleared once none of the request's restrictions is in
    // force; a failure is recorded as a run on the request, which then needs attention.
    if let Some(r) = &req
        && r.erased_at_ms.is_none()
        && st
            .store
            .restrictions_of_request(&r.id)
            .await?
            .iter()
            .all(|y| y.lifted_at_ms.is_some())
    {
        let (flags, errors) = set_flags(st, r, None, false).await?;
        if !flags.is_empty() {
            let run = record_start(st, &r.id, RunKind::Restrict, actor).await?;
            let (status, error) = if errors.is_empty() {
                (RunStatus::Succeeded, None)
            } else {
                (RunStatus::Failed, Some(errors.join("; ")))
            };
            let outcome = json!({"lifted": true, "datastores": flags.clone()});
            record_finish(st, &run, status, outcome, error.clone()).await?;
            v["datastores"] = Value::Object(flags);
            if let Some(e) = error {
                v["error"] = json!(e);
            }
        }
    }
    Ok(v)
}

/// Who asks the list, and about whom.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The keyed hash (64 hex digits) given by an earlier answer.
    #[serde(default)]
    pub hash: Option<String>,
}

/// Whether a person is restricted now: `{restricted, since, restrictions: [...], hash}`.
/// Exactly one of `email`, `phone`, `hash`. An audit entry records the lookup (the token and
/// the answer, not the person).
pub async fn lookup(st: &App, token_id: &str, q: &Lookup) -> AppResult<Value> {
    let given = [q.email.is_some(), q.phone.is_some(), q.hash.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if given != 1 {
        return Err(AppError::invalid(
            "email",
            "give exactly one of `email`, `phone` or `hash`",
        ));
    }
    let key = subject_key(st).await?;
    let hash: [u8; 32] = if let Some(e) = &q.email {
        subject_hash_with(&key, IdentityKind::Email, &normalise_email("email", e)?)
    } else if let Some(p) = &q.phone {
        subject_hash_with(&key, IdentityKind::Phone, &normalise_phone("phone", p)?)
    } else {
        let h = q
            .hash
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        hex::decode(&h)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| AppError::invalid("hash", "a hash is 64 hexadecimal digits"))?
    };
    let active = st.store.restrictions_active(&hash).await?;
    crate::ledger::audit(
        &st.store,
        st.clock.now_ms(),
        "admin.restrictions_queried",
        json!({"token_id": token_id, "restricted": !active.is_empty()}),
    )
    .await?;
    Ok(json!({
        "restricted": !active.is_empty(),
        "since": active.first().map(|x| rfc3339(x.created_at_ms)),
        "hash": hex::encode(hash),
        "restrictions": active.iter().map(restriction_json).collect::<Vec<_>>(),
    }))
}
