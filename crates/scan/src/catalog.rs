//! The known-cookie catalog: classifies cookies the site did not declare.
//!
//! Assent ships its own table (`catalog.tsv`, written for Assent). Operators can add a file in
//! the same TSV format or in the Open Cookie Database CSV format; entries from a file take
//! precedence over the built-in ones.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Broad tracker categories, as used for the consent decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Strictly necessary (security, load balancing, consent storage): exempt from consent.
    Necessary,
    /// Functional or preference cookies: need consent unless declared exempt.
    Functional,
    /// Audience measurement.
    Analytics,
    /// Advertising, retargeting, cross-site tracking.
    Marketing,
    /// Anything else.
    Unknown,
}

impl Category {
    /// Parses category names from our TSV and from the Open Cookie Database.
    pub fn parse(s: &str) -> Category {
        match s.trim().to_ascii_lowercase().as_str() {
            "necessary" | "strictly necessary" | "essential" | "security" => Category::Necessary,
            "functional" | "preferences" | "personalization" | "personalisation" => {
                Category::Functional
            }
            "analytics" | "statistics" | "performance" | "measurement" => Category::Analytics,
            "marketing" | "advertising" | "targeting" | "ads" => Category::Marketing,
            _ => Category::Unknown,
        }
    }

    /// Whether cookies of this category may be set without consent.
    pub fn is_strictly_necessary(self) -> bool {
        self == Category::Necessary
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Necessary => "necessary",
            Category::Functional => "functional",
            Category::Analytics => "analytics",
            Category::Marketing => "marketing",
            Category::Unknown => "unknown",
        }
    }
}

/// One known cookie (or storage key), or a family of them sharing a prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// Name, or prefix when `prefix` is true.
    pub name: String,
    /// Whether `name` is a prefix.
    pub prefix: bool,
    /// The platform or vendor, e.g. `Google Analytics`.
    pub platform: String,
    /// The category.
    pub category: Category,
    /// The domain it is usually set on, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Its usual lifetime as text (`2 years`, `session`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typical_lifetime: Option<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the entry comes from: `builtin` or the file name.
    pub source: String,
}

impl CatalogEntry {
    fn matches(&self, name: &str) -> bool {
        if self.prefix {
            name.starts_with(&self.name)
        } else {
            name == self.name
        }
    }
}

/// Errors reading a catalog file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("cannot read catalog {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A line or record is malformed.
    #[error("catalog {source_name}, line {line}: {message}")]
    Parse {
        /// The file (or `builtin`).
        source_name: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// A searchable set of known cookies.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
}

const BUILTIN_TSV: &str = include_str!("catalog.tsv");

impl Catalog {
    /// Assent's built-in catalog.
    pub fn builtin() -> Catalog {
        // The embedded table is checked by a unit test; a bad line would only be skipped.
        Catalog::parse_tsv(BUILTIN_TSV, "builtin").unwrap_or_default()
    }

