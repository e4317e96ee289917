#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Policy pages over real loopback, on SQLite and PostgreSQL: status codes, content types,
//! `lang` attributes, caching validators, 404s, the diff after a registry is applied through
//! the admin API, the Art. 30 record endpoint, and every example registry served.

mod common;

use assent_model::changes::diff;
use assent_model::version::SiteSnapshot;
use common::{Backend, Options, TestApp, content_type, header, hotjar_service, json};

/// A text as the pages show it (escaped by their templates).
fn esc(s: &str) -> String {
    assent_pages::i18n::Markup::text(s).into_string()
}

async fn html(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = app.get(path).await;
    let s = r.status().as_u16();
    let ct = content_type(&r);
    (s, ct, r.text().await.unwrap())
}

fn registry(src: &str) -> assent_model::Registry {
    assent_model::check::parse(src).unwrap().0
}

async fn cookie_policy_over_http(b: Backend) {
    let app = TestApp::spawn(b).await;
    let reg = registry(&std::fs::read_to_string(&app.registry).unwrap());

    let r = app.get("/sites/callkom/cookie-policy").await;
    assert_eq!(r.status(), 200);
    assert_eq!(content_type(&r), "text/html; charset=utf-8");
    let h = r.headers().clone();
    let etag = h["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert!(h["cache-control"].to_str().unwrap().starts_with("public"));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    let body = r.text().await.unwrap().replace("<wbr>", "");
    assert!(body.contains("<html lang=\"en\">"));
    assert!(body.contains("<script src=\"/assent.js?site=callkom&#38;lang=en\""));
    assert!(body.contains("<button type=\"button\" data-assent-manage"));
    for c in &reg.cookies {
        assert!(
            body.contains(&format!("<code>{}</code>", esc(&c.name))),
            "{}",
            c.name
        );
    }
    assert_eq!(
        body.matches(&format!(
            "<th scope=\"row\" data-label=\"{}\"><code>",
            esc(assent_pages::i18n::texts("en").get("cookie.cookie_name"))
        ))
        .count(),
        reg.cookies.len()
    );

    // The same page again: 304 without a body.
    let r = app
        .get_with("/sites/callkom/cookie-policy", &[("if-none-match", &etag)])
        .await;
    assert_eq!(r.status(), 304);
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    assert!(r.text().await.unwrap().is_empty());

    // Languages: French on request; an unknown language gets the site's default.
    let (s, ct, fr) = html(&app, "/sites/callkom/cookie-policy?lang=fr").await;
    assert_eq!((s, ct.as_str()), (200, "text/html; charset=utf-8"));
    assert!(fr.contains("<html lang=\"fr\">") && fr.contains("Politique cookies"));
    let r = app.get("/sites/callkom/cookie-policy?lang=fr").await;
    assert_ne!(
        r.headers()["etag"].to_str().unwrap(),
        etag,
        "one validator per language"
    );
    for q in ["it", "%22%3E%3Cscript%3E", ""] {
        let (s, _, body) = html(&app, &format!("/sites/callkom/cookie-policy?lang={q}")).await;
        assert_eq!(s, 200, "{q}");
        assert!(body.contains("<html lang=\"en\">"), "{q}");
        assert!(!body.contains("<script>"), "{q}");
    }

    // Versions: the current one by number; unknown ones are 404 pages.
    let (s, _, v1) = html(&app, "/sites/callkom/cookie-policy?version=1").await;
    assert_eq!(s, 200);
    assert!(v1.contains("Version 1"));
    for v in ["2", "0", "-1", "abc", "99999999999999999999"] {
        let (s, ct, body) = html(&app, &format!("/sites/callkom/cookie-policy?version={v}")).await;
        assert_eq!(
            (s, ct.as_str()),
            (404, "text/html; charset=utf-8"),
            "version={v}"
        );
        assert!(body.contains("<html lang=\"en\">"), "{v}");
    }

    // Unknown site: an HTML 404 in the asked language, a JSON 404 for .json.
    let (s, ct, body) = html(&app, "/sites/nosuch/cookie-policy?lang=fr").await;
    assert_eq!((s, ct.as_str()), (404, "text/html; charset=utf-8"));
    assert!(body.contains("<html lang=\"fr\">") && body.contains("Page introuvable"));
    for p in [
        "/sites/nosuch/privacy-policy",
        "/sites/nosuch/policy-versions",
        "/sites/nosuch/policy-versions/diff?from=1&to=1",
    ] {
        let (s, ct, _) = html(&app, p).await;
        assert_eq!((s, ct.as_str()), (404, "text/html; charset=utf-8"), "{p}");
    }
    for p in [
        "/sites/nosuch/cookie-policy.json",
        "/sites/nosuch/policy-versions.json",
        "/sites/callkom/cookie-policy.json?version=7",
    ] {
        let (s, v) = json(app.get(p).await).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{p}"
        );
    }

    // The JSON document.
    let r = app.get("/sites/callkom/cookie-policy.json?lang=fr").await;
    assert_eq!(content_type(&r), "application/json");
    assert!(r.headers().get("etag").is_some());
    let (s, v) = json(r).await;
    assert_eq!(s, 200);
    assert_eq!(v["language"], "fr");
    assert_eq!(v["policy_version"], 1);
    assert_eq!(v["cookies"].as_array().unwrap().len(), reg.cookies.len());
    assert_eq!(v["consent_lifetime"], "6 mois");
    assert_eq!(
        v["links"]["cookie_policy"],
        format!("{}/sites/callkom/cookie-policy?lang=fr", app.base)
    );
}

