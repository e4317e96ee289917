//! Suppressions: the list of opt-outs for processors (CSV or JSON, addresses or their plain
//! SHA-256), the suppression of every marketing purpose when a rights request objects,
//! withdraws consent or asks for erasure, the erasure of a stored address (its keyed hash
//! stays, so the person is never contacted again), and the bulk import of an existing list
//! of subscribers with its provenance.
//!
//! When a rights request acts: at verification of the requester's email address. An
//! objection to direct marketing (Art. 21(3) GDPR) is absolute, needs no weighing by the DPO
//! and must be honoured at once (seed 001: "an objection honoured at once"); a withdrawal
//! likewise (Art. 7(3)); the proof the address is the requester's is the verification
//! itself. An erasure suppresses at verification too (being contacted is the opposite of
//! what was asked), and the stored address is erased when the DPO completes the request.

use assent_model::marketing::{
    ALL_PURPOSES, Basis, MarketingChannel, SubscriptionStatus, canonical_email,
};
use assent_model::rights::RequestType;
use assent_store::{RightsRequestRow, SubscriptionRow};
use serde::Serialize;
use serde_json::json;

use super::choice::{Choice, address, count_entry, purpose_of, site_version};
use crate::App;
use crate::error::{AppError, AppResult};

/// One line of the suppression list.
#[derive(Debug, Clone, Serialize)]
pub struct Suppression {
    pub site: String,
    pub channel: &'static str,
    /// A purpose id, or `*` for every purpose.
    pub purpose: String,
    /// The canonical address (`hashed=false`); empty when unknown or erased.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Plain SHA-256 (hex) of the canonical address (`hashed=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub source: String,
    pub updated_at: String,
}

/// The opt-outs of `channel` changed since `since_ms`.
pub async fn suppressions(
    st: &App,
    channel: MarketingChannel,
    since_ms: i64,
    hashed: bool,
) -> AppResult<Vec<Suppression>> {
    let rows = st.store.marketing_suppressions(channel, since_ms).await?;
    Ok(rows
        .into_iter()
        .map(|r| Suppression {
            site: r.site,
            channel: r.channel.as_str(),
            purpose: r.purpose,
            address: (!hashed).then(|| r.address.unwrap_or_default()),
            sha256: hashed.then(|| r.sha256.unwrap_or_default()),
            source: r.source,
            updated_at: assent_model::clock::rfc3339(r.updated_at_ms),
        })
        .collect())
}

