//! The registry: "privacy as code". One TOML file describes the controller, its sites, the
//! purposes, services (vendors), cookies and other storage, the processing activities of the
//! Art. 30 register and the retention rules. Everything Assent shows or enforces (banner,
//! policy pages, proof of consent, scans, retention) is derived from it, so they cannot disagree.
//!
//! Parsing is strict (`deny_unknown_fields`); the semantic checks live in [`crate::check`].
//! Every field is documented for users in `docs/registry.md`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest consent lifetime a site may declare: 13 months, as CNIL counts it.
pub const MAX_CONSENT_LIFETIME_DAYS: u32 = 395;
/// Default consent lifetime: 6 months, CNIL's recommended renewal interval.
pub const DEFAULT_CONSENT_LIFETIME_DAYS: u32 = 182;

/// Seconds in an average Gregorian month (365.2425 / 12 days). Lifetimes are compared in
/// seconds so that "395 days" and "13 months" are both accepted under the 13-month cap.
pub const MONTH_SECS: i64 = 2_629_746;
/// The 13-month cap on tracker lifetimes (CNIL).
pub const MAX_TRACKER_LIFETIME_SECS: i64 = 13 * MONTH_SECS;

/// The whole registry file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    pub controller: Controller,
    #[serde(default)]
    pub sites: Vec<Site>,
    #[serde(default)]
    pub purposes: Vec<Purpose>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub cookies: Vec<Cookie>,
    #[serde(default)]
    pub activities: Vec<Activity>,
    #[serde(default)]
    pub retention: Vec<RetentionRule>,
    /// The operator's databases, for rights fulfilment (not part of any policy version).
    #[serde(default)]
    pub datastores: Vec<crate::datastore::Datastore>,
    /// Marketing purposes (email, SMS): a table of their own that never reaches the banner.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marketing: Vec<MarketingPurpose>,
}

/// Text in one or several languages. A plain string is language-neutral (a brand name, an
/// address); a table maps language codes to translations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Text {
    Plain(String),
    Localized(BTreeMap<String, String>),
}

impl Text {
    /// The text in `lang`, else in `fallback`, else in English, else any translation.
    pub fn get<'a>(&'a self, lang: &str, fallback: &str) -> &'a str {
        match self {
            Text::Plain(s) => s,
            Text::Localized(m) => m
                .get(lang)
                .or_else(|| m.get(fallback))
                .or_else(|| m.get("en"))
                .or_else(|| m.values().next())
                .map(String::as_str)
                .unwrap_or(""),
        }
    }
    /// Languages this text lacks among `langs` (a plain text lacks none).
    pub fn missing<'a>(&self, langs: &'a [String]) -> Vec<&'a str> {
        match self {
            Text::Plain(_) => vec![],
            Text::Localized(m) => langs
                .iter()
                .filter(|l| !m.contains_key(l.as_str()))
                .map(String::as_str)
                .collect(),
        }
    }
    /// Every string in the text, for lints that look at content (e.g. hostile markup).
    pub fn all(&self) -> Vec<&str> {
        match self {
            Text::Plain(s) => vec![s.as_str()],
            Text::Localized(m) => m.values().map(String::as_str).collect(),
        }
    }
}

/// The data controller (GDPR Art. 4(7)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    pub name: String,
    pub legal_form: Option<String>,
    /// Company registration, e.g. "RCS Lille Métropole 513 700 898" or "SIREN 909 093 148".
    pub registration: Option<String>,
    pub address: String,
    /// ISO 3166-1 alpha-2 country of establishment, e.g. "FR".
    pub country: String,
    /// Contact address for privacy questions.
    pub email: String,
    pub phone: Option<String>,
    pub website: Option<String>,
    /// IANA time zone used for legal deadlines (e.g. "Europe/Paris").
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Where data-subject rights are exercised, when it differs from `email`.
    pub rights_email: Option<String>,
    /// Postal address for rights requests, when it differs from `address`.
    pub rights_address: Option<String>,
    pub dpo: Option<Contact>,
    /// Art. 27 representative in the Union, for controllers established outside it.
    pub representative: Option<Contact>,
    pub supervisory_authority: Authority,
}

