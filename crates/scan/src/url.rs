//! Just enough URL handling for crawling: absolute http(s) URLs, hosts, and "same site".
//!
//! Links are resolved by the browser (`a.href` is absolute), so we only split absolute URLs.

/// The parts of an absolute http(s) URL that the scanner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower-cased host, without brackets for IPv6.
    pub host: String,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// Path and query (at least `/`), without the fragment.
    pub path: String,
}

impl Url {
    /// Parses an absolute `http://` or `https://` URL; `None` for anything else.
    pub fn parse(s: &str) -> Option<Url> {
        let s = s.trim();
        let (scheme, rest) = s.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let rest = rest.split('#').next().unwrap_or("");
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) if !p.is_empty() => Some(p.parse().ok()?),
                _ => None,
            };
            (h.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) if !p.is_empty() => (h.to_owned(), Some(p.parse().ok()?)),
                Some((h, _)) => (h.to_owned(), None),
                None => (authority.to_owned(), None),
            }
        };
        if host.is_empty() {
            return None;
        }
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        Some(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            path,
        })
    }

    /// The URL without its fragment, normalised (lower-case scheme and host, default port
    /// dropped), used to de-duplicate crawled pages.
    pub fn normalized(&self) -> String {
        let default = match self.scheme.as_str() {
            "https" => 443,
            _ => 80,
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) if p != default => format!("{}://{}:{}{}", self.scheme, host, p, self.path),
            _ => format!("{}://{}{}", self.scheme, host, self.path),
        }
    }
}

/// Multi-label public suffixes common enough to matter; everything else is treated as a
/// one-label suffix. (A full Public Suffix List is not worth its weight here: the operator
/// lists the site's hosts in the registry, which takes precedence.)
const TWO_LABEL_SUFFIXES: &[&str] = &[
    "co.uk",
    "org.uk",
    "ac.uk",
    "gov.uk",
    "me.uk",
    "ltd.uk",
    "plc.uk",
    "net.uk",
    "com.au",
    "net.au",
    "org.au",
    "edu.au",
    "gov.au",
    "co.nz",
    "org.nz",
    "co.jp",
    "ne.jp",
    "or.jp",
    "co.kr",
    "com.br",
    "com.cn",
    "com.hk",
    "com.sg",
    "com.tr",
    "com.mx",
    "com.ar",
    "co.za",
    "co.in",
    "co.il",
    "com.tw",
    "com.my",
    "com.pl",
    "com.es",
    "com.pt",
    "co.at",
    "gv.at",
    "or.at",
    "co.hu",
    "com.gr",
    "com.cy",
    "com.mt",
    "com.ro",
    "com.ua",
    "co.id",
    "com.ph",
    "com.vn",
    "com.eg",
    "com.sa",
    "github.io",
    "gitlab.io",
    "herokuapp.com",
    "netlify.app",
    "vercel.app",
    "pages.dev",
    "workers.dev",
    "azurewebsites.net",
    "cloudfront.net",
    "blogspot.com",
    "wordpress.com",
    "myshopify.com",
    "web.app",
    "firebaseapp.com",
];

