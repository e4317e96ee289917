//! The DPO's pages of the rights workflow: the queue, one request with its history, and the
//! login form (templates `templates/rights/{queue,detail,login}.html`). They are in English
//! (the `admin.*` keys of the English catalog), like the admin API they sit on.
//!
//! Invariants: every stored value (which may be anything a requester typed) is escaped by
//! askama; the caller sorts the queue (overdue first, then by due date).

use askama::Template;
use assent_model::clock::rfc3339;

use super::{Tr, render};

/// The language of the admin pages.
const ADMIN_LANG: &str = "en";

/// One row of the DPO queue.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub id: String,
    pub site: String,
    pub kind: String,
    pub status: String,
    pub received_at_ms: i64,
    pub due_at_ms: i64,
    pub overdue: bool,
    pub extended: bool,
    pub mail_problem: bool,
    /// Why it needs attention (a failed, partial or stalled fulfilment run), if it does.
    pub attention: Option<String>,
}

/// A row as the template shows it: times formatted, days left counted.
#[derive(Debug)]
struct Row<'a> {
    r: &'a QueueRow,
    short_id: &'a str,
    due: String,
    received: String,
    days_left: String,
    /// "(waiting for N d)": for a request awaiting verification, how long it has waited.
    waiting: String,
}

#[derive(Template)]
#[template(path = "rights/queue.html")]
struct QueuePage<'a> {
    t: Tr,
    lang: &'static str,
    summary: String,
    rows: Vec<Row<'a>>,
}

/// The DPO queue: `rows` in the caller's order; `awaiting_verification` counts the requests
/// not yet verified (not due to the DPO, kept).
pub fn queue_page(rows: &[QueueRow], awaiting_verification: usize, now_ms: i64) -> String {
    let t = Tr::new(ADMIN_LANG);
    let rows = rows
        .iter()
        .map(|r| Row {
            r,
            short_id: r.id.get(..8).unwrap_or(&r.id),
            due: rfc3339(r.due_at_ms),
            received: rfc3339(r.received_at_ms),
            days_left: t.fill(
                "admin.queue.days_left",
                &[(
                    "days",
                    &(r.due_at_ms - now_ms).div_euclid(86_400_000).to_string(),
                )],
            ),
            waiting: t.fill(
                "rw.admin.queue.waiting",
                &[(
                    "days",
                    &(now_ms - r.received_at_ms)
                        .max(0)
                        .div_euclid(86_400_000)
                        .to_string(),
                )],
            ),
        })
        .collect::<Vec<_>>();
    let summary = t.fill(
        "admin.queue.summary",
        &[
            ("open", &rows.len().to_string()),
            ("awaiting", &awaiting_verification.to_string()),
        ],
    );
    render(&QueuePage {
        t,
        lang: t.lang(),
        summary,
        rows,
    })
}

/// One request as the DPO sees it: every field as stored (text), times in UTC.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    pub id: String,
    pub site: String,
    pub kind: String,
    pub status: String,
    pub received_at_ms: i64,
    /// The due date in force (extended or not).
    pub due_at_ms: i64,
    pub overdue: bool,
    pub email: String,
    pub name: String,
    pub details: String,
    pub receipt: String,
    pub extension_reason: String,
    pub answer: String,
    pub mail_problem: String,
    /// Fulfilment rows: (catalog key of the label, text): channel, attention, runs, Art. 19
    /// tasks, restrictions.
    pub work: Vec<(&'static str, String)>,
}

/// One line of a request's history.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub ts_ms: i64,
    pub kind: String,
    pub actor: String,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "rights/detail.html")]
struct DetailPage<'a> {
    t: Tr,
    lang: &'static str,
    fields: Vec<(&'static str, String)>,
    history: Vec<(String, &'a HistoryLine)>,
}

/// One request and its history.
pub fn detail_page(d: &Detail, history: &[HistoryLine]) -> String {
    let t = Tr::new(ADMIN_LANG);
    let fields = vec![
        ("admin.field.id", d.id.clone()),
        ("admin.field.site", d.site.clone()),
        ("admin.field.type", d.kind.clone()),
        ("admin.field.status", d.status.clone()),
        ("admin.field.received", rfc3339(d.received_at_ms)),
        ("admin.field.due", rfc3339(d.due_at_ms)),
        ("admin.field.overdue", d.overdue.to_string()),
        ("admin.field.email", d.email.clone()),
        ("admin.field.name", d.name.clone()),
        ("admin.field.details", d.details.clone()),
        ("admin.field.receipt", d.receipt.clone()),
        ("admin.field.extension_reason", d.extension_reason.clone()),
        ("admin.field.answer", d.answer.clone()),
        ("admin.field.mail_problem", d.mail_problem.clone()),
    ]
    .into_iter()
    .chain(d.work.iter().cloned())
    .map(|(k, v)| (t.get(k), v))
    .collect();
    let history = history.iter().map(|h| (rfc3339(h.ts_ms), h)).collect();
    render(&DetailPage {
        t,
        lang: t.lang(),
        fields,
        history,
    })
}

#[derive(Template)]
#[template(path = "rights/login.html")]
struct LoginPage {
    t: Tr,
    lang: &'static str,
    invalid: bool,
}

/// The admin login form (the token is kept in an HttpOnly, SameSite=Strict cookie);
/// `invalid` after a wrong or revoked token.
pub fn login_page(invalid: bool) -> String {
    let t = Tr::new(ADMIN_LANG);
    render(&LoginPage {
        t,
        lang: t.lang(),
        invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_are_escaped() {
        let d = Detail {
            id: "x".into(),
            details: "<script>alert('x')</script>".into(),
            name: "<b>Bold</b>".into(),
            ..Detail::default()
        };
        let h = [HistoryLine {
            ts_ms: 0,
            kind: "note".into(),
            actor: "<i>".into(),
            note: Some("<img src=x>".into()),
        }];
        let page = detail_page(&d, &h);
        assert!(!page.contains("<script>") && !page.contains("<img") && !page.contains("<i>"));
        assert!(
            page.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"),
            "{page}"
        );
        assert!(page.contains("&#60;b&#62;Bold&#60;/b&#62;"));
        let row = QueueRow {
            id: "<a href=x>".into(),
            site: "<s>".into(),
            kind: "access".into(),
            status: "verified".into(),
            received_at_ms: 0,
            due_at_ms: 3 * 86_400_000,
            overdue: false,
            extended: true,
            mail_problem: true,
            attention: Some("<b>the erase run failed</b>".into()),
        };
        let waiting = QueueRow {
            id: "w".into(),
            status: "received".into(),
            attention: None,
            ..row.clone()
        };
        let q = queue_page(&[row, waiting], 2, 5 * 86_400_000);
        assert!(
            !q.contains("<a href=x") && !q.contains("<s>") && !q.contains("<b>"),
            "{q}"
        );
        assert!(
            q.contains("(-2 d left)") && q.contains("2 open request(s); 2 awaiting"),
            "{q}"
        );
        // A failed run is flagged; a request awaiting verification shows how long it waits.
        assert_eq!(q.matches("needs attention").count(), 1, "{q}");
        assert!(q.contains("&#60;b&#62;the erase run failed"), "{q}");
        assert_eq!(q.matches("(waiting for 5 d)").count(), 1, "{q}");
        assert!(login_page(true).contains("Invalid or revoked token."));
        assert!(!login_page(false).contains("role=\"alert\""));
    }
}
