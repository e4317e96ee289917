//! Typed configuration, layered: built-in defaults, then a TOML file (`--config`), then
//! `ASSENT_*` environment variables, then command-line flags (applied by the binary).
//! Unknown keys in the file are errors naming the line. Secrets never print.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

pub use assent_app::Secret;

/// A trusted reverse proxy network (`10.0.0.0/8`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let p = u32::from(self.prefix.min(32));
                let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let p = u32::from(self.prefix.min(128));
                let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
                u128::from(a) & mask == u128::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V4(b)) => a.to_ipv4_mapped().is_some_and(|a| {
                Cidr {
                    addr: IpAddr::V4(a),
                    prefix: self.prefix.saturating_sub(96),
                }
                .contains(IpAddr::V4(b))
            }),
            (IpAddr::V4(_), IpAddr::V6(b)) => b
                .to_ipv4_mapped()
                .is_some_and(|b| self.contains(IpAddr::V4(b))),
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("invalid IP address `{a}`"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("invalid prefix length `/{p}`"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// Per-client limits on the public endpoints (token bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained requests per second per client; 0 disables the limiter (load tests).
    pub per_second: u32,
    /// Burst size.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 5,
            burst: 60,
        }
    }
}

/// Limits on TCP connections, enforced before HTTP is parsed: a client that opens sockets and
/// sends nothing (or half a request line) must not hold the server's file descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Connections {
    /// Time a client has to send a request's complete header, counted from the accept (first
    /// request) or from the request's first byte (later requests on a keep-alive connection).
    pub header_timeout_ms: u64,
    /// Time a keep-alive connection may wait for the first byte of its next request.
    pub idle_timeout_ms: u64,
    /// Open connections at most; above it new ones are accepted and closed at once. 0: the
    /// process's open-file limit less [`FD_RESERVE`] (read at start-up), so the store, the
    /// ledger and the logs keep descriptors even when connections are at their cap.
    pub max: usize,
    /// Open connections at most per client network (/24 for IPv4, /48 for IPv6, keyed as the
    /// rate limiter keys them); trusted proxies count only against `max`. 0: no per-network cap.
    pub max_per_network: usize,
}

/// File descriptors left to everything but client connections when `max` is derived from
/// the open-file limit (database pool, SQLite and its WAL, ledger key, mail, logs).
pub const FD_RESERVE: usize = 128;

