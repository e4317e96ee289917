//! The PostgreSQL URL: Assent's own parameters (`schema`, `sslmode`, `sslrootcert`), the
//! driver's configuration with timeouts, `search_path` and TLS, and the address shown in
//! messages (never the password).

use tokio_postgres::Config;
use tokio_postgres::config::Host;

use crate::error::{StoreError, describe_pg};
use crate::location::redact_url;
use crate::pgtls::{MakeRustls, TlsMode};
use crate::types::OpenOptions;

use super::connect::CONNECT_TIMEOUT;

/// Parses the URL, takes off the parameters that tokio-postgres does not know (`schema`,
/// and `sslmode`/`sslrootcert`, which Assent handles: see `pgtls`), and sets timeouts,
/// `search_path` and TLS.
pub(crate) fn config_from(
    url: &str,
    opts: &OpenOptions,
) -> Result<(Config, Option<String>, MakeRustls), StoreError> {
    let (url, params) = take_params(url);
    let schema = opts.schema.clone().or(params.schema);
    if let Some(s) = &schema {
        validate_schema_name(s)?;
    }
    let mut cfg: Config = url.parse().map_err(|e: tokio_postgres::Error| {
        StoreError::InvalidLocation(format!(
            "invalid PostgreSQL URL {}: {}",
            redact_url(&url),
            describe_pg(&e)
        ))
    })?;
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(CONNECT_TIMEOUT);
    }
    if cfg.get_application_name().is_none() {
        cfg.application_name("assent");
    }
    if let Some(s) = &schema {
        let opt = match cfg.get_options() {
            Some(o) if !o.trim().is_empty() => format!("{o} -c search_path={s}"),
            _ => format!("-c search_path={s}"),
        };
        cfg.options(opt);
    }
    let mode = match &params.sslmode {
        Some(m) => TlsMode::parse(m)?,
        None => TlsMode::Disable,
    };
    if params.sslrootcert.is_some() && !matches!(mode, TlsMode::VerifyCa | TlsMode::VerifyFull) {
        return Err(StoreError::InvalidLocation(
            "sslrootcert is only used with sslmode=verify-ca or verify-full".to_owned(),
        ));
    }
    cfg.ssl_mode(mode.ssl_mode());
    let tls = MakeRustls::new(
        mode,
        params.sslrootcert.as_deref().map(std::path::Path::new),
    )?;
    if mode == TlsMode::Disable && !all_local(&cfg) {
        tracing::warn!(
            database = %describe_addr(&cfg),
            "PostgreSQL on another host without TLS: add sslmode=verify-full to the URL"
        );
    }
    Ok((cfg, schema, tls))
}

/// Whether every host of the URL is a loopback address, `localhost` or a Unix socket.
fn all_local(cfg: &Config) -> bool {
    let hosts_local = cfg.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|a| a.is_loopback())
        }
        #[cfg(unix)]
        Host::Unix(_) => true,
    });
    hosts_local && cfg.get_hostaddrs().iter().all(|a| a.is_loopback())
}

/// The URL parameters Assent takes off before tokio-postgres parses the rest.
#[derive(Debug, Default, PartialEq, Eq)]
struct OwnParams {
    schema: Option<String>,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

/// Splits Assent's own parameters ([`OwnParams`]) off the query string (tokio-postgres
/// rejects unknown parameters and does not know the `verify-*` modes).
fn take_params(url: &str) -> (String, OwnParams) {
    let mut own = OwnParams::default();
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), own);
    };
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| {
            let slot = match kv.split_once('=') {
                Some(("schema", v)) => Some((&mut own.schema, v)),
                Some(("sslmode", v)) => Some((&mut own.sslmode, v)),
                Some(("sslrootcert", v)) => Some((&mut own.sslrootcert, v)),
                _ => None,
            };
            match slot {
                Some((field, v)) => {
                    *field = Some(v.to_owned());
                    false
                }
                None => !kv.is_empty(),
            }
        })
        .collect();
    if rest.is_empty() {
        (base.to_owned(), own)
    } else {
        (format!("{base}?{}", rest.join("&")), own)
    }
}