/// Whether `host` is an IP address (v4 or v6).
pub fn is_ip(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

/// The registrable domain ("site") of a host: `www.shop.example.co.uk` -> `example.co.uk`.
/// IP addresses and single-label hosts are their own site.
pub fn registrable_domain(host: &str) -> String {
    let host = host
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if is_ip(&host) || !host.contains('.') {
        return host;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let n = labels.len();
    let last_two = labels[n.saturating_sub(2)..].join(".");
    let keep = if TWO_LABEL_SUFFIXES.contains(&last_two.as_str()) {
        3
    } else {
        2
    };
    labels[n.saturating_sub(keep)..].join(".")
}

/// Whether `host` is `domain` or one of its subdomains.
pub fn host_within(host: &str, domain: &str) -> bool {
    let host = host.trim_start_matches('.').to_ascii_lowercase();
    let domain = domain.trim_start_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return false;
    }
    host == domain || (host.ends_with(&domain) && host[..host.len() - domain.len()].ends_with('.'))
}

/// The hosts that count as first party for one scan.
#[derive(Debug, Clone, Default)]
pub struct SiteScope {
    /// Registrable domains (or IPs) of the site.
    sites: Vec<String>,
    /// Hosts (and their subdomains) declared as the site's own.
    hosts: Vec<String>,
}

impl SiteScope {
    /// Scope of the start URL's host plus the declared site hosts and cookie domain.
    pub fn new(start_host: &str, declared_hosts: &[String], cookie_domain: Option<&str>) -> Self {
        let mut scope = SiteScope::default();
        scope.add(start_host);
        for h in declared_hosts {
            let h = Url::parse(h).map(|u| u.host).unwrap_or_else(|| h.clone());
            scope.add(&h);
        }
        if let Some(d) = cookie_domain {
            scope.add(d);
        }
        scope
    }

    fn add(&mut self, host: &str) {
        let host = host.trim_start_matches('.').to_ascii_lowercase();
        if host.is_empty() {
            return;
        }
        let site = registrable_domain(&host);
        if !self.sites.contains(&site) {
            self.sites.push(site);
        }
        if !self.hosts.contains(&host) {
            self.hosts.push(host);
        }
    }

    /// Whether `host` belongs to the audited site.
    pub fn is_first_party(&self, host: &str) -> bool {
        let host = host.trim_start_matches('.').to_ascii_lowercase();
        if is_ip(&host) {
            return self.hosts.contains(&host) || self.sites.contains(&host);
        }
        let site = registrable_domain(&host);
        self.sites.contains(&site) || self.hosts.iter().any(|h| host_within(&host, h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_absolute_urls() {
        let u = Url::parse("HTTP://Shop.Example.com:8080/a/b?x=1#frag").unwrap();
        assert_eq!(u.scheme, "http");
        assert_eq!(u.host, "shop.example.com");
        assert_eq!(u.port, Some(8080));
        assert_eq!(u.path, "/a/b?x=1");
        assert_eq!(u.normalized(), "http://shop.example.com:8080/a/b?x=1");
        assert_eq!(
            Url::parse("https://example.com").unwrap().normalized(),
            "https://example.com/"
        );
        assert_eq!(
            Url::parse("https://example.com:443?q")
                .unwrap()
                .normalized(),
            "https://example.com/?q"
        );
        assert_eq!(Url::parse("http://[::1]:81/").unwrap().host, "::1");
        assert_eq!(
            Url::parse("http://[::1]:81/").unwrap().normalized(),
            "http://[::1]:81/"
        );
        assert!(Url::parse("mailto:a@b.c").is_none());
        assert!(Url::parse("javascript:void(0)").is_none());
        assert!(Url::parse("http://:80/").is_none());
        assert!(Url::parse("http://host:notaport/").is_none());
    }

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable_domain("www.example.com"), "example.com");
        assert_eq!(registrable_domain(".a.b.example.co.uk"), "example.co.uk");
        assert_eq!(registrable_domain("127.0.0.1"), "127.0.0.1");
        assert_eq!(registrable_domain("localhost"), "localhost");
        assert_eq!(registrable_domain("thirdparty.test"), "thirdparty.test");
        assert_eq!(registrable_domain("user.github.io"), "user.github.io");
    }

    #[test]
    fn first_party_scope() {
        let s = SiteScope::new(
            "www.shop.test",
            &["https://cdn.shop-static.net".into()],
            None,
        );
        assert!(s.is_first_party("shop.test"));
        assert!(s.is_first_party("api.shop.test"));
        assert!(s.is_first_party("img.shop-static.net"));
        assert!(!s.is_first_party("thirdparty.test"));
        assert!(!s.is_first_party("notshop.test"));
        let ip = SiteScope::new("127.0.0.1", &[], None);
        assert!(ip.is_first_party("127.0.0.1"));
        assert!(!ip.is_first_party("127.0.0.2"));
        assert!(host_within("a.b.c", "b.c"));
        assert!(!host_within("ab.c", "b.c"));
    }
}
