//! Fulfilment from the request (`/admin/v1/requests/{id}/fulfilment/...`): preview what a
//! run would find or change, run it, and download an access package.
//!
//! The datastore this build searches is Assent's own: the consent records of the person
//! (found by the subject id, or the consent receipt ids, the requester gave: a receipt is
//! the browser's bearer secret of its subject), and their rights-request records on the
//! site (found by email). The operator's own databases are searched by the datastore engine
//! once the registry declares `[[datastores]]`.
//!
//! * **access**: a package (a ZIP archive: `data.json`, what was found per datastore and
//!   table with the purposes, recipients and retention that apply, Art. 15(1); one CSV per
//!   table; a readable `index.html`; the same files as `assent dsr access`) stored for 7 days behind a
//!   single-use link, emailed to the requester when the request has an address; the DPO can
//!   download it too (a request received by post). Downloaded once by the requester, or
//!   expired, it is deleted.
//! * **erase**: every consent record of the person is redacted in the ledger (the entry
//!   stays, its payload goes, a redaction entry records it); the rights-request records are
//!   kept (the proof that the request was handled, erased 2 years after closure). Then the
//!   Art. 19 tasks.
//! * **restrict**: `restrict::restrict`.

use std::collections::BTreeSet;

use assent_datastore::ops::TableData;
use assent_model::clock::rfc3339;
use assent_model::datastore::Datastore;
use assent_store::{ConsentRow, Entry, RightsAttachmentRow, RightsRequestRow, RightsTokenRow};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::fulfilment::{RunKind, RunStatus, record_finish, record_start, run_json};
use super::identity::subject_key;
use super::mailer::Outcome;
use super::mails::package_mail;
use super::request::{DOWNLOAD_TTL_MS, new_id, new_secret, sha256, site_tz};
use super::restrict::{RestrictBody, restrict, verified_open};
use super::stores::{
    self, counts_json, declared, erasure_json, identities, outcome, purposes_touched,
};
use super::workflow::send_and_record;
use crate::App;
use crate::error::{AppError, AppResult};
use crate::fulfil::{AccessResult, FoundTable, OwnRecords};

/// File names of packages start with this (what the retention job deletes at expiry).
pub const PACKAGE_PREFIX: &str = "assent-package-";

/// The media type of packages.
pub const PACKAGE_TYPE: &str = "application/zip";

/// What to run, and how to find the person in Assent's records.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// `access`, `erase` or `restrict` (default: from the request's type).
    #[serde(default)]
    pub kind: Option<String>,
    /// A consent subject id the requester gave.
    #[serde(default)]
    pub subject: Option<String>,
    /// Consent receipt ids the requester gave (besides the request's own).
    #[serde(default)]
    pub receipts: Vec<String>,
    /// For `restrict`: why, and a phone number.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// The run kind asked for, or the one the request's type calls for.
fn kind_of(r: &RightsRequestRow, b: &RunBody) -> AppResult<RunKind> {
    use assent_model::rights::RequestType as T;
    if let Some(k) = b.kind.as_deref() {
        return match RunKind::parse(k.trim()) {
            Some(RunKind::Rectify) => Err(AppError::invalid(
                "kind",
                "a rectification is applied with POST /admin/v1/requests/{id}/rectify",
            )),
            Some(k) => Ok(k),
            None => Err(AppError::invalid(
                "kind",
                "expected access, erase or restrict",
            )),
        };
    }
    match r.kind {
        T::Access | T::Portability => Ok(RunKind::Access),
        T::Erasure => Ok(RunKind::Erase),
        T::Restriction => Ok(RunKind::Restrict),
        _ => Err(AppError::invalid(
            "kind",
            format!(
                "a {} request needs `kind` (access, erase or restrict)",
                r.kind
            ),
        )),
    }
}

/// What Assent holds about the person.
struct Own {
    consents: Vec<(ConsentRow, Entry)>,
    requests: Vec<RightsRequestRow>,
}