async fn privacy_and_history_over_http(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (s, ct, body) = html(&app, "/sites/callkom/privacy-policy?lang=fr").await;
    assert_eq!((s, ct.as_str()), (200, "text/html; charset=utf-8"));
    assert!(body.contains("<html lang=\"fr\">"));
    assert!(body.contains("href=\"/sites/callkom/rights?lang=fr\""));
    assert!(body.contains("Commission nationale de l&#39;informatique et des libertés (CNIL)"));
    assert!(body.contains("id=\"post-mortem\""));
    let (s, _, body) = html(&app, "/sites/callkom/privacy-policy?version=3").await;
    assert_eq!(s, 404, "{body}");

    let (s, ct, body) = html(&app, "/sites/callkom/policy-versions").await;
    assert_eq!((s, ct.as_str()), (200, "text/html; charset=utf-8"));
    assert!(body.contains("<html lang=\"en\">") && body.contains("id=\"v1\""));
    assert!(body.contains("<time datetime=\"2026-09-2"));
    let (s, v) = json(app.get("/sites/callkom/policy-versions.json").await).await;
    assert_eq!(s, 200);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["version"], 1);
    assert_eq!(v["items"][0]["requires_fresh_consent"], true);

    // The diff page: both versions are required and must exist.
    let (s, ct, body) = html(&app, "/sites/callkom/policy-versions/diff").await;
    assert_eq!(
        (s, ct.as_str()),
        (400, "text/html; charset=utf-8"),
        "{body}"
    );
    let (s, _, _) = html(&app, "/sites/callkom/policy-versions/diff?from=1").await;
    assert_eq!(s, 400);
    let (s, _, _) = html(&app, "/sites/callkom/policy-versions/diff?from=1&to=2").await;
    assert_eq!(s, 404);
    let (s, _, _) = html(&app, "/sites/callkom/policy-versions/diff?from=x&to=1").await;
    assert_eq!(s, 404);
    let (s, _, body) = html(&app, "/sites/callkom/policy-versions/diff?from=1&to=1").await;
    assert_eq!(s, 200);
    assert!(body.contains("same content"));
    let (s, v) = json(
        app.get("/sites/callkom/policy-versions/diff.json?from=1&to=1")
            .await,
    )
    .await;
    assert_eq!((s, v["changes"].as_array().unwrap().len()), (200, 0));
}

