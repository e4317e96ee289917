#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The DPO console over HTTP on SQLite and PostgreSQL (issue 18): people log in with an
//! email and a password (Argon2id), get a server-side session (only its hash stored) in an
//! HttpOnly, SameSite=Strict cookie that expires when idle and absolutely; repeated failures
//! lock the account in the database; every form post needs the same origin and the
//! session's token; roles see and do only what the rights table gives them; admins manage
//! people and tokens; every step is in the audit trail with its actor.

mod common;

use assent_model::clock::Clock;
use common::console::{PASSWORD, Person, cookie_of, csrf_of, new_person};
use common::{Backend, TestApp};
use serde_json::json;
use sha2::{Digest, Sha256};

const MIN: i64 = 60_000;

async fn login_sessions_and_lockout(b: Backend) {
    let app = TestApp::spawn(b).await;
    let email = new_person(&app, "dpo").await;
    let mut p = Person::new(&app);

    // Anonymous: the login form, its fields labelled Email and Password; /admin redirects.
    let r = p.get("/admin").await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (308, "/admin/")
    );
    let r = p.get("/admin/dashboard").await;
    assert_eq!(r.headers()["location"].to_str().unwrap(), "/admin/");
    let form = p.page("/admin/").await;
    assert!(
        form.contains(">Email</label>") && form.contains(">Password</label>"),
        "{form}"
    );
    assert!(form.contains("<meta name=\"referrer\" content=\"same-origin\">"));

    // A wrong password, then the right one: a session cookie with every attribute.
    let r = p.try_login(&email, "not the password", "").await;
    assert_eq!(r.status(), 401);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Wrong email, password or code.")
    );
    let r = p.try_login(&email, PASSWORD, "").await;
    assert_eq!(r.status(), 303);
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let session = set
        .iter()
        .find(|c| c.starts_with("assent_session="))
        .unwrap();
    for attr in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
        "Max-Age=43200",
    ] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(!session.contains("Secure"), "plain http here");
    // Only the hash of the id is stored.
    let id = p.session.split_once('=').unwrap().1.to_owned();
    let hash: [u8; 32] = Sha256::digest(id.as_bytes()).into();
    let row = app
        .state
        .store
        .session(&hash)
        .await
        .unwrap()
        .expect("stored by its hash");
    assert_ne!(row.csrf, id);
    let home = p.page("/admin/").await;
    assert!(
        home.contains("Dashboard") && home.contains(&email),
        "{home}"
    );
    assert!(
        home.contains("href=\"/admin/requests\"") && !home.contains("href=\"/admin/users\""),
        "a dpo sees no users page"
    );

    // Idle expiry (30 minutes), moved by the clock; activity keeps it alive until 12 hours.
    app.clock.advance_ms(29 * MIN);
    assert_eq!(p.get("/admin/requests").await.status(), 200);
    app.clock.advance_ms(29 * MIN);
    assert_eq!(p.get("/admin/requests").await.status(), 200);
    app.clock.advance_ms(31 * MIN);
    let r = p.get("/admin/requests").await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/admin/"),
        "idle"
    );
    p.login(&email).await;
    for _ in 0..24 {
        app.clock.advance_ms(29 * MIN);
        assert_eq!(p.get("/admin/account").await.status(), 200);
    }
    app.clock.advance_ms(29 * MIN);
    assert_eq!(
        p.get("/admin/account").await.status(),
        303,
        "absolute expiry after 12 h"
    );

    // Lockout: five failures lock the account (in the database) even for the right password.
    for _ in 0..5 {
        assert_eq!(p.try_login(&email, "wrong", "").await.status(), 401);
    }
    let r = p.try_login(&email, PASSWORD, "").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let user = app
        .state
        .store
        .user_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    let f = app
        .state
        .store
        .login_failures(&format!("user:{}", user.id))
        .await
        .unwrap();
    assert!(
        f.locked_until_ms > app.clock.now_ms(),
        "the lock is stored, so it survives a restart"
    );
    app.clock.advance_ms(16 * MIN);
    p.login(&email).await;

    // Logout ends the session on the server: the old cookie opens nothing.
    let old = p.session.clone();
    let r = p.post("/admin/", "/admin/logout", &[]).await;
    assert_eq!(r.status(), 303);
    assert!(cookie_of(&r, "assent_session").unwrap().ends_with('='));
    assert_eq!(p.get("/admin/requests").await.status(), 303);
    assert!(old == p.session, "the test still sends the old cookie");

    // Unknown emails and disabled accounts read the same as a wrong password.
    assert_eq!(
        p.try_login("nobody@example.org", PASSWORD, "")
            .await
            .status(),
        401
    );
    let audit = app.state.store.audit_entries(100, 0).await.unwrap();
    let kinds: Vec<&str> = audit.iter().map(|(e, _)| e.kind.as_str()).collect();
    for k in [
        "account.login",
        "account.login_failed",
        "account.logout",
        "account.user_created",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert!(
        audit
            .iter()
            .all(|(_, p)| !String::from_utf8_lossy(p.as_deref().unwrap_or(b"")).contains(PASSWORD))
    );
}