/// Finds the person's records in Assent's own data.
async fn gather(st: &App, r: &RightsRequestRow, b: &RunBody) -> AppResult<Own> {
    let mut subjects: BTreeSet<String> = r.subject.iter().cloned().collect();
    if let Some(s) = &b.subject {
        let s = s.trim().to_ascii_lowercase();
        if !crate::consent::valid_subject(&s) {
            return Err(AppError::invalid(
                "subject",
                "a subject id is a UUID (36 characters)",
            ));
        }
        subjects.insert(s);
    }
    let mut receipts: Vec<String> = r.receipt_id.iter().cloned().collect();
    for (k, x) in b.receipts.iter().enumerate() {
        let x = x.trim().to_ascii_lowercase();
        if x.len() != 32 || !x.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(AppError::invalid(
                format!("receipts[{k}]"),
                "a consent receipt id is 32 hexadecimal characters",
            ));
        }
        receipts.push(x);
    }
    for x in &receipts {
        if let Some((c, _)) = st.store.consent_by_receipt(x).await?
            && c.site == r.site
        {
            subjects.insert(c.subject);
        }
    }
    let mut consents = vec![];
    for s in &subjects {
        consents.extend(st.store.consents_by_subject(&r.site, s).await?);
    }
    let requests = match &r.email {
        Some(e) => st
            .store
            .rights_list(None)
            .await?
            .into_iter()
            .filter(|x| x.site == r.site && x.email.as_deref() == Some(e.as_str()))
            .collect(),
        None => vec![r.clone()],
    };
    Ok(Own { consents, requests })
}

/// What a run of `kind` would do, per datastore and table; nothing changes.
pub async fn preview(st: &App, id: &str, b: &RunBody) -> AppResult<Value> {
    let r = verified_open(st, id).await?;
    let kind = kind_of(&r, b)?;
    let own = gather(st, &r, b).await?;
    let (consents, requests) = match kind {
        RunKind::Access => ("included", "included"),
        RunKind::Erase => (
            "redacted in the ledger (the entry stays, its content goes)",
            "kept: the record of the request, erased 2 years after it is closed",
        ),
        _ => ("unchanged", "unchanged"),
    };
    let recipients: Vec<String> = match kind {
        RunKind::Access => vec![],
        _ => st
            .sites
            .current(&r.site)
            .map(|c| super::notify::recipients(&c.snapshot, None))
            .unwrap_or_default()
            .into_iter()
            .map(|x| x.name)
            .collect(),
    };
    let mut stores = Map::new();
    stores.insert(
        "assent".into(),
        json!({
            "consents": {"rows": own.consents.len(), "action": consents},
            "rights_requests": {"rows": own.requests.len(), "action": requests},
        }),
    );
    let list = declared(st, &r.site)?;
    let declared_n = list.len();
    let ids = identities(r.email.as_deref(), b.phone.as_deref());
    if !list.is_empty() && !ids.is_empty() {
        let (m, _) = match kind {
            RunKind::Access => {
                let a = stores::find(list, ids).await?;
                outcome(&a, |tables| {
                    counts_json(tables.iter().map(|t| (t.table.clone(), t.rows.len())))
                })
            }
            RunKind::Erase => {
                let key = subject_key(st).await?;
                let a = stores::erase(list, ids, key, true).await?;
                outcome(&a, |t| erasure_json(t))
            }
            _ => (Map::new(), vec![]),
        };
        stores.extend(m);
    }
    Ok(json!({
        "kind": kind.as_str(),
        "datastores": stores,
        "datastores_declared": declared_n,
        "restriction": (kind == RunKind::Restrict).then_some("the requester's email (and phone, if given) is added to the restriction list"),
        "recipients_to_notify": recipients,
    }))
}