    /// An empty catalog.
    pub fn empty() -> Catalog {
        Catalog::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in priority order.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// Parses Assent's TSV format (see `catalog.tsv`).
    pub fn parse_tsv(text: &str, source: &str) -> Result<Catalog, CatalogError> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i as u64 + 1;
            let trimmed = line.trim_end_matches('\r');
            if trimmed.trim().is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = trimmed.split('\t').collect();
            if cols.len() < 4 {
                return Err(CatalogError::Parse {
                    source_name: source.to_owned(),
                    line: line_no,
                    message: format!(
                        "expected name, match, platform, category[, lifetime, description] separated by tabs, got {} column(s)",
                        cols.len()
                    ),
                });
            }
            let prefix = match cols[1].trim() {
                "exact" => false,
                "prefix" => true,
                other => {
                    return Err(CatalogError::Parse {
                        source_name: source.to_owned(),
                        line: line_no,
                        message: format!("match must be `exact` or `prefix`, not `{other}`"),
                    });
                }
            };
            let name = cols[0].trim();
            if name.is_empty() {
                return Err(CatalogError::Parse {
                    source_name: source.to_owned(),
                    line: line_no,
                    message: "empty name".into(),
                });
            }
            entries.push(CatalogEntry {
                name: name.to_owned(),
                prefix,
                platform: cols[2].trim().to_owned(),
                category: Category::parse(cols[3]),
                domain: None,
                typical_lifetime: cols
                    .get(4)
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty()),
                description: cols
                    .get(5)
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty()),
                source: source.to_owned(),
            });
        }
        Ok(Catalog { entries })
    }

    /// Parses the Open Cookie Database CSV (columns found by their header names:
    /// `Platform`, `Category`, `Cookie / Data Key name`, `Domain`, `Description`,
    /// `Retention period`, `Wildcard match`). A wildcard row, or a name ending in `*`, is a
    /// prefix.
    pub fn parse_open_cookie_database<R: std::io::Read>(
        reader: R,
        source: &str,
    ) -> Result<Catalog, CatalogError> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let err = |line: u64, message: String| CatalogError::Parse {
            source_name: source.to_owned(),
            line,
            message,
        };
        let headers = rdr.headers().map_err(|e| err(1, e.to_string()))?.clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let (Some(c_name), Some(c_platform), Some(c_category)) = (
            col("Cookie / Data Key name"),
            col("Platform"),
            col("Category"),
        ) else {
            return Err(err(
                1,
                "not an Open Cookie Database header (need `Cookie / Data Key name`, `Platform`, `Category`)".into(),
            ));
        };
        let c_domain = col("Domain");
        let c_desc = col("Description");
        let c_retention = col("Retention period");
        let c_wildcard = col("Wildcard match");
        let mut entries = Vec::new();
        for record in rdr.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                err(line, e.to_string())
            })?;
            let get = |c: Option<usize>| {
                c.and_then(|c| record.get(c))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let Some(mut name) = get(Some(c_name)) else {
                continue;
            };
            let mut prefix =
                get(c_wildcard).is_some_and(|w| w == "1" || w.eq_ignore_ascii_case("true"));
            if let Some(stripped) = name.strip_suffix('*') {
                name = stripped.to_owned();
                prefix = true;
            }
            if name.is_empty() {
                continue;
            }
            entries.push(CatalogEntry {
                name,
                prefix,
                platform: get(Some(c_platform)).unwrap_or_default(),
                category: Category::parse(&get(Some(c_category)).unwrap_or_default()),
                domain: get(c_domain),
                typical_lifetime: get(c_retention),
                description: get(c_desc),
                source: source.to_owned(),
            });
        }
        Ok(Catalog { entries })
    }

    /// Reads a catalog file: Open Cookie Database CSV when its header says so, else Assent's TSV.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| path.display().to_string());
        let first = text.lines().next().unwrap_or_default();
        if first.contains("Cookie / Data Key name") {
            Catalog::parse_open_cookie_database(text.as_bytes(), &name)
        } else {
            Catalog::parse_tsv(&text, &name)
        }
    }

    /// This catalog with `other`'s entries searched first.
    pub fn with_priority(self, other: Catalog) -> Catalog {
        let mut entries = other.entries;
        entries.extend(self.entries);
        Catalog { entries }
    }

    /// The entry for a cookie: exact names first (one whose domain matches `domain` preferred),
    /// then the longest matching prefix. Earlier entries win ties.
    pub fn lookup(&self, name: &str, domain: &str) -> Option<&CatalogEntry> {
        let domain = domain.trim_start_matches('.').to_ascii_lowercase();
        let domain_ok = |e: &CatalogEntry| {
            e.domain.as_deref().is_some_and(|d| {
                let d = d.split_whitespace().next().unwrap_or_default();
                let d = d.trim_start_matches('.').to_ascii_lowercase();
                !d.is_empty() && !domain.is_empty() && crate::url::host_within(&domain, &d)
            })
        };
        let exact: Vec<&CatalogEntry> = self
            .entries
            .iter()
            .filter(|e| !e.prefix && e.name == name)
            .collect();
        if let Some(e) = exact.iter().find(|e| domain_ok(e)).or(exact.first()) {
            return Some(e);
        }
        let mut best: Option<&CatalogEntry> = None;
        for e in self.entries.iter().filter(|e| e.prefix && e.matches(name)) {
            if best.is_none_or(|b| e.name.len() > b.name.len()) {
                best = Some(e);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_parses_and_is_ours() {
        let c = Catalog::parse_tsv(BUILTIN_TSV, "builtin").unwrap();
        assert!(c.len() >= 80, "{}", c.len());
        for platform in [
            "Google Analytics",
            "Google Ads",
            "Google Tag Manager",
            "Meta Pixel",
            "HubSpot",
            "Hotjar",
            "Matomo",
            "Cloudflare",
            "Stripe",
            "Leadfeeder",
            "LinkedIn",
            "Microsoft Clarity",
            "Microsoft Application Insights",
            "YouTube",
            "Vimeo",
            "Calendly",
            "Intercom",
            "Drift",
            "Segment",
            "Mixpanel",
            "Amplitude",
            "Criteo",
            "TikTok",
            "Pinterest",
            "Microsoft Advertising (Bing)",
            "Yandex Metrica",
        ] {
            assert!(
                c.entries().iter().any(|e| e.platform == platform),
                "{platform} missing"
            );
        }
        assert!(c.entries().iter().all(|e| e.category != Category::Unknown));
    }

    #[test]
    fn lookups_prefer_exact_then_longest_prefix() {
        let c = Catalog::builtin();
        // (cookie, the field of its entry, what the field must say)
        let cases = [
            ("_ga", "platform", "Google Analytics"),
            ("_ga_ABC123", "platform", "Google Analytics 4"),
            ("_gat_UA-1", "name", "_gat"),
            ("_hjSessionUser_42", "name", "_hjSessionUser_"),
            ("_hjSession_42", "name", "_hjSession_"),
            ("_hjFirstSeen", "name", "_hj"),
            ("AMP_TOKEN", "platform", "Google Analytics"),
            ("AMP_abc", "platform", "Amplitude"),
        ];
        for (cookie, field, want) in cases {
            let e = c.lookup(cookie, "").unwrap();
            let got = if field == "name" {
                &e.name
            } else {
                &e.platform
            };
            assert_eq!(got, want, "{cookie}: {field}");
        }
        let bm = c.lookup("__cf_bm", "").unwrap();
        assert_eq!(bm.category, Category::Necessary);
        assert!(c.lookup("my_own_cookie", "").is_none());
    }

    #[test]
    fn tsv_errors_name_the_line() {
        let e = Catalog::parse_tsv(
            "# c\nx\texact\tP\tanalytics\ny\tfuzzy\tP\tanalytics\n",
            "f.tsv",
        )
        .unwrap_err();
        assert!(e.to_string().contains("f.tsv, line 3"), "{e}");
    }

    #[test]
    fn open_cookie_database_format() {
        let csv = "ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\n\
                   1,Acme,Marketing,acme_,acme.com (3rd party),\"Ads, retargeting\",1 year,Acme,https://x,1\n\
                   2,Acme,Security,acme_sec,,Bot check,session,Acme,https://x,0\n\
                   3,Other,Analytics,SCM*,,x,1 day,O,,0\n";
        let c = Catalog::parse_open_cookie_database(csv.as_bytes(), "ocd.csv").unwrap();
        assert_eq!(c.len(), 3);
        let e = c.lookup("acme_123", "").unwrap();
        assert!(e.prefix);
        assert_eq!(e.category, Category::Marketing);
        assert_eq!(e.description.as_deref(), Some("Ads, retargeting"));
        assert_eq!(
            c.lookup("acme_sec", "").unwrap().category,
            Category::Necessary
        );
        assert_eq!(c.lookup("SCMx", "").unwrap().platform, "Other");
        // Files take priority over the built-in table.
        let merged = Catalog::builtin().with_priority(c);
        assert_eq!(merged.lookup("acme_sec", "").unwrap().source, "ocd.csv");
        assert_eq!(merged.lookup("_fbp", "").unwrap().source, "builtin");
    }

    #[test]
    fn an_open_cookie_database_excerpt_loads() {
        // A verbatim excerpt of the database, shipped with its licence notice (tests/data/README.md),
        // so that the test needs nothing outside the repository.
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/open-cookie-database-excerpt.csv");
        let c = Catalog::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.len(), 13);
        assert_eq!(c.entries().iter().filter(|e| e.prefix).count(), 3);
        let ga = c.lookup("_ga_XYZ", "").unwrap();
        assert_eq!(ga.category, Category::Analytics);
        assert!(ga.prefix);
        let hj = c.lookup("_hjSessionUser_1234", "").unwrap();
        assert_eq!(hj.platform, "Hotjar");
        assert_eq!(c.lookup("_fbp", "").unwrap().category, Category::Marketing);
    }
}
