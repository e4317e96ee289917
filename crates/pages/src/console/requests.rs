//! The rights queue (with filters and days-left tags) and one request with its history and
//! every action as a form: verify by hand, start, note, extend, complete (with an
//! attachment), reject; its fulfilment (`fulfil`): preview and run, restriction,
//! rectification, Art. 19 tasks.

use askama::Template;

pub use super::fulfil::KINDS;
use super::fulfil::{Fulfilment, RUN_KINDS};
use super::{Shell, render};
use crate::rights::admin::{Detail, HistoryLine, QueueRow};
use crate::rights::{Tr, kind_label};

/// The filters of the queue, as the form sends them back.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// `open` (default), `received`, `verified`, `in_progress`, `extended`, `closed`, `all`.
    pub status: String,
    /// A request type, or empty for all.
    pub kind: String,
    /// A site id, or empty for all.
    pub site: String,
    pub overdue: bool,
}

/// The statuses the filter offers (catalog keys `console.status.*`).
pub const STATUS_FILTERS: [&str; 8] = [
    "open",
    "received",
    "verified",
    "in_progress",
    "extended",
    "closed",
    "all",
    "completed",
];

/// Green at 10 days or more, amber 5 to 9, red under 5 or overdue.
pub fn days_tag(days: i64, overdue: bool) -> &'static str {
    match (overdue, days) {
        (true, _) => "red",
        (_, d) if d >= 10 => "green",
        (_, d) if d >= 5 => "amber",
        _ => "red",
    }
}

struct Line<'a> {
    r: &'a QueueRow,
    short_id: &'a str,
    kind: &'static str,
    status: String,
    due: String,
    received: String,
    days: String,
    tag: &'static str,
    /// "(waiting for N d)" for a request awaiting verification, else empty.
    waiting: String,
}

#[derive(Template)]
#[template(path = "console/requests.html")]
struct QueuePage<'a> {
    s: &'a Shell,
    t: Tr,
    f: &'a Filters,
    sites: &'a [(String, String)],
    lines: Vec<Line<'a>>,
    statuses: Vec<(&'static str, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    /// Whether the person may act on requests (log one received offline).
    may_act: bool,
}

/// The label of a status in the person's language.
pub fn status_label(t: Tr, status: &str) -> String {
    let key = format!("console.status.{status}");
    t.get(&key).to_owned()
}

/// The queue: `rows` in the caller's order, filtered by the caller with `f`.
pub fn queue(
    s: &Shell,
    rows: &[QueueRow],
    f: &Filters,
    sites: &[(String, String)],
    now_ms: i64,
    may_act: bool,
) -> String {
    let t = s.t();
    let lines = rows
        .iter()
        .map(|r| {
            let days = (r.due_at_ms - now_ms).div_euclid(86_400_000);
            Line {
                r,
                short_id: r.id.get(..8).unwrap_or(&r.id),
                kind: kind_label(s.lang, &r.kind),
                status: status_label(t, &r.status),
                due: s.day(r.due_at_ms),
                received: s.day(r.received_at_ms),
                days: if r.overdue {
                    t.get("console.queue.overdue").to_owned()
                } else {
                    t.fill("console.queue.days_left", &[("days", &days.to_string())])
                },
                tag: days_tag(days, r.overdue),
                waiting: if r.status == "received" {
                    t.fill(
                        "rw.admin.queue.waiting",
                        &[(
                            "days",
                            &(now_ms - r.received_at_ms)
                                .max(0)
                                .div_euclid(86_400_000)
                                .to_string(),
                        )],
                    )
                } else {
                    String::new()
                },
            }
        })
        .collect();
    render(&QueuePage {
        s,
        t,
        f,
        sites,
        lines,
        statuses: STATUS_FILTERS
            .iter()
            .map(|k| (*k, status_label(t, k)))
            .collect(),
        kinds: KINDS.iter().map(|k| (*k, kind_label(s.lang, k))).collect(),
        may_act,
    })
}

/// Which actions the request's status allows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allowed {
    pub verify: bool,
    pub start: bool,
    pub extend: bool,
    pub close: bool,
    /// Fulfilment runs, restriction and rectification (a verified, open request).
    pub fulfil: bool,
}

