//! The DPO's dashboard page (`templates/admin/dashboard.html`): a site's consent statistics
//! over a period as server-rendered SVG charts, each followed by the same numbers as a table
//! (for screen readers and for copying), no script. Words from the catalogs (`dash.*` keys,
//! English, French, German).
//!
//! Invariants: every value that is not a number computed here (site ids, purpose names from
//! the registry) reaches the HTML through askama's escaping, SVG included; a rate that has
//! nothing to divide by is shown as "–", never as 0.

use askama::Template;
use assent_model::dashboard::{Counts, Dashboard};

use crate::console::Shell;
use crate::rights::Tr;

/// The dashboard's additions to the console's stylesheet.
pub const DASH_CSS: &str = "\
.pick{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:end;background:#f3f4f6;padding:.4rem 1rem 1rem;border-radius:6px;margin:.6rem 0}\
.pick div{display:flex;flex-direction:column}.pick select,.pick input{width:auto}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.6rem;padding:0;margin:1rem 0}\
.cards div{background:#f3f4f6;border-radius:6px;padding:.6rem}.cards dt{font-size:.9rem;color:#374151}\
.cards dd{margin:0;font-size:1.4rem;font-weight:700}.scroll{overflow-x:auto}.scroll:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}\
.scroll table{border-collapse:collapse;width:100%;font-size:.95rem}\
.scroll th,.scroll td{text-align:right;padding:.3rem .4rem;border-bottom:1px solid #ddd}\
.scroll th:first-child,.scroll td:first-child{text-align:left}\
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem}\
.legend span{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;vertical-align:middle}\
svg{width:100%;height:auto;max-width:45rem}details{margin:.5rem 0 1.5rem}\
summary{cursor:pointer;min-height:24px}.none{color:#374151;font-style:italic}";

/// The chart's drawing area (SVG user units).
const W: f64 = 720.0;
const H: f64 = 180.0;
/// Left margin for the axis labels.
const LEFT: f64 = 48.0;

/// Colours of the four actions and of the displays line (contrast ≥ 3:1 on white).
const ACTION_COLOURS: [&str; 4] = ["#15803d", "#b91c1c", "#1d4ed8", "#a16207"];
const SHOWN_COLOUR: &str = "#111827";

/// One rectangle of a chart, positioned in user units.
#[derive(Debug)]
struct Rect {
    x: String,
    y: String,
    w: String,
    h: String,
    fill: &'static str,
}

/// A legend entry.
#[derive(Debug)]
struct Legend {
    label: String,
    fill: &'static str,
}

/// One row of a table of counts (a day, a version, a language, or the whole period).
#[derive(Debug)]
struct Line {
    label: String,
    shown: String,
    choices: String,
    shares: [String; 4],
    gpc: String,
    no_choice: String,
    /// Per purpose: (opt-in rate, consent rate).
    purposes: Vec<(String, String)>,
}

/// A table of groups (by version, by language).
#[derive(Debug)]
struct Group {
    title: String,
    col: String,
    rows: Vec<Line>,
}

/// A purpose's bars in the rates chart.
#[derive(Debug)]
struct PurposeBars {
    name: String,
    text_y: String,
    opt_in: Rect,
    consent: Rect,
    opt_in_pct: String,
    consent_pct: String,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct Page<'a> {
    s: &'a Shell,
    t: Tr,
    d: &'a Dashboard,
    period: &'a str,
    range: String,
    summary: Vec<(String, String)>,
    legend: Vec<Legend>,
    bars: Vec<Rect>,
    shown_line: String,
    shown_colour: &'static str,
    y_max: String,
    first_day: String,
    last_day: String,
    chart_h: String,
    days: Vec<Line>,
    groups: Vec<Group>,
    purpose_names: Vec<String>,
    purpose_bars: Vec<PurposeBars>,
    purposes_h: String,
    rights: [(String, String); 4],
}

