//! Per-client token buckets for the public endpoints. Clients are keyed by a keyed hash of
//! their address (truncated to /24 or /48 first), so no IP address is kept even in memory;
//! behind trusted proxies the right-most untrusted `X-Forwarded-For` hop is the client (the
//! left-most one is whatever the client chose to write).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::config::{Cidr, RateLimit};

const SHARDS: usize = 16;
const MAX_KEYS_PER_SHARD: usize = 50_000;

struct Bucket {
    tokens: f64,
    last_ms: i64,
}

pub struct RateLimiter {
    limit: RateLimit,
    salt: [u8; 16],
    shards: Vec<Mutex<HashMap<[u8; 16], Bucket>>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let mut salt = [0u8; 16];
        let _ = getrandom::fill(&mut salt);
        Self {
            limit,
            salt,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.limit.per_second > 0
    }

    /// The pseudonymous key of a client address.
    pub fn key(&self, ip: IpAddr) -> [u8; 16] {
        let ip = truncate(ip);
        let mut h = Sha256::new();
        h.update(self.salt);
        match ip {
            IpAddr::V4(a) => h.update(a.octets()),
            IpAddr::V6(a) => h.update(a.octets()),
        }
        let d = h.finalize();
        let mut k = [0u8; 16];
        k.copy_from_slice(&d[..16]);
        k
    }

    /// Takes one token; `Err(seconds)` tells when to retry.
    pub fn check(&self, key: [u8; 16], now_ms: i64) -> Result<(), u64> {
        if !self.enabled() {
            return Ok(());
        }
        let rate = f64::from(self.limit.per_second);
        let burst = f64::from(self.limit.burst.max(1));
        let shard = &self.shards[usize::from(key[0]) % SHARDS];
        let Ok(mut map) = shard.lock() else {
            return Ok(());
        };
        if map.len() >= MAX_KEYS_PER_SHARD {
            // Forget full buckets: they carry no state worth keeping.
            map.retain(|_, b| {
                let refill = (now_ms - b.last_ms).max(0) as f64 / 1000.0 * rate;
                b.tokens + refill < burst
            });
        }
        let b = map.entry(key).or_insert(Bucket {
            tokens: burst,
            last_ms: now_ms,
        });
        let refill = (now_ms - b.last_ms).max(0) as f64 / 1000.0 * rate;
        b.tokens = (b.tokens + refill).min(burst);
        b.last_ms = now_ms;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil() as u64)
        }
    }
}

/// Truncates an address to its network (/24 for IPv4, /48 for IPv6): what Assent ever
/// keeps or derives from a visitor's address.
pub fn truncate(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], 0))
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return truncate(IpAddr::V4(v4));
            }
            let s = a.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
        }
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let peer_ip = peer.ip();
    if !trusted.iter().any(|c| c.contains(peer_ip)) {
        return peer_ip;
    }
    let mut hops: Vec<IpAddr> = vec![];
    for v in headers.get_all("x-forwarded-for") {
        if let Ok(s) = v.to_str() {
            hops.extend(s.split(',').filter_map(|h| h.trim().parse::<IpAddr>().ok()));
        }
    }
    for ip in hops.iter().rev() {
        if !trusted.iter().any(|c| c.contains(*ip)) {
            return *ip;
        }
    }
    hops.first().copied().unwrap_or(peer_ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket() {
        let rl = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 2,
        });
        let k = rl.key("192.0.2.7".parse().unwrap());
        assert_eq!(
            k,
            rl.key("192.0.2.99".parse().unwrap()),
            "same /24, same key"
        );
        assert!(rl.check(k, 0).is_ok());
        assert!(rl.check(k, 0).is_ok());
        assert_eq!(rl.check(k, 0), Err(1));
        assert!(rl.check(k, 1000).is_ok());
    }

    #[test]
    fn forwarded_for_is_read_from_the_right() {
        let trusted: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.5, 10.1.1.1".parse().unwrap(),
        );
        let peer: SocketAddr = "10.0.0.2:1234".parse().unwrap();
        assert_eq!(
            client_ip(peer, &h, &trusted),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        let untrusted_peer: SocketAddr = "198.51.100.1:1".parse().unwrap();
        assert_eq!(client_ip(untrusted_peer, &h, &trusted), untrusted_peer.ip());
    }
}