/// The suppression list as CSV (header line first). Cells that a spreadsheet would read as
/// a formula are prefixed with `'`, except E.164 numbers (`+` and digits only), which cannot
/// carry one.
pub fn to_csv(lines: &[Suppression], hashed: bool) -> String {
    let cell = |s: &str| {
        let e164 = s
            .strip_prefix('+')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        if e164 {
            s.to_owned()
        } else {
            assent_pages::register::csv_cell(s)
        }
    };
    let mut w = csv::Writer::from_writer(vec![]);
    let who = if hashed { "sha256" } else { "address" };
    let _ = w.write_record(["site", "channel", "purpose", who, "source", "updated_at"]);
    for l in lines {
        let v = if hashed { &l.sha256 } else { &l.address };
        let _ = w.write_record([
            cell(&l.site),
            l.channel.to_owned(),
            cell(&l.purpose),
            cell(v.as_deref().unwrap_or("")),
            cell(&l.source),
            l.updated_at.clone(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Whether a request type stops marketing.
fn stops_marketing(k: RequestType) -> bool {
    matches!(
        k,
        RequestType::Objection | RequestType::WithdrawConsent | RequestType::Erasure
    )
}

/// At verification of a rights request that objects, withdraws consent or asks for erasure:
/// suppresses every marketing purpose of the site for the requester's email address.
pub async fn on_request_verified(st: &App, r: &RightsRequestRow) -> AppResult<bool> {
    if !stops_marketing(r.kind) {
        return Ok(false);
    }
    let Some(email) = r.email.as_deref() else {
        return Ok(false);
    };
    let Ok(canonical) = canonical_email(email) else {
        return Ok(false);
    };
    let hash = st.marketing_key.hash(MarketingChannel::Email, &canonical);
    Choice {
        site: r.site.clone(),
        channel: MarketingChannel::Email,
        addr_hash: hash,
        address: Some(canonical),
        purposes: vec![ALL_PURPOSES.to_owned()],
        status: SubscriptionStatus::OptedOut,
        basis: None,
        source: "rights_request",
        provenance: json!({"request": r.id, "type": r.kind.as_str()}),
        actor: "system".into(),
        receipt_id: None,
    }
    .write(st)
    .await?;
    Ok(true)
}

/// When an erasure request is completed: the stored copies of the address go; its keyed
/// hash stays in a suppression of every purpose, so it is never contacted again.
pub async fn on_erasure_completed(st: &App, r: &RightsRequestRow) -> AppResult<()> {
    if r.kind != RequestType::Erasure {
        return Ok(());
    }
    let Some(canonical) = r.email.as_deref().and_then(|e| canonical_email(e).ok()) else {
        return Ok(());
    };
    let hash = st.marketing_key.hash(MarketingChannel::Email, &canonical);
    let now = st.clock.now_ms();
    let (rows, item, _) = Choice {
        site: r.site.clone(),
        channel: MarketingChannel::Email,
        addr_hash: hash,
        address: None,
        purposes: vec![ALL_PURPOSES.to_owned()],
        status: SubscriptionStatus::OptedOut,
        basis: None,
        source: "erasure",
        provenance: json!({"request": r.id}),
        actor: "system".into(),
        receipt_id: None,
    }
    .build(now)?;
    st.store
        .marketing_erase_address(&hash, &rows, Some(item))
        .await?;
    count_entry(st);
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub imported: usize,
}

/// The columns of an import file (a header line names them; order is free).
pub const IMPORT_COLUMNS: [&str; 9] = [
    "email",
    "phone",
    "purpose",
    "basis",
    "source_url",
    "notice",
    "order_ref",
    "objection_offered",
    "collected_at",
];

/// Imports subscribers of `site` from CSV: every line is validated first (an error names its
/// line and column and nothing is written), then each is recorded as an opt-in with source
/// `import`, its provenance and its own ledger entry.
pub async fn import(st: &App, site: &str, actor: &str, csv_text: &str) -> AppResult<ImportReport> {
    let cur = site_version(st, site)?;
    let mut rd = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv_text.as_bytes());
    let headers = rd
        .headers()
        .map_err(|e| AppError::invalid("file", format!("line 1: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    for h in headers.iter() {
        if !IMPORT_COLUMNS.contains(&h) {
            return Err(AppError::invalid(
                "file",
                format!(
                    "line 1: unknown column `{h}` (columns: {})",
                    IMPORT_COLUMNS.join(", ")
                ),
            ));
        }
    }
    let mut choices = vec![];
    for (k, rec) in rd.records().enumerate() {
        let line = k + 2;
        let rec = rec.map_err(|e| AppError::invalid("file", format!("line {line}: {e}")))?;
        let get = |name: &str| {
            col(name)
                .and_then(|i| rec.get(i))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let at = |what: &str, e: AppError| {
            AppError::invalid("file", format!("line {line}, {what}: {}", e.message))
        };
        let (channel, raw, field) = match (get("email"), get("phone")) {
            (Some(e), None) => (MarketingChannel::Email, e, "email"),
            (None, Some(p)) => (MarketingChannel::Sms, p, "phone"),
            _ => {
                return Err(AppError::invalid(
                    "file",
                    format!("line {line}: give an email or a phone, not both"),
                ));
            }
        };
        let purpose = get("purpose").unwrap_or_default();
        let p = purpose_of(&cur, &purpose, channel).map_err(|e| at("purpose", e))?;
        let basis = match get("basis").as_deref() {
            None | Some("consent") => Basis::Consent,
            Some("soft_opt_in") if p.soft_opt_in && channel == MarketingChannel::Email => {
                Basis::SoftOptIn
            }
            Some(other) => {
                return Err(AppError::invalid(
                    "file",
                    format!(
                        "line {line}, basis: `{other}` is not allowed here (consent, or soft_opt_in for an email purpose that allows it)"
                    ),
                ));
            }
        };
        let proof_field = if basis == Basis::Consent {
            "notice"
        } else {
            "order_ref"
        };
        if get(proof_field).is_none() {
            return Err(AppError::invalid(
                "file",
                format!(
                    "line {line}, {proof_field}: required for basis {}",
                    basis.as_str()
                ),
            ));
        }
        if basis == Basis::SoftOptIn && get("objection_offered").as_deref() != Some("true") {
            return Err(AppError::invalid(
                "file",
                format!(
                    "line {line}, objection_offered: soft opt-in needs `true` (a free objection offered at collection)"
                ),
            ));
        }
        let addr = address(st, &cur, channel, &raw, field).map_err(|e| at(field, e))?;
        choices.push(Choice {
            site: site.to_owned(),
            channel,
            addr_hash: addr.hash,
            address: Some(addr.canonical),
            purposes: vec![purpose],
            status: SubscriptionStatus::Confirmed,
            basis: Some(basis),
            source: "import",
            provenance: json!({
                "imported": true,
                "line": line,
                "source_url": get("source_url"),
                "notice": get("notice"),
                "order_ref": get("order_ref"),
                "collected_at": get("collected_at"),
                "objection_offered": get("objection_offered").map(|v| v == "true"),
            }),
            actor: actor.to_owned(),
            receipt_id: None,
        });
    }
    let mut rep = ImportReport::default();
    for c in choices {
        c.write(st).await?;
        rep.imported += 1;
    }
    Ok(rep)
}

/// The suppression rows of one address (tests, the admin's view of a person).
pub async fn rows_of(
    st: &App,
    site: &str,
    channel: MarketingChannel,
    canonical: &str,
) -> AppResult<Vec<SubscriptionRow>> {
    let hash = st.marketing_key.hash(channel, canonical);
    Ok(st.store.marketing_of(site, channel, &hash).await?)
}
