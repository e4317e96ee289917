//! One rights request: intake validation, ids, secrets and codes, the language and time zone
//! it is handled in, its deadlines, its ledger entries and history lines, its summary.

use assent_model::clock::rfc3339;
use assent_model::registry::Controller;
use assent_model::rights::{Deadlines, RequestType, Status, time_zone};
use assent_store::{AppendItem, RightsEventRow, RightsRequestRow};
use jiff::tz::TimeZone;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::App;
use crate::error::{AppError, AppResult};

pub const MAX_NAME: usize = 200;
pub const MAX_EMAIL: usize = 254;
pub const MAX_DETAILS: usize = 5_000;
/// Verification links and codes expire after 24 hours.
pub const VERIFY_TTL_MS: i64 = 24 * 3_600_000;
/// Download links of attachments expire after 7 days.
pub const DOWNLOAD_TTL_MS: i64 = 7 * 86_400_000;
/// Wrong codes allowed per request before its code stops working.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// A submission as typed (form or JSON), before validation.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub site: String,
    pub kind: String,
    pub email: String,
    pub name: String,
    pub details: Option<String>,
    pub receipt: Option<String>,
    pub language: Option<String>,
}

/// A validated submission.
#[derive(Debug, Clone)]
pub struct Valid {
    pub site: String,
    pub kind: RequestType,
    pub email: String,
    pub name: String,
    pub details: Option<String>,
    pub receipt: Option<String>,
    pub language: String,
}

fn has_line_break(s: &str) -> bool {
    s.contains(['\r', '\n', '\u{85}', '\u{2028}', '\u{2029}'])
}

/// Checks a submission; errors name the field (`email`, `name`, `details`, `type`,
/// `receipt`).
pub fn validate(sub: &Submission, site_langs: &[String]) -> Result<Valid, AppError> {
    let kind = RequestType::parse(sub.kind.trim()).ok_or_else(|| {
        let all: Vec<&str> = RequestType::ALL.iter().map(|t| t.as_str()).collect();
        AppError::invalid(
            "type",
            format!("unknown request type; expected one of {}", all.join(", ")),
        )
    })?;
    let email = sub.email.trim();
    if has_line_break(email) {
        return Err(AppError::invalid(
            "email",
            "the email address must not contain line breaks",
        ));
    }
    if email.chars().count() > MAX_EMAIL {
        return Err(AppError::invalid(
            "email",
            format!("the email address is longer than {MAX_EMAIL} characters"),
        ));
    }
    if super::mailer::parse_address(email).is_none() || !email.contains('.') {
        return Err(AppError::invalid("email", "not a valid email address"));
    }
    let name = sub.name.trim();
    if has_line_break(name) {
        return Err(AppError::invalid(
            "name",
            "the name must not contain line breaks",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "the name must not contain control characters",
        ));
    }
    if name.is_empty() {
        return Err(AppError::invalid("name", "a name is required"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(AppError::invalid(
            "name",
            format!("the name is longer than {MAX_NAME} characters"),
        ));
    }
    let details = sub
        .details
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if let Some(d) = details {
        if d.chars().count() > MAX_DETAILS {
            return Err(AppError::invalid(
                "details",
                format!("the details are longer than {MAX_DETAILS} characters"),
            ));
        }
        if d.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(AppError::invalid(
                "details",
                "the details contain control characters",
            ));
        }
    }
    let receipt = sub
        .receipt
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(r) = receipt
        && (r.len() != 32 || !r.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(AppError::invalid(
            "receipt",
            "a consent receipt id is 32 hexadecimal characters",
        ));
    }
    let language = pick_lang(sub.language.as_deref(), site_langs).to_owned();
    Ok(Valid {
        site: sub.site.clone(),
        kind,
        email: email.to_lowercase(),
        name: name.to_owned(),
        details: details.map(str::to_owned),
        receipt: receipt.map(str::to_ascii_lowercase),
        language,
    })
}

/// A new request (status `received`) from a validated submission, received at `received`
/// and due at `due`.
pub fn new_row(id: &str, v: &Valid, received: i64, due: i64) -> RightsRequestRow {
    RightsRequestRow {
        id: id.to_owned(),
        site: v.site.clone(),
        kind: v.kind,
        status: Status::Received,
        language: v.language.clone(),
        email: Some(v.email.clone()),
        name: Some(v.name.clone()),
        details: v.details.clone(),
        received_at_ms: received,
        verified_at_ms: None,
        due_at_ms: due,
        extended_due_at_ms: None,
        extension_reason: None,
        closed_at_ms: None,
        response: None,
        subject: None,
        receipt_id: v.receipt.clone(),
        mail_problem: None,
        reminded_7d_at_ms: None,
        reminded_1d_at_ms: None,
        overdue_at_ms: None,
        erased_at_ms: None,
    }
}

pub fn sha256(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// The stored hash of a verification code: bound to its request.
pub fn code_hash(request_id: &str, code: &str) -> [u8; 32] {
    sha256(&format!("code:{request_id}:{code}"))
}

fn random_bytes<const N: usize>() -> AppResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| AppError::internal(&e))?;
    Ok(b)
}