/// Runs it: answers the finished run (its outcome, or its error).
pub async fn run(st: &App, actor: &str, id: &str, b: &RunBody) -> AppResult<Value> {
    let r = verified_open(st, id).await?;
    let kind = kind_of(&r, b)?;
    match kind {
        RunKind::Restrict => {
            let body = RestrictBody {
                reason: b
                    .reason
                    .clone()
                    .ok_or_else(|| AppError::invalid("reason", "a restriction needs a `reason`"))?,
                phone: b.phone.clone(),
            };
            restrict(st, actor, id, &body).await?;
            latest_run(st, id).await
        }
        RunKind::Access => access(st, actor, &r, b).await,
        RunKind::Erase => erase(st, actor, &r, b).await,
        RunKind::Rectify => Err(AppError::invalid("kind", "use /rectify")),
    }
}

/// The latest run of a request, as the API shows it.
async fn latest_run(st: &App, id: &str) -> AppResult<Value> {
    let runs = st.store.runs_of(id).await?;
    runs.last()
        .map(run_json)
        .ok_or_else(|| AppError::internal(&"run vanished"))
}

/// The package of an access run, as one ZIP archive: the files `assent dsr access` writes
/// (`data.json`, one CSV per table with formulas defused, `index.html` in the request's
/// language saying where each item comes from, its category, purpose and retention), the
/// same code for both front ends; `data.json` adds the request and the facts of Art. 15(1)
/// (purposes, recipients, retention, sources).
fn package_zip(
    st: &App,
    r: &RightsRequestRow,
    own: &Own,
    list: &[Datastore],
    answers: &[stores::Answer<Vec<TableData>>],
    errors: &[String],
    now: i64,
) -> AppResult<Vec<u8>> {
    let cur = st.sites.current(&r.site).ok_or_else(|| {
        AppError::not_found("the request's site has no policy version").field("site")
    })?;
    let lang = r.language.as_str();
    let s = &cur.snapshot;
    let processing = json!({
        "controller": s.controller.name,
        "purposes": s.purposes.iter().map(|p| json!({"id": p.id, "name": p.name.get(lang, "en"), "legal_basis": p.legal_basis})).collect::<Vec<_>>(),
        "recipients": super::notify::recipients(s, None).into_iter().map(|x| x.name).collect::<Vec<_>>(),
        "retention": s.retention.iter().map(|x| json!({"id": x.id, "data": x.data_category.get(lang, "en"), "period": x.period.display(lang)})).collect::<Vec<_>>(),
        "sources": s.activities.iter().filter_map(|a| a.source.as_ref().map(|x| json!({"activity": a.id, "source": x.get(lang, "en")}))).collect::<Vec<_>>(),
    });
    let mut reg = crate::exports::registry_of(&cur);
    reg.datastores = list.to_vec();
    let requests = own
        .requests
        .iter()
        .map(|x| {
            json!({"id": x.id, "type": x.kind, "status": x.status, "received_at": rfc3339(x.received_at_ms), "email": x.email, "name": x.name, "details": x.details})
        })
        .collect();
    let consents = own
        .consents
        .iter()
        .map(|(c, e)| crate::exports::consent_json(c, e))
        .collect();
    let mut found = AccessResult {
        tables: vec![],
        own: Some(OwnRecords { consents, requests }),
        failures: vec![],
    };
    for (id, res) in answers {
        if let Ok(tables) = res {
            found.tables.extend(tables.iter().map(|t| FoundTable {
                datastore: id.clone(),
                table: t.table.clone(),
                columns: t.columns.clone(),
                rows: t.rows.clone(),
            }));
        }
    }
    let empty = found.is_empty();
    let note = if empty {
        "No data about you was found."
    } else {
        "Your data, per datastore and table."
    };
    let mut extra = Map::new();
    extra.insert("format".into(), json!("assent-access-package/2"));
    extra.insert("request".into(), json!(r.id));
    extra.insert("generated_at".into(), json!(rfc3339(now)));
    extra.insert("found".into(), json!(!empty));
    extra.insert("note".into(), json!(note));
    extra.insert("processing".into(), processing);
    extra.insert("failures".into(), json!(errors));
    let generated = jiff::Timestamp::from_millisecond(now)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    crate::fulfil::package_zip(&reg, &found, lang, &generated, extra)
}

