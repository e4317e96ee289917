//! The pages of the data-subject rights workflow, rendered from the askama templates of
//! `templates/rights/`: the public request form (English, French, German; no JavaScript), its
//! answer pages and the code-verification form ([`self`]), and what the DPO console shows of a
//! request ([`admin`]; rendered by `console::requests`).
//!
//! Invariants: every value that did not come from Assent itself (site and controller names,
//! what the requester typed, stored requests) reaches the HTML through askama's escaping, or
//! through the crate's `html::esc` when it is part of a [`Markup`] built here; every word of
//! Assent's own comes from the catalogs (`i18n/*.json`, keys `rights.*` and `admin.*`).

pub mod admin;

use askama::Template;
use assent_model::registry::Authority;
use assent_model::rights::RequestType;

use crate::html::esc;
use crate::i18n::{Markup, Texts, texts};

/// The languages the rights pages and emails speak: English and French are always offered
/// (as before the catalogs); German when the site lists it.
pub const LANGUAGES: [&str; 3] = ["en", "fr", "de"];

/// The language of a rights page or email: the one asked for when offered (`en`, `fr`, or
/// `de` on a site that lists `de`), else the site's first language when it is French or
/// German, else English.
pub fn pick_lang(asked: Option<&str>, site_langs: &[String]) -> &'static str {
    let lists_de = site_langs.iter().any(|s| s == "de");
    match asked {
        Some("en") => "en",
        Some("fr") => "fr",
        Some("de") if lists_de => "de",
        _ => match site_langs.first().map(String::as_str) {
            Some("fr") => "fr",
            Some("de") => "de",
            _ => "en",
        },
    }
}

/// The catalog words of one page, for templates: `t.get(key)`, and `t.fill(key, [(name,
/// value)])` for sentences with `{name}` placeholders (values are plain text; the result is
/// escaped by the template like any other text).
#[derive(Debug, Clone, Copy)]
pub struct Tr(&'static Texts);

impl Tr {
    pub fn new(lang: &str) -> Self {
        Self(texts(lang))
    }
    pub fn lang(&self) -> &'static str {
        self.0.lang()
    }
    pub fn get<'k>(&self, key: &'k str) -> &'k str {
        self.0.get(key)
    }
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        let args: Vec<(&str, &dyn std::fmt::Display)> = args
            .iter()
            .map(|(k, v)| (*k, v as &dyn std::fmt::Display))
            .collect();
        self.0.fill(key, &args)
    }
    /// An `_html` key whose placeholders take markup built here from escaped parts.
    fn markup_with(&self, key: &str, args: &[(&str, &Markup)]) -> Markup {
        self.0.markup_with(key, args)
    }
    /// An `_html` key whose placeholders take plain text (escaped on the way in).
    fn markup(&self, key: &str, args: &[(&str, &str)]) -> Markup {
        let args: Vec<(&str, &dyn std::fmt::Display)> = args
            .iter()
            .map(|(k, v)| (*k, v as &dyn std::fmt::Display))
            .collect();
        self.0.markup(key, &args)
    }
}

/// The catalog key of a request type's label.
fn kind_key(k: RequestType) -> &'static str {
    match k {
        RequestType::Access => "rights.kind.access",
        RequestType::Rectification => "rights.kind.rectification",
        RequestType::Erasure => "rights.kind.erasure",
        RequestType::Restriction => "rights.kind.restriction",
        RequestType::Objection => "rights.kind.objection",
        RequestType::Portability => "rights.kind.portability",
        RequestType::WithdrawConsent => "rights.kind.withdraw_consent",
        RequestType::ObjectProfiling => "rights.kind.object_profiling",
        RequestType::PostMortem => "rights.kind.post_mortem",
    }
}

/// The label of a request type in `lang` (empty for an unknown type, as before).
pub fn kind_label(lang: &str, kind: &str) -> &'static str {
    RequestType::parse(kind).map_or("", |k| texts(lang).get(kind_key(k)))
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

/// What the request form says about the site.
#[derive(Debug, Clone, Copy)]
pub struct FormSite<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// The controller's name.
    pub controller: &'a str,
    pub authority: &'a Authority,
    /// The site's languages (German is offered when listed).
    pub languages: &'a [String],
}

/// A link to the form in another language, labelled in that language.
#[derive(Debug)]
struct LangLink {
    lang: &'static str,
    label: &'static str,
}

#[derive(Debug)]
struct KindOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// An error shown above the form: the field it is about, and what to say about it.
#[derive(Debug)]
struct FormError<'a> {
    field: &'a str,
    /// `field: message` with the server's (English) message, or the catalog's sentence for the
    /// field when it has one (`rights.field_error.<field>`: French and German; empty in
    /// English, whose form shows the server's message as before).
    text: String,
}

impl<'a> FormError<'a> {
    fn new(t: Tr, field: &'a str, message: &str) -> Self {
        let text = match field_error(t.lang(), field) {
            Some(own) => own,
            None => format!("{field}: {message}"),
        };
        Self { field, text }
    }
}

