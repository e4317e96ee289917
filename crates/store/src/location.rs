//! Where the database lives, chosen from the `--database` URL (atuin-style: by scheme).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// File name of the SQLite database inside the data directory.
pub const SQLITE_FILE_NAME: &str = "assent.db";

/// A database location. `Debug` and `Display` hide the PostgreSQL password.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// SQLite file `DIR/assent.db` (the embedded default).
    DataDir(PathBuf),
    /// SQLite file at an explicit path (`sqlite://PATH`).
    SqliteFile(PathBuf),
    /// A `postgres://` / `postgresql://` URL, passed to tokio-postgres. An extra `schema=NAME`
    /// query parameter selects the schema (see [`crate::types::OpenOptions::schema`]).
    Postgres(String),
}

impl Location {
    /// Chooses the backend: `None` (or an empty string) means `DATA_DIR/assent.db`;
    /// `postgres://` / `postgresql://` mean PostgreSQL; `sqlite://PATH` (or `sqlite:PATH`)
    /// means that SQLite file (relative paths are relative to the working directory).
    pub fn parse(database: Option<&str>, data_dir: &Path) -> Result<Location, StoreError> {
        let Some(raw) = database.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(Location::DataDir(data_dir.to_path_buf()));
        };
        let Some(scheme) = url_scheme(raw) else {
            return Err(StoreError::InvalidLocation(format!(
                "`{}` is not a database URL: expected postgres://USER@HOST/DB or sqlite://PATH",
                redact_url(raw)
            )));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Location::Postgres(raw.to_owned())),
            "sqlite" => {
                let rest = &raw[scheme.len() + 1..];
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(StoreError::InvalidLocation(
                        "sqlite:// needs a file path, e.g. sqlite:///var/lib/assent/assent.db"
                            .to_owned(),
                    ));
                }
                Ok(Location::SqliteFile(PathBuf::from(path)))
            }
            _ => Err(StoreError::UnknownScheme(scheme.to_owned())),
        }
    }

    /// The SQLite file this location designates, if it is a SQLite location.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self {
            Location::DataDir(d) => Some(d.join(SQLITE_FILE_NAME)),
            Location::SqliteFile(p) => Some(p.clone()),
            Location::Postgres(_) => None,
        }
    }
}

/// `scheme` of `scheme:...` per RFC 3986 (letter, then letters, digits, `+`, `-`, `.`).
fn url_scheme(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
        return None;
    }
    // A one-letter scheme is a Windows drive letter, not a URL.
    if scheme.len() == 1 {
        return None;
    }
    Some(scheme)
}

/// Replaces the password of `scheme://user:password@host` with `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::DataDir(d) => write!(f, "sqlite://{}", d.join(SQLITE_FILE_NAME).display()),
            Location::SqliteFile(p) => write!(f, "sqlite://{}", p.display()),
            Location::Postgres(u) => f.write_str(&redact_url(u)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::DataDir(d) => f.debug_tuple("DataDir").field(d).finish(),
            Location::SqliteFile(p) => f.debug_tuple("SqliteFile").field(p).finish(),
            Location::Postgres(u) => f.debug_tuple("Postgres").field(&redact_url(u)).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_cases() {
        let dd = Path::new("/data");
        for (given, expect) in [
            (None, Location::DataDir("/data".into())),
            (Some("  "), Location::DataDir("/data".into())),
            (
                Some("sqlite:///tmp/x.db"),
                Location::SqliteFile("/tmp/x.db".into()),
            ),
            (
                Some("sqlite://rel/x.db"),
                Location::SqliteFile("rel/x.db".into()),
            ),
            (Some("sqlite:x.db"), Location::SqliteFile("x.db".into())),
        ] {
            assert_eq!(Location::parse(given, dd).unwrap(), expect, "{given:?}");
        }
        for url in ["postgresql://u@h/db", "POSTGRES://u@h/db"] {
            assert!(matches!(
                Location::parse(Some(url), dd).unwrap(),
                Location::Postgres(_)
            ));
        }
        match Location::parse(Some("mysql://u@h/db"), dd) {
            Err(StoreError::UnknownScheme(s)) => assert_eq!(s, "mysql"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Location::parse(Some("/var/lib/x.db"), dd),
            Err(StoreError::InvalidLocation(_))
        ));
        assert!(Location::parse(Some("sqlite://"), dd).is_err());
    }

    #[test]
    fn password_is_hidden() {
        let l = Location::Postgres("postgres://bob:s3cret@db:5432/assent?schema=a".into());
        assert_eq!(l.to_string(), "postgres://bob:***@db:5432/assent?schema=a");
        assert!(!format!("{l:?}").contains("s3cret"));
        assert_eq!(redact_url("postgres://bob@db/x"), "postgres://bob@db/x");
    }
}
