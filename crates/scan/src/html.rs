//! The HTML report: one self-contained page (inline CSS, no script), every text escaped.

use std::fmt::Write as _;

use crate::dates::{format_utc, human_duration};
use crate::report::{
    Classification, DeclaredRef, Finding, FindingKind, Phase, Report, ScenarioReport, Severity,
    Source,
};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --fg: #1d2330; --muted: #5b6475; --line: #e2e5ec; --bg: #f6f7f9; --card: #fff;
  --bad: #b42318; --bad-bg: #fef3f2; --ok: #067647; --ok-bg: #ecfdf3; --info: #175cd3; --info-bg: #eff8ff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: var(--fg); background: var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
.meta { color: var(--muted); margin: 0 0 18px; }
.meta code { color: var(--fg); }
.status { padding: 14px 18px; border-radius: 10px; font-weight: 600; font-size: 16px; margin-bottom: 18px; }
.status.bad { background: var(--bad-bg); color: var(--bad); border: 1px solid #fecdca; }
.status.ok { background: var(--ok-bg); color: var(--ok); border: 1px solid #abefc6; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .n { font-size: 24px; font-weight: 700; }
.card .l { color: var(--muted); font-size: 12.5px; }
.card.hot { border-color: #fda29b; }
.card.hot .n { color: var(--bad); }
.notes { background: var(--info-bg); border: 1px solid #b2ddff; border-radius: 10px; padding: 10px 16px; margin: 16px 0; }
.notes li { margin: 4px 0; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line);
  border-radius: 10px; overflow: hidden; margin: 6px 0 14px; }
th, td { text-align: left; vertical-align: top; padding: 7px 10px; border-bottom: 1px solid var(--line); }
th { background: #f0f2f6; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
tr:last-child td { border-bottom: 0; }
td.msg { width: 44%; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f0f2f6;
  padding: 1px 4px; border-radius: 4px; word-break: break-all; }
.tag { display: inline-block; padding: 0 7px; border-radius: 999px; font-size: 12px; background: #f0f2f6;
  color: var(--muted); margin: 1px 2px 1px 0; white-space: nowrap; }
.tag.bad { background: var(--bad-bg); color: var(--bad); }
.tag.ok { background: var(--ok-bg); color: var(--ok); }
.tag.info { background: var(--info-bg); color: var(--info); }
.small { color: var(--muted); font-size: 12.5px; }
.url { word-break: break-all; }
details { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 4px 16px; margin: 12px 0; }
summary { cursor: pointer; font-weight: 600; padding: 8px 0; }
.empty { color: var(--muted); font-style: italic; margin: 4px 0 12px; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; }
"#;

impl Report {
    /// A self-contained HTML page: summary, violations with evidence, then the inventory.
    pub fn to_html(&self) -> String {
        render(self)
    }
}

/// Renders the report.
fn render(r: &Report) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Cookie audit: {}</title><style>{CSS}</style></head><body><main>",
        escape(&r.url)
    );
    let _ = write!(
        h,
        "<h1>Cookie audit</h1><p class=\"meta\"><code>{}</code><br>{} &middot; {} &middot; {:.1} s &middot; {} page loads &middot; {}</p>",
        escape(&r.url),
        escape(&format_utc(r.started_at_ms)),
        escape(&r.browser),
        r.duration_ms as f64 / 1000.0,
        r.summary.pages_visited,
        escape(&scenario_list(r)),
    );

    // Summary.
    let v = r.summary.violations;
    if v == 0 {
        h.push_str("<div class=\"status ok\">No violations found.</div>");
    } else {
        let _ = write!(
            h,
            "<div class=\"status bad\">{v} violation{} found.</div>",
            if v == 1 { "" } else { "s" }
        );
    }
    h.push_str("<div class=\"cards\">");
    for kind in FindingKind::ALL {
        let n = r.summary.by_kind.get(kind.as_str()).copied().unwrap_or(0);
        let hot = n > 0 && kind.severity() == Severity::Violation;
        let _ = write!(
            h,
            "<div class=\"card{}\"><div class=\"n\">{n}</div><div class=\"l\">{}</div></div>",
            if hot { " hot" } else { "" },
            escape(kind.title())
        );
    }
    let _ = write!(
        h,
        "<div class=\"card\"><div class=\"n\">{}</div><div class=\"l\">Distinct cookies</div></div>\
         <div class=\"card\"><div class=\"n\">{}</div><div class=\"l\">Third-party hosts</div></div>\
         <div class=\"card\"><div class=\"n\">{}</div><div class=\"l\">Consent banner clicked</div></div>",
        r.summary.distinct_cookies,
        r.summary.third_party_hosts.len(),
        if r.summary.banner_found { "yes" } else { "no" }
    );
    h.push_str("</div>");
    if !r.notes.is_empty() {
        h.push_str("<ul class=\"notes\">");
        for n in &r.notes {
            let _ = write!(h, "<li>{}</li>", escape(n));
        }
        h.push_str("</ul>");
    }

    // Violations, then information.
    h.push_str("<h2>Violations</h2>");
    let violations: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Violation)
        .collect();
    if violations.is_empty() {
        h.push_str("<p class=\"empty\">None.</p>");
    }
    for kind in FindingKind::ALL {
        let of_kind: Vec<&&Finding> = violations.iter().filter(|f| f.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let _ = write!(
            h,
            "<h3>{} <span class=\"tag bad\">{}</span> <span class=\"small\"><code>{}</code></span></h3>",
            escape(kind.title()),
            of_kind.len(),
            kind.as_str()
        );
        findings_table(&mut h, of_kind.into_iter().copied());
    }
    let info: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Info)
        .collect();
    if !info.is_empty() {
        h.push_str("<h2>Information</h2>");
        for kind in FindingKind::ALL {
            let of_kind: Vec<&&Finding> = info.iter().filter(|f| f.kind == kind).collect();
            if of_kind.is_empty() {
                continue;
            }
            let _ = write!(
                h,
                "<h3>{} <span class=\"tag info\">{}</span></h3>",
                escape(kind.title()),
                of_kind.len()
            );
            findings_table(&mut h, of_kind.into_iter().copied());
        }
    }

    // Inventory.
    h.push_str("<h2>Inventory per scenario</h2>");
    for s in &r.scenarios {
        scenario_section(&mut h, s);
    }
    let _ = writeln!(
        h,
        "<footer>Report schema <code>{}</code>. Generated by Assent's scanner. Cookies are read from the browser's cookie store \
         (HttpOnly and third-party included); third-party cookies were allowed in the audit profile, so that what a permissive \
         visitor's browser keeps is seen.</footer></main></body></html>",
        escape(&r.schema)
    );
    h
}

fn scenario_list(r: &Report) -> String {
    r.options
        .scenarios
        .iter()
        .map(|s| s.title())
        .collect::<Vec<_>>()
        .join(", ")
}

fn findings_table<'a>(h: &mut String, findings: impl Iterator<Item = &'a Finding>) {
    h.push_str(
        "<table><thead><tr><th>Item</th><th>Scenario</th><th class=\"msg\">Evidence</th><th>Seen on</th></tr></thead><tbody>",
    );
    for f in findings {
        let _ = write!(
            h,
            "<tr><td><code>{}</code><br><span class=\"small\">{}{}</span></td><td>{}</td><td class=\"msg\">{}",
            escape(&f.name),
            escape(f.subject.as_str()),
            f.domain
                .as_deref()
                .map(|d| format!(" &middot; {}", escape(d)))
                .unwrap_or_default(),
            f.scenarios
                .iter()
                .map(|s| format!("<span class=\"tag\">{}</span>", escape(s.as_str())))
                .collect::<String>(),
            escape(&f.message)
        );
        if !f.set_by.is_empty() {
            let _ = write!(
                h,
                "<br><span class=\"small\">Set by: {}</span>",
                sources(&f.set_by)
            );
        }
        if let Some(l) = f.lifetime_seconds {
            let _ = write!(
                h,
                "<br><span class=\"small\">Lifetime: {}</span>",
                escape(&human_duration(Some(l)))
            );
        }
        if let Some(d) = &f.declared {
            let _ = write!(
                h,
                "<br><span class=\"small\">Declared: {}</span>",
                declared(d)
            );
        }
        if let Some(c) = &f.classification {
            let _ = write!(
                h,
                "<br><span class=\"small\">Catalog: {}</span>",
                classification(c)
            );
        }
        let _ = write!(
            h,
            "</td><td class=\"url small\">{}</td></tr>",
            f.page.as_deref().map(escape).unwrap_or_default()
        );
    }
    h.push_str("</tbody></table>");
}

