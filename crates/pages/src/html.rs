//! Small building blocks shared by every page: escaping, safe links, localized labels, dates,
//! the page shell and its one stylesheet.
//!
//! Templates escape every string; the few pieces of markup built here ([`loc`], links, `<time>`)
//! escape theirs with the same escaper and are returned as [`Markup`];
//! a URL becomes a link only when it is http(s) ([`safe_url`]), otherwise it is shown as text.

use std::fmt::Write as _;

use assent_model::registry::Text;

use crate::i18n::{Markup, Texts, texts};

pub(crate) use crate::i18n::esc;

/// The URL when it may be put in an `href`: http(s) only, with no whitespace, quote, angle
/// bracket or control character. `javascript:`, `data:` and relative URLs are refused.
pub fn safe_url(u: &str) -> Option<&str> {
    let t = u.trim();
    let lower = t.get(..8).unwrap_or(t).to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    let chars_ok = !t.chars().any(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\')
    });
    (scheme_ok && chars_ok && t.len() > 8).then_some(t)
}

/// A link to an external page (new context, no referrer), or the URL as plain text when it is
/// not a safe http(s) URL.
pub fn ext_link(url: &str, label: &Markup) -> Markup {
    Markup::trusted(match safe_url(url) {
        Some(u) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer external\">{label}</a>",
            esc(u)
        ),
        None if label.as_str() == esc(url) => label.to_string(),
        None => format!("{label} ({})", esc(url)),
    })
}

/// The host of an http(s) URL without `www.` ("cloudflare.com"), for short link texts.
pub fn url_host(url: &str) -> Option<&str> {
    let u = safe_url(url)?;
    let rest = u.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.strip_prefix("www.").unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// A link to a privacy policy labelled with its host, or the URL as text when unsafe.
pub fn policy_link(url: &str) -> Markup {
    match url_host(url) {
        Some(h) => ext_link(url, &Markup::text(h)),
        None => Markup::text(url),
    }
}

/// A `mailto:` link when the address looks like one, else the escaped text.
pub fn mailto(email: &str) -> Markup {
    let e = email.trim();
    let ok = e.split('@').count() == 2
        && !e.starts_with('@')
        && !e.ends_with('@')
        && !e.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '"' | '\'' | '<' | '>' | '`' | '\\' | '?' | '&' | ':' | '/'
                )
        });
    if ok {
        Markup::trusted(format!("<a href=\"mailto:{0}\">{0}</a>", esc(e)))
    } else {
        Markup::text(email)
    }
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters kept).
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A word of Assent's own in `lang`, from the message catalogs ([`crate::i18n`]).
pub fn txt(lang: &str, key: &'static str) -> &'static str {
    crate::i18n::texts(lang).get(key)
}

/// A registry text in `lang` (falling back to the site's default language), escaped. When the
/// translation is missing, the fallback is wrapped in a `lang` span so screen readers switch.
pub fn loc(text: &Text, lang: &str, default: &str) -> Markup {
    let s = text.get(lang, default);
    Markup::trusted(match text {
        Text::Localized(m) if !m.contains_key(lang) => {
            let used = [default, "en"]
                .into_iter()
                .find(|l| m.contains_key(*l))
                .or_else(|| m.keys().next().map(String::as_str))
                .unwrap_or(lang);
            if used == lang || !used.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                esc(s)
            } else {
                format!("<span lang=\"{used}\">{}</span>", esc(s))
            }
        }
        _ => esc(s),
    })
}

/// A `<ul>` of items, or nothing when there are none.
pub fn ul(items: impl IntoIterator<Item = Markup>) -> Markup {
    let inner: String = items.into_iter().map(|i| format!("<li>{i}</li>")).collect();
    if inner.is_empty() {
        Markup::default()
    } else {
        Markup::trusted(format!("<ul>{inner}</ul>"))
    }
}

/// A registry text in `lang`, unescaped (for JSON and CSV).
pub fn plain(text: &Text, lang: &str, default: &str) -> String {
    text.get(lang, default).to_string()
}

/// A `<time>` element with the long date.
pub fn time_el(ms: i64, tz: &str, lang: &str) -> Markup {
    Markup::trusted(format!(
        "<time datetime=\"{}\">{}</time>",
        crate::words::iso_date(ms, tz),
        esc(&crate::words::long_date(ms, tz, lang))
    ))
}

/// Which page of the site a shell is for (to mark the current entry of the navigation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Cookies,
    Privacy,
    Versions,
    Rights,
    Register,
}

