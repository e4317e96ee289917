//! The record of processing activities (GDPR Art. 30(1)), exportable for a supervisory
//! authority as CSV (one row per activity), HTML (printable) or JSON.
//!
//! Mandatory fields: the controller's (and its representative's and DPO's) contact details;
//! per activity the purposes, the categories of data subjects and of personal data, the
//! recipients including those in third countries, transfers with the country and safeguard,
//! the time limits for erasure and the security measures.

use assent_model::Registry;
use assent_model::registry::{Activity, Role, Service, in_eea};
use serde::Serialize;

use crate::facts::Fact;
pub use crate::facts::{ContactRecord, ControllerRecord};
use crate::gaps::{address_or_gap, or_gap};
use crate::html::{self, Meta, Nav, Shell, esc, mailto, txt};
use crate::i18n::{Markup, Texts, texts};
use crate::words;
use crate::words::{retention_action, retention_period};

/// Output format of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Html,
    Json,
}

impl std::str::FromStr for Format {
    type Err = RegisterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            other => Err(RegisterError::Format(other.to_string())),
        }
    }
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Json => "application/json",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

/// Why the record cannot be exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    #[error("no site `{0}` in the registry")]
    UnknownSite(String),
    #[error("unknown format `{0}`: use csv, html or json")]
    Format(String),
    #[error("cannot write CSV: {0}")]
    Csv(String),
}

/// A processor (or other service) involved in an activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessorRecord {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub role: String,
    pub country: Option<String>,
    pub third_country: bool,
    pub safeguard: Option<String>,
    pub privacy_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferRecord {
    pub country: String,
    pub recipient: Option<String>,
    pub safeguard: String,
    pub safeguard_label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureRecord {
    pub id: String,
    pub data_category: String,
    pub period: String,
    pub trigger: String,
    pub archive: Option<String>,
    pub action: String,
    /// The period and its start in words ("3 years after the last contact").
    pub period_text: String,
    /// The whole rule in words.
    pub text: String,
}

/// One processing activity of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityRecord {
    pub id: String,
    pub name: String,
    pub purposes: String,
    pub legal_basis: String,
    pub legal_basis_label: String,
    pub legitimate_interest: Option<String>,
    pub data_subjects: Vec<String>,
    pub data_categories: Vec<String>,
    pub source: Option<String>,
    pub recipients: Vec<String>,
    pub processors: Vec<ProcessorRecord>,
    pub transfers: Vec<TransferRecord>,
    pub erasure: Vec<ErasureRecord>,
    pub security_measures: Vec<String>,
    pub automated_decisions: Option<String>,
    pub sites: Vec<String>,
}

/// The whole record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub language: String,
    /// The site the record was restricted to, if any.
    pub site: Option<String>,
    pub controller: ControllerRecord,
    pub representative: Option<ContactRecord>,
    pub dpo: Option<ContactRecord>,
    pub activities: Vec<ActivityRecord>,
}

fn legal_basis_code(a: &Activity) -> String {
    a.legal_basis.as_str().to_string()
}

fn role_code(r: Role) -> &'static str {
    match r {
        Role::Processor => "processor",
        Role::Controller => "controller",
        Role::JointController => "joint_controller",
    }
}