fn default_timezone() -> String {
    "Europe/Paris".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    pub name: String,
    pub url: Option<String>,
    pub address: Option<String>,
}

/// A website whose visitors give consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub id: String,
    pub name: String,
    /// Host names the site is served on; the consent API only accepts these origins.
    pub domains: Vec<String>,
    /// Cookie domain shared by subdomains (e.g. ".callkom.io"); the consent cookie is set there.
    pub cookie_domain: Option<String>,
    /// Languages the banner and policies are offered in; the first is the default.
    pub languages: Vec<String>,
    /// How long a choice is kept before the banner asks again (days, at most 395).
    #[serde(default = "default_lifetime")]
    pub consent_lifetime_days: u32,
    /// Purposes used on this site (default: all purposes of the registry).
    pub purposes: Option<Vec<String>>,
    /// Services used on this site (default: all services whose purposes are on the site).
    pub services: Option<Vec<String>>,
    /// The site's home page, for links back from generated pages.
    pub url: Option<String>,
    /// Overrides of the banner's texts per language (title, body).
    pub banner: Option<BannerTexts>,
}

fn default_lifetime() -> u32 {
    DEFAULT_CONSENT_LIFETIME_DAYS
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BannerTexts {
    pub title: Option<Text>,
    pub body: Option<Text>,
}

/// Why a tracker may be used without consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exemption {
    /// Strictly necessary for a service the user asked for (ePrivacy Art. 5(3)).
    StrictlyNecessary,
    /// CNIL's exemption for publisher-only, anonymous audience measurement.
    AudienceMeasurement,
}

crate::codes::worded_enum! {
    /// Legal bases of GDPR Art. 6(1), (a) to (f). `label` is the basis in words, for the
    /// banner's second layer and the policies; `as_str` the code written in the registry
    /// (`legal_basis = "consent"`) and stored.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum LegalBasis {
        Consent => "consent", ["Consent", "Consentement", "Einwilligung"],
        Contract => "contract", ["Performance of a contract", "Exécution du contrat", "Vertragserfüllung"],
        LegalObligation => "legal_obligation", ["Legal obligation", "Obligation légale", "Rechtliche Verpflichtung"],
        VitalInterests => "vital_interests", ["Vital interests", "Intérêts vitaux", "Lebenswichtige Interessen"],
        PublicTask => "public_task", ["Public task", "Mission d'intérêt public", "Aufgabe im öffentlichen Interesse"],
        LegitimateInterest => "legitimate_interest", ["Legitimate interest", "Intérêt légitime", "Berechtigtes Interesse"],
    }
}

crate::codes::coded_enum! {
    /// Google Consent Mode v2 storage types a purpose grants.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ConsentModeSignal {
        AdStorage => "ad_storage",
        AdUserData => "ad_user_data",
        AdPersonalization => "ad_personalization",
        AnalyticsStorage => "analytics_storage",
        FunctionalityStorage => "functionality_storage",
        PersonalizationStorage => "personalization_storage",
        SecurityStorage => "security_storage",
    }
}

/// A purpose visitors consent to (or that is exempt from consent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: String,
    pub name: Text,
    pub description: Text,
    /// Whether trackers of this purpose need prior consent (default true).
    #[serde(default = "yes")]
    pub consent_required: bool,
    /// Required when `consent_required = false`: the ground for the exemption.
    pub exemption: Option<Exemption>,
    pub legal_basis: LegalBasis,
    /// Refused when the browser sends a Global Privacy Control signal (advertising, sharing).
    #[serde(default)]
    pub gpc: bool,
    /// Google Consent Mode v2 storage types granted with this purpose.
    #[serde(default)]
    pub consent_mode: Vec<ConsentModeSignal>,
    /// What the visitor loses by refusing (seed 002's "Impact of refusal").
    pub refusal_impact: Option<Text>,
    /// For exempt audience measurement: how long collected data is kept (at most 25 months).
    pub data_retention: Option<Duration>,
}

