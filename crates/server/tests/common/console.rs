//! A person at the console over plain HTTP: logs in through the form (its double-submit
//! token and cookie), keeps the session cookie, reads each page's form token, posts forms.
//! It follows no redirect, so each answer is seen.

use reqwest::Response;

use super::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";

/// Creates an account of `role` with [`PASSWORD`]; returns its email.
pub async fn new_person(app: &TestApp, role: &str) -> String {
    let email = format!("{role}-{}@example.org", super::random_hex(3));
    let n = assent_app::accounts::users::NewUser {
        email: email.clone(),
        role: role.into(),
        password: Some(PASSWORD.into()),
        lang: Some("en".into()),
        tz: Some("Europe/Paris".into()),
    };
    assent_app::accounts::users::create(
        &app.state.store,
        app.state.clock.as_ref(),
        "tests",
        &n,
        &app.base,
    )
    .await
    .unwrap();
    email
}

/// The value of `name="csrf"` in a page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_owned()
}

/// `name=value` of a `Set-Cookie` named `name`.
pub fn cookie_of(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
}

pub struct Person<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    /// `assent_session=...` once logged in.
    pub session: String,
}

impl<'a> Person<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Person {
            app,
            client,
            session: String::new(),
        }
    }

    /// Posts the login form (after opening it, as a browser does); the answer.
    pub async fn try_login(&mut self, email: &str, password: &str, code: &str) -> Response {
        let r = self.get("/admin/").await;
        let login_cookie = cookie_of(&r, "assent_login").expect("the login form's cookie");
        let token = csrf_of(&r.text().await.unwrap());
        let r = self
            .client
            .post(self.app.url("/admin/login"))
            .header("cookie", login_cookie)
            .header("origin", &self.app.base)
            .form(&[
                ("csrf", token.as_str()),
                ("email", email),
                ("password", password),
                ("code", code),
            ])
            .send()
            .await
            .unwrap();
        if let Some(c) = cookie_of(&r, "assent_session") {
            self.session = c;
        }
        r
    }

    pub async fn login(&mut self, email: &str) {
        let r = self.try_login(email, PASSWORD, "").await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    }

    pub async fn get(&self, path: &str) -> Response {
        let mut req = self.client.get(self.app.url(path));
        if !self.session.is_empty() {
            req = req.header("cookie", &self.session);
        }
        req.send().await.unwrap()
    }

    /// The page's text, which must answer 200.
    pub async fn page(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        r.text().await.unwrap()
    }

    /// Posts a form with the session's token (read from `from`) and the same origin.
    pub async fn post(&self, from: &str, path: &str, form: &[(&str, &str)]) -> Response {
        let token = csrf_of(&self.page(from).await);
        let mut f: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        f.extend_from_slice(form);
        self.post_raw(path, &f, &[("origin", self.app.base.as_str())])
            .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = self.client.post(self.app.url(path)).form(form);
        if !self.session.is_empty() {
            req = req.header("cookie", &self.session);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }
}