/// Builds the record from a registry, for every activity or only those of one site.
pub fn build(reg: &Registry, site: Option<&str>, lang: &str) -> Result<Record, RegisterError> {
    let def = match site {
        Some(id) => reg
            .site(id)
            .ok_or_else(|| RegisterError::UnknownSite(id.to_string()))?
            .default_language()
            .to_string(),
        None => reg
            .sites
            .first()
            .map(|s| s.default_language().to_string())
            .unwrap_or_else(|| "en".into()),
    };
    let def = def.as_str();
    // Registry texts as the record states them: a placeholder is a gap to complete.
    let plain = |t: &assent_model::registry::Text, lang: &str, def: &str| {
        or_gap(&html::plain(t, lang, def), lang)
    };
    let activities: Vec<&Activity> = match site.and_then(|id| reg.site(id)) {
        Some(s) => reg.site_activities(s).collect(),
        None => reg.activities.iter().collect(),
    };
    let all_sites: Vec<String> = reg.sites.iter().map(|s| s.id.clone()).collect();
    let activities = activities
        .into_iter()
        .map(|a| {
            let processors: Vec<ProcessorRecord> = a
                .processors
                .iter()
                .map(|id| match reg.service(id) {
                    Some(s) => processor(s, lang),
                    None => ProcessorRecord {
                        id: id.clone(),
                        name: id.clone(),
                        provider: String::new(),
                        role: "processor".into(),
                        country: None,
                        third_country: false,
                        safeguard: None,
                        privacy_policy: None,
                    },
                })
                .collect();
            let mut transfers: Vec<TransferRecord> = a
                .transfers
                .iter()
                .map(|t| TransferRecord {
                    country: t.country.clone(),
                    recipient: t.recipient.as_deref().map(|r| or_gap(r, lang)),
                    safeguard: t.safeguard.as_str().into(),
                    safeguard_label: words::safeguard(t.safeguard, lang).into(),
                })
                .collect();
            // A processor outside the EEA is a transfer even when the activity omits it.
            for id in &a.processors {
                if let Some(s) = reg.service(id)
                    && let Some(c) = s.country.as_deref()
                    && !in_eea(c)
                    && !transfers.iter().any(|t| {
                        t.country == c && t.recipient.as_deref() == Some(s.provider.as_str())
                    })
                {
                    transfers.push(TransferRecord {
                        country: c.to_string(),
                        recipient: Some(or_gap(&s.provider, lang)),
                        safeguard: s.safeguard.map(|g| g.as_str()).unwrap_or("").into(),
                        safeguard_label: s
                            .safeguard
                            .map(|g| words::safeguard(g, lang))
                            .unwrap_or("")
                            .into(),
                    });
                }
            }
            let erasure = a
                .retention
                .iter()
                .filter_map(|id| reg.retention_rule(id))
                .map(|r| {
                    let period = retention_period(r, lang);
                    let action = retention_action(r.action, lang);
                    ErasureRecord {
                        id: r.id.clone(),
                        data_category: plain(&r.data_category, lang, def),
                        period: words::duration(r.period, lang),
                        trigger: words::trigger(r.trigger, lang).into(),
                        archive: r.archive.map(|d| words::duration(d, lang)),
                        action: action.into(),
                        period_text: period.clone(),
                        text: format!(
                            "{}{}{period}; {}",
                            plain(&r.data_category, lang, def),
                            txt(lang, "common.colon"),
                            action.to_lowercase()
                        ),
                    }
                })
                .collect();
            let texts = |v: &[assent_model::registry::Text]| {
                v.iter().map(|x| plain(x, lang, def)).collect::<Vec<_>>()
            };
            ActivityRecord {
                id: a.id.clone(),
                name: plain(&a.name, lang, def),
                purposes: plain(&a.description, lang, def),
                legal_basis: legal_basis_code(a),
                legal_basis_label: words::basis(a.legal_basis, lang).into(),
                legitimate_interest: a.legitimate_interest.as_ref().map(|x| plain(x, lang, def)),
                data_subjects: texts(&a.data_subjects),
                data_categories: texts(&a.data_categories),
                source: a.source.as_ref().map(|x| plain(x, lang, def)),
                recipients: texts(&a.recipients),
                processors,
                transfers,
                erasure,
                security_measures: texts(&a.security_measures),
                automated_decisions: a.automated_decisions.as_ref().map(|x| plain(x, lang, def)),
                sites: a.sites.clone().unwrap_or_else(|| all_sites.clone()),
            }
        })
        .collect();
    Ok(Record {
        language: lang.to_string(),
        site: site.map(str::to_string),
        controller: ControllerRecord::from(&reg.controller).with_gaps(lang),
        representative: reg
            .controller
            .representative
            .as_ref()
            .map(|c| ContactRecord::from(c).with_gaps(lang)),
        dpo: reg
            .controller
            .dpo
            .as_ref()
            .map(|c| ContactRecord::from(c).with_gaps(lang)),
        activities,
    })
}

