//! The lateral-movement graph the report draws: lateral_movement.csv's rows
//! aggregated per (source, destination, kind), with the rule that decides which
//! edges are shown by default.

use std::collections::{BTreeMap, BTreeSet};

use super::cell;
use crate::pipeline::ImageReport;

/// Edges shown by default at most; the rest are behind the page's toggle.
pub const SHOWN_EDGES: usize = 60;

/// Kinds that record a logon that succeeded.
const SUCCESSFUL: [&str; 4] = [
    "logon",
    "RDP authentication",
    "RDP session",
    "RDP reconnect",
];

/// The rule that chooses the default edges, as the page states it.
pub const RULE: &str = "an edge is shown by default when a tool found on its ends is named on \
it, or when it is a successful logon (network or RDP logon, RDP authentication, session or \
reconnect); at most 60, the most frequent first";

/// One end of an edge.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Node {
    /// Key: `image:NAME` for an image of the batch, else `host:NAME` or `ip:ADDRESS`.
    pub id: String,
    /// What the page writes: the host name (and image), or the address.
    pub label: String,
    /// The image of the batch this host is, if any.
    pub image: Option<String>,
}

/// Edges of one (source, destination, kind).
#[derive(Clone, Debug, Default)]
pub struct GraphEdge {
    /// Index into [`Graph::nodes`].
    pub source: usize,
    /// Index into [`Graph::nodes`].
    pub destination: usize,
    /// lateral_movement.csv `kind`.
    pub kind: String,
    /// Sum of the rows' `count`.
    pub count: u64,
    /// Earliest `first_time`.
    pub first: String,
    /// Latest `last_time`.
    pub last: String,
    /// The rows' `tools` cells, distinct.
    pub tools: BTreeSet<String>,
    /// The rows' accounts, distinct.
    pub accounts: BTreeSet<String>,
    /// lateral_movement.csv rows merged into it.
    pub rows: usize,
    /// Shown by default (see [`RULE`]).
    pub shown: bool,
}

/// Hosts and aggregated edges.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// Every host of the batch, then every other edge end, each once.
    pub nodes: Vec<Node>,
    /// Edges, most frequent first.
    pub edges: Vec<GraphEdge>,
}

impl Graph {
    /// The graph of `images` and the lateral_movement.csv `rows` laid out as `columns`.
    pub fn new(images: &[&ImageReport], columns: &[&str], rows: &[Vec<String>]) -> Graph {
        let mut nodes: Vec<Node> = images
            .iter()
            .map(|i| Node {
                id: format!("image:{}", i.image),
                label: if i.host == i.image {
                    i.host.clone()
                } else {
                    format!("{} ({})", i.host, i.image)
                },
                image: Some(i.image.clone()),
            })
            .collect();
        let mut index: BTreeMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(n, node)| (node.id.clone(), n))
            .collect();
        let mut node_of = |image: &str, host: &str, ip: &str| -> Option<usize> {
            let (id, label) = if !image.is_empty() && index.contains_key(&format!("image:{image}"))
            {
                (format!("image:{image}"), String::new())
            } else if !host.is_empty() {
                (format!("host:{}", host.to_uppercase()), host.to_string())
            } else if !ip.is_empty() {
                (format!("ip:{ip}"), ip.to_string())
            } else {
                return None;
            };
            Some(*index.entry(id.clone()).or_insert_with(|| {
                nodes.push(Node {
                    id,
                    label,
                    image: None,
                });
                nodes.len() - 1
            }))
        };
        let mut edges: BTreeMap<(usize, usize, String), GraphEdge> = BTreeMap::new();
        for row in rows {
            let get = |name: &str| cell(columns, row, name);
            let source = node_of(get("source_image"), get("source_host"), get("source_ip"));
            let destination = node_of(get("destination_image"), get("destination_host"), "");
            let (Some(source), Some(destination)) = (source, destination) else {
                continue;
            };
            let kind = get("kind").to_string();
            let edge = edges
                .entry((source, destination, kind.clone()))
                .or_insert_with(|| GraphEdge {
                    source,
                    destination,
                    kind,
                    ..GraphEdge::default()
                });
            edge.count += get("count").parse::<u64>().unwrap_or(0);
            let (first, last) = (get("first_time"), get("last_time"));
            if !first.is_empty() && (edge.first.is_empty() || first < edge.first.as_str()) {
                edge.first = first.to_string();
            }
            if last > edge.last.as_str() {
                edge.last = last.to_string();
            }
            if !get("tools").is_empty() {
                edge.tools.insert(get("tools").to_string());
            }
            if !get("account").is_empty() {
                edge.accounts.insert(get("account").to_string());
            }
            edge.rows += 1;
        }
        let mut edges: Vec<GraphEdge> = edges.into_values().collect();
        edges.sort_by(|a, b| b.count.cmp(&a.count).then(a.first.cmp(&b.first)));
        let mut shown = 0;
        for edge in &mut edges {
            let chosen = !edge.tools.is_empty() || SUCCESSFUL.contains(&edge.kind.as_str());
            edge.shown = chosen && shown < SHOWN_EDGES;
            shown += usize::from(edge.shown);
        }
        Graph { nodes, edges }
    }

    /// The part of the graph with `image` at one end (the image's own report).
    pub fn touching(&self, image: &str) -> Graph {
        let id = format!("image:{image}");
        let keep: Vec<&GraphEdge> = self
            .edges
            .iter()
            .filter(|e| self.nodes[e.source].id == id || self.nodes[e.destination].id == id)
            .collect();
        let mut used: Vec<usize> = self
            .nodes
            .iter()
            .position(|n| n.id == id)
            .into_iter()
            .chain(keep.iter().flat_map(|e| [e.source, e.destination]))
            .collect();
        used.sort_unstable();
        used.dedup();
        let renumber = |old: usize| used.binary_search(&old).unwrap_or(0);
        Graph {
            nodes: used.iter().map(|&n| self.nodes[n].clone()).collect(),
            edges: keep
                .into_iter()
                .map(|e| GraphEdge {
                    source: renumber(e.source),
                    destination: renumber(e.destination),
                    ..e.clone()
                })
                .collect(),
        }
    }

    /// Edges shown by default.
    pub fn shown(&self) -> usize {
        self.edges.iter().filter(|e| e.shown).count()
    }
}