/// What the form says, in `lang`, about a refused field of a rights request, when the
/// catalog has a sentence for it (French and German; English keeps the server's message).
/// The JSON API answers its errors with it too, so that both follow the requested language.
pub fn field_error(lang: &str, field: &str) -> Option<String> {
    let key = match field {
        "type" => "rights.field_error.type",
        "email" => "rights.field_error.email",
        "name" => "rights.field_error.name",
        "details" => "rights.field_error.details",
        "receipt" => "rights.field_error.receipt",
        _ => return None,
    };
    let text = crate::i18n::texts(lang).get(key);
    (!text.is_empty()).then(|| text.to_string())
}

#[derive(Template)]
#[template(path = "rights/form.html")]
struct FormPage<'a> {
    t: Tr,
    lang: &'static str,
    site: FormSite<'a>,
    others: Vec<LangLink>,
    intro: Markup,
    complaint: Markup,
    options: Vec<KindOption>,
    values: &'a FormValues,
    error: Option<FormError<'a>>,
}

impl FormPage<'_> {
    /// Whether `field` is the one the error is about (the template marks it `aria-invalid`).
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.field == field)
    }
}

/// The languages the form links to from `lang`.
fn other_langs(lang: &str, site_langs: &[String]) -> Vec<LangLink> {
    LANGUAGES
        .into_iter()
        .filter(|l| *l != lang && pick_lang(Some(l), site_langs) == *l)
        .map(|l| LangLink {
            lang: l,
            label: texts(l).get("rights.language_link"),
        })
        .collect()
}

/// "You may complain to the supervisory authority: X." with X a link when the authority's URL
/// is http(s).
fn complaint(t: Tr, a: &Authority) -> Markup {
    let name = match &a.url {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
            Markup::trusted(format!("<a href=\"{}\">{}</a>", esc(u), esc(&a.name)))
        }
        _ => Markup::text(&a.name),
    };
    t.markup_with("rights.complaint_html", &[("authority", &name)])
}

/// Renders a template; a rendering error (a `Display` of ours failing, which does not happen)
/// gives an empty page rather than a panic.
fn render(t: &impl Template) -> String {
    t.render().unwrap_or_default()
}

/// The public request form. `error` is `(field, message)` when the form is shown again.
pub fn request_form(
    lang: &str,
    site: &FormSite<'_>,
    values: &FormValues,
    error: Option<(&str, &str)>,
) -> String {
    let t = Tr::new(lang);
    let options = RequestType::ALL
        .into_iter()
        .map(|k| KindOption {
            value: k.as_str(),
            label: kind_label(lang, k.as_str()),
            selected: values.kind == k.as_str(),
        })
        .collect();
    render(&FormPage {
        t,
        lang: t.lang(),
        site: *site,
        others: other_langs(t.lang(), site.languages),
        intro: t.markup("rights.intro_html", &[("controller", site.controller)]),
        complaint: complaint(t, site.authority),
        options,
        values,
        error: error.map(|(field, message)| FormError::new(t, field, message)),
    })
}

#[derive(Template)]
#[template(path = "rights/message.html")]
struct MessagePage<'a> {
    lang: &'a str,
    heading: &'a str,
    text: &'a str,
}

/// A short page with a heading and a paragraph (both plain text, escaped by the template).
pub fn message_page(lang: &str, heading: &str, text: &str) -> String {
    render(&MessagePage {
        lang,
        heading,
        text,
    })
}

/// The answer to an accepted form submission (whoever the email belongs to).
pub fn received_page(lang: &str) -> String {
    let t = Tr::new(lang);
    message_page(
        t.lang(),
        t.get("rights.received.heading"),
        t.get("rights.received.text"),
    )
}

/// The answer to a submission when no email can be sent (no SMTP server): the request is
/// recorded, and the requester is told the truth about the confirmation link.
pub fn received_no_mail_page(lang: &str) -> String {
    let t = Tr::new(lang);
    message_page(
        t.lang(),
        t.get("rights.received.heading"),
        t.get("rights.received_no_mail.text"),
    )
}

/// The answer to a verified link or code.
pub fn confirmed_page(lang: &str) -> String {
    let t = Tr::new(lang);
    message_page(
        t.lang(),
        t.get("rights.confirmed.heading"),
        t.get("rights.confirmed.text"),
    )
}

/// The answer to an invalid, used or expired link: its language is unknown, so it speaks
/// English and French.
pub fn invalid_link_page() -> String {
    let (en, fr) = (Tr::new("en"), Tr::new("fr"));
    let heading = format!(
        "{} / {}",
        en.get("rights.invalid.heading"),
        fr.get("rights.invalid.heading")
    );
    let text = format!(
        "{} {}",
        en.get("rights.invalid.text"),
        fr.get("rights.invalid.text")
    );
    message_page("en", &heading, &text)
}

/// An error page: the catalog's "Error" and the (English) message of the API error.
pub fn error_page(lang: &str, message: &str) -> String {
    let t = Tr::new(lang);
    message_page(t.lang(), t.get("rights.error"), message)
}

