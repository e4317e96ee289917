//! Helpers shared by the rendering tests: the five example registries, pages rendered from
//! them, and small HTML slicing functions (the pages have a fixed, known structure).
//! Also compiled into `examples/render_all.rs`, so that the example renders the same fixed
//! inputs as the tests (a helper's panic there is a developer's error, as in a test).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use assent_model::Registry;
use assent_model::registry::{Service, Site};
use assent_model::version::{Change, SiteSnapshot};
use assent_pages::enforcement::Enforcements;
use assent_pages::versions::VersionEntry;
use assent_pages::{Links, PolicyPage, cookie, privacy};

/// A text as the pages show it (escaped by the templates).
pub fn esc(s: &str) -> String {
    assent_pages::i18n::Markup::text(s).into_string()
}

/// Asserts that `html` contains every one of `wants` (as given: escape texts with [`esc`]);
/// a failure names `ctx` and the missing piece.
#[track_caller]
pub fn assert_contains_all<S: AsRef<str>>(
    html: &str,
    wants: impl IntoIterator<Item = S>,
    ctx: &str,
) {
    for want in wants {
        let want = want.as_ref();
        assert!(html.contains(want), "{ctx}: lacks {want:?}");
    }
}

pub const CREATED_MS: i64 = 1_790_000_000_000; // 2026-09-21

/// The five example registries, validated by `assent check`'s parser.
pub fn examples() -> Vec<(String, Registry)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 5, "five example registries: {names:?}");
    names
        .into_iter()
        .map(|n| {
            let src = std::fs::read_to_string(dir.join(&n)).unwrap();
            let (reg, _warnings) = assent_model::check::parse(&src)
                .unwrap_or_else(|e| panic!("{n} does not pass check: {e:?}"));
            (n, reg)
        })
        .collect()
}

pub fn callkom() -> Registry {
    examples()
        .into_iter()
        .find(|(n, _)| n == "callkom.toml")
        .unwrap()
        .1
}

/// Services named by the site's activities but absent from its snapshot (what the server
/// reads from the stored registry file).
pub fn extra_services(reg: &Registry, snap: &SiteSnapshot) -> Vec<Service> {
    reg.services
        .iter()
        .filter(|s| snap.service(&s.id).is_none())
        .filter(|s| snap.activities.iter().any(|a| a.processors.contains(&s.id)))
        .cloned()
        .collect()
}

/// One rendering to check: an example registry, one of its sites, in one language.
pub struct Case {
    pub reg: Registry,
    pub site: Site,
    pub snap: SiteSnapshot,
    pub lang: &'static str,
    pub rendered: Rendered,
    /// `file / site / lang`, for assertion messages.
    pub ctx: String,
}

/// Every site of every example registry, rendered in each of `langs`.
pub fn cases(langs: &[&'static str]) -> Vec<Case> {
    let mut out = vec![];
    for (file, reg) in examples() {
        for site in &reg.sites {
            for &lang in langs {
                out.push(Case {
                    reg: reg.clone(),
                    site: site.clone(),
                    snap: SiteSnapshot::from_registry(&reg, &site.id).unwrap(),
                    lang,
                    rendered: render(&reg, &site.id, lang),
                    ctx: format!("{file} / {} / {lang}", site.id),
                });
            }
        }
    }
    out
}

/// Two versions of a site for the history and diff pages: the first, then one with
/// `changes` (material if any of them is), 40 days later.
pub fn version_entries(changes: Vec<Change>) -> Vec<VersionEntry> {
    vec![
        VersionEntry {
            version: 1,
            created_at_ms: CREATED_MS,
            requires_fresh_consent: true,
            consent_floor: 1,
            content_hash: "sha256:1".into(),
            changes: vec![],
        },
        VersionEntry {
            version: 2,
            created_at_ms: CREATED_MS + 40 * 86_400_000,
            requires_fresh_consent: changes.iter().any(|c| c.material),
            consent_floor: 2,
            content_hash: "sha256:2".into(),
            changes,
        },
    ]
}

pub struct Rendered {
    pub cookie: String,
    pub privacy: String,
    pub json: serde_json::Value,
}

pub fn render(reg: &Registry, site: &str, lang: &str) -> Rendered {
    let snap = SiteSnapshot::from_registry(reg, site).unwrap();
    let extra = extra_services(reg, &snap);
    let enforcement = Enforcements::of_rules(&snap.retention, |_| None);
    let links = Links::new("", site);
    let page = PolicyPage {
        snap: &snap,
        lang,
        version: 1,
        created_at_ms: CREATED_MS,
        current_version: 1,
        links: &links,
        extra_services: &extra,
        enforcement: &enforcement,
    };
    Rendered {
        cookie: cookie::html(&page),
        privacy: privacy::html(&page),
        json: cookie::json(&page),
    }
}

/// The part of `html` from `start` to the next `end` after it.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in page"));
    let rest = &html[i..];
    let j = rest.find(end).unwrap_or(rest.len());
    &rest[..j]
}

/// The body rows (`<tr>...</tr>`) of the table that starts at `start`.
pub fn table_rows<'a>(html: &'a str, start: &str) -> Vec<&'a str> {
    let table = between(html, start, "</table>");
    let body = table.split("<tbody>").nth(1).unwrap_or("");
    body.split("<tr")
        .skip(1)
        .map(|r| r.split("</tr>").next().unwrap())
        .collect()
}

/// Whether some row contains every needle.
pub fn some_row_has(rows: &[&str], needles: &[String]) -> bool {
    rows.iter()
        .any(|r| needles.iter().all(|n| r.contains(n.as_str())))
}