/// Lower-case SQL identifiers only: they need no quoting and mean the same in `options`.
fn validate_schema_name(s: &str) -> Result<(), StoreError> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidLocation(format!(
            "invalid PostgreSQL schema name `{s}`: use lower-case letters, digits and `_` \
             (at most 63, not starting with a digit)"
        )))
    }
}

/// `host:port[,host:port]` for messages (never the password).
pub(crate) fn describe_addr(cfg: &Config) -> String {
    let ports = cfg.get_ports();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let hosts: Vec<String> = cfg
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| match h {
            Host::Tcp(name) => format!("{name}:{}", port(i)),
            #[cfg(unix)]
            Host::Unix(dir) => format!("{}/.s.PGSQL.{}", dir.display(), port(i)),
        })
        .collect();
    if hosts.is_empty() {
        let addrs: Vec<String> = cfg
            .get_hostaddrs()
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{a}:{}", port(i)))
            .collect();
        if addrs.is_empty() {
            return "(no host in the URL)".to_owned();
        }
        return addrs.join(",");
    }
    hosts.join(",")
}

#[cfg(test)]
mod tests {
    use super::super::connect::lock_namespace;
    use super::*;

    #[test]
    fn own_params_are_taken_off_the_url() {
        let (url, p) = take_params(
            "postgres://u@h/db?schema=abc&connect_timeout=2&sslmode=verify-full&sslrootcert=/r.pem",
        );
        assert_eq!(url, "postgres://u@h/db?connect_timeout=2");
        assert_eq!(
            p,
            OwnParams {
                schema: Some("abc".to_owned()),
                sslmode: Some("verify-full".to_owned()),
                sslrootcert: Some("/r.pem".to_owned()),
            }
        );
        let (url, p) = take_params("postgres://u@h/db?schema=abc");
        assert_eq!(url, "postgres://u@h/db");
        assert_eq!(p.schema.as_deref(), Some("abc"));
        assert_eq!(
            take_params("postgres://u@h/db"),
            ("postgres://u@h/db".to_owned(), OwnParams::default())
        );
    }

    #[test]
    fn tls_parameters_are_checked() {
        let opts = OpenOptions::existing();
        let e = config_from("postgres://u@h/db?sslmode=allow", &opts).unwrap_err();
        assert!(e.to_string().contains("sslmode `allow`"), "{e}");
        let e = config_from(
            "postgres://u@h/db?sslmode=require&sslrootcert=/r.pem",
            &opts,
        )
        .unwrap_err();
        assert!(e.to_string().contains("sslrootcert is only used"), "{e}");
        let (cfg, _, _) = config_from("postgres://u@h/db?sslmode=verify-full", &opts).unwrap();
        assert_eq!(cfg.get_ssl_mode(), tokio_postgres::config::SslMode::Require);
        let (cfg, _, _) = config_from("postgres://u@127.0.0.1/db", &opts).unwrap();
        assert_eq!(cfg.get_ssl_mode(), tokio_postgres::config::SslMode::Disable);
        assert!(all_local(&cfg));
        let (cfg, _, _) = config_from("postgres://u@db.example/db", &opts).unwrap();
        assert!(!all_local(&cfg));
    }

    #[test]
    fn schema_names() {
        assert!(validate_schema_name("assent_t_0a1b").is_ok());
        for bad in ["", "A", "1x", "a-b", "a;drop", "a b", &"x".repeat(64)] {
            assert!(validate_schema_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addr_and_namespace() {
        let cfg: Config = "postgres://u:pw@db.example:6543/x".parse().unwrap();
        assert_eq!(describe_addr(&cfg), "db.example:6543");
        let cfg: Config = "postgres://u@127.0.0.1/x".parse().unwrap();
        assert_eq!(describe_addr(&cfg), "127.0.0.1:5432");
        assert_ne!(lock_namespace("p:", "a"), lock_namespace("p:", "b"));
        assert_eq!(lock_namespace("p:", "a"), lock_namespace("p:", "a"));
    }
}
