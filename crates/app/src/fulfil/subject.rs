//! Who the fulfilment is for ([`Subject`]: the identities a requester gave, checked) and
//! where it runs ([`Fulfilment`]: the registry's datastores, the source of their URLs and the
//! connection options), shared by every fulfilment operation.

use std::collections::BTreeMap;

use assent_datastore::{ConnectOptions, DsError, ErrorKind, Identity};
use assent_model::Registry;
use assent_model::datastore::Datastore;

use crate::error::{AppError, AppResult};

/// Where datastore URLs come from: the process environment in production (`url_env`), a map
/// in tests and embedders.
pub trait UrlSource: Send + Sync {
    fn url(&self, env_name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl UrlSource for ProcessEnv {
    fn url(&self, env_name: &str) -> Option<String> {
        std::env::var(env_name)
            .ok()
            .filter(|v| !v.trim().is_empty())
    }
}

impl UrlSource for BTreeMap<String, String> {
    fn url(&self, env_name: &str) -> Option<String> {
        self.get(env_name).cloned()
    }
}

/// The registry's datastores and how to reach them.
pub struct Fulfilment<'a> {
    pub registry: &'a Registry,
    pub urls: &'a dyn UrlSource,
    pub options: ConnectOptions,
}

impl<'a> Fulfilment<'a> {
    /// Datastores of `registry`, URLs from the environment, default options.
    pub fn new(registry: &'a Registry) -> Self {
        Self {
            registry,
            urls: &ProcessEnv,
            options: ConnectOptions::default(),
        }
    }

    pub(crate) fn url_of(&self, d: &Datastore) -> Result<String, DsError> {
        self.urls.url(&d.url_env).ok_or_else(|| {
            DsError::new(
                ErrorKind::Config,
                format!("environment variable {} (url_env) is not set", d.url_env),
            )
        })
    }
}

/// The person a fulfilment is for: identities to match in the datastores, and, for Assent's
/// own records, consent subject ids and receipt ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub identities: Vec<Identity>,
    pub consent_subjects: Vec<String>,
    pub receipts: Vec<String>,
}

impl Subject {
    /// Builds a subject from an email, a phone and `KIND=VALUE` identities, each checked.
    pub fn parse(email: Option<&str>, phone: Option<&str>, others: &[String]) -> AppResult<Self> {
        let mut identities = vec![];
        if let Some(e) = email {
            let e = e.trim();
            let ok = e.len() <= 254
                && e.split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.ends_with('.'))
                && !e.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                return Err(AppError::invalid("email", "not an email address"));
            }
            identities.push(Identity::new("email", e));
        }
        if let Some(p) = phone {
            let p = p.trim();
            if p.is_empty() || p.len() > 40 || p.chars().any(char::is_control) {
                return Err(AppError::invalid("phone", "not a phone number"));
            }
            identities.push(Identity::new("phone", p));
        }
        for o in others {
            let id = Identity::parse(o).ok_or_else(|| {
                AppError::invalid("identity", "expected KIND=VALUE, e.g. customer_number=1042")
            })?;
            if id.value.chars().any(char::is_control) || id.value.len() > 256 {
                return Err(AppError::invalid(
                    "identity",
                    "the value is not printable text",
                ));
            }
            identities.push(id);
        }
        if identities.is_empty() {
            return Err(AppError::invalid(
                "email",
                "give an email, a phone or an identity (KIND=VALUE)",
            ));
        }
        Ok(Self {
            identities,
            ..Self::default()
        })
    }

    /// The email the subject gave, if any.
    pub fn email(&self) -> Option<&str> {
        self.identities
            .iter()
            .find(|i| i.kind == "email")
            .map(|i| i.value.as_str())
    }

    /// The identities in a canonical form (`kind=value`, emails lower-cased, sorted), for the
    /// keyed hash that names the subject in receipts.
    pub(crate) fn canonical(&self) -> String {
        let mut v: Vec<String> = self
            .identities
            .iter()
            .map(|i| {
                let value = if assent_model::datastore::case_insensitive(&i.kind) {
                    i.value.to_lowercase()
                } else {
                    i.value.clone()
                };
                format!("{}={value}", i.kind)
            })
            .collect();
        v.sort();
        v.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_identities_name_their_field() {
        let e = Subject::parse(Some("not-an-email"), None, &[]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("email"));
        let e = Subject::parse(None, None, &["nokind".into()]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("identity"));
        let e = Subject::parse(None, None, &[]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("email"));
        let s =
            Subject::parse(Some("Ada@Example.org"), None, &["customer_number=7".into()]).unwrap();
        assert_eq!(s.canonical(), "customer_number=7\nemail=ada@example.org");
    }
}