fn sources(s: &[Source]) -> String {
    s.iter()
        .map(|s| {
            format!(
                "{} <span class=\"url\">{}</span>",
                escape(&s.kind),
                escape(&s.url)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn declared(d: &DeclaredRef) -> String {
    format!(
        "<code>{}</code> &middot; purpose {} ({}) &middot; {}{}",
        escape(&d.pattern),
        escape(&d.purpose),
        if d.consent_required {
            "consent required"
        } else {
            "exempt"
        },
        escape(&human_duration(d.lifetime_seconds)),
        d.service
            .as_deref()
            .map(|s| format!(" &middot; {}", escape(s)))
            .unwrap_or_default()
    )
}

fn classification(c: &Classification) -> String {
    format!(
        "{} &middot; {}{}",
        escape(&c.platform),
        escape(c.category.as_str()),
        c.typical_lifetime
            .as_deref()
            .map(|l| format!(" &middot; usually {}", escape(l)))
            .unwrap_or_default()
    )
}

fn phases(p: &[Phase]) -> String {
    p.iter()
        .map(|p| format!("<span class=\"tag\">{}</span>", escape(p.as_str())))
        .collect()
}

fn scenario_section(h: &mut String, s: &ScenarioReport) {
    let _ = write!(
        h,
        "<details open><summary>{} &middot; <span class=\"small\">{} pages, {} cookies, {} storage keys, {} third-party hosts, {:.1} s</span></summary>",
        escape(s.scenario.title()),
        s.pages.len(),
        s.cookies.len(),
        s.storage.len(),
        s.third_party_requests.len(),
        s.duration_ms as f64 / 1000.0
    );
    let mut notes: Vec<String> = Vec::new();
    if let Some(n) = &s.banner.note {
        notes.push(n.clone());
    }
    notes.extend(s.notes.iter().cloned());
    if !s.banner.clicked.is_empty() {
        notes.insert(0, format!("Clicked: {}", s.banner.clicked.join(", then ")));
    }
    if !notes.is_empty() {
        h.push_str("<ul class=\"notes\">");
        for n in notes {
            let _ = write!(h, "<li>{}</li>", escape(&n));
        }
        h.push_str("</ul>");
    }

    h.push_str("<h3>Pages</h3><table><thead><tr><th>URL</th><th>Phase</th><th>Status</th></tr></thead><tbody>");
    for p in &s.pages {
        let status = match (&p.error, p.status) {
            (Some(e), _) => format!("<span class=\"tag bad\">{}</span>", escape(e)),
            (None, Some(code)) => code.to_string(),
            (None, None) => String::new(),
        };
        let _ = write!(
            h,
            "<tr><td class=\"url\">{}</td><td>{}</td><td>{status}</td></tr>",
            escape(&p.url),
            phases(&[p.phase])
        );
    }
    h.push_str("</tbody></table>");

    h.push_str("<h3>Cookies</h3>");
    if s.cookies.is_empty() {
        h.push_str("<p class=\"empty\">No cookie.</p>");
    } else {
        h.push_str("<table><thead><tr><th>Name</th><th>Domain</th><th>Lifetime</th><th>Present</th><th>Set by</th><th>Declared / catalog</th></tr></thead><tbody>");
        for c in &s.cookies {
            let mut flags = String::new();
            flags.push_str(if c.first_party {
                "<span class=\"tag\">first party</span>"
            } else {
                "<span class=\"tag info\">third party</span>"
            });
            if c.http_only {
                flags.push_str("<span class=\"tag\">HttpOnly</span>");
            }
            if c.secure {
                flags.push_str("<span class=\"tag\">Secure</span>");
            }
            if let Some(ss) = &c.same_site {
                let _ = write!(flags, "<span class=\"tag\">SameSite={}</span>", escape(ss));
            }
            let lifetime = match (c.stored_lifetime_seconds, c.requested_lifetime_seconds) {
                (_, Some(req)) if c.stored_lifetime_seconds.is_none_or(|s| req > s + 60) => {
                    format!(
                        "{} <span class=\"small\">(asked {})</span>",
                        escape(&human_duration(c.stored_lifetime_seconds)),
                        escape(&human_duration(Some(req)))
                    )
                }
                (stored, _) => escape(&human_duration(stored)),
            };
            let mut decl = match &c.declared {
                Some(d) => declared(d),
                None => "<span class=\"tag bad\">undeclared</span>".to_owned(),
            };
            if let Some(cl) = &c.classification {
                let _ = write!(
                    decl,
                    "<br><span class=\"small\">{}</span>",
                    classification(cl)
                );
            }
            let consent = if c.needs_consent {
                "<span class=\"tag\">needs consent</span>"
            } else {
                "<span class=\"tag ok\">exempt</span>"
            };
            let _ = write!(
                h,
                "<tr><td><code>{}</code><br>{consent}</td><td>{}<br>{flags}</td><td>{lifetime}</td><td>{}<br><span class=\"small url\">first: {}</span></td><td class=\"small\">{}</td><td class=\"small\">{decl}</td></tr>",
                escape(&c.name),
                escape(&c.domain),
                phases(&c.phases),
                escape(&c.first_seen_on),
                if c.set_by.is_empty() {
                    "unknown".to_owned()
                } else {
                    sources(&c.set_by)
                },
            );
        }
        h.push_str("</tbody></table>");
    }

    if !s.storage.is_empty() {
        h.push_str("<h3>Storage</h3><table><thead><tr><th>Key</th><th>Kind</th><th>Origin</th><th>Present</th><th>Set by</th><th>Declared / catalog</th></tr></thead><tbody>");
        for st in &s.storage {
            let decl = match &st.declared {
                Some(d) => declared(d),
                None => "<span class=\"tag bad\">undeclared</span>".to_owned(),
            };
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"small\">{}</td><td class=\"small\">{decl}{}</td></tr>",
                escape(&st.name),
                escape(st.kind.as_str()),
                escape(&st.host),
                phases(&st.phases),
                if st.set_by.is_empty() {
                    "unknown".to_owned()
                } else {
                    sources(&st.set_by)
                },
                st.classification
                    .as_ref()
                    .map(|c| format!("<br>{}", classification(c)))
                    .unwrap_or_default()
            );
        }
        h.push_str("</tbody></table>");
    }

    if !s.blocked_cookies.is_empty() {
        h.push_str("<h3>Cookies refused by the browser</h3><table><thead><tr><th>Name</th><th>Domain</th><th>Reasons</th><th>Response</th></tr></thead><tbody>");
        for b in &s.blocked_cookies {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"url small\">{}</td></tr>",
                escape(&b.name),
                escape(&b.domain),
                b.reasons
                    .iter()
                    .map(|r| format!("<span class=\"tag\">{}</span>", escape(r)))
                    .collect::<String>(),
                escape(&b.url)
            );
        }
        h.push_str("</tbody></table>");
    }

    h.push_str("<h3>Third-party requests</h3>");
    if s.third_party_requests.is_empty() {
        h.push_str("<p class=\"empty\">None.</p>");
    } else {
        h.push_str("<table><thead><tr><th>Host</th><th>Requests</th><th>Present</th><th>First URL</th></tr></thead><tbody>");
        for t in &s.third_party_requests {
            let _ = write!(
                h,
                "<tr><td><code>{}</code>{}</td><td>{} <span class=\"small\">({})</span></td><td>{}</td><td class=\"url small\">{}<br>from {}</td></tr>",
                escape(&t.host),
                if t.allowed_before_consent {
                    " <span class=\"tag ok\">allowed before consent</span>"
                } else {
                    ""
                },
                t.count,
                escape(&t.types.join(", ")),
                phases(&t.phases),
                escape(&t.first_url),
                escape(&t.first_page)
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</details>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_dangerous() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
