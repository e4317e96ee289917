//! Server-rendered pages of the rights workflow: the public request form (FR/EN, no
//! JavaScript), its answer pages, the code-verification form, and the DPO's minimal queue.
//! Every piece of text that did not come from Assent itself goes through [`esc`].

use std::fmt::Write as _;

use assent_model::clock::rfc3339;
use assent_model::registry::Authority;
use assent_model::rights::RequestType;

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
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

pub use assent_app::rights::pick_lang;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}\
label{display:block;font-weight:600;margin-top:1rem}input,select,textarea{width:100%;padding:.5rem;font:inherit;border:1px solid #555;border-radius:4px;box-sizing:border-box}\
textarea{min-height:8rem}button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;background:#1d4ed8;color:#fff;border:0;border-radius:4px;cursor:pointer}\
button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #f59e0b;outline-offset:2px}\
.hint{color:#444;font-size:.9rem;margin:.2rem 0 0}.error{color:#b91c1c;font-weight:600}[aria-invalid=true]{border-color:#b91c1c;border-width:2px}\
.box{background:#f3f4f6;padding:1rem;border-radius:6px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;vertical-align:top}\
.overdue{color:#b91c1c;font-weight:700}.tag{font-size:.8rem;background:#e5e7eb;border-radius:3px;padding:0 .3rem}pre{white-space:pre-wrap;word-break:break-word}";

/// A complete page. `title` and `body` must already be escaped.
pub fn page(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>\n"
    )
}

/// The values typed into the form (echoed back escaped when it is shown again with an error).
#[derive(Debug, Clone, Default)]
pub struct FormValues {
    pub kind: String,
    pub email: String,
    pub name: String,
    pub details: String,
    pub receipt: String,
}

/// The public request form.
#[allow(clippy::too_many_arguments)]
pub fn request_form(
    lang: &str,
    site_id: &str,
    site_name: &str,
    controller: &str,
    authority: &Authority,
    values: &FormValues,
    error: Option<(&str, &str)>,
) -> String {
    let fr = lang == "fr";
    let t = |f: &'static str, e: &'static str| if fr { f } else { e };
    let mut b = String::new();
    let title = format!(
        "{} — {}",
        t("Exercer vos droits", "Exercise your rights"),
        esc(site_name)
    );
    let _ = write!(b, "<h1>{title}</h1>");
    let other = if fr { "en" } else { "fr" };
    let _ = write!(
        b,
        "<p><a href=\"/sites/{s}/rights?lang={other}\" hreflang=\"{other}\" lang=\"{other}\">{}</a></p>",
        if fr {
            "English version"
        } else {
            "Version française"
        },
        s = esc(site_id),
    );
    let _ = write!(
        b,
        "<p>{} <strong>{}</strong>. {}</p>",
        t(
            "Ce formulaire transmet votre demande au responsable du traitement,",
            "This form sends your request to the data controller,"
        ),
        esc(controller),
        t(
            "Nous vous répondrons dans un délai d'un mois à compter de la réception de votre demande. \
             Ce délai peut être prolongé de deux mois compte tenu de la complexité ou du nombre de \
             demandes ; nous vous en informerions alors dans le premier mois, en en donnant les raisons.",
            "We will answer within one month of receiving your request. This may be extended by two \
             further months where necessary, given the complexity or number of requests; we would tell \
             you so, with the reasons, within the first month."
        )
    );
    let _ = write!(
        b,
        "<p>{}</p>",
        t(
            "Nous ne demandons que le nécessaire : le type de demande, une adresse e-mail pour vous \
             répondre et vérifier qu'elle vous appartient, votre nom et, si vous le souhaitez, des précisions.",
            "We only ask for what is needed: the type of request, an email address to answer you and to \
             check that it is yours, your name and, if you wish, some details."
        )
    );
    if let Some((field, msg)) = error {
        let _ = write!(
            b,
            "<p class=\"error\" role=\"alert\" id=\"form-error\">{}: {}</p>",
            t("Erreur", "Error"),
            esc(&format!("{field}: {msg}"))
        );
    }
    let bad = |f: &str| -> &'static str {
        if error.is_some_and(|(e, _)| e == f) {
            " aria-invalid=\"true\" aria-describedby=\"form-error\""
        } else {
            ""
        }
    };
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/sites/{s}/rights\" accept-charset=\"utf-8\">\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\">",
        s = esc(site_id)
    );
    let _ = write!(
        b,
        "<label for=\"type\">{}</label><select id=\"type\" name=\"type\" required{}>",
        t("Votre demande", "Your request"),
        bad("type")
    );
    for k in RequestType::ALL {
        let sel = if values.kind == k.as_str() {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            b,
            "<option value=\"{}\"{sel}>{}</option>",
            k.as_str(),
            esc(k.label(lang))
        );
    }
    b.push_str("</select>");
    let _ = write!(
        b,
        "<label for=\"email\">{}</label><input id=\"email\" name=\"email\" type=\"email\" \
         autocomplete=\"email\" required maxlength=\"254\" value=\"{}\" aria-describedby=\"email-hint\"{}>\
         <p class=\"hint\" id=\"email-hint\">{}</p>",
        t("Adresse e-mail", "Email address"),
        esc(&values.email),
        bad("email"),
        t(
            "Nous vous enverrons un lien (et un code) pour confirmer qu'elle est à vous.",
            "We will send you a link (and a code) to confirm that it is yours."
        )
    );
    let _ = write!(
        b,
        "<label for=\"name\">{}</label><input id=\"name\" name=\"name\" type=\"text\" \
         autocomplete=\"name\" required maxlength=\"200\" value=\"{}\"{}>",
        t("Nom et prénom", "Full name"),
        esc(&values.name),
        bad("name")
    );
    let _ = write!(
        b,
        "<label for=\"details\">{}</label><textarea id=\"details\" name=\"details\" maxlength=\"5000\" \
         aria-describedby=\"details-hint\"{}>{}</textarea><p class=\"hint\" id=\"details-hint\">{}</p>",
        t("Précisions (facultatif)", "Details (optional)"),
        bad("details"),
        esc(&values.details),
        t(
            "Par exemple les données à rectifier, ou vos directives post mortem. 5 000 caractères au plus.",
            "For example the data to correct, or your post-mortem instructions. At most 5,000 characters."
        )
    );
    let _ = write!(
        b,
        "<label for=\"receipt\">{}</label><input id=\"receipt\" name=\"receipt\" type=\"text\" \
         maxlength=\"32\" pattern=\"[0-9a-fA-F]{{32}}\" value=\"{}\" aria-describedby=\"receipt-hint\"{}>\
         <p class=\"hint\" id=\"receipt-hint\">{}</p>",
        t(
            "Identifiant de reçu de consentement (facultatif)",
            "Consent receipt id (optional)"
        ),
        esc(&values.receipt),
        bad("receipt"),
        t(
            "Affiché dans « Gérer mes cookies ». Pour un retrait du consentement ou une opposition, \
             il nous permet d'appliquer votre choix à ce navigateur.",
            "Shown under “Manage my cookies”. For a withdrawal of consent or an objection, it lets us \
             apply your choice to that browser."
        )
    );
    let _ = write!(
        b,
        "<button type=\"submit\">{}</button></form>",
        t("Envoyer ma demande", "Send my request")
    );
    let _ = write!(b, "<p>{}</p>", complaint_text(lang, authority));
    let _ = write!(
        b,
        "<p><a href=\"/sites/{s}/rights/verify?lang={lang}\">{}</a></p>",
        t(
            "J'ai reçu un code de confirmation",
            "I received a confirmation code"
        ),
        s = esc(site_id)
    );
    page(lang, &title, &b)
}

/// "You may complain to the supervisory authority (and a court)", escaped HTML.
pub fn complaint_text(lang: &str, a: &Authority) -> String {
    let name = match &a.url {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
            format!("<a href=\"{}\">{}</a>", esc(u), esc(&a.name))
        }
        _ => esc(&a.name),
    };
    if lang == "fr" {
        format!(
            "Si vous estimez, après nous avoir contactés, que vos droits ne sont pas respectés, vous \
             pouvez adresser une réclamation à l'autorité de contrôle : {name}."
        )
    } else {
        format!(
            "If you believe, after contacting us, that your rights are not respected, you may lodge a \
             complaint with the supervisory authority: {name}."
        )
    }
}

