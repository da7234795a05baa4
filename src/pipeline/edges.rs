//! Lateral movement seen in one image's event logs: the edges between the host
//! someone came from and the host they reached, aggregated as records stream past.
//!
//! Destination-side records name the source (network and RDP logons 4624/4625
//! types 3 and 10, reconnects 4778, share access 5140/5145, RDP 1149 and
//! LocalSessionManager 21/24/25); the source-side 4648 (explicit credentials) names
//! the destination. Edges are aggregated per (source, destination, account, kind,
//! detail) with first/last time and count. Every such record is kept, loopback and
//! service-account ones too: [`super::lateral`] decides which of them mean movement
//! (and says why the others do not) once the whole batch is known.

use std::collections::{BTreeMap, BTreeSet};

/// One aggregated edge of one image's logs.
#[derive(Clone, Debug, Default)]
pub struct Edge {
    /// Earliest record time (ISO-8601 UTC), empty when no record had one.
    pub first: String,
    /// Latest record time.
    pub last: String,
    /// Records behind the edge.
    pub count: u64,
    /// Up to 16 `image channel event-id` strings naming where the records are.
    pub evidence: BTreeSet<String>,
}

/// `(source host, source ip, destination host, account, kind, detail)`; detail is the
/// logon type for logons and the share name for share access.
pub type EdgeKey = (String, String, String, String, String, String);

/// Distinct edges kept per image; further new ones are counted, not kept (a hostile
/// log of random addresses must not grow the table without bound).
pub const MAX_EDGES: usize = 100_000;

/// The edges one image's event records describe, aggregated as they stream past.
#[derive(Clone, Debug, Default)]
pub struct EdgeAggregator {
    image: String,
    host: String,
    edges: BTreeMap<EdgeKey, Edge>,
    /// Records that would have made a new edge past [`MAX_EDGES`].
    pub dropped: u64,
}

impl EdgeAggregator {
    /// An empty aggregator for the logs of `host`, scanned as `image`.
    pub fn new(image: &str, host: &str) -> Self {
        EdgeAggregator {
            image: image.to_string(),
            host: host.to_string(),
            edges: BTreeMap::new(),
            dropped: 0,
        }
    }

    /// Takes one event record into account (`field` looks a field up by name).
    pub fn add<'r>(
        &mut self,
        channel: &str,
        event_id: u32,
        field: &dyn Fn(&str) -> Option<&'r str>,
        time: Option<&str>,
    ) {
        let Some(found) = edge_of(channel, event_id, field, &self.host) else {
            return;
        };
        let key = (
            found.source_host,
            found.source_ip,
            found.destination_host,
            found.account,
            found.kind.to_string(),
            found.logon_type,
        );
        if self.edges.len() >= MAX_EDGES && !self.edges.contains_key(&key) {
            self.dropped += 1;
            return;
        }
        let edge = self.edges.entry(key).or_default();
        if let Some(t) = time.filter(|t| !t.is_empty()) {
            if edge.first.is_empty() || t < edge.first.as_str() {
                edge.first = t.to_string();
            }
            if t > edge.last.as_str() {
                edge.last = t.to_string();
            }
        }
        edge.count += 1;
        if edge.evidence.len() < 16 {
            edge.evidence
                .insert(format!("{} {channel} {event_id}", self.image));
        }
    }

    /// The edges found so far.
    pub fn edges(&self) -> &BTreeMap<EdgeKey, Edge> {
        &self.edges
    }
}

struct Found {
    source_host: String,
    source_ip: String,
    destination_host: String,
    account: String,
    kind: &'static str,
    /// Logon type, or share name for share access.
    logon_type: String,
}

