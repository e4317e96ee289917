//! Fulfilment in the console (issue 15's workflow, as forms): what a request's detail page
//! adds (channel, attention, runs, Art. 19 tasks, restrictions, with their forms), the
//! preview of a run with its confirm form, and the form that logs a request received by
//! email, post, phone or in person.
//!
//! Invariants: every value comes from the application as text or JSON and reaches the HTML
//! escaped (askama, or [`json_markup`] which escapes each key and value).

use askama::Template;
use serde_json::Value;

use super::{Shell, render};
use crate::i18n::Markup;
use crate::rights::{Tr, kind_label};

/// One Art. 19 task: tell a recipient of a rectification, erasure or restriction.
#[derive(Debug, Clone, Default)]
pub struct Task {
    pub id: String,
    pub recipient: String,
    pub action: String,
    pub done: bool,
    /// The message to send them (subject, then body), if the registry gives an address.
    pub message: String,
}

/// One entry of the restriction list made by the request.
#[derive(Debug, Clone, Default)]
pub struct Restriction {
    pub id: String,
    pub identity: String,
    pub reason: String,
    pub active: bool,
}

/// What the detail page adds to a request for its fulfilment.
#[derive(Debug, Clone, Default)]
pub struct Fulfilment {
    /// (catalog key of the label, text): channel, attention, runs, tasks, restrictions.
    pub rows: Vec<(&'static str, String)>,
    pub tasks: Vec<Task>,
    pub restrictions: Vec<Restriction>,
    /// An access package exists to download.
    pub package: bool,
}

/// Request types the filter offers.
pub const KINDS: [&str; 9] = [
    "access",
    "rectification",
    "erasure",
    "restriction",
    "objection",
    "portability",
    "withdraw_consent",
    "object_profiling",
    "post_mortem",
];

/// The run kinds a person may pick (`""`: the one the request's type calls for).
pub const RUN_KINDS: [&str; 4] = ["", "access", "erase", "restrict"];

/// A JSON value as nested lists: keys as terms, scalars as text, all escaped.
pub fn json_markup(v: &Value) -> Markup {
    let mut out = String::new();
    write_json(v, &mut out);
    Markup::trusted(out)
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push_str("<dl class=\"kv\">");
            for (k, x) in m {
                out.push_str("<dt>");
                out.push_str(Markup::text(&k.replace('_', " ")).as_str());
                out.push_str("</dt><dd>");
                write_json(x, out);
                out.push_str("</dd>");
            }
            out.push_str("</dl>");
        }
        Value::Array(a) if a.is_empty() => out.push('–'),
        Value::Array(a) => {
            out.push_str("<ul>");
            for x in a {
                out.push_str("<li>");
                write_json(x, out);
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
        Value::Null => out.push('–'),
        Value::String(s) => out.push_str(Markup::text(s).as_str()),
        other => out.push_str(Markup::text(&other.to_string()).as_str()),
    }
}

/// The parameters of a run as the forms carry them.
#[derive(Debug, Clone, Default)]
pub struct RunParams {
    pub kind: String,
    pub subject: String,
    pub receipts: String,
}

#[derive(Template)]
#[template(path = "console/preview.html")]
struct PreviewPage<'a> {
    s: &'a Shell,
    t: Tr,
    id: &'a str,
    p: &'a RunParams,
    result: Markup,
    may_run: bool,
}

/// What a run would do (nothing changed yet), and the form that runs it with the same
/// parameters.
pub fn preview(s: &Shell, id: &str, p: &RunParams, result: &Value, may_run: bool) -> String {
    render(&PreviewPage {
        s,
        t: s.t(),
        id,
        p,
        result: json_markup(result),
        may_run,
    })
}

#[derive(Template)]
#[template(path = "console/intake.html")]
struct IntakePage<'a> {
    s: &'a Shell,
    t: Tr,
    sites: &'a [(String, String)],
    kinds: Vec<(&'static str, &'static str)>,
    channels: Vec<(&'static str, String)>,
}

/// The form of a request received offline.
pub fn intake(s: &Shell, sites: &[(String, String)], channels: &[&'static str]) -> String {
    let t = s.t();
    render(&IntakePage {
        s,
        t,
        sites,
        kinds: KINDS.iter().map(|k| (*k, kind_label(s.lang, k))).collect(),
        channels: channels
            .iter()
            .map(|c| (*c, t.get(&format!("console.channel.{c}")).to_owned()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_escaped_and_readable() {
        let v = serde_json::json!({"kind": "erase", "<b>x</b>": ["<script>", null], "n": 3,
            "datastores": {"crm": {"rows": 2}}, "none": []});
        let m = json_markup(&v).into_string();
        assert!(!m.contains("<b>") && !m.contains("<script>"), "{m}");
        assert!(
            m.contains("<dt>datastores</dt>") && m.contains("<dd>3</dd>"),
            "{m}"
        );
        let s = Shell::new("de", "Europe/Berlin", "console.title.preview");
        let p = RunParams {
            kind: "\"><i>".into(),
            ..RunParams::default()
        };
        let page = preview(&s, "r1", &p, &v, true);
        assert!(
            !page.contains("<i>") && page.contains("/admin/requests/r1/run"),
            "{page}"
        );
        let page = intake(&s, &[("<x>".into(), "<y>".into())], &["email", "post"]);
        assert!(
            !page.contains("<x>") && page.contains("name=\"received_at\""),
            "{page}"
        );
    }
}