/// An access run: builds the package, stores it behind a single-use 7-day link, emails it.
async fn access(st: &App, actor: &str, r: &RightsRequestRow, b: &RunBody) -> AppResult<Value> {
    let own = gather(st, r, b).await?;
    let list = declared(st, &r.site)?;
    let ids = identities(r.email.as_deref(), b.phone.as_deref());
    let run = record_start(st, &r.id, RunKind::Access, actor).await?;
    let answers = if list.is_empty() || ids.is_empty() {
        vec![]
    } else {
        stores::find(list.clone(), ids).await?
    };
    let (mut counts, errors) = outcome(&answers, |tables| {
        counts_json(tables.iter().map(|t| (t.table.clone(), t.rows.len())))
    });
    counts.insert(
        "assent".into(),
        json!({"consents": own.consents.len(), "rights_requests": own.requests.len()}),
    );
    let outcome = Value::Object(counts);
    let now = st.clock.now_ms();
    let zip = package_zip(st, r, &own, &list, &answers, &errors, now);
    let stored = match zip {
        Ok(bytes) => store_package(st, r, bytes, now).await,
        Err(e) => Err(e),
    };
    let (link, expires) = match stored {
        Ok(x) => x,
        Err(e) => {
            let err = format!("the package could not be stored: {}", e.message);
            record_finish(st, &run, RunStatus::Failed, outcome, Some(err)).await?;
            return Err(e);
        }
    };
    // Assent's records are always in the package: a datastore's failure makes it partial.
    let (status, error) = if errors.is_empty() {
        (RunStatus::Succeeded, None)
    } else {
        (RunStatus::Partial, Some(errors.join("; ")))
    };
    let mut v = run_json(&record_finish(st, &run, status, outcome, error).await?);
    let emailed = match (&r.email, st.sites.current(&r.site)) {
        (Some(to), Some(cur)) => {
            let tz = site_tz(st, &r.site);
            let mail = package_mail(r, &cur.snapshot.controller, to, &link, expires, &tz);
            matches!(
                send_and_record(st, r, &mail, false).await,
                Ok(Outcome::Sent)
            )
        }
        _ => false,
    };
    v["package_emailed"] = json!(emailed);
    v["package_expires_at"] = json!(rfc3339(expires));
    Ok(v)
}

/// Stores a package and its single-use token; answers the requester's link and its expiry.
async fn store_package(
    st: &App,
    r: &RightsRequestRow,
    bytes: Vec<u8>,
    now: i64,
) -> AppResult<(String, i64)> {
    let expires = now + DOWNLOAD_TTL_MS;
    let secret = new_secret()?;
    st.store
        .rights_insert_token(&RightsTokenRow {
            hash: sha256(&secret),
            request_id: r.id.clone(),
            purpose: "package".into(),
            expires_at_ms: expires,
            used_at_ms: None,
            attempts: 0,
        })
        .await?;
    let aid = new_id(now)?;
    let filename = format!("{PACKAGE_PREFIX}{}.zip", &r.id);
    st.store
        .rights_insert_attachment(&RightsAttachmentRow {
            id: aid.clone(),
            request_id: r.id.clone(),
            filename,
            content_type: PACKAGE_TYPE.into(),
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            bytes,
            created_at_ms: now,
            expires_at_ms: expires,
        })
        .await?;
    let link = format!(
        "{}/v1/requests/{}/download/{aid}?token={secret}",
        st.public_base, r.id
    );
    Ok((link, expires))
}

