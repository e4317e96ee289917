//! Small building blocks shared by every page: escaping, safe links, localized labels, dates,
//! the page shell and its one stylesheet.
//!
//! Every string that comes from the registry goes through [`esc`] (or [`loc`], which escapes);
//! a URL becomes a link only when it is http(s) ([`safe_url`]), otherwise it is shown as text.

use std::fmt::Write as _;

use assent_model::registry::Text;

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
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
/// not a safe http(s) URL. `label_html` must already be escaped.
pub fn ext_link(url: &str, label_html: &str) -> String {
    match safe_url(url) {
        Some(u) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer external\">{label_html}</a>",
            esc(u)
        ),
        None if label_html == esc(url) => label_html.to_string(),
        None => format!("{label_html} ({})", esc(url)),
    }
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
pub fn policy_link(url: &str) -> String {
    match url_host(url) {
        Some(h) => ext_link(url, &esc(h)),
        None => esc(url),
    }
}

/// A `mailto:` link when the address looks like one, else the escaped text.
pub fn mailto(email: &str) -> String {
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
        format!("<a href=\"mailto:{0}\">{0}</a>", esc(e))
    } else {
        esc(email)
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

/// Picks the English or French wording of a label of Assent itself.
pub fn t(lang: &str, en: &'static str, fr: &'static str) -> &'static str {
    if lang == "fr" { fr } else { en }
}

/// A registry text in `lang` (falling back to the site's default language), escaped. When the
/// translation is missing, the fallback is wrapped in a `lang` span so screen readers switch.
pub fn loc(text: &Text, lang: &str, default: &str) -> String {
    let s = text.get(lang, default);
    match text {
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
    }
}

/// A registry text in `lang`, unescaped (for JSON and CSV).
pub fn plain(text: &Text, lang: &str, default: &str) -> String {
    text.get(lang, default).to_string()
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// The civil date of an instant in the controller's time zone (UTC when the zone is unknown):
/// `(year, month 1-12, day)`.
pub fn civil_date(ms: i64, tz: &str) -> Option<(i16, i8, i8)> {
    let ts = jiff::Timestamp::from_millisecond(ms).ok()?;
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let d = ts.to_zoned_datetime(zone).date();
    Some((d.year(), d.month(), d.day()))
}

/// "21 September 2026" / "21 septembre 2026" (the first of the month is "1er" in French).
pub fn long_date(ms: i64, tz: &str, lang: &str) -> String {
    let Some((y, m, d)) = civil_date(ms, tz) else {
        return String::from("?");
    };
    let idx = usize::try_from(m - 1).unwrap_or(0).min(11);
    if lang == "fr" {
        let day = if d == 1 {
            "1er".to_string()
        } else {
            d.to_string()
        };
        format!("{day} {} {y}", MONTHS_FR[idx])
    } else {
        format!("{d} {} {y}", MONTHS_EN[idx])
    }
}

/// `YYYY-MM-DD` in the controller's time zone.
pub fn iso_date(ms: i64, tz: &str) -> String {
    match civil_date(ms, tz) {
        Some((y, m, d)) => format!("{y:04}-{m:02}-{d:02}"),
        None => String::from("?"),
    }
}

/// A `<time>` element with the long date.
pub fn time_el(ms: i64, tz: &str, lang: &str) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        iso_date(ms, tz),
        esc(&long_date(ms, tz, lang))
    )
}

/// A consent lifetime in words: "6 months" for 182 days, "13 months" for 395, else days.
pub fn lifetime_days(days: u32, lang: &str) -> String {
    let months = (u64::from(days) * 12 + 182) / 365;
    let back = months * 365 / 12;
    let near = back.abs_diff(u64::from(days)) <= 2;
    match (near && months > 0, lang == "fr") {
        (true, true) => format!("{months} mois"),
        (true, false) if months == 1 => "1 month".to_string(),
        (true, false) => format!("{months} months"),
        (false, true) if days == 1 => "1 jour".to_string(),
        (false, true) => format!("{days} jours"),
        (false, false) if days == 1 => "1 day".to_string(),
        (false, false) => format!("{days} days"),
    }
}