fn processor(s: &Service, lang: &str) -> ProcessorRecord {
    ProcessorRecord {
        id: s.id.clone(),
        name: or_gap(&s.name, lang),
        provider: or_gap(&s.provider, lang),
        role: role_code(s.role).into(),
        country: s.country.clone(),
        third_country: s.country.as_deref().is_some_and(|c| !in_eea(c)),
        safeguard: s.safeguard.map(|g| words::safeguard(g, lang).to_string()),
        privacy_policy: s.privacy_policy.as_deref().map(|u| address_or_gap(u, lang)),
    }
}

impl ProcessorRecord {
    /// "HubSpot (HubSpot, Inc., United States (US))".
    pub fn line(&self, lang: &str) -> String {
        let mut inner = vec![];
        if !self.provider.is_empty() {
            inner.push(self.provider.clone());
        }
        if let Some(c) = &self.country {
            inner.push(country(c, lang));
        }
        if inner.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, inner.join(", "))
        }
    }
}

impl TransferRecord {
    pub fn line(&self, lang: &str) -> String {
        let who = self.recipient.as_deref().unwrap_or("");
        let safeguard = if self.safeguard_label.is_empty() {
            txt(lang, "common.safeguard_not_stated")
        } else {
            self.safeguard_label.as_str()
        };
        if who.is_empty() {
            format!("{}: {safeguard}", country(&self.country, lang))
        } else {
            format!("{who} – {}: {safeguard}", country(&self.country, lang))
        }
    }
}

/// A country of the record in words; the unknown country (`ZZ`) is a gap to complete.
fn country(code: &str, lang: &str) -> String {
    if assent_model::placeholder::is_placeholder_country(code) {
        format!(
            "{} {}",
            words::country_with_code(code, lang),
            txt(lang, "truth.to_complete")
        )
    } else {
        words::country_with_code(code, lang)
    }
}

/// Column headers of the CSV export.
pub fn csv_header(lang: &str) -> Vec<&'static str> {
    vec![
        txt(lang, "register.activity_id"),
        txt(lang, "register.processing_activity"),
        txt(lang, "common.controller"),
        txt(lang, "register.representative"),
        txt(lang, "common.data_protection_officer"),
        txt(lang, "common.purposes"),
        txt(lang, "common.legal_basis"),
        txt(lang, "common.legitimate_interest"),
        txt(lang, "common.categories_data_subjects"),
        txt(lang, "common.categories_personal_data"),
        txt(lang, "common.source"),
        txt(lang, "common.recipients"),
        txt(lang, "register.processors"),
        txt(lang, "register.recipients_third_countries"),
        txt(lang, "register.transfers_outside_eea_country"),
        txt(lang, "register.time_limits_erasure"),
        txt(lang, "common.security_measures"),
        txt(lang, "common.automated_decisions"),
        txt(lang, "register.sites"),
    ]
}