/// An erasure run on Assent's records: the person's consents are redacted one by one (each
/// its own transaction); a failure stops the run, which records what was done and what
/// failed. Then the Art. 19 tasks.
async fn erase(st: &App, actor: &str, r: &RightsRequestRow, b: &RunBody) -> AppResult<Value> {
    let own = gather(st, r, b).await?;
    let run = record_start(st, &r.id, RunKind::Erase, actor).await?;
    let token = actor.strip_prefix("admin:").unwrap_or(actor);
    let mut erased = 0usize;
    let mut error = None;
    for (c, _) in &own.consents {
        match crate::consent::erase(st, token, &c.receipt_id, "rights request: erasure").await {
            Ok(_) => erased += 1,
            Err(e) if e.code == "already_erased" => {}
            Err(e) => {
                error = Some(format!(
                    "datastore assent, table consents: {} ({} of {} erased)",
                    e.message,
                    erased,
                    own.consents.len()
                ));
                break;
            }
        }
    }
    // The operator's datastores: each in one transaction of its own, in reference order.
    let list = declared(st, &r.site)?;
    let ids = identities(r.email.as_deref(), b.phone.as_deref());
    let answers = if list.is_empty() || ids.is_empty() {
        vec![]
    } else {
        stores::erase(list.clone(), ids, subject_key(st).await?, false).await?
    };
    let (mut out, ds_errors) = outcome(&answers, |t| erasure_json(t));
    out.insert(
        "assent".into(),
        json!({
            "consents": {"rows": erased, "action": "redacted"},
            "rights_requests": {"rows": 0, "kept": own.requests.len()},
        }),
    );
    let assent_ok = error.is_none();
    let mut errors: Vec<String> = error.into_iter().collect();
    errors.extend(ds_errors);
    let any_done = erased > 0 || assent_ok || answers.iter().any(|(_, r)| r.is_ok());
    let status = match (errors.is_empty(), any_done) {
        (true, _) => RunStatus::Succeeded,
        (false, true) => RunStatus::Partial,
        (false, false) => RunStatus::Failed,
    };
    let error = (!errors.is_empty()).then(|| errors.join("; "));
    let done = record_finish(st, &run, status, Value::Object(out), error).await?;
    if status != RunStatus::Failed {
        // The recipients of the purposes whose data was erased; all of them when Assent's
        // consents were (they serve every purpose) or no datastore is declared.
        let mut touched: Vec<(&str, &str)> = vec![];
        for (id, res) in &answers {
            if let Ok(tables) = res {
                touched.extend(
                    tables
                        .iter()
                        .filter(|x| x.rows > 0)
                        .map(|x| (id.as_str(), x.table.as_str())),
                );
            }
        }
        let purposes = purposes_touched(&list, touched.into_iter());
        let affected = (erased == 0 && !list.is_empty()).then_some(purposes.as_slice());
        super::notify::create_tasks(st, r, "erasure", affected, actor).await?;
    }
    Ok(run_json(&done))
}

/// The latest package of a request, for the DPO to hand over (a request received by post):
/// `(file name, media type, bytes)`. Not consumed; an audit entry records the download.
pub async fn package(st: &App, actor: &str, id: &str) -> AppResult<(String, String, Vec<u8>)> {
    let r = st
        .store
        .rights_get(id)
        .await?
        .ok_or_else(|| AppError::not_found("no such request").field("id"))?;
    let now = st.clock.now_ms();
    let latest = st
        .store
        .rights_attachments(&r.id)
        .await?
        .into_iter()
        .filter(|a| a.filename.starts_with(PACKAGE_PREFIX) && a.expires_at_ms > now)
        .max_by_key(|a| a.created_at_ms)
        .ok_or_else(|| {
            AppError::not_found(
                "no package for this request (none was made, it was downloaded by the requester, or it expired): run access again",
            )
        })?;
    let a = st
        .store
        .rights_attachment(&r.id, &latest.id)
        .await?
        .ok_or_else(|| AppError::not_found("the package was deleted meanwhile"))?;
    st.store
        .rights_add_event(
            &super::request::event(id, now, "package_downloaded", actor, None),
            None,
        )
        .await?;
    Ok((a.filename, a.content_type, a.bytes))
}

/// Deletes packages whose link has expired (the rights job, every minute).
pub async fn purge_expired(st: &App, now: i64) -> AppResult<u64> {
    Ok(st
        .store
        .rights_delete_expired_attachments(PACKAGE_PREFIX, now)
        .await?)
}