/// Country name for the ISO code (common codes; otherwise the code itself).
pub fn country(code: &str, lang: &str) -> String {
    let c = code.trim().to_ascii_uppercase();
    let (en, fr) = match c.as_str() {
        "EU" => ("European Union", "Union européenne"),
        "EEA" => ("European Economic Area", "Espace économique européen"),
        "ZZ" => (
            "a country outside the EU not named by the controller",
            "un pays hors de l'UE non précisé par le responsable",
        ),
        "US" => ("United States", "États-Unis"),
        "GB" | "UK" => ("United Kingdom", "Royaume-Uni"),
        "CH" => ("Switzerland", "Suisse"),
        "CA" => ("Canada", "Canada"),
        "JP" => ("Japan", "Japon"),
        "KR" => ("South Korea", "Corée du Sud"),
        "IN" => ("India", "Inde"),
        "IL" => ("Israel", "Israël"),
        "AU" => ("Australia", "Australie"),
        "NZ" => ("New Zealand", "Nouvelle-Zélande"),
        "SG" => ("Singapore", "Singapour"),
        "CN" => ("China", "Chine"),
        "BR" => ("Brazil", "Brésil"),
        "AR" => ("Argentina", "Argentine"),
        "UY" => ("Uruguay", "Uruguay"),
        "FR" => ("France", "France"),
        "DE" => ("Germany", "Allemagne"),
        "IE" => ("Ireland", "Irlande"),
        "NL" => ("Netherlands", "Pays-Bas"),
        "BE" => ("Belgium", "Belgique"),
        "LU" => ("Luxembourg", "Luxembourg"),
        "ES" => ("Spain", "Espagne"),
        "IT" => ("Italy", "Italie"),
        "PT" => ("Portugal", "Portugal"),
        "AT" => ("Austria", "Autriche"),
        "SE" => ("Sweden", "Suède"),
        "FI" => ("Finland", "Finlande"),
        "DK" => ("Denmark", "Danemark"),
        "PL" => ("Poland", "Pologne"),
        "MT" => ("Malta", "Malte"),
        "NO" => ("Norway", "Norvège"),
        "IS" => ("Iceland", "Islande"),
        "LI" => ("Liechtenstein", "Liechtenstein"),
        _ => return code.to_string(),
    };
    t(lang, en, fr).to_string()
}

