//! Offline intake: the DPO records a request received by email, post, phone or in person,
//! with its real receipt date and channel. Its deadlines run from that date (the same
//! functions as for the web form); it waits for verification like any other request, which
//! the DPO then does by hand (`dpo::verify_by_hand`) since no verification email is sent.
//!
//! A request received by post or phone may come without an email address; its answers are
//! then handed over by the DPO (the package of an access run can be downloaded).
//! A rectification may carry the correction asked for (`correction`, stored with the
//! request and erased with it).

use assent_model::clock::parse_time;
use assent_model::rights::Deadlines;
use assent_store::{RightsIntakeRow, RightsRequestRow};
use serde::Deserialize;
use serde_json::{Value, json};

use super::request::{
    Submission, count_entry, event, ledger_item, new_id, new_row, site_tz, validate,
};
use crate::App;
use crate::error::{AppError, AppResult};

/// How a request reached the controller.
pub const CHANNELS: [&str; 5] = ["web", "email", "post", "phone", "in_person"];

/// A received date older than this is refused as a typing error (a year and a day).
pub const MAX_AGE_MS: i64 = 366 * 86_400_000;

/// Corrections asked for at most.
pub const MAX_CHANGES: usize = 50;

/// A request as the DPO records it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineRequest {
    pub site: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub email: Option<String>,
    pub name: String,
    #[serde(default)]
    pub details: Option<String>,
    pub channel: String,
    /// RFC 3339: when the controller received it (the deadline runs from then).
    pub received_at: String,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub receipt: Option<String>,
    /// For a rectification: the corrections asked for.
    #[serde(default)]
    pub correction: Option<Vec<Correction>>,
}

/// One correction: a field (`name`, `email`, or `datastore.table.column`) and its new value.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    pub field: String,
    pub value: String,
}

/// Checks the corrections (`field` names them as `{field}[k].x`).
pub fn check_corrections(field: &str, list: &[Correction]) -> AppResult<()> {
    if list.is_empty() || list.len() > MAX_CHANGES {
        return Err(AppError::invalid(
            field,
            format!("between 1 and {MAX_CHANGES} corrections"),
        ));
    }
    for (k, c) in list.iter().enumerate() {
        let f = c.field.trim();
        if f.is_empty()
            || f.len() > 200
            || !f
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-'))
        {
            return Err(AppError::invalid(
                format!("{field}[{k}].field"),
                "a field name of letters, digits, `_`, `-` and `.` (at most 200)",
            ));
        }
        if c.value.chars().count() > 1_000 || c.value.chars().any(char::is_control) {
            return Err(AppError::invalid(
                format!("{field}[{k}].value"),
                "a value of at most 1,000 characters, without control characters",
            ));
        }
    }
    Ok(())
}

/// Checks `received_at`: an RFC 3339 time, not in the future, not more than a year ago.
pub fn received_at(s: &str, now: i64) -> AppResult<i64> {
    let t = parse_time(s.trim()).ok_or_else(|| {
        AppError::invalid(
            "received_at",
            "expected an RFC 3339 time (2026-12-01T09:30:00Z)",
        )
    })?;
    if t > now + 60_000 {
        return Err(AppError::invalid(
            "received_at",
            "received_at is in the future",
        ));
    }
    if now - t > MAX_AGE_MS {
        return Err(AppError::invalid(
            "received_at",
            "received_at is more than a year ago: check the date",
        ));
    }
    Ok(t)
}

/// Records a request received outside the web form. Answers the request as the admin API
/// shows it.
pub async fn record(st: &App, actor: &str, b: &OfflineRequest) -> AppResult<RightsRequestRow> {
    let channel = b.channel.trim();
    if !CHANNELS.contains(&channel) {
        return Err(AppError::invalid(
            "channel",
            format!("expected one of {}", CHANNELS.join(", ")),
        ));
    }
    let cur = st
        .sites
        .current(&b.site)
        .ok_or_else(|| AppError::not_found("unknown site").field("site"))?;
    let email = b.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    if email.is_none() && matches!(channel, "web" | "email") {
        return Err(AppError::invalid(
            "email",
            "a request received by email or on the web has an email address",
        ));
    }
    // The checks of the web form, for everything but a missing address.
    let sub = Submission {
        site: b.site.clone(),
        kind: b.kind.clone(),
        email: email.unwrap_or("nobody@example.org").to_owned(),
        name: b.name.clone(),
        details: b.details.clone(),
        receipt: b.receipt.clone(),
        language: b.language.clone(),
    };
    let v = validate(&sub, &cur.snapshot.site.languages)?;
    let correction = match &b.correction {
        Some(list) => {
            if v.kind != assent_model::rights::RequestType::Rectification {
                return Err(AppError::invalid(
                    "correction",
                    "only a rectification carries a correction",
                ));
            }
            check_corrections("correction", list)?;
            Some(serde_json::to_string(list).map_err(|e| AppError::internal(&e))?)
        }
        None => None,
    };
    let now = st.clock.now_ms();
    let received = received_at(&b.received_at, now)?.min(now);
    let tz = site_tz(st, &b.site);
    let d = Deadlines::new(received, &tz).map_err(|e| AppError::internal(&e))?;
    let id = new_id(now)?;
    let mut row = new_row(&id, &v, received, d.due_at_ms);
    if email.is_none() {
        row.email = None;
    }
    let intake = RightsIntakeRow {
        request_id: id.clone(),
        channel: channel.to_owned(),
        correction,
    };
    let entry = ledger_item(
        "rights.submitted",
        &row,
        "received",
        now,
        json!({"received_at": received, "due_at": d.due_at_ms, "channel": channel, "recorded_by": actor}),
    )?;
    let note = format!("recorded by the DPO: received by {channel}");
    st.store
        .rights_insert_offline(
            &row,
            &intake,
            &event(&id, now, "submitted", actor, Some(note)),
            Some(entry),
        )
        .await?;
    count_entry(st);
    Ok(row)
}

/// The correction asked for by a request, if any.
pub async fn correction_of(st: &App, id: &str) -> AppResult<Option<Value>> {
    Ok(st
        .store
        .rights_intake(id)
        .await?
        .and_then(|i| i.correction)
        .and_then(|c| serde_json::from_str(&c).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_at_rules() {
        let now = parse_time("2026-12-03T12:00:00Z").unwrap();
        assert!(received_at("2026-11-20T09:00:00Z", now).is_ok());
        assert!(received_at("2026-11-20T10:00:00+01:00", now).is_ok());
        for bad in [
            "yesterday",
            "2026-12-04T12:00:00Z",
            "2020-01-01T00:00:00Z",
            "",
        ] {
            let e = received_at(bad, now).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("received_at"), "{bad}");
        }
    }

    #[test]
    fn corrections_name_the_bad_item() {
        let ok = Correction {
            field: "shop.customers.last_name".into(),
            value: "Martin".into(),
        };
        assert!(check_corrections("changes", std::slice::from_ref(&ok)).is_ok());
        let bad_field = Correction {
            field: "name; DROP".into(),
            ..ok.clone()
        };
        let e = check_corrections("changes", &[ok.clone(), bad_field]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("changes[1].field"));
        let bad_value = Correction {
            value: "a\u{0}b".into(),
            ..ok
        };
        let e = check_corrections("changes", &[bad_value]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("changes[0].value"));
        assert!(check_corrections("changes", &[]).is_err());
    }
}