/// A language the page is also available in, with its URL.
pub struct Alternate {
    pub lang: String,
    pub href: String,
}

impl Alternate {
    /// The page in each of the site's languages.
    pub fn all(languages: &[String], href: impl Fn(&str) -> String) -> Vec<Alternate> {
        languages
            .iter()
            .map(|l| Alternate {
                lang: l.clone(),
                href: href(l),
            })
            .collect()
    }
}

/// The line under a page's title.
pub enum Meta {
    None,
    /// "Version 3 · published on … · Version history", and a notice when an older version
    /// is shown: `older` is the current version's URL and number.
    Policy {
        version: i64,
        date: Markup,
        history_href: String,
        older: Option<(String, i64)>,
    },
    /// "GDPR Article 30 · 6 activities · generated …".
    Register {
        activities: usize,
        generated_at: String,
    },
    /// "Current version: 3 · 3 versions".
    History {
        latest: i64,
        count: usize,
    },
    /// "Policy version history · 2 significant · 1 other".
    Diff {
        history_href: String,
        material: usize,
        other: usize,
    },
}

/// Everything the page shell needs.
pub struct Shell<'a> {
    pub lang: &'a str,
    pub title: String,
    pub site_name: &'a str,
    pub nav: Nav,
    /// `(nav, label, href)` entries of the site navigation.
    pub links: Vec<(Nav, &'static str, String)>,
    pub alternates: Vec<Alternate>,
    pub meta: Meta,
    /// The page's own content, rendered from its template.
    pub body: Markup,
    /// The banner script's URL, on the pages that load the banner.
    pub script: Option<String>,
    pub canonical: Option<String>,
}

fn lang_name(l: &str) -> &str {
    match l {
        "en" => "English",
        "fr" => "Français",
        "de" => "Deutsch",
        "es" => "Español",
        "it" => "Italiano",
        "nl" => "Nederlands",
        "pt" => "Português",
        other => other,
    }
}

/// Whether a language code is safe to put in a `lang` attribute as is.
pub fn lang_ok(l: &str) -> bool {
    !l.is_empty() && l.len() <= 12 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// One entry of the site navigation, as the layout shows it.
struct NavItem<'a> {
    label: &'a str,
    href: &'a str,
    current: bool,
}

/// One language the page exists in, as the layout shows it.
struct LangItem<'a> {
    lang: &'a str,
    href: &'a str,
    name: &'a str,
    current: bool,
}

/// `templates/layout.html`: the document around every page.
#[derive(askama::Template)]
#[template(path = "layout.html")]
struct Layout<'a> {
    t: &'static Texts,
    lang: &'a str,
    title: &'a str,
    site_name: &'a str,
    canonical: Option<&'a str>,
    nav: Vec<NavItem<'a>>,
    /// Only those with a safe language code.
    alternates: Vec<LangItem<'a>>,
    show_langs: bool,
    css: Markup,
    meta: &'a Meta,
    body: &'a Markup,
    script: Option<&'a str>,
}

/// Renders a template into markup. Rendering fails only when a value's `Display` fails, which
/// none of ours does; the page then says so instead of panicking.
pub(crate) fn render(t: &impl askama::Template) -> Markup {
    Markup::trusted(
        t.render()
            .unwrap_or_else(|_| String::from("<p>This page could not be rendered.</p>")),
    )
}

/// The complete document.
pub fn shell(s: &Shell<'_>) -> String {
    let lang = if lang_ok(s.lang) { s.lang } else { "en" };
    let layout = Layout {
        t: texts(lang),
        lang,
        title: &s.title,
        site_name: s.site_name,
        canonical: s.canonical.as_deref(),
        nav: s
            .links
            .iter()
            .map(|(n, label, href)| NavItem {
                label,
                href,
                current: *n == s.nav,
            })
            .collect(),
        alternates: s
            .alternates
            .iter()
            .filter(|a| lang_ok(&a.lang))
            .map(|a| LangItem {
                lang: &a.lang,
                href: &a.href,
                name: lang_name(&a.lang),
                current: a.lang == lang,
            })
            .collect(),
        show_langs: s.alternates.len() > 1,
        css: Markup::trusted(CSS.to_string()),
        meta: &s.meta,
        body: &s.body,
        script: s.script.as_deref(),
    };
    render(&layout).into_string()
}