impl Allowed {
    pub fn of(status: &str, extended: bool) -> Allowed {
        match status {
            "received" => Allowed {
                verify: true,
                close: true,
                ..Allowed::default()
            },
            "verified" => Allowed {
                start: true,
                extend: true,
                close: true,
                fulfil: true,
                ..Allowed::default()
            },
            "in_progress" => Allowed {
                extend: !extended,
                close: true,
                fulfil: true,
                ..Allowed::default()
            },
            "extended" => Allowed {
                close: true,
                fulfil: true,
                ..Allowed::default()
            },
            _ => Allowed::default(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/request.html")]
struct DetailPage<'a> {
    s: &'a Shell,
    t: Tr,
    d: &'a Detail,
    fields: Vec<(&'static str, String)>,
    history: Vec<(String, &'a HistoryLine)>,
    can: Allowed,
    may_act: bool,
    max_mb: usize,
    types: &'a str,
    ful: &'a Fulfilment,
    run_kinds: Vec<(&'static str, String)>,
}

/// One request: its fields, its fulfilment `ful`, its history and, when the viewer
/// `may_act`, the forms of the actions its status allows. `types`: the attachment types
/// accepted; `max_bytes`: the largest upload.
pub fn detail(
    s: &Shell,
    d: &Detail,
    ful: &Fulfilment,
    history: &[HistoryLine],
    types: &str,
    max_bytes: usize,
    may_act: bool,
) -> String {
    let t = s.t();
    let extended = !d.extension_reason.is_empty();
    let fields = vec![
        ("admin.field.site", d.site.clone()),
        ("admin.field.type", kind_label(s.lang, &d.kind).to_owned()),
        ("admin.field.status", status_label(t, &d.status)),
        ("console.field.received", s.when(d.received_at_ms)),
        ("console.field.due", s.day(d.due_at_ms)),
        ("admin.field.email", d.email.clone()),
        ("admin.field.name", d.name.clone()),
        ("admin.field.details", d.details.clone()),
        ("admin.field.receipt", d.receipt.clone()),
        ("admin.field.extension_reason", d.extension_reason.clone()),
        ("admin.field.answer", d.answer.clone()),
        ("admin.field.mail_problem", d.mail_problem.clone()),
        ("admin.field.id", d.id.clone()),
    ];
    let fields = fields
        .into_iter()
        .chain(ful.rows.iter().cloned())
        .map(|(k, v)| (t.get(k), v))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let history = history.iter().map(|h| (s.when(h.ts_ms), h)).collect();
    render(&DetailPage {
        s,
        t,
        d,
        fields,
        history,
        can: if may_act {
            Allowed::of(&d.status, extended)
        } else {
            Allowed::default()
        },
        may_act,
        max_mb: max_bytes / (1024 * 1024),
        types,
        ful,
        run_kinds: RUN_KINDS
            .iter()
            .map(|k| {
                let label = if k.is_empty() {
                    t.get("console.fulfil.kind_default").to_owned()
                } else {
                    t.get(&format!("console.fulfil.kind.{k}")).to_owned()
                };
                (*k, label)
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::pages::{AuditLine, UserLine, audit, users};

    #[test]
    fn hostile_text_is_inert_and_tags_follow_the_days() {
        let mut s = Shell::new("fr", "Europe/Paris", "console.title.request");
        s.email = "<script>alert(1)</script>@x.org".into();
        s.csrf = "\"><img src=x>".into();
        let d = Detail {
            id: "r1".into(),
            site: "<s>".into(),
            kind: "access".into(),
            status: "verified".into(),
            details: "<script>alert('x')</script>".into(),
            name: "<b onmouseover=x>".into(),
            ..Detail::default()
        };
        let h = [HistoryLine {
            ts_ms: 0,
            kind: "note".into(),
            actor: "<i>".into(),
            note: Some("<img src=x>".into()),
        }];
        let ful = Fulfilment {
            rows: vec![("rw.admin.field.runs", "<u>run</u>".into())],
            tasks: vec![super::super::fulfil::Task {
                id: "t1".into(),
                recipient: "<em>CRM</em>".into(),
                action: "erasure".into(),
                done: false,
                message: "<script>x</script>".into(),
            }],
            restrictions: vec![super::super::fulfil::Restriction {
                id: "x1".into(),
                identity: "email".into(),
                reason: "<q>".into(),
                active: true,
            }],
            package: true,
        };
        let page = detail(&s, &d, &ful, &h, "text/csv", 4 << 20, true);
        let read_only = detail(&s, &d, &ful, &h, "text/csv", 4 << 20, false);
        assert!(!read_only.contains("/tasks/t1/done") && page.contains("/tasks/t1/done"));
        assert!(page.contains("/admin/restrictions/x1/lift") && page.contains("/r1/preview"));
        assert!(page.contains("/r1/package"));
        assert!(!read_only.contains("<form method=\"post\" action=\"/admin/requests/"));
        for bad in ["<script", "<img", "<i>", "<b ", "<s>", "<u>", "<em>", "<q>"] {
            assert!(!page.contains(bad), "{bad} in {page}");
        }
        assert!(page.contains("Vérifiée") && page.contains("action=\"/admin/requests/r1/start\""));
        assert!(
            !page.contains("/verify\""),
            "a verified request is not verified again"
        );
        let row = QueueRow {
            id: "<a href=x>".into(),
            site: "<s>".into(),
            kind: "access".into(),
            status: "in_progress".into(),
            received_at_ms: 0,
            due_at_ms: 7 * 86_400_000,
            overdue: false,
            extended: true,
            mail_problem: true,
            attention: Some("<b>the run failed</b>".into()),
        };
        let q = queue(
            &s,
            &[row],
            &Filters::default(),
            &[("<x>".into(), "<y>".into())],
            0,
            true,
        );
        assert!(
            !q.contains("<a href=x") && !q.contains("<s>") && !q.contains("<x>"),
            "{q}"
        );
        assert!(q.contains("tag amber") && q.contains("reste 7 j"), "{q}");
        assert!(
            !q.contains("<b>") && q.contains("&#60;b&#62;the run failed"),
            "{q}"
        );
        assert_eq!(
            (days_tag(10, false), days_tag(4, false), days_tag(20, true)),
            ("green", "red", "red")
        );
        let u = UserLine {
            id: "u1".into(),
            email: "<script>@x.org".into(),
            role: "dpo".into(),
            state: "active",
            totp: false,
            created_at_ms: 0,
            me: false,
        };
        assert!(!users(&s, &[u], &["dpo"]).contains("<script>@"));
        let a = AuditLine {
            ts_ms: 0,
            chain: 0,
            seq: 1,
            kind: "<k>".into(),
            actor: "<a>".into(),
            details: "{\"x\":\"<script>\"}".into(),
        };
        let page = audit(&s, &[a], 0, true);
        assert!(!page.contains("<script>") && !page.contains("<k>") && page.contains("page=1"));
    }
}
