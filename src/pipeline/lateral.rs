//! Lateral movement across a batch: the edges every image's logs hold
//! ([`super::edges`]), resolved to the batch's images, judged for whether they
//! mean movement, and labelled with the tools whose evidence falls in their time
//! span; written to `lateral_movement.csv` and `graph.dot`.
//!
//! Most logon records are not movement: Windows logs its own window manager
//! (`DWM-1`), font drivers (`UMFD-0`) and services logging on over loopback, and
//! explicit credentials used against `localhost`. Such an edge is kept, but marked
//! with why it is not movement ([`Filter`]); only unmarked edges are written by
//! default, and `--all-edges` writes them all.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use std::net::IpAddr;
use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::edges::short_name;
use super::report::ImageReport;
use crate::output::Table;
use crate::traces::matcher::Finding;
use crate::traces::Role;

/// lateral_movement.csv columns, in [`LateralEdge`]'s order.
pub const COLUMNS: [&str; 17] = [
    "source_host",
    "source_ip",
    "source_image",
    "source_resolved",
    "destination_host",
    "destination_image",
    "destination_resolved",
    "account",
    "kind",
    "detail",
    "evidence",
    "first_time",
    "last_time",
    "count",
    "tools",
    "filtered",
    "witness_image",
];

/// How far outside an edge's time span a tool's evidence may lie and still be
/// named on it: the 5 minutes of clock skew Kerberos tolerates between the hosts
/// of a domain (the source's and the destination's clocks both play a part).
pub const TOOL_TOLERANCE: SignedDuration = SignedDuration::from_mins(5);

/// One lateral-movement edge of the batch: one (source, destination, account,
/// kind, detail) as the log of one image (the witness) records it. This is what
/// lateral_movement.csv, graph.dot and the report show.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LateralEdge {
    /// Source host name as the record gives it (4624 WorkstationName, 4778
    /// ClientName; the witness's host for 4648); may be empty.
    pub source_host: String,
    /// Source address as the record gives it; may be empty.
    pub source_ip: String,
    /// The batch image the source is, when it could be resolved.
    pub source_image: String,
    /// How `source_image` was found.
    pub source_resolved: Resolved,
    /// Destination host name (the witness's host, or 4648 TargetServerName).
    pub destination_host: String,
    /// The batch image the destination is, when it could be resolved.
    pub destination_image: String,
    /// How `destination_image` was found.
    pub destination_resolved: Resolved,
    /// `DOMAIN\user` (or `user`) the records name.
    pub account: String,
    /// `logon`, `failed logon`, `explicit credentials`, `RDP reconnect`, `share
    /// access`, `RDP authentication` or `RDP session`.
    pub kind: String,
    /// Logon type for logons, share name for share access, else empty.
    pub detail: String,
    /// Up to 16 `image channel event-id` strings naming where the records are.
    pub evidence: Vec<String>,
    /// Earliest record time (ISO-8601 UTC, 100 ns), empty when none had one.
    pub first_time: String,
    /// Latest record time.
    pub last_time: String,
    /// Records behind the edge.
    pub count: u64,
    /// Tools whose evidence on the source (role source) or the destination (role
    /// destination) lies within the edge's time span, ± [`TOOL_TOLERANCE`].
    pub tools: Vec<EdgeTool>,
    /// Why the edge is not taken as movement; empty when it is.
    pub filtered: Vec<Filter>,
    /// The image whose event log holds the records.
    pub witness_image: String,
}

impl LateralEdge {
    /// True when the edge means movement (no [`Filter`] applies).
    pub fn is_movement(&self) -> bool {
        self.filtered.is_empty()
    }
}

/// A tool named on an edge, and on which end its evidence is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EdgeTool {
    /// Tool id (`psexec`).
    pub tool: String,
    /// `source` (found on the source image in the source role) or `destination`.
    pub side: Role,
}

/// How an edge end was tied to an image of the batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolved {
    /// Not resolved: no image of the batch has that name or address.
    #[default]
    No,
    /// It is the witness: the image whose log holds the record.
    Log,
    /// By an IP address the image's registry reports.
    Ip,
    /// By a host name: the registry's computer name or the `Computer` of the
    /// image's event records.
    Name,
}

impl Resolved {
    /// The spelling in lateral_movement.csv.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolved::No => "",
            Resolved::Log => "log",
            Resolved::Ip => "ip",
            Resolved::Name => "name",
        }
    }
}