fn yes() -> bool {
    true
}

crate::codes::worded_enum! {
    /// How a transfer outside the EEA is framed (GDPR Arts. 45-49). `label` is the safeguard
    /// in words, for the transfers section of the privacy policy; `as_str` the code written in
    /// the registry (`safeguard = "scc"`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Safeguard {
        /// An adequacy decision of the European Commission (Art. 45).
        Adequacy => "adequacy", ["European Commission adequacy decision", "Décision d'adéquation de la Commission européenne", "Angemessenheitsbeschluss der Europäischen Kommission"],
        /// The EU-US Data Privacy Framework (an adequacy decision for certified US companies).
        Dpf => "dpf", ["EU-US Data Privacy Framework (adequacy decision)", "EU-US Data Privacy Framework (décision d'adéquation)", "EU-US Data Privacy Framework (Angemessenheitsbeschluss)"],
        /// Standard Contractual Clauses, Commission Decision 2021/914 (Art. 46(2)(c)).
        Scc => "scc", ["European Commission Standard Contractual Clauses (2021/914)", "Clauses contractuelles types de la Commission européenne (2021/914)", "Standardvertragsklauseln der Europäischen Kommission (2021/914)"],
        /// Binding Corporate Rules (Art. 47).
        Bcr => "bcr", ["Binding Corporate Rules", "Règles d'entreprise contraignantes", "Verbindliche interne Datenschutzvorschriften"],
        /// An Art. 49 derogation (e.g. explicit consent); to be used sparingly.
        Derogation => "derogation", ["GDPR Article 49 derogation", "Dérogation de l'article 49 du RGPD", "Ausnahme nach Artikel 49 DSGVO"],
    }
}

/// The role of a service's provider towards the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Processes on the controller's behalf (Art. 28): a subprocessor.
    Processor,
    /// Decides its own purposes (e.g. a social network's embedded player).
    Controller,
    JointController,
}

/// A service or vendor whose trackers or processing the site uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub id: String,
    pub name: String,
    /// The company behind it (e.g. "Google Ireland Ltd").
    pub provider: String,
    pub purposes: Vec<String>,
    pub description: Option<Text>,
    pub privacy_policy: Option<String>,
    /// ISO 3166-1 alpha-2 country where data is processed.
    pub country: Option<String>,
    /// Required when `country` is outside the EEA.
    pub safeguard: Option<Safeguard>,
    #[serde(default = "processor")]
    pub role: Role,
    /// Host names this service loads from or sends data to (for the scanner and CSP).
    #[serde(default)]
    pub hosts: Vec<String>,
}

fn processor() -> Role {
    Role::Processor
}

/// What kind of device storage a tracker uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageKind {
    Cookie,
    LocalStorage,
    SessionStorage,
    IndexedDb,
    Pixel,
}

/// A cookie or other tracker the site may store or read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cookie {
    /// Exact name, or a prefix ending in `*` (e.g. `_ga_*`).
    pub name: String,
    /// Domain the cookie is set on (".example.com" includes subdomains).
    pub domain: Option<String>,
    pub service: Option<String>,
    pub purpose: String,
    pub lifetime: Lifetime,
    #[serde(default = "cookie_kind")]
    pub kind: StorageKind,
    /// Overrides the purpose's legal basis for this tracker.
    pub legal_basis: Option<LegalBasis>,
    /// Why it is exempt from consent; required when its purpose is exempt.
    pub exemption_reason: Option<Text>,
    pub description: Option<Text>,
    /// Sites it appears on (default: every site using its purpose).
    pub sites: Option<Vec<String>>,
}

fn cookie_kind() -> StorageKind {
    StorageKind::Cookie
}

impl Cookie {
    /// Whether `name` is this tracker (exactly, or by prefix for `prefix*` names).
    pub fn matches(&self, name: &str) -> bool {
        match self.name.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => self.name == name,
        }
    }
}