/// `n` with the language's thousands separator.
fn num(lang: &str, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = match lang {
        "fr" => "\u{202f}",
        "de" => ".",
        _ => ",",
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A share as a percentage with one decimal, "–" when undefined.
fn pct(lang: &str, r: Option<f64>) -> String {
    match r {
        None => "–".to_owned(),
        Some(r) => {
            let s = format!("{:.1}", r * 100.0);
            match lang {
                "fr" | "de" => format!("{}\u{a0}%", s.replace('.', ",")),
                _ => format!("{s}%"),
            }
        }
    }
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

fn line(lang: &str, label: String, c: &Counts) -> Line {
    Line {
        label,
        shown: num(lang, c.shown),
        choices: num(lang, c.choices),
        shares: [
            pct(lang, c.accept_all_share),
            pct(lang, c.reject_all_share),
            pct(lang, c.custom_share),
            pct(lang, c.withdraw_share),
        ],
        gpc: pct(lang, c.gpc_share),
        no_choice: pct(lang, c.no_choice_rate),
        purposes: c
            .purposes
            .iter()
            .map(|p| (pct(lang, p.opt_in_rate), pct(lang, p.consent_rate)))
            .collect(),
    }
}

/// The page of dashboard `d` in the console's shell `s` (its language; its title becomes the
/// heading); `period` is the period picked (`7`, `30`, `90` or `custom`).
pub fn dashboard_page(s: &Shell, d: &Dashboard, period: &str) -> String {
    let t = s.t();
    let lang = t.lang();
    let mut s = s.clone();
    s.title = t.fill("dash.heading", &[("site", &d.site)]);
    s.css = crate::i18n::Markup::trusted(format!("{}{DASH_CSS}", s.css));
    let c = &d.totals;
    let summary = vec![
        (t.get("dash.shown").to_owned(), num(lang, c.shown)),
        (t.get("dash.choices").to_owned(), num(lang, c.choices)),
        (
            t.get("dash.accept_all").to_owned(),
            pct(lang, c.accept_all_share),
        ),
        (
            t.get("dash.reject_all").to_owned(),
            pct(lang, c.reject_all_share),
        ),
        (t.get("dash.custom").to_owned(), pct(lang, c.custom_share)),
        (
            t.get("dash.withdraw").to_owned(),
            pct(lang, c.withdraw_share),
        ),
        (t.get("dash.gpc").to_owned(), pct(lang, c.gpc_share)),
        (
            t.get("dash.no_choice").to_owned(),
            pct(lang, c.no_choice_rate),
        ),
    ];
    let labels = [
        "dash.accept_all",
        "dash.reject_all",
        "dash.custom",
        "dash.withdraw",
    ];
    let mut legend: Vec<Legend> = labels
        .iter()
        .zip(ACTION_COLOURS)
        .map(|(k, fill)| Legend {
            label: t.get(k).to_owned(),
            fill,
        })
        .collect();
    legend.push(Legend {
        label: t.get("dash.shown").to_owned(),
        fill: SHOWN_COLOUR,
    });

    // The trend: a stacked bar of the day's choices by action, a line of its displays.
    let max = d
        .days
        .iter()
        .map(|x| x.counts.shown.max(x.counts.choices))
        .max()
        .unwrap_or(0)
        .max(1);
    let n = d.days.len().max(1);
    #[allow(clippy::cast_precision_loss)]
    let (slot, scale) = ((W - LEFT) / n as f64, H / max as f64);
    let mut bars = vec![];
    let mut points = vec![];
    for (i, day) in d.days.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let x = LEFT + slot * i as f64;
        let c = &day.counts;
        let mut y = H;
        for (v, fill) in [c.accept_all, c.reject_all, c.custom, c.withdraw]
            .into_iter()
            .zip(ACTION_COLOURS)
        {
            #[allow(clippy::cast_precision_loss)]
            let h = v as f64 * scale;
            if h > 0.0 {
                y -= h;
                bars.push(Rect {
                    x: f(x + slot * 0.15),
                    y: f(y),
                    w: f(slot * 0.7),
                    h: f(h),
                    fill,
                });
            }
        }
        #[allow(clippy::cast_precision_loss)]
        points.push(format!(
            "{},{}",
            f(x + slot / 2.0),
            f(H - c.shown as f64 * scale)
        ));
    }
    let days: Vec<Line> = d
        .days
        .iter()
        .map(|x| line(lang, x.date.clone(), &x.counts))
        .collect();
    let versions = d
        .versions
        .iter()
        .map(|v| line(lang, v.version.to_string(), &v.counts))
        .collect();
    let languages = d
        .languages
        .iter()
        .map(|l| line(lang, l.language.clone(), &l.counts))
        .collect();

    // Per purpose: opt-in rate and consent rate as two horizontal bars on a 0–100 % scale.
    let bar_w = W - 220.0;
    let purpose_bars: Vec<PurposeBars> = c
        .purposes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            #[allow(clippy::cast_precision_loss)]
            let y = 10.0 + 44.0 * i as f64;
            let width = |r: Option<f64>| f(r.unwrap_or(0.0).clamp(0.0, 1.0) * bar_w);
            PurposeBars {
                name: p.name.clone(),
                text_y: f(y + 14.0),
                opt_in: Rect {
                    x: "200".into(),
                    y: f(y),
                    w: width(p.opt_in_rate),
                    h: "16".into(),
                    fill: ACTION_COLOURS[2],
                },
                consent: Rect {
                    x: "200".into(),
                    y: f(y + 18.0),
                    w: width(p.consent_rate),
                    h: "16".into(),
                    fill: ACTION_COLOURS[0],
                },
                opt_in_pct: pct(lang, p.opt_in_rate),
                consent_pct: pct(lang, p.consent_rate),
            }
        })
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let purposes_h = f(20.0 + 44.0 * c.purposes.len() as f64);
    let r = &d.rights_requests;
    let rights = [
        (t.get("dash.rights.open").to_owned(), num(lang, r.open)),
        (
            t.get("dash.rights.due10").to_owned(),
            num(lang, r.due_within_10_days),
        ),
        (
            t.get("dash.rights.due5").to_owned(),
            num(lang, r.due_within_5_days),
        ),
        (
            t.get("dash.rights.overdue").to_owned(),
            num(lang, r.overdue),
        ),
    ];
    let page = Page {
        s: &s,
        t,
        d,
        period,
        range: t.fill(
            "dash.range",
            &[("from", &d.from), ("to", &d.to), ("tz", &d.time_zone)],
        ),
        summary,
        legend,
        bars,
        shown_line: points.join(" "),
        shown_colour: SHOWN_COLOUR,
        y_max: num(lang, max),
        first_day: d.days.first().map(|x| x.date.clone()).unwrap_or_default(),
        last_day: d.days.last().map(|x| x.date.clone()).unwrap_or_default(),
        chart_h: f(H + 24.0),
        days,
        groups: vec![
            Group {
                title: t.get("dash.by_version").to_owned(),
                col: t.get("dash.col.version").to_owned(),
                rows: versions,
            },
            Group {
                title: t.get("dash.by_language").to_owned(),
                col: t.get("dash.col.language").to_owned(),
                rows: languages,
            },
        ],
        purpose_names: c.purposes.iter().map(|p| p.name.clone()).collect(),
        purpose_bars,
        purposes_h,
        rights,
    };
    page.render().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_speak_the_language() {
        assert_eq!(num("en", 1_234_567), "1,234,567");
        assert_eq!(num("de", 1_234), "1.234");
        assert_eq!(num("fr", 999), "999");
        assert_eq!(num("en", -1_000), "-1,000");
        assert_eq!(pct("en", Some(0.425)), "42.5%");
        assert_eq!(pct("fr", Some(0.5)), "50,0\u{a0}%");
        assert_eq!(pct("en", None), "–");
    }
}
