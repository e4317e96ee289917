//! The DPO console's pages (`/admin/`), server-rendered from the askama templates of
//! `templates/console/`: one layout ([`Shell`]: navigation, the person, the logout form) and a
//! page per screen ([`pages`], [`requests`]). Every page speaks the person's language
//! (`en`, `fr`, `de`: the `console.*` keys) and shows dates in their time zone.
//!
//! Invariants: every value that is not Assent's own (emails, request text, registry names,
//! ledger payloads) reaches the HTML through askama's escaping; every form that changes
//! something carries the session's synchronizer token (`csrf`); there is no script.
//!
//! Other screens plug in the same way: a template that `{% extends "console/layout.html" %}`
//! with fields `s: Shell` and `t: Tr`, or [`fragment_page`] with [`Markup`] built in this crate.

pub mod fulfil;
pub mod pages;
pub mod requests;

use askama::Template;

use crate::i18n::Markup;
use crate::rights::Tr;
use crate::words::long_date;

/// One link of the navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    /// Catalog key of the label.
    pub key: &'static str,
    pub current: bool,
}

/// What every console page shows around its content.
#[derive(Debug, Clone)]
pub struct Shell {
    pub lang: &'static str,
    /// IANA zone of the dates shown.
    pub tz: String,
    /// The page's title (and heading).
    pub title: String,
    /// The links the person's role may open (empty: the login and setup pages).
    pub nav: Vec<NavLink>,
    /// The person (empty when nobody is logged in).
    pub email: String,
    /// The session's synchronizer token, put in every form.
    pub csrf: String,
    /// A confirmation to show once.
    pub notice: Option<String>,
    /// An error to show (field and message).
    pub error: Option<String>,
    pub css: Markup,
}

impl Shell {
    /// A shell in `lang` (`en` when not a console language) titled by the catalog key
    /// `title_key`.
    pub fn new(lang: &str, tz: &str, title_key: &str) -> Shell {
        let t = Tr::new(lang);
        Shell {
            lang: t.lang(),
            tz: tz.to_owned(),
            title: t.get(title_key).to_owned(),
            nav: vec![],
            email: String::new(),
            csrf: String::new(),
            notice: None,
            error: None,
            css: Markup::trusted(format!("{}{CONSOLE_CSS}", crate::html::CSS)),
        }
    }

    pub fn t(&self) -> Tr {
        Tr::new(self.lang)
    }

    /// "21 September 2026, 14:05 CEST" in the person's language and zone.
    pub fn when(&self, ms: i64) -> String {
        date_time(ms, &self.tz, self.lang)
    }

    /// "21 September 2026" in the person's language and zone.
    pub fn day(&self, ms: i64) -> String {
        long_date(ms, &self.tz, self.lang)
    }
}

/// A date and time in `tz`, in words of `lang`.
pub fn date_time(ms: i64, tz: &str, lang: &str) -> String {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => format!(
            "{}, {}",
            long_date(ms, tz, lang),
            ts.to_zoned_datetime(zone).strftime("%H:%M %Z")
        ),
        Err(_) => String::from("?"),
    }
}

/// The console's additions to the policy pages' stylesheet: forms, buttons of at least
/// 24 × 24 px (WCAG 2.5.8), deadline tags whose colours keep a 4.5:1 contrast.
pub const CONSOLE_CSS: &str = r#"
.top .wrap{justify-content:space-between}
.top nav ul{gap:.2rem 1rem}
.top nav a{display:inline-block;min-height:24px;padding:.15rem 0}
.top form.logout{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin:0}
.top .who{color:#fff;font-size:.9rem}
.top button{font:inherit;font-size:.9rem;font-weight:600;background:#fff;color:var(--accent);border:0;border-radius:6px;padding:.3rem .8rem;cursor:pointer;min-height:28px}
label{font-weight:600;display:block;margin:.6rem 0 .2rem}
input,select,textarea{font:inherit;padding:.4rem .6rem;border:1px solid #6b7280;border-radius:4px;width:100%;min-height:2.2rem;background:#fff;color:var(--ink)}
input:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
textarea{min-height:5rem}
button{font:inherit;font-weight:600;background:var(--accent);color:#fff;border:0;border-radius:6px;padding:.45rem 1.1rem;cursor:pointer;min-height:2.2rem;margin-top:.6rem}
button.danger{background:#a4262c}
form.stack{max-width:32rem;margin:.5rem 0 1.2rem}
form.row{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.2rem 0}
form.row select,form.row input{width:auto}
form.row button{margin-top:0}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:end;background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:.4rem 1rem .8rem;margin:.5rem 0 1rem}
form.filters label{margin-bottom:0}
form.filters select{width:auto;min-width:9rem}
td a,.pager a,p.back a{display:inline-block;min-height:24px;min-width:24px}
.tag{display:inline-block;font-size:.8rem;font-weight:600;padding:.05rem .5rem;border-radius:999px;border:1px solid var(--line);background:var(--soft);color:var(--ink);white-space:nowrap}
.tag.red{background:#fde8e8;border-color:#f0b4b4;color:#8f1d22}
.tag.amber{background:var(--warn-soft);border-color:#f0c98a;color:var(--warn)}
.tag.green{background:var(--ok-soft);border-color:#b5dcc1;color:var(--ok)}
.actions{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(17rem,1fr))}
.actions section{border:1px solid var(--line);border-radius:8px;padding:0 1rem 1rem}
.actions h3{margin-top:.7rem}
.hint{color:var(--muted);font-size:.88rem;margin:.2rem 0}
.secret{display:block;white-space:pre-wrap;word-break:break-all;background:var(--soft);padding:.6rem;border-radius:6px}
.stats{display:grid;gap:.8rem;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));padding:0;list-style:none}
.stats li{border:1px solid var(--line);border-radius:8px;padding:.6rem 1rem;margin:0}
.stats strong{display:block;font-size:1.6rem}
pre.json{white-space:pre-wrap;word-break:break-word;margin:0;font-size:.82rem}
dl.kv{margin:0 0 0 .6rem}dl.kv dt{font-weight:600}dl.kv dd{margin:0 0 .3rem 1rem}
ul.tasks li{margin:.4rem 0}
"#;

#[derive(Template)]
#[template(path = "console/fragment.html")]
struct FragmentPage<'a> {
    s: &'a Shell,
    t: Tr,
    body: &'a Markup,
}

/// A page whose content is markup built in this crate (a screen with its own renderer).
pub fn fragment_page(s: &Shell, body: &Markup) -> String {
    render(&FragmentPage { s, t: s.t(), body })
}

fn render(t: &impl Template) -> String {
    t.render().unwrap_or_default()
}