/// A duration written as "30 minutes", "6 months", "13 months", "1 year", "395 days".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Duration {
    pub amount: u32,
    pub unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    Minutes,
    Hours,
    Days,
    Weeks,
    Months,
    Years,
}

impl Unit {
    fn secs(self) -> i64 {
        match self {
            Unit::Minutes => 60,
            Unit::Hours => 3_600,
            Unit::Days => 86_400,
            Unit::Weeks => 7 * 86_400,
            Unit::Months => MONTH_SECS,
            Unit::Years => 12 * MONTH_SECS,
        }
    }
    /// The unit's name (singular, plural) in `lang`.
    #[rustfmt::skip]
    fn words(self, lang: &str, plural: bool) -> &'static str {
        let (one, many) = crate::lang::pick(lang, match self {
            Unit::Minutes => [("minute", "minutes"), ("minute", "minutes"), ("Minute", "Minuten")],
            Unit::Hours => [("hour", "hours"), ("heure", "heures"), ("Stunde", "Stunden")],
            Unit::Days => [("day", "days"), ("jour", "jours"), ("Tag", "Tage")],
            Unit::Weeks => [("week", "weeks"), ("semaine", "semaines"), ("Woche", "Wochen")],
            Unit::Months => [("month", "months"), ("mois", "mois"), ("Monat", "Monate")],
            Unit::Years => [("year", "years"), ("an", "ans"), ("Jahr", "Jahre")],
        });
        if plural { many } else { one }
    }
}

impl Duration {
    pub fn seconds(self) -> i64 {
        i64::from(self.amount) * self.unit.secs()
    }
    /// Human text in English, French or German ("6 months", "6 mois", "6 Monate").
    pub fn display(self, lang: &str) -> String {
        format!(
            "{} {}",
            self.amount,
            self.unit.words(lang, self.amount != 1)
        )
    }
    /// Adds this duration to a civil date-time in calendar terms (months are calendar months).
    pub fn add_to(self, z: &jiff::ZonedDateTime) -> Option<jiff::ZonedDateTime> {
        let a = i64::from(self.amount);
        let span = match self.unit {
            Unit::Minutes => jiff::Span::new().try_minutes(a).ok()?,
            Unit::Hours => jiff::Span::new().try_hours(a).ok()?,
            Unit::Days => jiff::Span::new().try_days(a).ok()?,
            Unit::Weeks => jiff::Span::new().try_weeks(a).ok()?,
            Unit::Months => jiff::Span::new().try_months(a).ok()?,
            Unit::Years => jiff::Span::new().try_years(a).ok()?,
        };
        z.checked_add(span).ok()
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display("en"))
    }
}

/// Parse error for durations and lifetimes, with a message fit for `assent check`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(String);

impl std::str::FromStr for Duration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let amount: u32 = num.parse().map_err(|_| {
            DurationError(format!(
                "invalid duration `{s}`: expected a number and a unit, like \"30 minutes\", \"6 months\" or \"1 year\""
            ))
        })?;
        let unit = match unit.trim().to_ascii_lowercase().as_str() {
            "min" | "mins" | "minute" | "minutes" => Unit::Minutes,
            "h" | "hour" | "hours" => Unit::Hours,
            "d" | "day" | "days" => Unit::Days,
            "w" | "week" | "weeks" => Unit::Weeks,
            "mo" | "month" | "months" => Unit::Months,
            "y" | "year" | "years" => Unit::Years,
            other => {
                return Err(DurationError(format!(
                    "invalid duration unit `{other}` in `{s}`: use minutes, hours, days, weeks, months or years"
                )));
            }
        };
        Ok(Duration { amount, unit })
    }
}

/// How long a tracker lives on the device: until the browser session ends, or a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lifetime {
    Session,
    For(Duration),
}

