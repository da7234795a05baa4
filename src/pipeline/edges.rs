//! Lateral movement across a batch: edges from the host where someone came from
//! to the host they reached, read from the event logs every image's scan wrote.
//!
//! Destination-side records name the source (network and RDP logons 4624/4625
//! types 3 and 10, reconnects 4778, share access 5140/5145, RDP 1149 and
//! LocalSessionManager 21/24/25); the source-side 4648 (explicit credentials) names
//! the destination. Sources are resolved to images by IP address and host name as
//! the images' registries report them, so an edge can be followed from one image
//! to the next. Edges are aggregated per (source, destination, account, kind) with
//! first/last time and count, written to `lateral_movement.csv` and `graph.dot`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::path::Path;

use super::report::ImageReport;
use crate::output::Table;

/// lateral_movement.csv columns.
pub const COLUMNS: [&str; 13] = [
    "source_host",
    "source_ip",
    "source_image",
    "destination_host",
    "destination_image",
    "account",
    "kind",
    "detail",
    "evidence",
    "first_time",
    "last_time",
    "count",
    "tools",
];

/// One aggregated edge.
#[derive(Clone, Debug, Default)]
pub struct Edge {
    first: String,
    last: String,
    count: u64,
    evidence: BTreeSet<String>,
}

impl Edge {
    /// Records behind the edge.
    pub fn count(&self) -> u64 {
        self.count
    }
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

/// Writes every image's edges to `lateral_movement.csv` and `graph.dot` in `out`;
/// returns the rows as written ([`COLUMNS`] order, cells not neutralised) for the
/// report.
pub fn write(
    out: &Path,
    images: &[ImageReport],
    raw_cells: bool,
) -> Result<Vec<Vec<String>>, String> {
    let resolve = Resolver::new(images);
    let tools = ToolsByImage::new(images);
    let mut edges: BTreeMap<EdgeKey, Edge> = BTreeMap::new();
    for image in images {
        for (key, edge) in image.edges.edges() {
            let merged = edges.entry(key.clone()).or_default();
            if !edge.first.is_empty() && (merged.first.is_empty() || edge.first < merged.first) {
                merged.first = edge.first.clone();
            }
            if edge.last > merged.last {
                merged.last = edge.last.clone();
            }
            merged.count += edge.count;
            merged.evidence.extend(edge.evidence.iter().cloned());
        }
    }
    let mut table = Table::create(&out.join("lateral_movement.csv"), &COLUMNS, raw_cells)
        .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut dot = String::from("digraph lateral_movement {\n  rankdir=LR;\n  node [shape=box];\n");
    for ((src_host, src_ip, dst_host, account, kind, logon_type), edge) in &edges {
        let source_image = resolve.image(src_host, src_ip);
        let destination_image = resolve.image(dst_host, "");
        let edge_tools = tools.for_edge(&source_image, &destination_image);
        let row = [
            src_host.clone(),
            src_ip.clone(),
            source_image.clone(),
            dst_host.clone(),
            destination_image,
            account.clone(),
            kind.clone(),
            logon_type.clone(),
            edge.evidence.iter().cloned().collect::<Vec<_>>().join("; "),
            edge.first.clone(),
            edge.last.clone(),
            edge.count.to_string(),
            edge_tools.join(" "),
        ];
        table.row(&row).map_err(|e| e.to_string())?;
        rows.push(row.to_vec());
        let from = if src_host.is_empty() {
            src_ip
        } else {
            src_host
        };
        let _ = writeln!(
            dot,
            "  {} -> {} [label={}];",
            dot_id(from),
            dot_id(dst_host),
            dot_id(format!("{kind} {account} x{} {}", edge.count, edge_tools.join(" ")).trim())
        );
    }
    dot.push_str("}\n");
    std::fs::write(out.join("graph.dot"), dot).map_err(|e| e.to_string())?;
    table.finish().map_err(|e| e.to_string())?;
    Ok(rows)
}

/// The tools each image's findings name, by role.
struct ToolsByImage(HashMap<String, Vec<(String, String)>>);

impl ToolsByImage {
    fn new(images: &[ImageReport]) -> ToolsByImage {
        ToolsByImage(
            images
                .iter()
                .map(|i| (i.image.clone(), i.tools.clone()))
                .collect(),
        )
    }

    /// Tools found in the source role on the source image or in the destination
    /// role on the destination image: the ones that may have made this edge.
    fn for_edge(&self, source: &str, destination: &str) -> Vec<String> {
        let mut set = BTreeSet::new();
        for (image, role) in [(source, "source"), (destination, "destination")] {
            for (tool, r) in self.0.get(image).into_iter().flatten() {
                if r == role {
                    set.insert(tool.clone());
                }
            }
        }
        set.into_iter().collect()
    }
}

/// A quoted Graphviz identifier.
fn dot_id(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
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
    let local = matches!(found.source_ip.as_str(), "127.0.0.1" | "::1" | "LOCAL");
    let nowhere = found.source_host.is_empty() && found.source_ip.is_empty();
    let to_itself = found
        .source_host
        .eq_ignore_ascii_case(&found.destination_host);
    (!local && !nowhere && !to_itself && !found.destination_host.is_empty()).then_some(found)
}

/// `host.example.com` -> `HOST`, `\\host` -> `HOST`.
fn short_name(name: &str) -> String {
    let trimmed = name.trim_start_matches('\\');
    trimmed
        .split('.')
        .next()
        .unwrap_or(trimmed)
        .to_ascii_uppercase()
}

/// Which image a host name or address belongs to.
struct Resolver {
    by_name: HashMap<String, String>,
    by_ip: HashMap<String, String>,
}

impl Resolver {
    fn new(images: &[ImageReport]) -> Resolver {
        let mut by_name = HashMap::new();
        let mut by_ip = HashMap::new();
        for image in images {
            by_name.insert(short_name(&image.host), image.image.clone());
            if !image.host_facts.computer_name.is_empty() {
                by_name.insert(
                    short_name(&image.host_facts.computer_name),
                    image.image.clone(),
                );
            }
            for ip in &image.host_facts.ip_addresses {
                by_ip.insert(ip.clone(), image.image.clone());
            }
        }
        Resolver { by_name, by_ip }
    }

    fn image(&self, host: &str, ip: &str) -> String {
        self.by_ip
            .get(ip)
            .or_else(|| self.by_name.get(&short_name(host)))
            .cloned()
            .unwrap_or_default()
    }
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
    fn network_logons_become_edges_and_local_ones_do_not() {
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
        assert!(edge(&fields, 4624, "SRV01").is_none());
        fields[2].1 = "3";
        fields[3].1 = "127.0.0.1";
        fields[4].1 = "-";
        assert!(edge(&fields, 4624, "SRV01").is_none());
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

    #[test]
    fn dot_ids_are_quoted() {
        assert_eq!(dot_id("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