/// The cells of each activity row, unescaped (the CSV writer escapes formula triggers).
pub fn csv_rows(rec: &Record) -> Vec<Vec<String>> {
    let lang = rec.language.as_str();
    let join = |v: &[String]| v.join("\n");
    rec.activities
        .iter()
        .map(|a| {
            vec![
                a.id.clone(),
                a.name.clone(),
                rec.controller.line(),
                rec.representative
                    .as_ref()
                    .map(ContactRecord::line)
                    .unwrap_or_default(),
                rec.dpo
                    .as_ref()
                    .map(ContactRecord::line)
                    .unwrap_or_default(),
                a.purposes.clone(),
                a.legal_basis_label.clone(),
                a.legitimate_interest.clone().unwrap_or_default(),
                join(&a.data_subjects),
                join(&a.data_categories),
                a.source.clone().unwrap_or_default(),
                join(&a.recipients),
                join(
                    &a.processors
                        .iter()
                        .map(|p| p.line(lang))
                        .collect::<Vec<_>>(),
                ),
                join(
                    &a.processors
                        .iter()
                        .filter(|p| p.third_country)
                        .map(|p| p.line(lang))
                        .collect::<Vec<_>>(),
                ),
                join(&a.transfers.iter().map(|t| t.line(lang)).collect::<Vec<_>>()),
                join(&a.erasure.iter().map(|e| e.text.clone()).collect::<Vec<_>>()),
                join(&a.security_measures),
                a.automated_decisions.clone().unwrap_or_default(),
                a.sites.join(", "),
            ]
        })
        .collect()
}

/// Neutralises a cell a spreadsheet would run as a formula: cells starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return get a leading `'`.
pub fn csv_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// The record as CSV: a header row, then one row per activity.
pub fn to_csv(rec: &Record) -> Result<String, RegisterError> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![]);
    let err = |e: csv::Error| RegisterError::Csv(e.to_string());
    w.write_record(csv_header(&rec.language)).map_err(err)?;
    for row in csv_rows(rec) {
        w.write_record(row.iter().map(|c| csv_cell(c)))
            .map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| RegisterError::Csv(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| RegisterError::Csv(e.to_string()))
}

/// The record as pretty JSON.
pub fn to_json(rec: &Record) -> String {
    serde_json::to_string_pretty(rec).unwrap_or_else(|_| "{}".into())
}

/// A list of texts, or a dash when there is none (a field of Art. 30 is never left blank).
fn ul(items: &[String]) -> Markup {
    if items.is_empty() {
        return Markup::text("–");
    }
    html::ul(items.iter().map(|i| Markup::text(i)))
}

/// "Name, email, address, phone": the known parts, the email as a link.
fn contact_html(c: &ContactRecord) -> Markup {
    let mut parts = vec![];
    parts.extend(c.name.as_deref().map(Markup::text));
    parts.extend(c.email.as_deref().map(mailto));
    parts.extend(c.address.as_deref().map(Markup::text));
    parts.extend(c.phone.as_deref().map(Markup::text));
    let joined: Vec<String> = parts.into_iter().map(Markup::into_string).collect();
    Markup::trusted(joined.join(", "))
}

/// One activity of the record as shown: a summary row and the Art. 30(1) fields.
struct ActivityView {
    id: String,
    name: String,
    basis: String,
    countries: String,
    erasure: Markup,
    fields: Vec<Fact>,
}

/// `templates/register.html`.
#[derive(askama::Template)]
#[template(path = "register.html")]
struct RegisterView {
    t: &'static Texts,
    controller: Vec<Fact>,
    activities: Vec<ActivityView>,
}