/// "United States (US)": the name and, for real codes, the code.
pub fn country_with_code(code: &str, lang: &str) -> String {
    let name = country(code, lang);
    let c = code.trim().to_ascii_uppercase();
    if name == code || c == "ZZ" || c == "EU" || c == "EEA" {
        name
    } else {
        format!("{name} ({c})")
    }
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

/// Everything the page shell needs. Strings ending in `_html` are already escaped.
pub struct Shell<'a> {
    pub lang: &'a str,
    pub title: String,
    pub site_name: &'a str,
    pub nav: Nav,
    /// `(nav, label, href)` entries of the site navigation.
    pub links: Vec<(Nav, &'static str, String)>,
    pub alternates: Vec<Alternate>,
    /// A line under the title (version, date), escaped HTML.
    pub meta_html: String,
    pub body_html: String,
    /// Extra tags at the end of `<body>` (the banner script).
    pub tail_html: String,
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

/// The complete document.
pub fn shell(s: &Shell<'_>) -> String {
    let lang = if lang_ok(s.lang) { s.lang } else { "en" };
    let mut nav = String::new();
    for (n, label, href) in &s.links {
        let cur = if *n == s.nav {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            nav,
            "<li><a href=\"{}\"{cur}>{}</a></li>",
            esc(href),
            esc(label)
        );
    }
    let mut alts = String::new();
    let mut alt_links = String::new();
    for a in &s.alternates {
        if !lang_ok(&a.lang) {
            continue;
        }
        let _ = write!(
            alt_links,
            "<link rel=\"alternate\" hreflang=\"{0}\" href=\"{1}\">",
            a.lang,
            esc(&a.href)
        );
        if a.lang == lang {
            let _ = write!(
                alts,
                "<li><span aria-current=\"true\" lang=\"{0}\">{1}</span></li>",
                a.lang,
                esc(lang_name(&a.lang))
            );
        } else {
            let _ = write!(
                alts,
                "<li><a href=\"{1}\" hreflang=\"{0}\" lang=\"{0}\">{2}</a></li>",
                a.lang,
                esc(&a.href),
                esc(lang_name(&a.lang))
            );
        }
    }
    let langs = if s.alternates.len() > 1 {
        format!(
            "<nav class=\"langs\" aria-label=\"{}\"><ul>{alts}</ul></nav>",
            t(lang, "Language", "Langue")
        )
    } else {
        String::new()
    };
    let pages_nav = if nav.is_empty() {
        String::new()
    } else {
        format!(
            "<nav aria-label=\"{}\"><ul class=\"pages\">{nav}</ul></nav>",
            t(lang, "Policies", "Politiques")
        )
    };
    let canonical = s
        .canonical
        .as_deref()
        .map(|c| format!("<link rel=\"canonical\" href=\"{}\">", esc(c)))
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{title} – {site}</title>\n{canonical}{alt_links}\n<style>{CSS}</style>\n</head>\n<body>\n\
<a class=\"skip\" href=\"#main\">{skip}</a>\n\
<header class=\"top\">\n<div class=\"wrap\">\n<p class=\"site\">{site}</p>\n\
{pages_nav}\n{langs}\n</div>\n</header>\n\
<main id=\"main\" tabindex=\"-1\">\n<div class=\"wrap\">\n<h1>{title}</h1>\n<div class=\"meta\">{meta}</div>\n\
{body}\n</div>\n</main>\n<footer class=\"foot\"><div class=\"wrap\"><p>{generated}</p></div></footer>\n{tail}\n</body>\n</html>\n",
        title = esc(&s.title),
        site = esc(s.site_name),
        skip = t(lang, "Skip to content", "Aller au contenu"),
        meta = s.meta_html,
        body = s.body_html,
        tail = s.tail_html,
        generated = t(
            lang,
            "This page is generated from the same registry that drives the consent banner, so the two always agree.",
            "Cette page est générée à partir du registre qui pilote le bandeau de consentement : les deux concordent toujours."
        ),
    )
}

/// A table of contents from `(anchor, heading)` pairs.
pub fn toc(lang: &str, entries: &[(&str, String)]) -> String {
    let mut out = format!(
        "<nav class=\"toc\" aria-labelledby=\"toc-h\"><h2 id=\"toc-h\">{}</h2><ol>",
        t(lang, "Contents", "Sommaire")
    );
    for (id, h) in entries {
        let _ = write!(out, "<li><a href=\"#{id}\">{}</a></li>", esc(h));
    }
    out.push_str("</ol></nav>");
    out
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

/// One `<dt>label</dt><dd>value</dd>` pair of a facts list; `value_html` is already escaped.
pub fn fact(b: &mut String, label: &str, value_html: &str) {
    b.push_str("<dt>");
    b.push_str(label);
    b.push_str("</dt><dd>");
    b.push_str(value_html);
    b.push_str("</dd>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_refuses_bad_urls() {
        assert_eq!(
            esc("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
        assert_eq!(safe_url("https://x.example/p"), Some("https://x.example/p"));
        assert_eq!(safe_url("HTTP://x.example"), Some("HTTP://x.example"));
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url(" javascript:alert(1)"), None);
        assert_eq!(safe_url("data:text/html,<b>"), None);
        assert_eq!(safe_url("https://x.example/\" onmouseover=\"x"), None);
        assert_eq!(safe_url("//evil.example"), None);
        assert!(!ext_link("javascript:alert(1)", "Policy").contains("href"));
        assert!(mailto("a@b.example").contains("mailto:a@b.example"));
        assert!(!mailto("javascript:alert(1)@x").contains("href"));
        assert_eq!(pct("a b/é"), "a%20b%2F%C3%A9");
    }

    #[test]
    fn words() {
        assert_eq!(lifetime_days(182, "en"), "6 months");
        assert_eq!(lifetime_days(182, "fr"), "6 mois");
        assert_eq!(lifetime_days(395, "en"), "13 months");
        assert_eq!(lifetime_days(30, "en"), "1 month");
        assert_eq!(lifetime_days(45, "en"), "45 days");
        assert_eq!(
            long_date(1_790_000_000_000, "Europe/Paris", "en"),
            "21 September 2026"
        );
        assert_eq!(
            long_date(1_790_000_000_000, "Europe/Paris", "fr"),
            "21 septembre 2026"
        );
        assert_eq!(
            long_date(1_788_220_800_000, "UTC", "fr"),
            "1er septembre 2026"
        );
        assert_eq!(country_with_code("US", "fr"), "États-Unis (US)");
    }
}