/// A short page with a heading and a paragraph (both plain text, escaped here).
pub fn message_page(lang: &str, heading: &str, text: &str) -> String {
    page(
        lang,
        &esc(heading),
        &format!(
            "<h1>{}</h1><p role=\"status\">{}</p>",
            esc(heading),
            esc(text)
        ),
    )
}

/// The form to type the emailed code.
pub fn code_form(lang: &str, site_id: &str, error: Option<&str>) -> String {
    let fr = lang == "fr";
    let t = |f: &'static str, e: &'static str| if fr { f } else { e };
    let title = t("Confirmer ma demande", "Confirm my request");
    let mut b = format!(
        "<h1>{title}</h1><p>{}</p>",
        t(
            "Saisissez l'adresse e-mail de votre demande et le code à 6 chiffres reçu par e-mail (valable 24 heures).",
            "Enter the email address of your request and the 6-digit code we emailed you (valid for 24 hours)."
        )
    );
    if let Some(e) = error {
        let _ = write!(
            b,
            "<p class=\"error\" role=\"alert\" id=\"form-error\">{}</p>",
            esc(e)
        );
    }
    let inv = if error.is_some() {
        " aria-invalid=\"true\" aria-describedby=\"form-error\""
    } else {
        ""
    };
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/sites/{s}/rights/verify\"><input type=\"hidden\" name=\"lang\" value=\"{lang}\">\
         <label for=\"email\">{}</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required maxlength=\"254\"{inv}>\
         <label for=\"code\">{}</label><input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{{6}}\" maxlength=\"6\" required{inv}>\
         <button type=\"submit\">{}</button></form>",
        t("Adresse e-mail", "Email address"),
        t("Code", "Code"),
        t("Confirmer", "Confirm"),
        s = esc(site_id)
    );
    page(lang, title, &b)
}

