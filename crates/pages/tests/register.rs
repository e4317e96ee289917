#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Art. 30 record: every mandatory field for every activity of the five examples, a CSV
//! that round-trips through a CSV parser with the same rows, formula cells neutralised, and
//! the JSON and HTML forms.

mod common;

use assent_model::registry::{Text, in_eea};
use assent_pages::register::{self, Format, csv_cell, csv_header, csv_rows};
use common::esc;

fn parse_csv(s: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(s.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn csv_round_trips_with_one_row_per_activity() {
    for (file, reg) in common::examples() {
        for lang in ["en", "fr"] {
            let rec = register::build(&reg, None, lang).unwrap();
            assert_eq!(
                rec.activities.len(),
                reg.activities.len(),
                "{file}: every activity without --site"
            );
            let out = register::export(&reg, None, Format::Csv, lang, "now").unwrap();
            let (header, rows) = parse_csv(&out);
            assert_eq!(header, csv_header(lang), "{file}");
            let want: Vec<Vec<String>> = csv_rows(&rec)
                .into_iter()
                .map(|r| r.iter().map(|c| csv_cell(c)).collect())
                .collect();
            assert_eq!(
                rows, want,
                "{file}/{lang}: the parsed CSV has the same rows"
            );
            assert_eq!(rows.len(), reg.activities.len());
            let def = reg.sites[0].default_language();
            for (a, row) in reg.activities.iter().zip(&rows) {
                let cell = |i: usize| row[i].as_str();
                assert_eq!(cell(0), a.id, "{file}");
                assert_eq!(cell(1), a.name.get(lang, def));
                assert!(cell(2).contains(&reg.controller.name), "{file}: controller");
                // A placeholder address is a gap to complete, not a fact.
                let email = assent_pages::gaps::address_or_gap(&reg.controller.email, lang);
                assert!(cell(2).contains(&email), "{file}: controller contact");
                if let Some(d) = &reg.controller.dpo {
                    assert!(cell(4).contains(d.email.as_deref().unwrap()), "{file}: DPO");
                }
                assert_eq!(cell(5), a.description.get(lang, def), "{file}: purposes");
                assert_eq!(cell(6), a.legal_basis.label(lang));
                let has_all =
                    |i: usize, v: &[Text]| v.iter().all(|t| row[i].contains(t.get(lang, def)));
                assert!(
                    has_all(8, &a.data_subjects),
                    "{file}: data subjects of {}",
                    a.id
                );
                assert!(
                    has_all(9, &a.data_categories),
                    "{file}: data categories of {}",
                    a.id
                );
                assert!(has_all(11, &a.recipients), "{file}: recipients of {}", a.id);
                assert!(
                    has_all(16, &a.security_measures),
                    "{file}: security of {}",
                    a.id
                );
                for p in &a.processors {
                    let s = reg.service(p).unwrap();
                    assert!(cell(12).contains(&s.name), "{file}: processor {p}");
                    if s.country.as_deref().is_some_and(|c| !in_eea(c)) {
                        assert!(
                            cell(13).contains(&s.name),
                            "{file}: third-country recipient {p}"
                        );
                        let provider = assent_pages::gaps::or_gap(&s.provider, lang);
                        assert!(cell(14).contains(&provider), "{file}: transfer to {p}");
                    }
                }
                for t in &a.transfers {
                    assert!(
                        cell(14).contains(t.safeguard.label(lang)),
                        "{file}: safeguard"
                    );
                    if let Some(r) = &t.recipient {
                        assert!(cell(14).contains(r.as_str()), "{file}: transfer recipient");
                    }
                }
                for id in &a.retention {
                    let r = reg.retention_rule(id).unwrap();
                    assert!(
                        cell(15).contains(r.data_category.get(lang, def)),
                        "{file}: erasure {id}"
                    );
                    if r.period.amount > 0 {
                        assert!(
                            cell(15).contains(&r.period.display(lang)),
                            "{file}: erasure {id}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn csv_neutralises_formulas() {
    let mut reg = common::callkom();
    let cases = [
        "=HYPERLINK(\"http://x\")",
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "safe",
    ];
    while reg.activities.len() < cases.len() {
        let mut a = reg.activities[0].clone();
        a.id = format!("copy-{}", reg.activities.len());
        reg.activities.push(a);
    }
    for (i, c) in cases.iter().enumerate() {
        reg.activities[i].name = Text::Plain((*c).to_string());
    }
    reg.activities[0].description = Text::Plain("=cmd|' /C calc'!A0".into());
    let out = register::export(&reg, None, Format::Csv, "en", "now").unwrap();
    let (_, rows) = parse_csv(&out);
    for (i, c) in cases.iter().enumerate() {
        let want = if *c == "safe" {
            c.to_string()
        } else {
            format!("'{c}")
        };
        assert_eq!(rows[i][1], want, "cell {c:?}");
    }
    assert_eq!(rows[0][5], "'=cmd|' /C calc'!A0");
    for row in &rows {
        for cell in row {
            assert!(
                !matches!(
                    cell.chars().next(),
                    Some('=' | '+' | '-' | '@' | '\t' | '\r')
                ),
                "{cell:?}"
            );
        }
    }
}

#[test]
fn site_filter_and_unknown_site() {
    let reg = common::examples()
        .into_iter()
        .find(|(n, _)| n == "kalido.toml")
        .unwrap()
        .1;
    let rec = register::build(&reg, Some("kalido"), "fr").unwrap();
    assert_eq!(rec.site.as_deref(), Some("kalido"));
    assert_eq!(
        rec.activities.len(),
        reg.site_activities(&reg.sites[0]).count()
    );
    assert!(matches!(
        register::build(&reg, Some("nope"), "en"),
        Err(register::RegisterError::UnknownSite(_))
    ));
    assert!("xml".parse::<Format>().is_err());
    assert_eq!("CSV".parse::<Format>().unwrap(), Format::Csv);
}

#[test]
fn json_and_html_carry_the_mandatory_fields() {
    for (file, reg) in common::examples() {
        let def = reg.sites[0].default_language();
        let v: serde_json::Value =
            serde_json::from_str(&register::export(&reg, None, Format::Json, "en", "now").unwrap())
                .unwrap();
        assert_eq!(
            v["controller"]["name"],
            reg.controller.name.as_str(),
            "{file}"
        );
        assert_eq!(
            v["controller"]["email"],
            assent_pages::gaps::address_or_gap(&reg.controller.email, "en"),
            "{file}"
        );
        assert!(
            v.get("representative").is_some() && v.get("dpo").is_some(),
            "{file}"
        );
        let acts = v["activities"].as_array().unwrap();
        assert_eq!(acts.len(), reg.activities.len());
        for (a, j) in reg.activities.iter().zip(acts) {
            for key in [
                "purposes",
                "legal_basis",
                "data_subjects",
                "data_categories",
                "recipients",
                "processors",
                "transfers",
                "erasure",
                "security_measures",
            ] {
                assert!(j.get(key).is_some(), "{file}: {} lacks {key}", a.id);
            }
            assert_eq!(
                j["erasure"].as_array().unwrap().len(),
                a.retention.len(),
                "{file}: {}",
                a.id
            );
            assert!(j["transfers"].as_array().unwrap().len() >= a.transfers.len());
        }
        for lang in ["en", "fr"] {
            let html =
                register::export(&reg, None, Format::Html, lang, "2026-09-21T10:00:00Z").unwrap();
            assert!(html.contains(&format!("<html lang=\"{lang}\">")));
            assert!(html.contains("<th scope=\"row\">"));
            for a in &reg.activities {
                common::assert_contains_all(
                    &html,
                    [
                        esc(a.name.get(lang, def)),
                        esc(a.description.get(lang, def)),
                    ],
                    &format!("{file}: {}", a.id),
                );
                for t in &a.transfers {
                    assert!(html.contains(&esc(t.safeguard.label(lang))), "{file}");
                }
            }
            for r in &reg.retention {
                let used = reg.activities.iter().any(|a| a.retention.contains(&r.id));
                if used {
                    assert!(
                        html.contains(&esc(r.data_category.get(lang, def))),
                        "{file}: {}",
                        r.id
                    );
                }
            }
        }
    }
}