/// Why an edge is not taken as movement between hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// An end is a loopback address or `localhost`.
    Loopback,
    /// The record names no source (or no destination).
    NoRemoteEnd,
    /// The remote end is the witness host itself, by name or by one of its
    /// addresses.
    SameHost,
    /// The account is Windows' own: the window manager (`DWM-n`), the font driver
    /// host (`UMFD-n`), `ANONYMOUS LOGON`, `SYSTEM`, `LOCAL SERVICE`, `NETWORK
    /// SERVICE`, or the host's own machine account (`HOST$`).
    SystemAccount,
}

impl Filter {
    /// The spelling in lateral_movement.csv's `filtered` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Filter::Loopback => "loopback",
            Filter::NoRemoteEnd => "no remote end",
            Filter::SameHost => "same host",
            Filter::SystemAccount => "system account",
        }
    }
}

/// A finding reduced to what naming tools on edges needs. Kept in the image's
/// manifest, so images scanned by another process (resume, `toolmark merge`) name
/// tools on edges as a single scan would.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ToolTimes {
    /// Tool id.
    pub tool: String,
    /// The role it was found in.
    pub role: Option<Role>,
    /// Times of its evidence, sorted.
    pub times: Vec<Timestamp>,
}

/// What each finding of an image contributes to naming tools on edges.
pub fn tool_times(findings: &[Finding]) -> Vec<ToolTimes> {
    findings
        .iter()
        .map(|f| {
            let mut times: Vec<Timestamp> = f
                .evidence
                .iter()
                .filter_map(|e| e.time.as_deref()?.parse().ok())
                .collect();
            times.sort_unstable();
            ToolTimes {
                tool: f.tool_id.clone(),
                role: Some(f.role),
                times,
            }
        })
        .collect()
}

/// Every edge of every image, resolved, judged and labelled, in a stable order
/// (witness image, then the aggregation key).
pub fn resolve(images: &[ImageReport]) -> Vec<LateralEdge> {
    let resolver = Resolver::new(images);
    let mut out = Vec::new();
    for (index, image) in images.iter().enumerate() {
        let own = Identity::of(image);
        for ((src_host, src_ip, dst_host, account, kind, detail), edge) in image.edges.edges() {
            let source_side = kind == "explicit credentials";
            let (source, destination) = if source_side {
                ((index, Resolved::Log), resolver.find(dst_host, dst_host))
            } else {
                (resolver.find(src_host, src_ip), (index, Resolved::Log))
            };
            let mut lateral = LateralEdge {
                source_host: src_host.clone(),
                source_ip: src_ip.clone(),
                source_image: image_name(images, source),
                source_resolved: source.1,
                destination_host: dst_host.clone(),
                destination_image: image_name(images, destination),
                destination_resolved: destination.1,
                account: account.clone(),
                kind: kind.clone(),
                detail: detail.clone(),
                evidence: edge.evidence.iter().cloned().collect(),
                first_time: edge.first.clone(),
                last_time: edge.last.clone(),
                count: edge.count,
                tools: Vec::new(),
                filtered: Vec::new(),
                witness_image: image.image.clone(),
            };
            lateral.filtered = filters(&lateral, source_side, &own);
            lateral.tools = tools_on(images, &lateral, source.0, destination.0);
            out.push(lateral);
        }
    }
    out
}

/// The name of the image `found` points at, empty when unresolved.
fn image_name(images: &[ImageReport], found: (usize, Resolved)) -> String {
    match found.1 {
        Resolved::No => String::new(),
        _ => images[found.0].image.clone(),
    }
}

/// The names and addresses a host is known by, upper-case short names.
struct Identity {
    names: BTreeSet<String>,
    addresses: BTreeSet<String>,
}

impl Identity {
    fn of(image: &ImageReport) -> Identity {
        let names = std::iter::once(image.host.as_str())
            .chain(std::iter::once(image.host_facts.computer_name.as_str()))
            .chain(image.computers.iter().map(|c| c.name.as_str()))
            .filter(|n| !n.is_empty())
            .map(short_name)
            .collect();
        let addresses = image
            .host_facts
            .ip_addresses
            .iter()
            .map(|a| canonical_ip(a))
            .collect();
        Identity { names, addresses }
    }

