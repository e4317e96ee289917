//! What a retention rule applies to (`applies_to`) and who carries it out. Its own file so that
//! `registry` (whose `RetentionRule` holds it) and `retention` (which reads the registry) do not
//! import each other.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a retention rule applies to: one of Assent's own record kinds, the server logs (the
/// operator's: Assent keeps none), or a table of a controller's datastore (`DATASTORE.TABLE`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppliesTo {
    /// Consent proofs: the consent rows and their ledger payloads.
    Consents,
    /// Data-subject rights requests and their answers.
    RightsRequests,
    /// Reports of the scans the server runs (the files `assent scan` writes are the operator's).
    ScanReports,
    /// Marketing subscriptions and their contacts.
    Marketing,
    /// The web server's and proxy's logs: the operator's, Assent keeps none.
    ServerLogs,
    /// A table of a declared datastore.
    Table { datastore: String, table: String },
}

/// Assent's own record kinds, in the order plans list them.
pub const OWN_KINDS: [AppliesTo; 4] = [
    AppliesTo::Consents,
    AppliesTo::RightsRequests,
    AppliesTo::ScanReports,
    AppliesTo::Marketing,
];

impl AppliesTo {
    /// The code written in the registry and printed by the plan.
    pub fn code(&self) -> String {
        match self {
            AppliesTo::Table { datastore, table } => format!("{datastore}.{table}"),
            other => other.kind_code().unwrap_or_default().to_owned(),
        }
    }
    fn kind_code(&self) -> Option<&'static str> {
        Some(match self {
            AppliesTo::Consents => "consents",
            AppliesTo::RightsRequests => "rights_requests",
            AppliesTo::ScanReports => "scan_reports",
            AppliesTo::Marketing => "marketing",
            AppliesTo::ServerLogs => "server_logs",
            AppliesTo::Table { .. } => return None,
        })
    }
    /// Who enforces a rule bound to this, with the reason in words (for the plan and the
    /// policies): Assent for the records it holds and for datastore tables (`assent check`
    /// refuses a table rule whose datastore or table is not declared), the operator for the
    /// server logs, the controller for what this version does not reach.
    pub fn enforcer(&self) -> (Enforcer, &'static str) {
        match self {
            AppliesTo::Consents | AppliesTo::RightsRequests | AppliesTo::ScanReports => (
                Enforcer::Assent,
                "purged by Assent's scheduled retention run",
            ),
            AppliesTo::Marketing => (
                Enforcer::Assent,
                "prospects' opt-ins purged by Assent's scheduled retention run (opt-outs stay)",
            ),
            AppliesTo::ServerLogs => (
                Enforcer::Operator,
                "Assent keeps no server logs: the operator's web server and proxy logs",
            ),
            AppliesTo::Table { .. } => (
                Enforcer::Assent,
                "purged in the controller's datastore by Assent's scheduled retention run",
            ),
        }
    }
}

impl fmt::Display for AppliesTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// Parse error of `applies_to`, fit for `assent check`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AppliesToError(String);

impl std::str::FromStr for AppliesTo {
    type Err = AppliesToError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        for k in OWN_KINDS.iter().chain([&AppliesTo::ServerLogs]) {
            if k.kind_code() == Some(t) {
                return Ok(k.clone());
            }
        }
        let ident = |x: &str| {
            !x.is_empty()
                && x.len() <= 63
                && x.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        match t.split_once('.') {
            Some((ds, table)) if ident(ds) && ident(table) => Ok(AppliesTo::Table {
                datastore: ds.to_owned(),
                table: table.to_owned(),
            }),
            _ => Err(AppliesToError(format!(
                "unknown `applies_to` value `{s}`: use consents, rights_requests, scan_reports, \
                 marketing, server_logs or DATASTORE.TABLE"
            ))),
        }
    }
}

impl Serialize for AppliesTo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for AppliesTo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Who carries a retention rule out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcer {
    /// Assent's scheduled retention run.
    Assent,
    /// The controller, outside Assent.
    Controller,
    /// The operator running Assent (server logs, scan report files).
    Operator,
}

impl Enforcer {
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcer::Assent => "assent",
            Enforcer::Controller => "controller",
            Enforcer::Operator => "operator",
        }
    }
}