/// The edge one event describes, if any. `host` is the host whose log it is.
fn edge_of<'r>(
    channel: &str,
    event_id: u32,
    field: &dyn Fn(&str) -> Option<&'r str>,
    host: &str,
) -> Option<Found> {
    let wanted = matches!(
        (channel, event_id),
        ("Security", 4624 | 4625 | 4648 | 4778 | 5140 | 5145)
            | (
                "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational",
                1149
            )
            | (
                "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
                21 | 24 | 25
            )
    );
    if !wanted {
        return None;
    }
    let get = |name: &str| {
        field(name)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "-")
            .unwrap_or("")
            .to_string()
    };
    let account = |user: &str, domain: &str| match (get(domain), get(user)) {
        (d, u) if d.is_empty() => u,
        (d, u) => format!("{d}\\{u}"),
    };
    let here = host.to_string();
    let found = match (channel, event_id) {
        ("Security", 4624 | 4625) => {
            let logon_type = get("LogonType");
            if !matches!(logon_type.as_str(), "3" | "10") {
                return None;
            }
            Found {
                source_host: get("WorkstationName"),
                source_ip: get("IpAddress"),
                destination_host: here,
                account: account("TargetUserName", "TargetDomainName"),
                kind: if event_id == 4624 {
                    "logon"
                } else {
                    "failed logon"
                },
                logon_type,
            }
        }
        ("Security", 4648) => Found {
            source_host: here,
            source_ip: String::new(),
            destination_host: short_name(&get("TargetServerName")),
            account: account("TargetUserName", "TargetDomainName"),
            kind: "explicit credentials",
            logon_type: String::new(),
        },
        ("Security", 4778) => Found {
            source_host: get("ClientName"),
            source_ip: get("ClientAddress"),
            destination_host: here,
            account: account("AccountName", "AccountDomain"),
            kind: "RDP reconnect",
            logon_type: String::new(),
        },
        ("Security", _) => Found {
            source_host: String::new(),
            source_ip: get("IpAddress"),
            destination_host: here,
            account: account("SubjectUserName", "SubjectDomainName"),
            kind: "share access",
            logon_type: get("ShareName"),
        },
        (_, 1149) => Found {
            source_host: String::new(),
            source_ip: get("Param3"),
            destination_host: here,
            account: account("Param1", "Param2"),
            kind: "RDP authentication",
            logon_type: String::new(),
        },
        _ => Found {
            source_host: String::new(),
            source_ip: get("Address"),
            destination_host: here,
            account: get("User"),
            kind: "RDP session",
            logon_type: String::new(),
        },
    };
    Some(found)
}

/// `host.example.com` -> `HOST`, `\\host` -> `HOST`; an IP address stays whole
/// (`10.0.0.5`, not `10`).
pub fn short_name(name: &str) -> String {
    let trimmed = name.trim().trim_start_matches('\\');
    if trimmed.parse::<std::net::IpAddr>().is_ok() {
        return trimmed.to_ascii_uppercase();
    }
    trimmed
        .split('.')
        .next()
        .unwrap_or(trimmed)
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Looks fields up in `pairs` the way an event record does.
    fn edge(pairs: &[(&str, &str)], id: u32, host: &str) -> Option<Found> {
        let field = |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        edge_of("Security", id, &field, host)
    }

    #[test]
    fn network_and_rdp_logons_become_edges_and_others_do_not() {
        let mut fields = vec![
            ("TargetUserName", "admin"),
            ("TargetDomainName", "CORP"),
            ("LogonType", "3"),
            ("IpAddress", "10.0.0.5"),
            ("WorkstationName", "WS01"),
        ];
        let found = edge(&fields, 4624, "SRV01").unwrap();
        assert_eq!(
            (found.source_host.as_str(), found.source_ip.as_str()),
            ("WS01", "10.0.0.5")
        );
        assert_eq!(found.account, "CORP\\admin");
        fields[2].1 = "2";
        assert!(edge(&fields, 4624, "SRV01").is_none(), "interactive logon");
        // A loopback logon is still an edge here: the batch marks it filtered.
        fields[2].1 = "10";
        fields[3].1 = "127.0.0.1";
        fields[4].1 = "-";
        let found = edge(&fields, 4624, "SRV01").unwrap();
        assert_eq!(
            (found.source_host.as_str(), found.source_ip.as_str()),
            ("", "127.0.0.1")
        );
    }

    #[test]
    fn short_names_keep_addresses_whole() {
        assert_eq!(short_name("\\\\srv01.corp.local"), "SRV01");
        assert_eq!(short_name("10.0.0.5"), "10.0.0.5");
        assert_eq!(short_name("fe80::1"), "FE80::1");
    }

    #[test]
    fn explicit_credentials_point_from_the_source() {
        let fields = [
            ("TargetUserName", "admin"),
            ("TargetDomainName", "CORP"),
            ("TargetServerName", "srv01.corp.local"),
        ];
        let found = edge(&fields, 4648, "WS01").unwrap();
        assert_eq!(
            (found.source_host.as_str(), found.destination_host.as_str()),
            ("WS01", "SRV01")
        );
    }
}