impl Lifetime {
    /// Upper bound in seconds (a session cookie counts as 0).
    pub fn seconds(self) -> i64 {
        match self {
            Lifetime::Session => 0,
            Lifetime::For(d) => d.seconds(),
        }
    }
    pub fn display(self, lang: &str) -> String {
        match self {
            Lifetime::Session => crate::lang::pick(lang, ["Session", "Session", "Sitzung"]).into(),
            Lifetime::For(d) => d.display(lang),
        }
    }
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display("en"))
    }
}

impl std::str::FromStr for Lifetime {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("session") {
            return Ok(Lifetime::Session);
        }
        s.parse().map(Lifetime::For)
    }
}

/// Serde through the text form: `Display` out, `FromStr` in, so that a registry's
/// `"13 months"` and `"session"` round-trip and error messages are those of `FromStr`.
macro_rules! serde_as_text {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
serde_as_text!(Duration, Lifetime);

/// A transfer of personal data outside the EEA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub country: String,
    pub recipient: Option<String>,
    pub safeguard: Safeguard,
}

/// A processing activity of the GDPR Art. 30 record (and of the privacy policy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    pub id: String,
    pub name: Text,
    /// The purposes of the processing, in plain words.
    pub description: Text,
    pub legal_basis: LegalBasis,
    /// The interest pursued, when the basis is legitimate interest.
    pub legitimate_interest: Option<Text>,
    #[serde(default)]
    pub data_subjects: Vec<Text>,
    #[serde(default)]
    pub data_categories: Vec<Text>,
    /// Where the data comes from when not from the person (Art. 14).
    pub source: Option<Text>,
    #[serde(default)]
    pub recipients: Vec<Text>,
    /// Services (processors) involved.
    #[serde(default)]
    pub processors: Vec<String>,
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    /// Retention rules applying to the data of this activity.
    #[serde(default)]
    pub retention: Vec<String>,
    #[serde(default)]
    pub security_measures: Vec<Text>,
    /// Automated decision-making or profiling (Art. 22), if any.
    pub automated_decisions: Option<Text>,
    /// Sites whose privacy policy lists this activity (default: all).
    pub sites: Option<Vec<String>>,
}

crate::codes::worded_enum! {
    /// When a retention period starts running; `label` completes a period ("6 months from
    /// collection").
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Trigger {
        Collection => "collection", ["from collection", "à compter de la collecte", "ab der Erhebung"],
        LastContact => "last_contact", ["after the last contact", "à compter du dernier contact", "nach dem letzten Kontakt"],
        LastActivity => "last_activity", ["after the last activity", "à compter de la dernière activité", "nach der letzten Aktivität"],
        ContractEnd => "contract_end", ["after the end of the contract", "après la fin du contrat", "nach Ende des Vertrags"],
        AccountClosure => "account_closure", ["after the account is closed", "après la clôture du compte", "nach Schließung des Kontos"],
        ConsentWithdrawal => "consent_withdrawal", ["after consent is withdrawn", "après le retrait du consentement", "nach Widerruf der Einwilligung"],
        /// The end of the calendar year of the event (e.g. a rights request: calendar year + 2 years).
        EndOfCalendarYear => "end_of_calendar_year", ["after the end of the calendar year", "après la fin de l'année civile", "nach Ende des Kalenderjahres"],
        /// When a consent choice expires: a proof of consent outlives the choice it proves.
        ChoiceExpiry => "choice_expiry", ["after the choice expires", "après l'expiration du choix", "nach Ablauf der Auswahl"],
    }
}

/// What happens to data once its period is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    Delete,
    Anonymise,
}