async fn csrf_roles_and_request_actions(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (s, v) = {
        let r = app.post_json("/v1/requests", &json!({"site": "callkom", "type": "access", "email": "z@example.org", "name": "<script>alert(1)</script>", "details": "<img src=x onerror=alert(1)>", "language": "en"})).await;
        let s = r.status().as_u16();
        (s, r.json::<serde_json::Value>().await.unwrap())
    };
    assert_eq!(s, 202, "{v}");
    let list = app
        .admin_get("/admin/v1/requests?status=all")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let detail = format!("/admin/requests/{id}");

    let dpo_email = new_person(&app, "dpo").await;
    let mut dpo = Person::new(&app);
    dpo.login(&dpo_email).await;
    let page = dpo.page(&detail).await;
    assert!(
        !page.contains("<script>alert") && !page.contains("<img src=x"),
        "hostile text inert"
    );
    assert!(page.contains(&format!("action=\"{detail}/verify\"")));

    // Forged token, foreign origin, no token: refused before anything changes.
    let note = format!("{detail}/note");
    let evil = [("origin", "https://evil.example")];
    let r = dpo
        .post_raw(&note, &[("csrf", &csrf_of(&page)), ("note", "x")], &evil)
        .await;
    assert_eq!(r.status(), 403);
    let same = [("origin", app.base.as_str())];
    let r = dpo
        .post_raw(&note, &[("csrf", &"0".repeat(64)), ("note", "x")], &same)
        .await;
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("did not come from this console")
    );
    let r = dpo
        .post_raw(
            &note,
            &[("note", "x")],
            &[("origin", "null"), ("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(r.status(), 403);
    // Origin: null from the same site (Sec-Fetch-Site) with the right token is accepted.
    let token = csrf_of(&page);
    let r = dpo
        .post_raw(
            &note,
            &[("csrf", &token), ("note", "first note")],
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap().to_owned()
        ),
        (303, format!("{detail}?done=note"))
    );

    // An auditor reads but cannot act.
    let aud_email = new_person(&app, "auditor").await;
    let mut aud = Person::new(&app);
    aud.login(&aud_email).await;
    let r = aud.post(&detail, &format!("{detail}/start"), &[]).await;
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("does not have the permission")
    );
    assert_eq!(aud.get("/admin/users").await.status(), 403);
    // The queue offers an auditor no link to an action it may not take; the DPO sees it.
    let q = aud.get("/admin/requests").await.text().await.unwrap();
    assert!(!q.contains("/admin/requests/new"), "{q}");
    let q = dpo.get("/admin/requests").await.text().await.unwrap();
    assert!(q.contains("/admin/requests/new"), "{q}");

    // Every action from the forms, in order, as the DPO.
    let r = dpo
        .post(
            &detail,
            &format!("{detail}/verify"),
            &[("note", "ID card seen at the desk")],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = dpo.post(&detail, &format!("{detail}/start"), &[]).await;
    assert_eq!(r.status(), 303);
    // Told by phone 12 minutes after it arrived (Paris time), 20 minutes ago.
    app.clock.advance_ms(20 * MIN);
    let r = dpo
        .post(
            &detail,
            &format!("{detail}/extend"),
            &[("reason", "many systems"), ("notified_at", "")],
        )
        .await;
    assert_eq!(
        r.status(),
        409,
        "no SMTP: the requester must have been told"
    );
    let r = dpo
        .post(
            &detail,
            &format!("{detail}/extend"),
            &[
                ("reason", "many systems"),
                ("notified_at", "2026-09-21T16:25"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let page = dpo.page(&format!("{detail}?done=extend")).await;
    assert!(page.contains("The deadline is extended.") && page.contains("many systems"));
    let r = dpo
        .post(&detail, &format!("{detail}/reject"), &[("reasons", "")])
        .await;
    assert_eq!(r.status(), 422);
    let history = app.state.store.rights_events(&id).await.unwrap();
    let actor = format!(
        "user:{}",
        app.state
            .store
            .user_by_email(&dpo_email)
            .await
            .unwrap()
            .unwrap()
            .id
    );
    assert!(
        history
            .iter()
            .filter(|e| e.kind != "submitted")
            .all(|e| e.actor == actor || e.actor == "system" || e.actor == "requester"),
        "{history:?}"
    );
    assert!(history.iter().any(|e| e.actor == actor));
}

async fn users_tokens_account_and_audit(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin_email = new_person(&app, "admin").await;
    let mut admin = Person::new(&app);
    admin.login(&admin_email).await;
    let home = admin.page("/admin/").await;
    assert!(home.contains("href=\"/admin/users\"") && home.contains("href=\"/admin/tokens\""));

    // A new person: created with a setup link, sets a password, logs in.
    let r = admin
        .post(
            "/admin/users",
            "/admin/users",
            &[("email", "New.Person@Example.org"), ("role", "auditor")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let at = page.find("/admin/setup/").unwrap();
    let path = page[at..at + 13 + 64].to_owned();
    let r = admin
        .post(
            "/admin/users",
            "/admin/users",
            &[("email", "new.person@example.org"), ("role", "dpo")],
        )
        .await;
    assert_eq!(r.status(), 409, "taken");
    let r = admin
        .post(
            "/admin/users",
            "/admin/users",
            &[("email", "x"), ("role", "dpo")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("an email address like"));
    let mut newbie = Person::new(&app);
    assert!(newbie.page(&path).await.contains("new.person@example.org"));
    let r = newbie
        .post_raw(
            &path,
            &[("password", "short"), ("repeat", "short")],
            &[("origin", app.base.as_str())],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = newbie
        .post_raw(
            &path,
            &[("password", PASSWORD), ("repeat", PASSWORD)],
            &[("origin", app.base.as_str())],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(newbie.get(&path).await.status(), 410, "used once");
    newbie.login("new.person@example.org").await;
    assert!(
        newbie
            .page("/admin/")
            .await
            .contains("new.person@example.org")
    );

    // Role change and disable take effect at once.
    let u = app
        .state
        .store
        .user_by_email("new.person@example.org")
        .await
        .unwrap()
        .unwrap();
    let r = admin
        .post(
            "/admin/users",
            &format!("/admin/users/{}/role", u.id),
            &[("role", "dpo")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        newbie
            .page("/admin/requests")
            .await
            .contains("Rights requests")
    );
    let r = admin
        .post(
            "/admin/users",
            &format!("/admin/users/{}/disable", u.id),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(newbie.get("/admin/").await.status(), 200);
    assert!(
        !newbie.page("/admin/").await.contains("Log out"),
        "session ended: the login form"
    );

    // Tokens: shown once, used, listed with their last use, revoked.
    let r = admin
        .post(
            "/admin/tokens",
            "/admin/tokens",
            &[("label", "<b>monitoring</b>"), ("role", "auditor")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let at = page.find("assent_").unwrap();
    let token: String = page[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let r = app
        .client
        .get(app.url("/admin/v1/whoami"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = admin.page("/admin/tokens").await;
    assert!(page.contains("&#60;b&#62;monitoring") && !page.contains(&token));
    assert!(
        !page.contains(">never<") || page.matches(">never<").count() == 1,
        "the used token has a last use"
    );
    let tid = token.split('_').nth(1).unwrap().to_owned();
    let r = admin
        .post("/admin/tokens", &format!("/admin/tokens/{tid}/revoke"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let r = app
        .client
        .get(app.url("/admin/v1/whoami"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // My account: preferences, TOTP on (the login then needs the code), password change.
    let r = admin
        .post(
            "/admin/account",
            "/admin/account/preferences",
            &[("lang", "fr"), ("tz", "Mars/Base")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = admin
        .post(
            "/admin/account",
            "/admin/account/preferences",
            &[("lang", "fr"), ("tz", "Europe/Paris")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let page = admin.page("/admin/account").await;
    assert!(page.contains("<html lang=\"fr\"") && page.contains("Mon compte"));
    let at = page.find("id=\"totp-secret\">").unwrap() + 17;
    let secret: String = page[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let code = assent_app::accounts::totp::code_at(&secret, app.clock.now_ms()).unwrap();
    let r = admin
        .post(
            "/admin/account",
            "/admin/account/totp",
            &[("secret", &secret), ("code", "000000")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = admin
        .post(
            "/admin/account",
            "/admin/account/totp",
            &[("secret", &secret), ("code", &code)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mut again = Person::new(&app);
    assert_eq!(
        again.try_login(&admin_email, PASSWORD, "").await.status(),
        401,
        "the code is needed"
    );
    let code = assent_app::accounts::totp::code_at(&secret, app.clock.now_ms()).unwrap();
    assert_eq!(
        again
            .try_login(&admin_email, PASSWORD, &code)
            .await
            .status(),
        303
    );
    let new_pw = "another long pass phrase";
    let r = admin
        .post(
            "/admin/account",
            "/admin/account/password",
            &[
                ("current", PASSWORD),
                ("password", new_pw),
                ("repeat", new_pw),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let renewed = cookie_of(&r, "assent_session").unwrap();
    assert_eq!(
        again.get("/admin/account").await.status(),
        303,
        "other sessions ended"
    );
    admin.session = renewed;
    assert_eq!(
        admin.get("/admin/account").await.status(),
        200,
        "this browser keeps a new session"
    );

    // The audit trail names the actor of each step.
    let page = admin.page("/admin/audit").await;
    let actor = format!(
        "user:{}",
        app.state
            .store
            .user_by_email(&admin_email)
            .await
            .unwrap()
            .unwrap()
            .id
    );
    for k in [
        "account.user_created",
        "account.role_changed",
        "account.user_disabled",
        "admin.token_created",
        "admin.token_revoked",
        "account.totp_enabled",
        "account.password_changed",
    ] {
        assert!(page.contains(k), "{k}");
    }
    assert!(page.contains(&actor) && !page.contains(PASSWORD) && !page.contains(new_pw));
}

both_backends!(
    login_sessions_and_lockout,
    csrf_roles_and_request_actions,
    users_tokens_account_and_audit,
);
