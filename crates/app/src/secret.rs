//! A secret setting (a database URL with its password, an SMTP URL): never printed whole.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A string that never appears in `Debug` output or logs (database and SMTP URLs carry
/// passwords).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Show the scheme, which helps debugging, and nothing else.
        let scheme = self
            .0
            .split("://")
            .next()
            .filter(|s| s.len() < self.0.len());
        match scheme {
            Some(s) => write!(f, "Secret({s}://…)"),
            None => f.write_str("Secret(…)"),
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}
