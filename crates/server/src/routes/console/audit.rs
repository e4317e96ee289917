//! The audit trail: every ledger entry but consents, newest first, fifty a page, with who
//! acted (`by` or `actor` of the entry's payload) and the payload itself (escaped).

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use assent_pages::console::pages::{self, AuditLine};

use super::common::{fail, ok, shell};
use crate::auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;

const PER_PAGE: u32 = 50;
/// Pages beyond this are refused (an offset scan of the audit index).
const MAX_PAGE: u32 = 10_000;
/// Longest payload shown.
const MAX_DETAILS: usize = 2_000;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    page: u32,
}

/// Who acted, as the payload names them.
fn actor_of(v: &Value) -> String {
    ["by", "actor"]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str))
        .map(str::to_owned)
        .or_else(|| {
            v.get("user_id")
                .and_then(Value::as_str)
                .map(|id| format!("user:{id}"))
        })
        .unwrap_or_default()
}

/// `GET /admin/audit?page=N`.
pub async fn audit_page(
    admin: Admin,
    State(st): State<AppState>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let page = q.map(|Query(q)| q.page).unwrap_or(0);
    if page > MAX_PAGE {
        return fail(
            &admin,
            ApiError::invalid("page", format!("at most {MAX_PAGE}")),
        );
    }
    let rows = match st.store.audit_entries(PER_PAGE + 1, page * PER_PAGE).await {
        Ok(r) => r,
        Err(e) => return fail(&admin, ApiError::from(e)),
    };
    let more = rows.len() > PER_PAGE as usize;
    let lines: Vec<AuditLine> = rows
        .into_iter()
        .take(PER_PAGE as usize)
        .map(|(e, payload)| {
            let v: Value = payload
                .as_deref()
                .and_then(|p| serde_json::from_slice(p).ok())
                .unwrap_or(Value::Null);
            let mut details = match (&payload, &v) {
                (None, _) => String::from("—"),
                (Some(_), Value::Null) => String::from("…"),
                (Some(_), v) => v.to_string(),
            };
            if details.len() > MAX_DETAILS {
                let cut = (0..=MAX_DETAILS)
                    .rev()
                    .find(|i| details.is_char_boundary(*i))
                    .unwrap_or(0);
                details.truncate(cut);
                details.push('…');
            }
            AuditLine {
                ts_ms: e.ts_ms,
                chain: e.chain,
                seq: e.seq,
                kind: e.kind,
                actor: actor_of(&v),
                details,
            }
        })
        .collect();
    ok(pages::audit(
        &shell(&admin, "console.title.audit", "/admin/audit"),
        &lines,
        page,
        more,
    ))
}