#[derive(Template)]
#[template(path = "rights/code.html")]
struct CodePage<'a> {
    t: Tr,
    lang: &'static str,
    site_id: &'a str,
    invalid: bool,
}

/// The form to type the emailed code; `invalid` after a wrong, used or expired code.
pub fn code_form(lang: &str, site_id: &str, invalid: bool) -> String {
    let t = Tr::new(lang);
    render(&CodePage {
        t,
        lang: t.lang(),
        site_id,
        invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn languages() {
        assert_eq!(pick_lang(None, &langs(&["fr"])), "fr");
        assert_eq!(pick_lang(Some("de"), &langs(&["en"])), "en");
        assert_eq!(pick_lang(Some("fr"), &langs(&["en"])), "fr");
        assert_eq!(pick_lang(Some("de"), &langs(&["en", "de"])), "de");
        assert_eq!(pick_lang(None, &langs(&["de", "en"])), "de");
        assert_eq!(pick_lang(Some("en"), &langs(&["de"])), "en");
        assert_eq!(pick_lang(Some("xx"), &[]), "en");
    }

    fn cnil() -> Authority {
        Authority {
            name: "CNIL".into(),
            url: Some("https://www.cnil.fr".into()),
            address: None,
        }
    }

    #[test]
    fn form_escapes_values() {
        let a = cnil();
        let v = FormValues {
            name: "\"><script>x</script>".into(),
            details: "</textarea><script>y</script>".into(),
            ..FormValues::default()
        };
        let site = FormSite {
            id: "s",
            name: "S <b>",
            controller: "C 'c'",
            authority: &a,
            languages: &[],
        };
        let html = request_form("fr", &site, &v, Some(("name", "bad <x>")));
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("C &#39;c&#39;"), "{html}");
        // French explains the field in French; English shows the server's message, escaped.
        assert!(html.contains("Prénom et nom"), "{html}");
        let en = request_form("en", &site, &v, Some(("name", "bad <x>")));
        assert!(en.contains("bad &#60;x&#62;"), "{en}");
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("<label for=\"email\">"));
        assert!(html.contains("un mois"));
        assert!(html.contains("<a href=\"https://www.cnil.fr\">CNIL</a>"));
        assert!(
            !html.contains("Deutsche Fassung"),
            "German only when listed"
        );
    }

    #[test]
    fn german_form_when_listed() {
        let a = cnil();
        let langs = langs(&["en", "de"]);
        let site = FormSite {
            id: "s",
            name: "S",
            controller: "C",
            authority: &a,
            languages: &langs,
        };
        let en = request_form("en", &site, &FormValues::default(), None);
        assert!(
            en.contains("hreflang=\"de\" lang=\"de\">Deutsche Fassung</a>"),
            "{en}"
        );
        let de = request_form("de", &site, &FormValues::default(), None);
        for needle in [
            "<html lang=\"de\"",
            "Ihre Rechte ausüben",
            "Auskunft über meine Daten",
            "Löschung meiner Daten",
            "Berichtigung",
            "Einschränkung der Verarbeitung",
            "Datenübertragbarkeit",
            "Widerspruch",
            "Bestätigungscode",
            "Aufsichtsbehörde",
            "innerhalb eines Monats",
            "Version française",
            "English version",
        ] {
            assert!(de.contains(needle), "{needle} missing in {de}");
        }
        let bad = FormValues {
            name: "Eve".into(),
            ..FormValues::default()
        };
        let err = request_form("de", &site, &bad, Some(("name", "a name is required")));
        assert!(
            err.contains("role=\"alert\" id=\"form-error\">Fehler: Vor- und Nachname: Geben Sie"),
            "{err}"
        );
        let err = request_form("fr", &site, &bad, Some(("name", "a name is required")));
        assert!(
            err.contains(">Erreur: Prénom et nom : saisissez vos prénom et nom"),
            "{err}"
        );
        let err = request_form("en", &site, &bad, Some(("name", "a name is required")));
        assert!(
            err.contains(">Error: name: a name is required</p>"),
            "{err}"
        );
        let code = code_form("de", "s", true);
        assert!(
            code.contains("Antrag bestätigen") && code.contains("Ungültiger"),
            "{code}"
        );
    }

    #[test]
    fn authority_link_only_for_http() {
        let a = Authority {
            name: "A <x>".into(),
            url: Some("javascript:alert(1)".into()),
            address: None,
        };
        let m = complaint(Tr::new("en"), &a).into_string();
        assert!(!m.contains("href") && m.contains("A &#60;x&#62;."), "{m}");
    }

    #[test]
    fn message_pages() {
        assert!(received_page("fr").contains("Demande reçue"));
        assert!(confirmed_page("de").contains("Antrag bestätigt"));
        let p = invalid_link_page();
        assert!(
            p.contains("Link invalid or expired / Lien invalide ou expiré"),
            "{p}"
        );
        assert!(error_page("en", "<x>").contains("&#60;x&#62;"));
    }
}
