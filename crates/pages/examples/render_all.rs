//! Renders every page of every `examples/*.toml` site in every language the site lists (plus
//! `en`, `fr` and `de`) into a folder, one file per page, so that a change of the rendering code can
//! be checked with `diff -r` against a render made before it:
//! `cargo run -p assent-pages --example render_all -- /tmp/before`.
//! Fixed inputs (dates, versions, a synthetic second version for the history and diff pages):
//! the output depends only on the registries and the code.

use std::path::{Path, PathBuf};

use assent_model::registry::Lifetime;
use assent_model::version::{SiteSnapshot, diff};
use assent_pages::enforcement::Enforcements;
use assent_pages::register::{self, Format};
use assent_pages::versions::{self, HistoryPage};
use assent_pages::{Links, PolicyPage, cookie, privacy};

#[path = "../tests/common/mod.rs"]
mod common;

use common::CREATED_MS;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: render_all <out-dir>")?,
    );
    std::fs::create_dir_all(&out)?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    for n in names {
        let src = std::fs::read_to_string(dir.join(&n))?;
        let (reg, _) = assent_model::check::parse(&src).map_err(|e| format!("{n}: {e:?}"))?;
        let stem = n.trim_end_matches(".toml");
        let mut langs = vec!["en".to_string(), "fr".to_string(), "de".to_string()];
        for s in &reg.sites {
            for l in &s.languages {
                if !langs.contains(l) {
                    langs.push(l.clone());
                }
            }
        }
        for lang in &langs {
            // German is rendered as if every site listed it (the examples do not, yet).
            let mut reg = reg.clone();
            if lang == "de" {
                for s in &mut reg.sites {
                    if !s.languages.iter().any(|l| l == "de") {
                        s.languages.push("de".into());
                    }
                }
            }
            let reg = &reg;
            let w = |name: String, body: String| std::fs::write(out.join(name), body);
            for f in [Format::Csv, Format::Json, Format::Html] {
                let r = register::export(reg, None, f, lang, "2026-09-21T10:00:00Z")?;
                w(format!("{stem}.register.{lang}.{}", f.extension()), r)?;
            }
            for site in &reg.sites {
                let snap = SiteSnapshot::from_registry(reg, &site.id).ok_or("no site")?;
                let extra = common::extra_services(reg, &snap);
                let enforcement = Enforcements::of_rules(&snap.retention, |_| None);
                let links = Links::new("", &site.id);
                let lang = assent_pages::resolve_lang(Some(lang), site);
                let key = format!("{stem}.{}.{lang}", site.id);
                for (version, current) in [(1, 1), (1, 2)] {
                    let page = PolicyPage {
                        snap: &snap,
                        lang: &lang,
                        version,
                        created_at_ms: CREATED_MS,
                        current_version: current,
                        links: &links,
                        extra_services: &extra,
                        enforcement: &enforcement,
                    };
                    let v = format!("v{version}of{current}");
                    w(format!("{key}.cookie.{v}.html"), cookie::html(&page))?;
                    w(
                        format!("{key}.cookie.{v}.json"),
                        serde_json::to_string_pretty(&cookie::json(&page))?,
                    )?;
                    w(format!("{key}.privacy.{v}.html"), privacy::html(&page))?;
                }
                // A second version: one cookie lives longer, so the diff has a material change.
                let mut reg2 = reg.clone();
                if let Some(c) = reg2
                    .cookies
                    .iter_mut()
                    .find(|c| snap.cookies.iter().any(|x| x.name == c.name))
                {
                    c.lifetime = Lifetime::For("25 months".parse()?);
                }
                if let Some(r) = reg2.retention.first_mut() {
                    r.period = "1 hour".parse()?;
                }
                let snap2 = SiteSnapshot::from_registry(&reg2, &site.id).ok_or("no site")?;
                let changes = diff(&snap, &snap2);
                let entries = common::version_entries(changes.clone());
                let hp = HistoryPage {
                    site,
                    timezone: &snap.controller.timezone,
                    lang: &lang,
                    links: &links,
                };
                w(
                    format!("{key}.history.html"),
                    versions::history_html(&hp, &entries),
                )?;
                w(
                    format!("{key}.history.json"),
                    serde_json::to_string_pretty(&versions::history_json(&hp, &entries))?,
                )?;
                w(
                    format!("{key}.diff.html"),
                    versions::diff_html(&hp, &entries[0], &entries[1], &changes, &[1, 2]),
                )?;
                w(
                    format!("{key}.diff.json"),
                    serde_json::to_string_pretty(&versions::diff_json(
                        &hp,
                        &entries[0],
                        &entries[1],
                        &changes,
                    ))?,
                )?;
                w(
                    format!("{key}.error.html"),
                    versions::error_html(&lang, "Unknown <version>", "No version 9 & more"),
                )?;
            }
        }
    }
    Ok(())
}