/// One row of the DPO queue.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub id: String,
    pub site: String,
    pub kind: String,
    pub status: String,
    pub received_at_ms: i64,
    pub due_at_ms: i64,
    pub overdue: bool,
    pub extended: bool,
    pub mail_problem: bool,
}

/// The DPO queue: overdue first, then by due date (the caller sorts).
pub fn queue_page(rows: &[QueueRow], awaiting_verification: usize, now_ms: i64) -> String {
    let mut b = String::from("<h1>Rights requests</h1>");
    let _ = write!(
        b,
        "<p>{} open request(s); {} awaiting email verification (not yet due to you, kept). \
         Times are UTC.</p><form method=\"post\" action=\"/admin/logout\">\
         <button type=\"submit\" style=\"margin:0 0 1rem;padding:.2rem .6rem\">Log out</button></form>",
        rows.len(),
        awaiting_verification
    );
    b.push_str(
        "<table><caption class=\"hint\">Overdue first, then by due date</caption><thead><tr>\
         <th scope=\"col\">Due</th><th scope=\"col\">Type</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Site</th><th scope=\"col\">Received</th><th scope=\"col\">Request</th></tr></thead><tbody>",
    );
    for r in rows {
        let due = rfc3339(r.due_at_ms);
        let days = (r.due_at_ms - now_ms).div_euclid(86_400_000);
        let flag = if r.overdue {
            " <span class=\"overdue\">OVERDUE</span>".to_owned()
        } else {
            format!(" <span class=\"hint\">({days} d left)</span>")
        };
        let ext = if r.extended {
            " <span class=\"tag\">extended</span>"
        } else {
            ""
        };
        let mail = if r.mail_problem {
            " <span class=\"tag\" title=\"an email to the requester could not be sent\">email not sent</span>"
        } else {
            ""
        };
        let _ = write!(
            b,
            "<tr{cls}><td>{}{flag}{ext}</td><td>{}</td><td>{}{mail}</td><td>{}</td><td>{}</td>\
             <td><a href=\"/admin/requests/{id}\">{short}</a></td></tr>",
            esc(&due),
            esc(&r.kind),
            esc(&r.status),
            esc(&r.site),
            esc(&rfc3339(r.received_at_ms)),
            cls = if r.overdue { " class=\"overdue\"" } else { "" },
            id = esc(&r.id),
            short = esc(r.id.get(..8).unwrap_or(&r.id)),
        );
    }
    b.push_str("</tbody></table>");
    page("en", "Rights requests — Assent", &b)
}

/// One request for the DPO, with its history. All values are escaped here.
pub fn detail_page(
    fields: &[(&str, String)],
    history: &[(String, String, String, Option<String>)],
) -> String {
    let mut b =
        String::from("<p><a href=\"/admin/requests\">← Queue</a></p><h1>Request</h1><table>");
    for (k, v) in fields {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td><pre>{}</pre></td></tr>",
            esc(k),
            esc(v)
        );
    }
    b.push_str("</table><h2>History</h2><table><thead><tr><th>Time (UTC)</th><th>Event</th><th>By</th><th>Note</th></tr></thead><tbody>");
    for (ts, kind, actor, note) in history {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
            esc(ts),
            esc(kind),
            esc(actor),
            esc(note.as_deref().unwrap_or(""))
        );
    }
    b.push_str("</tbody></table><p class=\"hint\">Actions (start, extend, complete, reject, notes) use the admin API: see docs/rights-requests.md.</p>");
    page("en", "Rights request — Assent", &b)
}

/// The admin login form (the token is kept in an HttpOnly, SameSite=Strict cookie).
pub fn login_page(error: Option<&str>) -> String {
    let mut b = String::from("<h1>Assent administration</h1>");
    if let Some(e) = error {
        let _ = write!(
            b,
            "<p class=\"error\" role=\"alert\" id=\"form-error\">{}</p>",
            esc(e)
        );
    }
    b.push_str(
        "<form method=\"post\" action=\"/admin/login\"><label for=\"token\">Admin API token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Log in</button></form>",
    );
    page("en", "Log in — Assent", &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(pick_lang(None, &["fr".into()]), "fr");
        assert_eq!(pick_lang(Some("de"), &["en".into()]), "en");
        assert_eq!(pick_lang(Some("fr"), &["en".into()]), "fr");
    }

    #[test]
    fn form_escapes_values() {
        let a = Authority {
            name: "CNIL".into(),
            url: Some("https://www.cnil.fr".into()),
            address: None,
        };
        let v = FormValues {
            name: "\"><script>x</script>".into(),
            ..FormValues::default()
        };
        let html = request_form("fr", "s", "S", "C", &a, &v, Some(("name", "bad")));
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("<label for=\"email\">"));
        assert!(html.contains("un mois"));
        assert!(html.contains("https://www.cnil.fr"));
    }
}