    /// True when `name` or `ip` is this host.
    fn is(&self, name: &str, ip: &str) -> bool {
        (!name.is_empty() && self.names.contains(&short_name(name)))
            || (!ip.is_empty() && self.addresses.contains(&canonical_ip(ip)))
    }
}

/// An address in one spelling: IPv4-mapped IPv6 as IPv4, upper-case hex.
fn canonical_ip(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(addr) => addr.to_canonical().to_string().to_ascii_uppercase(),
        Err(_) => ip.trim().to_ascii_uppercase(),
    }
}

/// True for loopback addresses and the names that mean "this machine".
fn is_loopback(name_or_ip: &str) -> bool {
    let s = name_or_ip.trim();
    match s.parse::<IpAddr>() {
        Ok(addr) => addr.to_canonical().is_loopback(),
        Err(_) => {
            ["localhost", "local", "."]
                .iter()
                .any(|l| s.eq_ignore_ascii_case(l))
                || short_name(s) == "LOCALHOST"
        }
    }
}

/// True for the accounts Windows itself logs on with.
fn is_system_account(account: &str, own: &Identity) -> bool {
    let user = account.rsplit('\\').next().unwrap_or(account).trim();
    let upper = user.to_ascii_uppercase();
    let numbered = |prefix: &str| {
        upper
            .strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    numbered("DWM-")
        || numbered("UMFD-")
        || matches!(
            upper.as_str(),
            "ANONYMOUS LOGON" | "SYSTEM" | "LOCAL SERVICE" | "NETWORK SERVICE"
        )
        || upper
            .strip_suffix('$')
            .is_some_and(|machine| own.names.contains(machine))
}

/// Why `edge` (seen by the host `own`; `source_side` for 4648) is not movement.
fn filters(edge: &LateralEdge, source_side: bool, own: &Identity) -> Vec<Filter> {
    let mut why = Vec::new();
    // The end the record names; the other end is the witness itself.
    let (remote_name, remote_ip) = if source_side {
        (edge.destination_host.as_str(), "")
    } else {
        (edge.source_host.as_str(), edge.source_ip.as_str())
    };
    if is_loopback(remote_ip) || is_loopback(remote_name) {
        why.push(Filter::Loopback);
    } else if remote_name.is_empty() && remote_ip.is_empty() {
        why.push(Filter::NoRemoteEnd);
    } else if own.is(remote_name, remote_ip) {
        why.push(Filter::SameHost);
    }
    if is_system_account(&edge.account, own) {
        why.push(Filter::SystemAccount);
    }
    why
}

/// The tools to name on `edge`: those found on its source image in the source
/// role, or on its destination image in the destination role, with evidence in
/// the edge's time span (± [`TOOL_TOLERANCE`]).
fn tools_on(
    images: &[ImageReport],
    edge: &LateralEdge,
    source: usize,
    destination: usize,
) -> Vec<EdgeTool> {
    let (Ok(first), Ok(last)) = (
        edge.first_time.parse::<Timestamp>(),
        edge.last_time.parse::<Timestamp>(),
    ) else {
        return Vec::new();
    };
    let (Ok(from), Ok(to)) = (
        first.checked_sub(TOOL_TOLERANCE),
        last.checked_add(TOOL_TOLERANCE),
    ) else {
        return Vec::new();
    };
    let mut named = BTreeSet::new();
    let ends = [
        (edge.source_resolved, source, Role::Source),
        (edge.destination_resolved, destination, Role::Destination),
    ];
    for (resolved, index, role) in ends {
        if resolved == Resolved::No {
            continue;
        }
        for found in images[index].tools.iter().filter(|t| t.role == Some(role)) {
            // The first evidence time at or after `from`: inside when not past `to`.
            let at = found.times.partition_point(|t| *t < from);
            if found.times.get(at).is_some_and(|t| *t <= to) {
                named.insert(EdgeTool {
                    tool: found.tool.clone(),
                    side: role,
                });
            }
        }
    }
    named.into_iter().collect()
}

/// Which image a host name or address belongs to.
struct Resolver {
    by_name: HashMap<String, usize>,
    by_ip: HashMap<String, usize>,
}

impl Resolver {
    fn new(images: &[ImageReport]) -> Resolver {
        let mut by_name = HashMap::new();
        let mut by_ip = HashMap::new();
        for (index, image) in images.iter().enumerate() {
            let identity = Identity::of(image);
            for name in identity.names {
                by_name.entry(name).or_insert(index);
            }
            for ip in identity.addresses {
                by_ip.entry(ip).or_insert(index);
            }
        }
        Resolver { by_name, by_ip }
    }

    /// The image `host` or `ip` names: by address first (names are spoofable and
    /// reused), then by name.
    fn find(&self, host: &str, ip: &str) -> (usize, Resolved) {
        if !ip.is_empty() {
            if let Some(&i) = self.by_ip.get(&canonical_ip(ip)) {
                return (i, Resolved::Ip);
            }
        }
        if !host.is_empty() {
            if let Some(&i) = self.by_name.get(&short_name(host)) {
                return (i, Resolved::Name);
            }
        }
        (0, Resolved::No)
    }
}

/// Writes the batch's edges to `lateral_movement.csv` and `graph.dot` in `out`:
/// those that mean movement, or with `all` every edge (the `filtered` column says
/// why the others are not movement). Returns the rows as written ([`COLUMNS`]
/// order, cells not neutralised) for the report.
pub fn write(
    out: &Path,
    images: &[ImageReport],
    raw_cells: bool,
    all: bool,
) -> Result<Vec<Vec<String>>, String> {
    let edges = resolve(images);
    let mut rows = Vec::new();
    let mut table = Table::create(&out.join("lateral_movement.csv"), &COLUMNS, raw_cells)
        .map_err(|e| e.to_string())?;
    let mut dot = String::from("digraph lateral_movement {\n  rankdir=LR;\n  node [shape=box];\n");
    for edge in edges.iter().filter(|e| all || e.is_movement()) {
        let tools = tools_cell(&edge.tools);
        let filtered: Vec<&str> = edge.filtered.iter().map(|f| f.as_str()).collect();
        let row = [
            edge.source_host.as_str(),
            &edge.source_ip,
            &edge.source_image,
            edge.source_resolved.as_str(),
            &edge.destination_host,
            &edge.destination_image,
            edge.destination_resolved.as_str(),
            &edge.account,
            &edge.kind,
            &edge.detail,
            &edge.evidence.join("; "),
            &edge.first_time,
            &edge.last_time,
            &edge.count.to_string(),
            &tools,
            &filtered.join("; "),
            &edge.witness_image,
        ];
        table.row(&row).map_err(|e| e.to_string())?;
        rows.push(row.iter().map(|c| c.to_string()).collect());
        let from = if edge.source_host.is_empty() {
            &edge.source_ip
        } else {
            &edge.source_host
        };
        let label = format!("{} {} x{} {tools}", edge.kind, edge.account, edge.count);
        let _ = writeln!(
            dot,
            "  {} -> {} [label={}];",
            dot_id(from),
            dot_id(&edge.destination_host),
            dot_id(label.trim())
        );
    }
    dot.push_str("}\n");
    std::fs::write(out.join("graph.dot"), dot).map_err(|e| e.to_string())?;
    table.finish().map_err(|e| e.to_string())?;
    Ok(rows)
}

/// `psexec:destination wmic:source`: the spelling of eval/labels.toml.
fn tools_cell(tools: &[EdgeTool]) -> String {
    tools
        .iter()
        .map(|t| format!("{}:{}", t.tool, t.side.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A quoted Graphviz identifier.
fn dot_id(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(names: &[&str], addresses: &[&str]) -> Identity {
        Identity {
            names: names.iter().map(|n| short_name(n)).collect(),
            addresses: addresses.iter().map(|a| canonical_ip(a)).collect(),
        }
    }

    fn edge(source_host: &str, source_ip: &str, destination: &str, account: &str) -> LateralEdge {
        LateralEdge {
            source_host: source_host.into(),
            source_ip: source_ip.into(),
            destination_host: destination.into(),
            account: account.into(),
            ..LateralEdge::default()
        }
    }

    #[test]
    fn windows_own_logons_are_not_movement() {
        let own = identity(&["WS01"], &["10.0.0.7"]);
        let why = |e: &LateralEdge, source_side| filters(e, source_side, &own);
        // The built host's four: explicit credentials to localhost.
        for account in [
            "Window Manager\\DWM-1",
            "Font Driver Host\\UMFD-0",
            "WS01\\alice",
        ] {
            let e = edge("WS01", "", "LOCALHOST", account);
            assert!(why(&e, true).contains(&Filter::Loopback), "{account}");
        }
        assert_eq!(
            why(
                &edge("WS01", "", "LOCALHOST", "Window Manager\\DWM-1"),
                true
            ),
            [Filter::Loopback, Filter::SystemAccount]
        );
        assert_eq!(
            why(&edge("", "::1", "WS01", "CORP\\bob"), false),
            [Filter::Loopback]
        );
        assert_eq!(
            why(&edge("", "::ffff:127.0.0.1", "WS01", "bob"), false),
            [Filter::Loopback]
        );
        assert_eq!(
            why(&edge("", "", "WS01", "CORP\\bob"), false),
            [Filter::NoRemoteEnd]
        );
        assert_eq!(
            why(&edge("ws01.corp.local", "", "WS01", "bob"), false),
            [Filter::SameHost]
        );
        assert_eq!(
            why(&edge("", "10.0.0.7", "WS01", "bob"), false),
            [Filter::SameHost]
        );
        assert_eq!(
            why(&edge("", "10.0.0.5", "WS01", "CORP\\WS01$"), false),
            [Filter::SystemAccount]
        );
        assert_eq!(
            why(
                &edge("", "10.0.0.5", "WS01", "NT AUTHORITY\\ANONYMOUS LOGON"),
                false
            ),
            [Filter::SystemAccount]
        );
        // Real movement: another host, a user, another machine's account.
        assert!(why(&edge("SRV01", "10.0.0.5", "WS01", "CORP\\admin"), false).is_empty());
        assert!(why(&edge("", "10.0.0.5", "WS01", "CORP\\SRV01$"), false).is_empty());
        assert!(why(&edge("WS01", "", "SRV01", "CORP\\admin"), true).is_empty());
        assert!(why(&edge("", "10.0.0.5", "WS01", "DWM-admin"), false).is_empty());
    }

    /// An image of `host` whose log saw `fields` (a 4624) at `time`, with tools
    /// found at the given times.
    fn image(
        host: &str,
        ip: &str,
        logon: Option<(&str, &str)>,
        tools: &[(&str, Role, &str)],
    ) -> ImageReport {
        let mut report = ImageReport::new(Path::new(host), host);
        report.host_facts.ip_addresses = vec![ip.to_string()];
        if let Some((source_ip, time)) = logon {
            let fields = [
                ("TargetUserName", "admin"),
                ("TargetDomainName", "CORP"),
                ("LogonType", "3"),
                ("IpAddress", source_ip),
            ];
            let field = |name: &str| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
            report.edges = super::super::edges::EdgeAggregator::new(host, host);
            report.edges.add("Security", 4624, &field, Some(time));
        }
        report.tools = tools
            .iter()
            .map(|(tool, role, time)| ToolTimes {
                tool: tool.to_string(),
                role: Some(*role),
                times: vec![time.parse().unwrap()],
            })
            .collect();
        report
    }

    #[test]
    fn tools_are_named_by_side_and_time() {
        let at = "2024-01-01T10:00:00.0000000Z";
        let source = image(
            "WS01",
            "10.0.0.5",
            None,
            &[
                ("psexec", Role::Source, "2024-01-01T09:57:00Z"),
                ("wmic", Role::Source, "2024-01-01T11:00:00Z"),
                ("net_user", Role::Destination, "2024-01-01T10:00:00Z"),
            ],
        );
        let destination = image(
            "SRV01",
            "10.0.0.9",
            Some(("10.0.0.5", at)),
            &[("psexec", Role::Destination, "2024-01-01T10:04:59Z")],
        );
        let edges = resolve(&[source, destination]);
        assert_eq!(edges.len(), 1);
        let e = &edges[0];
        assert_eq!(
            (e.source_image.as_str(), e.source_resolved),
            ("WS01", Resolved::Ip)
        );
        assert_eq!(
            (e.destination_image.as_str(), e.destination_resolved),
            ("SRV01", Resolved::Log)
        );
        // psexec on both sides within 5 minutes; wmic an hour later; net_user in
        // the wrong role on the source.
        assert_eq!(tools_cell(&e.tools), "psexec:source psexec:destination");
        assert!(e.is_movement());
    }

    #[test]
    fn dot_ids_are_quoted() {
        assert_eq!(dot_id("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