async fn diff_names_each_material_change(b: Backend) {
    let app = TestApp::spawn(b).await;
    let src = std::fs::read_to_string(&app.registry).unwrap();
    let changed = src
        .replacen(
            "name = \"__hssc\"\ndomain = \".callkom.io\"\nservice = \"hubspot\"\npurpose = \"performance\"\nlifetime = \"30 minutes\"",
            "name = \"__hssc\"\ndomain = \".callkom.io\"\nservice = \"hubspot\"\npurpose = \"performance\"\nlifetime = \"6 months\"",
            1,
        )
        .replace("Measure the site's audience", "Measure the audience of the site")
        + &hotjar_service("US")
        + r#"safeguard = "dpf"

[[cookies]]
name = "_hjSessionUser_*"
domain = ".callkom.io"
service = "hotjar"
purpose = "performance"
lifetime = "1 year"
description.en = "Hotjar user identifier."
description.fr = "Identifiant d'utilisateur Hotjar."
description.de = "Hotjar-Benutzerkennung."
"#;
    assert!(changed.contains(
        "lifetime = \"6 months\"\nlegal_basis = \"consent\"\ndescription.en = \"Session analytics"
    ));
    let (s, v) = json(
        app.admin_post("/admin/v1/registry", changed.clone(), "application/toml")
            .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["applied"][0]["version"], 2);
    assert_eq!(v["applied"][0]["requires_fresh_consent"], true);

    let old = SiteSnapshot::from_registry(&registry(&src), "callkom").unwrap();
    let new = SiteSnapshot::from_registry(&registry(&changed), "callkom").unwrap();
    let changes = diff(&old, &new);
    let kinds: Vec<&str> = changes
        .iter()
        .filter(|c| c.material)
        .map(|c| c.kind.as_str())
        .collect();
    assert!(
        kinds.contains(&"service_added")
            && kinds.contains(&"cookie_lifetime_longer")
            && kinds.contains(&"transfer_added"),
        "{kinds:?}"
    );

    for lang in ["en", "fr"] {
        let (s, ct, body) = html(
            &app,
            &format!("/sites/callkom/policy-versions/diff?from=1&to=2&lang={lang}"),
        )
        .await;
        assert_eq!(
            (s, ct.as_str()),
            (200, "text/html; charset=utf-8"),
            "{body}"
        );
        assert!(body.contains(&format!("<html lang=\"{lang}\">")));
        let i = body
            .find("id=\"material\"")
            .expect("a section of significant changes");
        let material = &body[i..body[i..].find("</ul>").unwrap() + i];
        for c in &changes {
            let text = esc(c.text(lang));
            if c.material {
                assert!(
                    material.contains(&text),
                    "{lang}: material change not highlighted: {text}"
                );
            } else {
                assert!(body.contains(&text), "{lang}: {text}");
                assert!(!material.contains(&text), "{lang}: {text} is not material");
            }
        }
        if lang == "en" {
            assert!(body.contains("Added service Hotjar (Hotjar Ltd) for purpose Performance"));
            assert!(
                body.contains(
                    "Lifetime of __hssc on .callkom.io changed from 30 minutes to 6 months"
                )
            );
        }
    }

    // The history shows both versions, the second one asking again.
    let (s, _, body) = html(&app, "/sites/callkom/policy-versions").await;
    assert_eq!(s, 200);
    assert!(body.contains("id=\"v2\"") && body.contains("id=\"v1\""));
    assert!(body.contains("Visitors were asked for their choice again"));
    assert!(
        body.contains("href=\"/sites/callkom/policy-versions/diff?from=1&#38;to=2&#38;lang=en\"")
    );
    let (_, v) = json(app.get("/sites/callkom/policy-versions.json").await).await;
    assert_eq!(v["items"][0]["version"], 2);
    assert_eq!(v["items"][0]["requires_fresh_consent"], true);
    assert_eq!(
        v["items"][0]["changes"].as_array().unwrap().len(),
        changes.len()
    );

    // The current cookie policy has the new provider; version 1 is still served as it was.
    let (_, _, cur) = html(&app, "/sites/callkom/cookie-policy").await;
    assert!(cur.contains("Hotjar") && cur.contains("<code>_hjSessionUser_*</code>"));
    let (_, _, old_page) = html(&app, "/sites/callkom/cookie-policy?version=1").await;
    assert!(!old_page.contains("Hotjar"));
    assert!(old_page.contains("You are reading an earlier version"));
    let r = app.get("/sites/callkom/cookie-policy?version=1").await;
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=86400")
    );
}

