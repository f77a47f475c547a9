//! Who may call the staff API: bearer tokens checked in constant time against their stored hashes, each
//! with one role, and a per-address throttle on wrong tokens (10 in a minute: 429 for 5 minutes), whose
//! failures are journaled at most once per address per minute. Sans-IO: every call takes `now`.

use config::{Role, TokenConfig};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// Wrong tokens from one address within [`WINDOW`] that block it.
pub const MAX_FAILURES: usize = 10;
pub const WINDOW: Duration = Duration::from_secs(60);
/// How long a blocked address gets 429, whatever it sends.
pub const BLOCK: Duration = Duration::from_secs(300);
/// Addresses remembered at once; an attacker with many addresses cannot grow this without bound.
const MAX_TRACKED: usize = 4096;

/// A caller the API accepted: the token's name (for the journal and logs) and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// The configured tokens, by their SHA-256.
#[derive(Debug, Clone)]
pub struct Tokens(Vec<([u8; 32], Caller)>);

impl Tokens {
    /// From `[[admin.tokens]]` (validated: "sha256:" and 64 hex digits each).
    pub fn new(tokens: &[TokenConfig]) -> Tokens {
        Tokens(
            tokens
                .iter()
                .filter_map(|t| {
                    let mut hash = [0u8; 32];
                    hex::decode_to_slice(t.hash.strip_prefix("sha256:")?, &mut hash).ok()?;
                    Some((hash, Caller { name: t.name.clone(), role: t.role }))
                })
                .collect(),
        )
    }

    /// The caller a presented token belongs to. Every stored hash is compared, in constant time, so the
    /// answer's timing says nothing about which token came close.
    pub fn check(&self, presented: &str) -> Option<Caller> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (hash, caller) in &self.0 {
            if bool::from(hash.ct_eq(&digest)) {
                found = Some(caller.clone());
            }
        }
        found
    }
}

/// What the throttle says of a request from an address before its token is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Blocked; seconds until it may try again.
    Blocked {
        retry_after_s: u64,
    },
}

/// What one wrong token changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Failure {
    /// The first failure from this address since its last report: worth a log line now.
    pub first: bool,
    /// This failure blocked the address.
    pub blocked: bool,
}

/// One address's failures since the last report: one `auth_failed` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub address: IpAddr,
    pub failures: u32,
    /// Requests refused with 429 while the address was blocked.
    pub refused_while_blocked: u32,
    pub blocked: bool,
}

#[derive(Debug, Default)]
struct Address {
    recent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
    unreported: u32,
    refused: u32,
    last_seen: Option<Instant>,
}

/// Per-address failure counts and blocks.
#[derive(Debug, Default)]
pub struct Throttle {
    addresses: HashMap<IpAddr, Address>,
}

impl Throttle {
    /// Whether `ip` may present a token at `now`; a refusal is counted for the next report.
    pub fn gate(&mut self, ip: IpAddr, now: Instant) -> Gate {
        let Some(a) = self.addresses.get_mut(&ip) else { return Gate::Open };
        match a.blocked_until {
            Some(until) if until > now => {
                a.refused = a.refused.saturating_add(1);
                Gate::Blocked { retry_after_s: (until - now).as_secs().max(1) }
            }
            Some(_) => {
                a.blocked_until = None;
                Gate::Open
            }
            None => Gate::Open,
        }
    }

    /// Counts a missing or wrong token from `ip`.
    pub fn failed(&mut self, ip: IpAddr, now: Instant) -> Failure {
        if self.addresses.len() >= MAX_TRACKED && !self.addresses.contains_key(&ip) {
            self.prune(now);
            if self.addresses.len() >= MAX_TRACKED {
                // Under a flood from many addresses keep the blocked ones and forget the rest.
                self.addresses.retain(|_, a| a.blocked_until.is_some_and(|u| u > now));
            }
        }
        let a = self.addresses.entry(ip).or_default();
        let first = a.unreported == 0;
        a.unreported = a.unreported.saturating_add(1);
        a.last_seen = Some(now);
        while a.recent.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            a.recent.pop_front();
        }
        a.recent.push_back(now);
        let blocked = a.recent.len() >= MAX_FAILURES;
        if blocked {
            a.recent.clear();
            a.blocked_until = Some(now + BLOCK);
        }
        Failure { first, blocked }
    }

    /// Everything not yet reported, one report per address, and forgets addresses with nothing left to
    /// remember. Called once a minute and at stop.
    pub fn drain(&mut self, now: Instant) -> Vec<Report> {
        let mut out: Vec<Report> = self
            .addresses
            .iter_mut()
            .filter(|(_, a)| a.unreported > 0 || a.refused > 0)
            .map(|(ip, a)| {
                let r = Report {
                    address: *ip,
                    failures: a.unreported,
                    refused_while_blocked: a.refused,
                    blocked: a.blocked_until.is_some_and(|u| u > now),
                };
                a.unreported = 0;
                a.refused = 0;
                r
            })
            .collect();
        out.sort_by_key(|r| r.address);
        self.prune(now);
        out
    }

    fn prune(&mut self, now: Instant) {
        self.addresses.retain(|_, a| {
            a.unreported > 0
                || a.refused > 0
                || a.blocked_until.is_some_and(|u| u > now)
                || a.last_seen.is_some_and(|t| now.duration_since(t) < WINDOW)
        });
    }
}