/// The fields of Art. 30(1) for one activity, in the article's order.
fn fields(a: &ActivityRecord, lang: &str) -> Vec<Fact> {
    let t = texts(lang);
    let mut f = vec![
        Fact::new(
            t.get("register.identifier"),
            Markup::trusted(format!("<code>{}</code>", esc(&a.id))),
        ),
        Fact::text(t.get("register.purposes_art_30_1"), &a.purposes),
        Fact::text(t.get("common.legal_basis"), &a.legal_basis_label),
    ];
    if let Some(li) = &a.legitimate_interest {
        f.push(Fact::text(t.get("common.legitimate_interest"), li));
    }
    f.push(Fact::new(
        t.get("register.categories_data_subjects_art"),
        ul(&a.data_subjects),
    ));
    f.push(Fact::new(
        t.get("register.categories_personal_data_art"),
        ul(&a.data_categories),
    ));
    if let Some(s) = &a.source {
        f.push(Fact::text(t.get("common.source"), s));
    }
    let lines = |it: &mut dyn Iterator<Item = String>| ul(&it.collect::<Vec<_>>());
    f.extend([
        Fact::new(t.get("register.recipients_art_30_1"), ul(&a.recipients)),
        Fact::new(
            t.get("register.processors"),
            lines(&mut a.processors.iter().map(|p| p.line(lang))),
        ),
        Fact::new(
            t.get("register.recipients_third_countries_art"),
            lines(
                &mut a
                    .processors
                    .iter()
                    .filter(|p| p.third_country)
                    .map(|p| p.line(lang)),
            ),
        ),
        Fact::new(
            t.get("register.transfers_country_safeguard_art"),
            lines(&mut a.transfers.iter().map(|tr| tr.line(lang))),
        ),
        Fact::new(
            t.get("register.time_limits_erasure_art"),
            lines(&mut a.erasure.iter().map(|e| e.text.clone())),
        ),
        Fact::new(
            t.get("register.security_measures_art_30"),
            ul(&a.security_measures),
        ),
        Fact::text(
            t.get("common.automated_decisions"),
            a.automated_decisions
                .as_deref()
                .unwrap_or(t.get("register.none")),
        ),
        Fact::text(t.get("register.sites"), &a.sites.join(", ")),
    ]);
    f
}

/// The record as a printable HTML document. `generated_at` is shown as is (escaped).
pub fn to_html(rec: &Record, generated_at: &str) -> String {
    let t = texts(&rec.language);
    let lang = t.lang();
    let c = &rec.controller;
    let mut controller = c.facts(lang);
    controller.push(Fact::new(
        t.get("register.representative_art_27"),
        rec.representative
            .as_ref()
            .map(contact_html)
            .unwrap_or_else(|| Markup::text(t.get("register.none_established_eu"))),
    ));
    controller.push(Fact::new(
        t.get("common.data_protection_officer"),
        rec.dpo
            .as_ref()
            .map(contact_html)
            .unwrap_or_else(|| Markup::text(t.get("register.none_designated"))),
    ));
    let activities = rec
        .activities
        .iter()
        .map(|a| {
            let mut countries: Vec<String> = a
                .transfers
                .iter()
                .map(|tr| country(&tr.country, lang))
                .collect();
            countries.dedup();
            ActivityView {
                id: a.id.clone(),
                name: a.name.clone(),
                basis: a.legal_basis_label.clone(),
                countries: countries.join(", "),
                erasure: ul(&a
                    .erasure
                    .iter()
                    .map(|e| e.period_text.clone())
                    .collect::<Vec<_>>()),
                fields: fields(a, lang),
            }
        })
        .collect();
    let view = RegisterView {
        t,
        controller,
        activities,
    };
    html::shell(&Shell {
        lang,
        title: t.get("register.record_processing_activities").to_string(),
        site_name: &c.name,
        nav: Nav::Register,
        links: vec![],
        alternates: vec![],
        meta: Meta::Register {
            activities: rec.activities.len(),
            generated_at: generated_at.to_string(),
        },
        body: html::render(&view),
        script: None,
        canonical: None,
    })
}

impl Record {
    /// Adds the activities of another record (another registry file) that this one lacks.
    pub fn merge(mut self, other: Record) -> Record {
        for a in other.activities {
            if !self.activities.iter().any(|x| x.id == a.id) {
                self.activities.push(a);
            }
        }
        self
    }

    /// The record in a format.
    pub fn render(&self, format: Format, generated_at: &str) -> Result<String, RegisterError> {
        Ok(match format {
            Format::Csv => to_csv(self)?,
            Format::Json => to_json(self),
            Format::Html => to_html(self, generated_at),
        })
    }
}

/// Renders the record of a registry in a format.
pub fn export(
    reg: &Registry,
    site: Option<&str>,
    format: Format,
    lang: &str,
    generated_at: &str,
) -> Result<String, RegisterError> {
    build(reg, site, lang)?.render(format, generated_at)
}