/// The privacy policy says who applies each retention rule: Assent for the rights-request rule
/// it purges (with the day of its last run, once the rights job has run), the controller for
/// every other one; the old "scheduled job" claim is gone. A change of what only the privacy
/// policy tells is flagged as a material privacy-policy change, without asking again.
async fn privacy_policy_states_what_is_true(b: Backend) {
    let app = TestApp::spawn(b).await;
    let rows = |body: &str| -> Vec<String> {
        let i = body
            .find("<table id=\"retention\"")
            .expect("retention table");
        let t = &body[i..i + body[i..].find("</table>").unwrap()];
        t.split("<tr>").skip(2).map(str::to_string).collect()
    };
    let (s, _, body) = html(&app, "/sites/callkom/privacy-policy?lang=en").await;
    assert_eq!(s, 200);
    assert!(!body.contains("scheduled job"), "{body}");
    assert!(
        !body.contains("callkom.example"),
        "a placeholder e-mail is not published"
    );
    let rows_before = rows(&body);
    let rights = rows_before
        .iter()
        .find(|r| r.contains("Rights requests and their answers"))
        .expect("the rights-request rule");
    // "not run yet", or the day of the server's own first run of the rights job.
    assert!(rights.contains("Automatically, by Assent"), "{rights}");
    for r in rows_before
        .iter()
        .filter(|r| !r.contains("Rights requests"))
    {
        assert!(
            r.contains("By CALLKOM, outside the consent platform"),
            "{r}"
        );
    }
    assert!(body.contains("keeps no server logs"));

    // Once the retention run (which purges rights requests) has run, the policy gives its day.
    assent_app::retention::scheduled_run(&app.state)
        .await
        .unwrap();
    let (_, _, body) = html(&app, "/sites/callkom/privacy-policy?lang=fr").await;
    let rights = rows(&body)
        .into_iter()
        .find(|r| r.contains("Demandes d&#39;exercice des droits"))
        .unwrap();
    assert!(
        rights.contains(
            "dernière exécution le <time datetime=\"2026-09-21\">21 septembre 2026</time>"
        ),
        "{rights}"
    );

    // An activity's legal basis changes: the privacy policy only.
    let src = std::fs::read_to_string(&app.registry).unwrap();
    let at = src.find("id = \"consent-management\"").unwrap();
    let changed = format!(
        "{}{}",
        &src[..at],
        src[at..].replacen(
            "legal_basis = \"legal_obligation\"",
            "legal_basis = \"legitimate_interest\"\nlegitimate_interest.en = \"Proof.\"\nlegitimate_interest.fr = \"Preuve.\"\nlegitimate_interest.de = \"Nachweis.\"",
            1
        )
    );
    let (s, v) = json(
        app.admin_post("/admin/v1/registry", changed, "application/toml")
            .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["applied"][0]["requires_fresh_consent"], false, "{v}");
    assert_eq!(v["applied"][0]["material_policy_change"], true, "{v}");
    let (_, v) = json(app.get("/sites/callkom/policy-versions.json?lang=de").await).await;
    assert_eq!(v["items"][0]["material_policy_change"], true, "{v}");
    let change = v["items"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "activity_legal_basis_changed")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(change["policy_material"], true);
    assert_eq!(change["material"], false);
    assert_eq!(
        change["text"],
        "Verwaltung der Cookie-Einwilligungen und Nachweis der Einwilligung: Rechtsgrundlage geändert von Rechtliche Verpflichtung zu Berechtigtes Interesse"
    );
    let (_, _, body) = html(&app, "/sites/callkom/policy-versions?lang=fr").await;
    assert!(body.contains("Modification importante de la politique de confidentialité"));
    let v2 = &body[body.find("id=\"v2\"").unwrap()..body.find("id=\"v1\"").unwrap()];
    assert!(
        v2.contains("Les choix antérieurs sont restés valables"),
        "{v2}"
    );
    assert!(v2.contains("<span class=\"badge policy\">"), "{v2}");
    app.stop().await;
}