/// A retention rule: a data category, a period and its trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    pub id: String,
    pub data_category: Text,
    /// Period after the trigger ("0 days" for "for the duration of the contract").
    pub period: Duration,
    pub trigger: Trigger,
    /// Part of `period` kept in intermediate archives (restricted access), if any.
    pub archive: Option<Duration>,
    #[serde(default = "delete")]
    pub action: RetentionAction,
    pub description: Option<Text>,
    /// What the rule applies to (`consents`, `rights_requests`, `scan_reports`, `marketing`,
    /// `server_logs` or `DATASTORE.TABLE`; see `crate::retention`). None: bound to no data,
    /// enforced by the controller. Left out of the JSON when absent, so that policy versions
    /// hashed before it existed keep their hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<crate::applies_to::AppliesTo>,
    /// For a datastore table: the column(s) the trigger reads, the latest of them counting
    /// (`"last_order_at"`, `"orders.created_at"` through a reference).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchor: Vec<String>,
    /// Ask the person, this many days before the purge, whether to keep the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconfirm_days_before: Option<u32>,
}

fn delete() -> RetentionAction {
    RetentionAction::Delete
}

crate::codes::coded_enum! {
    /// How a marketing message reaches a person.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum MarketingChannel {
        Email => "email",
        Sms => "sms",
    }
}

/// A marketing purpose of the registry (`[[marketing]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketingPurpose {
    pub id: String,
    pub name: Text,
    pub description: Option<Text>,
    /// Channels messages of this purpose may use.
    pub channels: Vec<MarketingChannel>,
    /// Whether customers may be contacted without consent for the seller's own similar
    /// products (ePrivacy Art. 13(2)), by email only.
    #[serde(default)]
    pub soft_opt_in: bool,
    /// Sites that collect it (default: all).
    pub sites: Option<Vec<String>>,
}

impl MarketingPurpose {
    pub fn has_channel(&self, c: MarketingChannel) -> bool {
        self.channels.contains(&c)
    }
    /// Whether the site `site` collects this purpose.
    pub fn on_site(&self, site: &str) -> bool {
        self.sites
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == site))
    }
}

/// EEA member states (EU 27 + Iceland, Liechtenstein, Norway).
pub const EEA: [&str; 30] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// Whether a country code is inside the EEA ("EU" is accepted as a region).
pub fn in_eea(country: &str) -> bool {
    let c = country.trim().to_ascii_uppercase();
    c == "EU" || c == "EEA" || EEA.contains(&c.as_str())
}

impl Registry {
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }
    pub fn retention_rule(&self, id: &str) -> Option<&RetentionRule> {
        self.retention.iter().find(|r| r.id == id)
    }

    /// Purposes used on a site, in registry order.
    pub fn site_purposes<'a>(&'a self, site: &'a Site) -> impl Iterator<Item = &'a Purpose> + 'a {
        self.purposes
            .iter()
            .filter(move |p| site.uses_purpose(&p.id))
    }

    /// Services used on a site: listed explicitly, or serving one of the site's purposes.
    pub fn site_services<'a>(&'a self, site: &'a Site) -> impl Iterator<Item = &'a Service> + 'a {
        self.services.iter().filter(move |s| match &site.services {
            Some(ids) => ids.contains(&s.id),
            None => s.purposes.iter().any(|p| site.uses_purpose(p)),
        })
    }

    /// Trackers on a site.
    pub fn site_cookies<'a>(&'a self, site: &'a Site) -> impl Iterator<Item = &'a Cookie> + 'a {
        self.cookies.iter().filter(move |c| {
            let service_ok = match (&c.service, &site.services) {
                (Some(svc), Some(ids)) => ids.contains(svc),
                _ => true,
            };
            listed(&c.sites, &site.id) && service_ok && site.uses_purpose(&c.purpose)
        })
    }

    /// Processing activities shown on a site's privacy policy.
    pub fn site_activities<'a>(
        &'a self,
        site: &'a Site,
    ) -> impl Iterator<Item = &'a Activity> + 'a {
        self.activities
            .iter()
            .filter(move |a| listed(&a.sites, &site.id))
    }
}

/// Whether `id` is in an optional list of ids, where no list means "all" (a site's purposes,
/// the sites of a cookie or an activity).
fn listed(ids: &Option<Vec<String>>, id: &str) -> bool {
    ids.as_ref().is_none_or(|ids| ids.iter().any(|i| i == id))
}