impl Default for Connections {
    fn default() -> Self {
        Self {
            header_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max: 0,
            max_per_network: 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `postgres://...` for the scale-out backend; SQLite in `data_dir` otherwise.
    pub database: Option<Secret>,
    /// The registry applied at start-up.
    pub registry: Option<PathBuf>,
    /// Base URL under which browsers reach Assent (used in the banner and in emails).
    pub public_url: Option<String>,
    /// `smtp://user:pass@host:port` or `smtps://...`.
    pub smtp: Option<Secret>,
    pub mail_from: String,
    /// Proxies whose `X-Forwarded-For` is believed (right-most untrusted hop wins).
    pub trusted_proxies: Vec<Cidr>,
    pub rate_limit: RateLimit,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    /// Header and idle timeouts, connection caps.
    pub connections: Connections,
    /// How often the chain heads are signed into a checkpoint.
    pub checkpoint_interval_secs: u64,
    /// How often the retention run purges what its rules make due (seconds; 0: never, e.g.
    /// when `assent retention run` is scheduled outside). Daily by default.
    pub retention_interval_secs: u64,
    /// How often the server looks for due scan schedules and queued scans (seconds; 0: the
    /// server runs no scans, they stay queued). Scans run one at a time.
    pub scan_poll_secs: u64,
    pub log_format: LogFormat,
    /// Serve the demo page at `/demo/`.
    pub demo: bool,
    /// `GET /metrics` without a token. Off by default: the counters are business figures
    /// (consents, requests); Prometheus then scrapes with a token whose role may read.
    pub metrics_public: bool,
    /// Shared secret of the SMS aggregator's inbound webhook (`?secret=` or
    /// `X-Assent-Secret`); unset: the webhook refuses every call.
    pub sms_inbound_secret: Option<Secret>,
    /// Console sessions: idle and absolute lifetimes (`[sessions]`).
    pub sessions: assent_app::accounts::sessions::SessionPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("assent-data"),
            database: None,
            registry: None,
            public_url: None,
            smtp: None,
            mail_from: "Assent <no-reply@localhost>".into(),
            trusted_proxies: vec![],
            rate_limit: RateLimit::default(),
            max_body_bytes: 16 * 1024,
            request_timeout_secs: 10,
            connections: Connections::default(),
            checkpoint_interval_secs: 60,
            retention_interval_secs: 86_400,
            scan_poll_secs: 30,
            log_format: LogFormat::Text,
            demo: false,
            metrics_public: false,
            sms_inbound_secret: None,
            sessions: Default::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Parse {
        path: String,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
}

impl Config {
    /// Defaults, then the file (if any), then `ASSENT_*` variables.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut cfg = match file {
            Some(p) => {
                let src = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                    path: p.display().to_string(),
                    source: e,
                })?;
                toml::from_str::<Config>(&src).map_err(|e| {
                    let (line, col) = e.span().map(|s| line_col(&src, s.start)).unwrap_or((1, 1));
                    ConfigError::Parse {
                        path: p.display().to_string(),
                        line,
                        col,
                        message: e.message().trim().to_string(),
                    }
                })?
            }
            None => Config::default(),
        };
        cfg.apply_env(env)?;
        Ok(cfg)
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let bad = |var: &str, message: String| ConfigError::Env {
            var: var.into(),
            message,
        };
        if let Some(v) = env("ASSENT_LISTEN") {
            self.listen = v.parse().map_err(|_| {
                bad(
                    "ASSENT_LISTEN",
                    format!("`{v}` is not an address like 127.0.0.1:8080"),
                )
            })?;
        }
        if let Some(v) = env("ASSENT_DATA") {
            self.data_dir = v.into();
        }
        if let Some(v) = env("ASSENT_DATABASE_URL") {
            self.database = Some(Secret::new(v));
        }
        if let Some(v) = env("ASSENT_REGISTRY") {
            self.registry = Some(v.into());
        }
        if let Some(v) = env("ASSENT_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = env("ASSENT_SMTP_URL") {
            self.smtp = Some(Secret::new(v));
        }
        if let Some(v) = env("ASSENT_SMS_INBOUND_SECRET") {
            self.sms_inbound_secret = Some(Secret::new(v));
        }
        if let Some(v) = env("ASSENT_METRICS_PUBLIC") {
            self.metrics_public = match v.as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => {
                    return Err(bad(
                        "ASSENT_METRICS_PUBLIC",
                        format!("`{v}`: expected true or false"),
                    ));
                }
            };
        }
        if let Some(v) = env("ASSENT_MAIL_FROM") {
            self.mail_from = v;
        }
        if let Some(v) = env("ASSENT_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().parse())
                .collect::<Result<_, _>>()
                .map_err(|m| bad("ASSENT_TRUSTED_PROXIES", m))?;
        }
        if let Some(v) = env("ASSENT_RATE_LIMIT") {
            // "PER_SECOND/BURST" or "off"
            self.rate_limit = if v == "off" {
                RateLimit {
                    per_second: 0,
                    burst: 0,
                }
            } else {
                let (a, b) = v.split_once('/').unwrap_or((v.as_str(), ""));
                let unreadable = |_| {
                    let message = format!("`{v}`: expected PER_SECOND/BURST or off");
                    bad("ASSENT_RATE_LIMIT", message)
                };
                let per_second = a.parse().map_err(unreadable)?;
                let burst = if b.is_empty() {
                    per_second * 10
                } else {
                    b.parse().map_err(unreadable)?
                };
                RateLimit { per_second, burst }
            };
        }
        let number = |var: &str| -> Result<Option<u64>, ConfigError> {
            env(var)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| bad(var, format!("`{v}`: expected a whole number")))
                })
                .transpose()
        };
        if let Some(v) = number("ASSENT_HEADER_TIMEOUT_MS")? {
            self.connections.header_timeout_ms = v;
        }
        if let Some(v) = number("ASSENT_IDLE_TIMEOUT_MS")? {
            self.connections.idle_timeout_ms = v;
        }
        if let Some(v) = number("ASSENT_MAX_CONNECTIONS")? {
            self.connections.max = usize::try_from(v).unwrap_or(usize::MAX);
        }
        if let Some(v) = number("ASSENT_MAX_CONNECTIONS_PER_NETWORK")? {
            self.connections.max_per_network = usize::try_from(v).unwrap_or(usize::MAX);
        }
        if let Some(v) = env("ASSENT_LOG_FORMAT") {
            self.log_format = match v.as_str() {
                "json" => LogFormat::Json,
                "text" => LogFormat::Text,
                _ => {
                    return Err(bad(
                        "ASSENT_LOG_FORMAT",
                        format!("`{v}`: expected text or json"),
                    ));
                }
            };
        }
        Ok(())
    }

    /// The URL browsers use to reach this server.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("postgres://u:hunter2@db/x");
        assert_eq!(format!("{s:?}"), "Secret(postgres://…)");
    }

    #[test]
    fn cidrs() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.1.2.3".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        let c: Cidr = "::1".parse().unwrap();
        assert!(c.contains("::1".parse().unwrap()));
    }

    #[test]
    fn layered() {
        let dir = std::env::temp_dir().join(format!("assent-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("assent.toml");
        std::fs::write(
            &f,
            "listen = \"127.0.0.1:9000\"\nrate_limit = { per_second = 1, burst = 2 }\n",
        )
        .unwrap();
        let env = |k: &str| (k == "ASSENT_LISTEN").then(|| "127.0.0.1:9001".to_string());
        let c = Config::load(Some(&f), &env).unwrap();
        assert_eq!(c.listen.port(), 9001);
        assert_eq!(c.rate_limit.burst, 2);
        std::fs::write(&f, "listen = \"127.0.0.1:9000\"\nlisen = 1\n").unwrap();
        let e = Config::load(Some(&f), &|_| None).unwrap_err().to_string();
        assert!(e.contains(":2:1: unknown field `lisen`"), "{e}");
    }

    #[test]
    fn connection_limits_layer() {
        let dir = std::env::temp_dir().join(format!("assent-cfg-conn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("assent.toml");
        std::fs::write(&f, "[connections]\nheader_timeout_ms = 2500\nmax = 300\n").unwrap();
        let env = |k: &str| (k == "ASSENT_MAX_CONNECTIONS_PER_NETWORK").then(|| "64".to_string());
        let c = Config::load(Some(&f), &env).unwrap();
        assert_eq!(
            c.connections,
            Connections {
                header_timeout_ms: 2500,
                idle_timeout_ms: 60_000,
                max: 300,
                max_per_network: 64,
            }
        );
        let env = |k: &str| (k == "ASSENT_IDLE_TIMEOUT_MS").then(|| "soon".to_string());
        let e = Config::load(None, &env).unwrap_err().to_string();
        assert!(e.contains("ASSENT_IDLE_TIMEOUT_MS"), "{e}");
        std::fs::write(&f, "[connections]\nmax_per_net = 3\n").unwrap();
        let e = Config::load(Some(&f), &|_| None).unwrap_err().to_string();
        assert!(e.contains("unknown field `max_per_net`"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