/// 128-bit ids: a 48-bit millisecond prefix (index-friendly) and 80 random bits.
pub fn new_id(now_ms: i64) -> AppResult<String> {
    let mut b: [u8; 16] = random_bytes()?;
    let t = u64::try_from(now_ms).unwrap_or(0).to_be_bytes();
    b[..6].copy_from_slice(&t[2..]);
    Ok(hex::encode(b))
}

/// A 256-bit secret for links.
pub fn new_secret() -> AppResult<String> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// A uniformly random 6-digit code.
pub fn new_code() -> AppResult<String> {
    loop {
        let n = u32::from_be_bytes(random_bytes()?);
        // Rejection sampling: 4_294_000_000 is a multiple of 1_000_000.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

pub use assent_pages::rights::pick_lang;

/// The controller's time zone for a site (UTC if the site or zone is unknown; the registry
/// lint refuses unknown zones).
pub fn site_tz(st: &App, site: &str) -> TimeZone {
    st.sites
        .current(site)
        .and_then(|c| time_zone(&c.snapshot.controller.timezone).ok())
        .unwrap_or(TimeZone::UTC)
}

/// Where the DPO's mail goes: the DPO, else the rights address, else the controller.
pub fn dpo_email(c: &Controller) -> String {
    c.dpo
        .as_ref()
        .and_then(|d| d.email.clone())
        .or_else(|| c.rights_email.clone())
        .unwrap_or_else(|| c.email.clone())
}

/// The deadline state of a stored request.
pub fn deadlines_of(r: &RightsRequestRow) -> Deadlines {
    Deadlines {
        status: r.status,
        received_at_ms: r.received_at_ms,
        due_at_ms: r.due_at_ms,
        extended_due_at_ms: r.extended_due_at_ms,
        extension_reason: r.extension_reason.clone(),
        closed_at_ms: r.closed_at_ms,
    }
}

/// One `rights.*` ledger entry, for the store to append in the transaction of the change it
/// records. `extra` is merged into the payload.
pub fn ledger_item(
    kind: &str,
    r: &RightsRequestRow,
    status: &str,
    now: i64,
    extra: Value,
) -> AppResult<AppendItem> {
    let mut payload = json!({
        "version": "assent-rights/1",
        "request": r.id,
        "site": r.site,
        "type": r.kind,
        "status": status,
        "at": now,
    });
    if let (Some(p), Value::Object(x)) = (payload.as_object_mut(), extra) {
        p.extend(x);
    }
    let bytes = assent_ledger::canonical_json(&payload).map_err(|e| AppError::internal(&e))?;
    Ok(AppendItem {
        ts_ms: now,
        kind: kind.to_owned(),
        payload: bytes,
        consent: None,
    })
}

/// Counts a ledger entry appended with a rights change (for `/metrics`).
pub fn count_entry(st: &App) {
    st.metrics
        .ledger_entries
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

pub fn event(id: &str, now: i64, kind: &str, actor: &str, note: Option<String>) -> RightsEventRow {
    RightsEventRow {
        request_id: id.to_owned(),
        ts_ms: now,
        kind: kind.to_owned(),
        actor: actor.to_owned(),
        note,
    }
}

/// The admin's view of a request (what the list and the detail share).
pub fn summary(r: &RightsRequestRow, now: i64) -> Value {
    let d = deadlines_of(r);
    let overdue = r.status != Status::Received && d.is_overdue(now) && r.erased_at_ms.is_none();
    json!({
        "id": r.id,
        "site": r.site,
        "type": r.kind,
        "status": r.status,
        "received_at": rfc3339(r.received_at_ms),
        "due_at": rfc3339(d.effective_due()),
        "original_due_at": rfc3339(r.due_at_ms),
        "extended_due_at": r.extended_due_at_ms.map(rfc3339),
        "verified_at": r.verified_at_ms.map(rfc3339),
        "closed_at": r.closed_at_ms.map(rfc3339),
        "overdue": overdue,
        // How long it has waited, in whole days: for requests awaiting verification too.
        "age_days": (now - r.received_at_ms).max(0) / 86_400_000,
        "email_problem": r.mail_problem,
        "erased": r.erased_at_ms.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub() -> Submission {
        Submission {
            site: "s".into(),
            kind: "access".into(),
            email: " Zoe@Example.org ".into(),
            name: "Zoé".into(),
            details: Some("  ".into()),
            receipt: None,
            language: Some("fr".into()),
        }
    }

    #[test]
    fn validation_names_fields() {
        let v = validate(&sub(), &[]).unwrap();
        assert_eq!(
            (v.email.as_str(), v.details, v.language.as_str()),
            ("zoe@example.org", None, "fr")
        );
        let cases: Vec<(Submission, &str)> = vec![
            (
                Submission {
                    kind: "nope".into(),
                    ..sub()
                },
                "type",
            ),
            (
                Submission {
                    email: "a@b.org\r\nBcc: x@y.org".into(),
                    ..sub()
                },
                "email",
            ),
            (
                Submission {
                    email: format!("{}@example.org", "a".repeat(250)),
                    ..sub()
                },
                "email",
            ),
            (
                Submission {
                    email: "not-an-email".into(),
                    ..sub()
                },
                "email",
            ),
            (
                Submission {
                    name: "Eve\nBcc: x@y.org".into(),
                    ..sub()
                },
                "name",
            ),
            (
                Submission {
                    name: "x".repeat(201),
                    ..sub()
                },
                "name",
            ),
            (
                Submission {
                    name: " ".into(),
                    ..sub()
                },
                "name",
            ),
            (
                Submission {
                    details: Some("x".repeat(5001)),
                    ..sub()
                },
                "details",
            ),
            (
                Submission {
                    receipt: Some("xyz".into()),
                    ..sub()
                },
                "receipt",
            ),
        ];
        for (s, field) in cases {
            let e = validate(&s, &[]).unwrap_err();
            assert_eq!(
                (e.kind, e.field.as_deref()),
                (crate::Kind::Invalid, Some(field)),
                "{s:?}"
            );
        }
        assert!(
            validate(
                &Submission {
                    name: "x".repeat(200),
                    details: Some("é".repeat(5000)),
                    ..sub()
                },
                &[]
            )
            .is_ok()
        );
    }

    #[test]
    fn codes_and_ids() {
        for _ in 0..100 {
            let c = new_code().unwrap();
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|x| x.is_ascii_digit()));
        }
        assert_eq!(new_id(0).unwrap().len(), 32);
        assert_ne!(code_hash("a", "123456"), code_hash("b", "123456"));
    }
}