/// The role an endpoint serves, by its path; None for paths that are not endpoints (they still need a
/// valid token of any role, so that probing without one learns nothing).
pub fn role_for(path: &str) -> Option<Role> {
    let path = path.strip_prefix("/api/v1").or_else(|| path.strip_prefix("/api")).unwrap_or(path);
    match path {
        "/metrics" | "/journal" | "/checkpoint" | "/stats" | "/catalogue" | "/catalogue/partners" => Some(Role::Staff),
        "/health" | "/test-print" => Some(Role::Technician),
        "/queue" | "/calls" | "/announcement" => Some(Role::Counter),
        p if p.starts_with("/counters/") || p.starts_with("/tickets/") => Some(Role::Counter),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&[
            TokenConfig {
                name: "c".into(),
                role: Role::Counter,
                hash: vocabulary::secrets::token_hash("counter-token-123"),
            },
            TokenConfig {
                name: "s".into(),
                role: Role::Staff,
                hash: vocabulary::secrets::token_hash("staff-token-12345"),
            },
        ])
    }

    #[test]
    fn tokens_map_to_their_role() {
        let t = tokens();
        assert_eq!(t.check("counter-token-123").map(|c| c.role), Some(Role::Counter));
        assert_eq!(t.check("staff-token-12345").map(|c| c.name), Some("s".into()));
        assert_eq!(t.check("staff-token-1234"), None);
        assert_eq!(t.check(""), None);
    }

    #[test]
    fn ten_failures_in_a_minute_block_for_five_minutes_and_are_reported_once() {
        let mut th = Throttle::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..9 {
            assert_eq!(th.gate(ip, t0), Gate::Open);
            let f = th.failed(ip, t0 + Duration::from_millis(i));
            assert_eq!(f, Failure { first: i == 0, blocked: false });
        }
        assert!(th.failed(ip, t0 + Duration::from_secs(1)).blocked);
        assert!(matches!(th.gate(ip, t0 + Duration::from_secs(2)), Gate::Blocked { retry_after_s: 299 }));
        assert_eq!(th.gate(other, t0), Gate::Open, "another address is not blocked");
        let reports = th.drain(t0 + Duration::from_secs(60));
        assert_eq!(
            reports,
            [Report { address: ip, failures: 10, refused_while_blocked: 1, blocked: true }],
            "one report with the count"
        );
        assert!(th.drain(t0 + Duration::from_secs(120)).is_empty(), "nothing new, nothing reported");
        assert_eq!(th.gate(ip, t0 + Duration::from_secs(302)), Gate::Open, "the block ends after 5 minutes");
    }

    #[test]
    fn failures_spread_over_more_than_a_minute_do_not_block() {
        let mut th = Throttle::default();
        let ip: IpAddr = "::1".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..30 {
            assert!(!th.failed(ip, t0 + Duration::from_secs(7 * i)).blocked, "failure {i}");
        }
    }

    #[test]
    fn endpoints_name_their_roles() {
        assert_eq!(role_for("/metrics"), Some(Role::Staff));
        assert_eq!(role_for("/api/v1/journal"), Some(Role::Staff));
        assert_eq!(role_for("/api/v1/health"), Some(Role::Technician));
        assert_eq!(role_for("/api/queue"), Some(Role::Counter));
        assert_eq!(role_for("/api/v1/counters/3/call-next"), Some(Role::Counter));
        assert_eq!(role_for("/api/v1/nothing"), None);
    }
}