impl Site {
    /// Whether the site uses purpose `id` (a site without a `purposes` list uses them all).
    pub fn uses_purpose(&self, id: &str) -> bool {
        listed(&self.purposes, id)
    }
    pub fn default_language(&self) -> &str {
        self.languages.first().map(String::as_str).unwrap_or("en")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_compare() {
        let d: Duration = "13 months".parse().unwrap();
        assert_eq!(d.seconds(), MAX_TRACKER_LIFETIME_SECS);
        let d: Duration = "395 days".parse().unwrap();
        assert!(d.seconds() <= MAX_TRACKER_LIFETIME_SECS);
        let d: Duration = "2 years".parse().unwrap();
        assert!(d.seconds() > MAX_TRACKER_LIFETIME_SECS);
        assert_eq!("30 min".parse::<Duration>().unwrap().seconds(), 1800);
        assert!("thirty minutes".parse::<Duration>().is_err());
        assert!("3 fortnights".parse::<Duration>().is_err());
        assert_eq!("Session".parse::<Lifetime>().unwrap(), Lifetime::Session);
        assert_eq!("1 year".parse::<Duration>().unwrap().display("fr"), "1 an");
        assert_eq!(
            "6 months".parse::<Duration>().unwrap().display("fr"),
            "6 mois"
        );
    }

    #[test]
    fn built_in_words_in_german() {
        let d = |s: &str| s.parse::<Duration>().unwrap();
        assert_eq!(d("6 months").display("de"), "6 Monate");
        assert_eq!(d("1 year").display("de"), "1 Jahr");
        assert_eq!(d("30 minutes").display("de"), "30 Minuten");
        assert_eq!(Lifetime::Session.display("de"), "Sitzung");
        assert_eq!(LegalBasis::Consent.label("de"), "Einwilligung");
        assert_eq!(
            LegalBasis::LegitimateInterest.label("de"),
            "Berechtigtes Interesse"
        );
        assert_eq!(
            Safeguard::Scc.label("de"),
            "Standardvertragsklauseln der Europäischen Kommission (2021/914)"
        );
        assert_eq!(Trigger::Collection.label("de"), "ab der Erhebung");
        // English and French unchanged; a language without built-in words gets English.
        assert_eq!(LegalBasis::Consent.label("fr"), "Consentement");
        assert_eq!(LegalBasis::Consent.label("it"), "Consent");
        assert_eq!(d("2 weeks").display("fi"), "2 weeks");
    }

    /// The codes of `coded_enum!` tables and serde's `rename_all` are written twice: they must
    /// agree.
    #[test]
    fn worded_codes_are_the_serde_names() {
        fn check<T: Serialize + Copy>(all: &[T], code: fn(T) -> &'static str) {
            for &v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), code(v));
            }
        }
        check(&LegalBasis::ALL, LegalBasis::as_str);
        check(&Safeguard::ALL, Safeguard::as_str);
        check(&Trigger::ALL, Trigger::as_str);
        check(
            &crate::rights::RequestType::ALL,
            crate::rights::RequestType::as_str,
        );
        assert_eq!(Safeguard::parse("scc"), Some(Safeguard::Scc));
        assert_eq!(Trigger::parse("nope"), None);
    }

    #[test]
    fn calendar_months_clamp() {
        let z: jiff::ZonedDateTime = "2025-01-31T10:00[Europe/Paris]".parse().unwrap();
        let d = Duration {
            amount: 1,
            unit: Unit::Months,
        };
        assert_eq!(d.add_to(&z).unwrap().date().to_string(), "2025-02-28");
    }

    #[test]
    fn wildcard_cookie_names() {
        let c = Cookie {
            name: "_ga_*".into(),
            domain: None,
            service: None,
            purpose: "p".into(),
            lifetime: Lifetime::Session,
            kind: StorageKind::Cookie,
            legal_basis: None,
            exemption_reason: None,
            description: None,
            sites: None,
        };
        assert!(c.matches("_ga_ABC123"));
        assert!(!c.matches("_ga"));
    }
}