async fn register_endpoint(b: Backend) {
    let app = TestApp::spawn(b).await;
    let reg = registry(&std::fs::read_to_string(&app.registry).unwrap());
    let (s, v) = json(app.get("/admin/v1/register?site=callkom&format=csv").await).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );

    let r = app
        .admin_get("/admin/v1/register?site=callkom&format=csv")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(content_type(&r), "text/csv; charset=utf-8");
    assert!(header(&r, "content-disposition").contains("art30-record-callkom.csv"));
    let csv = r.text().await.unwrap();
    let want = assent_pages::register::export(
        &reg,
        Some("callkom"),
        assent_pages::register::Format::Csv,
        "en",
        "-",
    )
    .unwrap();
    assert_eq!(csv, want, "the same CSV as `assent register export`");
    assert!(csv.starts_with("Activity id,Processing activity,Controller,"));

    let (s, v) = json(app.admin_get("/admin/v1/register?site=callkom").await).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["activities"].as_array().unwrap().len(),
        reg.activities.len()
    );
    assert_eq!(v["controller"]["name"], "CALLKOM");
    assert_eq!(v["activities"][0]["transfers"][0]["country"], "US");

    let r = app
        .admin_get("/admin/v1/register?format=html&lang=fr")
        .await;
    assert_eq!(content_type(&r), "text/html; charset=utf-8");
    let body = r.text().await.unwrap();
    assert!(
        body.contains("<html lang=\"fr\">")
            && body.contains("Registre des activités de traitement")
    );

    let (s, v) = json(app.admin_get("/admin/v1/register?format=xml").await).await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("format")));
    let (s, v) = json(
        app.admin_get("/admin/v1/register?site=nosuch&format=csv")
            .await,
    )
    .await;
    assert_eq!((s, v["error"]["field"].as_str()), (404, Some("site")));
}

async fn every_example_is_served(b: Backend) {
    let mut files: Vec<_> = std::fs::read_dir(common::examples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 5);
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let reg = registry(&src);
        let app = TestApp::spawn_with(
            b,
            Options {
                registry_src: src,
                ..Options::default()
            },
        )
        .await;
        for site in &reg.sites {
            let snap = SiteSnapshot::from_registry(&reg, &site.id).unwrap();
            for lang in ["en", "fr"] {
                let want_lang = if site.languages.iter().any(|l| l == lang) {
                    lang
                } else {
                    site.default_language()
                };
                let (s, _, cp) = html(
                    &app,
                    &format!("/sites/{}/cookie-policy?lang={lang}", site.id),
                )
                .await;
                let cp = cp.replace("<wbr>", "");
                assert_eq!(s, 200, "{f:?}");
                assert!(
                    cp.contains(&format!("<html lang=\"{want_lang}\">")),
                    "{f:?} {lang}"
                );
                for c in &snap.cookies {
                    assert!(
                        cp.contains(&format!("<code>{}</code>", esc(&c.name))),
                        "{f:?}: {}",
                        c.name
                    );
                }
                let (s, _, pp) = html(
                    &app,
                    &format!("/sites/{}/privacy-policy?lang={lang}", site.id),
                )
                .await;
                assert_eq!(s, 200, "{f:?}");
                for a in &snap.activities {
                    assert!(
                        pp.contains(&esc(a.name.get(want_lang, site.default_language()))),
                        "{f:?}: {}",
                        a.id
                    );
                }
                for r in &snap.retention {
                    assert!(
                        pp.contains(&esc(r
                            .data_category
                            .get(want_lang, site.default_language()))),
                        "{f:?}: {}",
                        r.id
                    );
                }
            }
        }
        app.stop().await;
    }
}

both_backends!(
    cookie_policy_over_http,
    privacy_and_history_over_http,
    diff_names_each_material_change,
    register_endpoint,
    every_example_is_served,
    privacy_policy_states_what_is_true,
);