/// One embedded stylesheet: readable, high-contrast, printable.
pub const CSS: &str = r#"
:root{--ink:#1b1f24;--muted:#4b5563;--line:#d7dce2;--soft:#f4f6f8;--accent:#1f4e8c;--accent-soft:#e8eff8;--warn:#8a4b00;--warn-soft:#fff4e0;--ok:#1d6b3a;--ok-soft:#e6f4ea}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--ink);background:#fff;font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:66rem;margin:0 auto;padding:0 1.25rem}
.skip{position:absolute;left:-999px;top:0;background:#fff;color:var(--accent);padding:.5rem 1rem;z-index:10;border:2px solid var(--accent)}
.skip:focus{left:1rem;top:1rem}
a{color:var(--accent);text-underline-offset:.15em}
a:hover{text-decoration-thickness:2px}
a:focus-visible,button:focus-visible,select:focus-visible,main:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
main:focus{outline:none}
.top{background:var(--accent);color:#fff}
.top .wrap{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem 1.5rem;padding-top:.7rem;padding-bottom:.7rem}
.top .site{margin:0;font-weight:700;font-size:1.05rem;margin-right:auto}
.top ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.2rem 1rem}
.top a{color:#fff;text-decoration:none;border-bottom:2px solid transparent;padding:.1rem 0}
.top a:hover,.top a[aria-current=page]{border-bottom-color:#fff}
.top .langs span{font-weight:700}
.top .langs li+li::before{content:"·";margin-right:1rem;opacity:.7}
main{padding:1.5rem 0 2.5rem}
h1{font-size:2rem;line-height:1.2;margin:.6rem 0 .3rem;letter-spacing:-.01em}
h2{font-size:1.4rem;margin:2.4rem 0 .6rem;padding-bottom:.3rem;border-bottom:2px solid var(--line)}
h3{font-size:1.12rem;margin:1.6rem 0 .4rem}
h4{font-size:1rem;margin:1.1rem 0 .3rem}
p,ul,ol,dl{margin:.5rem 0 .9rem}
li{margin:.2rem 0}
.meta{color:var(--muted);margin:0 0 1.2rem}
.meta p{margin:.2rem 0}
.meta .warn{color:var(--ink)}
.lead{font-size:1.08rem}
.toc{background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:.4rem 1.2rem .6rem}
.toc h2{font-size:1rem;border:0;margin:.5rem 0 .2rem;padding:0}
.toc ol{columns:2 16rem;margin:.3rem 0;padding-left:1.3rem}
.toc li{break-inside:avoid}
.card{border:1px solid var(--line);border-radius:8px;padding:.3rem 1.1rem .6rem;margin:1rem 0;break-inside:avoid}
.card h3{margin-top:.8rem}
.note{background:var(--accent-soft);border-left:4px solid var(--accent);padding:.7rem 1rem;border-radius:0 6px 6px 0}
.warn{background:var(--warn-soft);border-left:4px solid var(--warn);padding:.7rem 1rem;border-radius:0 6px 6px 0}
.badge{display:inline-block;font-size:.78rem;font-weight:600;line-height:1.4;padding:.05rem .5rem;border-radius:999px;background:var(--soft);border:1px solid var(--line);color:var(--ink);white-space:nowrap;vertical-align:.1em}
.badge.consent{background:var(--accent-soft);border-color:#b8cbe6;color:#163a69}
.badge.exempt{background:var(--ok-soft);border-color:#b5dcc1;color:var(--ok)}
.badge.material{background:var(--warn-soft);border-color:#f0c98a;color:var(--warn)}
.badge.policy{background:#eef3fb;border-color:#a9c1e6;color:#1d4f91}
dl.facts{display:grid;grid-template-columns:minmax(9rem,14rem) 1fr;gap:.35rem 1rem}
dl.facts dt{font-weight:600;color:var(--muted)}
dl.facts dd{margin:0}
dd ul,td ul{margin:0;padding-left:1.2rem}
dd ul li:first-child,td ul li:first-child{margin-top:0}
.table-wrap{overflow-x:auto;margin:.6rem 0 1.2rem;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.93rem}
caption{text-align:left;font-weight:600;padding:.6rem .8rem;color:var(--muted);caption-side:top}
th,td{text-align:left;vertical-align:top;padding:.5rem .8rem;border-top:1px solid var(--line)}
thead th{background:var(--soft);border-top:0;font-size:.82rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
tbody th{font-weight:600}
tbody th .small{font-weight:400;display:inline-block;margin-top:.15rem}
#cookie-table td:last-child,#cookie-table td:nth-child(5){white-space:nowrap}
tbody tr:nth-child(even) td,tbody tr:nth-child(even) th{background:#fafbfc}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;background:var(--soft);border-radius:4px;padding:.05rem .3rem;overflow-wrap:break-word}
.small{font-size:.88rem;color:var(--muted)}
button.manage{font:inherit;font-weight:600;background:var(--accent);color:#fff;border:0;border-radius:6px;padding:.65rem 1.3rem;cursor:pointer}
button.manage:hover{background:#173d6e}
ul.changes{list-style:none;padding:0}
ul.changes li{padding:.45rem .7rem;border-left:4px solid var(--line);margin:.35rem 0;background:#fafbfc}
ul.changes li.material{border-left-color:var(--warn);background:var(--warn-soft)}
ul.changes li.policy{border-left-color:#1d4f91;background:#eef3fb}
ol.versions{list-style:none;padding:0}
ol.versions>li{border:1px solid var(--line);border-radius:8px;padding:.2rem 1.1rem .6rem;margin:1rem 0}
ol.versions h3{margin-top:.8rem}
section.record{margin-top:2rem}
form.compare{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:end;background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem}
form.compare label{display:flex;flex-direction:column;font-weight:600;font-size:.9rem}
form.compare select{font:inherit;padding:.35rem .5rem;border:1px solid #6b7280;border-radius:4px;min-width:8rem;background:#fff}
form.compare button{font:inherit;font-weight:600;padding:.45rem 1rem;border-radius:6px;border:0;background:var(--accent);color:#fff;cursor:pointer}
.foot{border-top:1px solid var(--line);color:var(--muted);font-size:.85rem;padding:.8rem 0}
@media (max-width:40rem){dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.5rem}h1{font-size:1.6rem}}
@media screen and (max-width:40rem){
 .table-wrap{overflow:visible;border:0;border-radius:0}
 .table-wrap table,.table-wrap caption,.table-wrap tbody,.table-wrap tr,.table-wrap th,.table-wrap td{display:block;width:auto}
 .table-wrap caption{padding:0 0 .5rem}
 .table-wrap thead{position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}
 .table-wrap tbody tr{border:1px solid var(--line);border-radius:8px;margin:0 0 .8rem;padding:.35rem 0;overflow-wrap:anywhere;background:#fff}
 .table-wrap tbody tr:nth-child(even){background:#fafbfc}
 .table-wrap tbody th,.table-wrap td{border-top:0;padding:.25rem .8rem;background:none!important}
 .table-wrap td:empty{display:none}
 .table-wrap td[data-label]::before,.table-wrap th[data-label]::before{content:attr(data-label);display:block;font-size:.78rem;font-weight:600;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
 #cookie-table td:last-child,#cookie-table td:nth-child(5){white-space:normal}
}
@media print{
 body{font-size:10.5pt;line-height:1.45}
 .top,.skip,.toc,button.manage,form.compare,.noprint{display:none!important}
 .wrap{max-width:none;padding:0}
 main{padding:0}
 h2{break-after:avoid;border-bottom:1px solid #999}
 h3,h4{break-after:avoid}
 tr,.card,ol.versions>li{break-inside:avoid}
 .table-wrap{overflow:visible;border:0}
 th,td{border:1px solid #999}
 a{color:inherit}
 a[href^="http"]::after{content:" <" attr(href) ">";font-size:.85em;color:#444;overflow-wrap:anywhere}
 .badge{border:1px solid #777;background:none!important;color:#000!important}
 .note,.warn,ul.changes li{background:none!important}
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_refuses_bad_urls() {
        assert_eq!(safe_url("https://x.example/p"), Some("https://x.example/p"));
        assert_eq!(safe_url("HTTP://x.example"), Some("HTTP://x.example"));
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url(" javascript:alert(1)"), None);
        assert_eq!(safe_url("data:text/html,<b>"), None);
        assert_eq!(safe_url("https://x.example/\" onmouseover=\"x"), None);
        assert_eq!(safe_url("//evil.example"), None);
        assert!(
            !ext_link("javascript:alert(1)", &Markup::text("Policy"))
                .as_str()
                .contains("href")
        );
        assert!(
            mailto("a@b.example")
                .as_str()
                .contains("mailto:a@b.example")
        );
        assert!(!mailto("javascript:alert(1)@x").as_str().contains("href"));
        assert_eq!(pct("a b/é"), "a%20b%2F%C3%A9");
    }
}
