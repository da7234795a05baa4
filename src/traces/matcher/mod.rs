//! The matcher: which tools the records of one host betray, how surely, and what
//! else should be there.
//!
//! For each tool and host role, every trace of the knowledge base is compared with
//! every observation ([`matching`] says how a trace accepts a record). `{exe}` and
//! `{path}` are resolved against the tool's `specific_executables` (those of the
//! trace's role when the tool has `role_executables`), one resolved copy per name; a
//! tool that lists none (the sheets did not name its binary) cannot match
//! placeholder traces at all, because an unresolved `{exe}` would accept any program.
//!
//! A (tool, role) becomes a [`Finding`] only when an anchor matched. Supporting
//! records count when they lie within [`WINDOW_SECONDS`] of an anchor hit (a record
//! without a time counts, since registry and file-system rows often have none that
//! relates to the run). Confidence:
//!
//! - `confirmed`: a tool-specific anchor and a second anchor trace, matched by two
//!   different records (several witnesses of the tool), or a tool-specific anchor
//!   plus a success indicator;
//! - `likely`: one tool-specific anchor (the tool's process with its command line,
//!   its service, a module name on a command line…), however many records repeat it;
//! - `possible`: only `generic` anchors, which ordinary activity also writes (a BITS
//!   job, an RDP logon, a task registered, a Windows program run without the tool's
//!   arguments), whatever else matched around them.
//!
//! Absent anchors and success indicators of the role are listed with the reason the
//! [`HostProfile`] gives (Sysmon not installed, log not present, audit policy not
//! enabled, log cleared, or simply not found in a log that was there).

mod fact_trace;
mod matching;
mod observation;
mod profile;
mod program_index;
mod time;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;

pub use observation::{ExecutionArtifact, Observation, Observed, Reference};
pub use profile::{audit_subcategory, ChannelProfile, HostProfile, LogClear, SYSMON_CHANNEL};

use super::{
    Artifact, ArtifactKind, Category, Glob, KnowledgeBase, Logging, Role, Strength, Together, Tool,
};
use crate::facts::{self, FactKind};
use fact_trace::{describe_unless, FactTrace};
use matching::{
    acting_programs, describe, excluded, matches, process_original_name, resolve, together_part,
};
use program_index::ProgramIndex;

/// Supporting records count when this close (either side) to an anchor hit.
pub const WINDOW_SECONDS: i64 = 600;

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// Only anchors that ordinary activity also writes.
    Possible,
    /// One tool-specific anchor.
    Likely,
    /// A tool-specific anchor and another independent anchor, or a success indicator.
    Confirmed,
}

impl Confidence {
    /// The spelling used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Possible => "possible",
            Confidence::Likely => "likely",
            Confidence::Confirmed => "confirmed",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an expected trace is absent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MissingReason {
    /// The trace is a Sysmon event and no Sysmon log exists.
    SysmonNotInstalled,
    /// No log matching the trace's channel exists.
    LogNotPresent,
    /// The Security log holds no event of the audit subcategory the trace needs.
    AuditPolicyNotEnabled(String),
    /// The log exists but was cleared (1102/104) at the given time.
    LogCleared(String),
    /// No record of this artifact kind was collected at all.
    ArtifactNotCollected,
    /// The source was there and recording; the record is not.
    NotFound,
}

impl fmt::Display for MissingReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MissingReason::SysmonNotInstalled => f.write_str("Sysmon not installed"),
            MissingReason::LogNotPresent => f.write_str("log not present"),
            MissingReason::AuditPolicyNotEnabled(sub) => {
                write!(f, "audit policy not enabled ({sub}: no such event at all)")
            }
            MissingReason::LogCleared(when) => write!(f, "log cleared ({when})"),
            MissingReason::ArtifactNotCollected => f.write_str("artifact not collected"),
            MissingReason::NotFound => f.write_str("not found"),
        }
    }
}

/// One matched record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The trace it matched (one line).
    pub trace: String,
    /// Anchor or supporting.
    pub strength: Strength,
    /// True when the trace is a success indicator.
    pub success: bool,
    /// The record.
    pub reference: Reference,
    /// The record's time.
    pub time: Option<String>,
}

/// An expected trace that was not matched, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The trace (one line).
    pub trace: String,
    /// Why it is absent.
    pub reason: MissingReason,
}

/// One tool seen in one role on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Tool id from the knowledge base.
    pub tool_id: String,
    /// Display name.
    pub tool_name: String,
    /// Category.
    pub category: Category,
    /// Role of this host.
    pub role: Role,
    /// Earliest time of a counted record.
    pub first_time: Option<String>,
    /// Latest time of a counted record.
    pub last_time: Option<String>,
    /// How sure.
    pub confidence: Confidence,
    /// One line saying why.
    pub reason: String,
    /// Distinct anchor traces matched.
    pub matched_anchors: usize,
    /// Anchor traces the role has.
    pub total_anchors: usize,
    /// Distinct supporting traces matched within the window.
    pub matched_supporting: usize,
    /// Supporting traces the role has.
    pub total_supporting: usize,
    /// `Some(true)` when a success indicator matched; `Some(false)` when the role has
    /// success indicators, their log was recording and none matched; else `None`.
    pub success: Option<bool>,
    /// Expected anchors and success indicators not matched, with reasons.
    pub missing: Vec<Missing>,
    /// Every counted record.
    pub evidence: Vec<Evidence>,
}

/// One trace of a tool with its placeholders resolved (one copy per executable name).
struct Prepared<'a> {
    strength: Strength,
    success: bool,
    /// An anchor that ordinary activity also writes ([`super::Trace::generic`]).
    generic: bool,
    logging: &'a Logging,
    artifact: &'a Artifact,
    /// Benign twins the trace refuses (field as the rule names it -> globs).
    unless: &'a BTreeMap<String, Vec<Glob>>,
    /// Met only by records together ([`super::Trace::together`]).
    together: Option<&'a Together>,
    resolved: Vec<Artifact>,
    /// The resolved traces as facts, when the trace states a fact (then any witness
    /// of the fact matches, not only the record the rule names).
    facts: Vec<FactTrace>,
    /// One line naming the trace in output.
    description: String,
}

fn prepare(tool: &Tool, role: Role) -> Vec<Prepared<'_>> {
    tool.traces
        .iter()
        .filter(|t| t.role == role)
        .map(|t| {
            let placeholder = t.artifact.globs().iter().any(|g| g.has_placeholder());
            let resolved = if !placeholder {
                vec![t.artifact.clone()]
            } else {
                tool.placeholder_executables(role)
                    .iter()
                    .map(|exe| resolve(&t.artifact, exe))
                    .collect()
            };
            // A trace met by records together is about those records' own fields
            // (which session), so it is matched on the records, not as a fact.
            let facts: Vec<FactTrace> = match t.together {
                Some(_) => Vec::new(),
                None => resolved
                    .iter()
                    .filter_map(|a| FactTrace::of(a, &t.unless))
                    .collect(),
            };
            let mut description = match (&t.together, FactTrace::of(&t.artifact, &t.unless)) {
                (None, Some(fact)) => fact.describe(),
                _ => describe(&t.artifact) + &describe_unless(&t.unless),
            };
            if let Some(together) = &t.together {
                description += &format!(
                    ", every {} of them within one {}",
                    together.all_of, together.within
                );
            }
            // A cleared log says that someone cleared it, not with which tool (Event
            // Viewer, PowerShell, wevtutil and the API all write the same 1102/104): it
            // supports a tool's other traces but never names the tool alone. The clear
            // itself is in host_profile.csv.
            let names_no_tool = facts.iter().any(|f| f.kind == FactKind::LogCleared);
            Prepared {
                strength: if names_no_tool {
                    Strength::Supporting
                } else {
                    t.strength
                },
                success: t.success,
                generic: t.generic && !names_no_tool,
                logging: &t.logging,
                artifact: &t.artifact,
                unless: &t.unless,
                together: t.together.as_ref(),
                facts,
                resolved,
                description,
            }
        })
        // Two rules for one fact (a Sysmon 1 and a 4688 of the same process) are one
        // trace: one execution seen twice must not count as two independent anchors.
        .fold(Vec::new(), |mut kept: Vec<Prepared<'_>>, p| {
            let twin = kept.iter().any(|k| {
                k.strength == p.strength
                    && k.success == p.success
                    && k.generic == p.generic
                    && k.description == p.description
            });
            if !twin {
                kept.push(p);
            }
            kept
        })
}

/// Where a trace that states no fact and names no acting program is indexed: by
/// artifact kind and event ID (0 for non-events).
type Key = (ArtifactKind, u32);

/// Evaluates every tool of `kb` over one host's `observations` (all in memory: tests
/// and small inputs; a scan streams through [`Matcher`] instead).
pub fn evaluate(
    kb: &KnowledgeBase,
    observations: impl IntoIterator<Item = Observation>,
    profile: &HostProfile,
) -> Vec<Finding> {
    let matcher = Matcher::new(kb);
    for observation in observations {
        matcher.observe(&observation);
    }
    matcher.judge(profile)
}

/// Most records kept per trace as evidence; past it a trace only counts (a domain
/// controller's millions of 4624s must not all be held to support one finding).
pub const MAX_KEPT_PER_TRACE: usize = 10_000;

/// Most records kept in all (about 200 bytes each): the matcher's memory ceiling.
pub const MAX_KEPT: usize = 500_000;

/// Groups followed for traces met by records together (a logon session's pipes):
/// past it, new groups are not followed (a few MiB at most).
const MAX_GROUPS: usize = 100_000;

/// Distinct journal file names whose matching traces are remembered.
const USN_CACHE_NAMES: usize = 200_000;

/// The traces of one tool in one role.
struct Plan<'a> {
    tool: &'a Tool,
    role: Role,
    traces: Vec<Prepared<'a>>,
}

/// A trace by plan and position.
type TraceId = (u32, u32);

/// What is kept of a record some trace accepted: enough to cite it and to place it in
/// time. Records no trace accepts are not kept at all.
#[derive(Debug, Clone)]
struct Kept {
    time: Option<String>,
    seconds: Option<i64>,
    reference: Reference,
}

#[derive(Default)]
struct Hits {
    kept: Vec<Kept>,
    /// `by_trace[plan][trace]` = indexes into `kept`.
    by_trace: Vec<Vec<Vec<u32>>>,
    /// Records accepted but not kept, per trace (over [`MAX_KEPT_PER_TRACE`]).
    overflow: Vec<Vec<u64>>,
    /// Traces met by records together: per trace and shared value, the alternatives
    /// seen so far (one bit each). At most [`MAX_GROUPS`] groups are followed.
    groups: HashMap<(TraceId, String), u64>,
}

impl Hits {
    /// Adds a record's alternatives `bits` to the group of trace `id` sharing
    /// `shared`; true when the group now holds every one of `count` alternatives
    /// (the group then starts again, so each full set counts once).
    fn completes(&mut self, id: TraceId, shared: String, bits: u64, count: usize) -> bool {
        let full = u64::MAX >> (64 - count.clamp(1, 64));
        let key = (id, shared);
        if !self.groups.contains_key(&key) && self.groups.len() >= MAX_GROUPS {
            return false;
        }
        let seen = self.groups.entry(key.clone()).or_default();
        *seen |= bits;
        if *seen & full != full {
            return false;
        }
        self.groups.remove(&key);
        true
    }
}

/// The streaming matcher: observations go in one at a time (from any thread), only
/// the ones some trace accepts are kept, and [`Matcher::judge`] turns the hits into
/// findings. Memory grows with the hits, not with the input.
pub struct Matcher<'a> {
    plans: Vec<Plan<'a>>,
    /// Candidate traces by artifact kind and event ID (0 for non-events), for traces
    /// that state no fact and name no acting program.
    index: HashMap<Key, Vec<TraceId>>,
    /// Traces on facts, by fact kind, filed by the image they ask for.
    facts: HashMap<FactKind, ProgramIndex>,
    /// `process` traces (the acting program of any event), by program.
    programs: ProgramIndex,
    /// Every USN trace (matched through the name cache).
    usn_traces: Vec<TraceId>,
    usn_cache: Mutex<HashMap<String, Vec<TraceId>>>,
    hits: Mutex<Hits>,
}

impl<'a> Matcher<'a> {
    /// A matcher for every tool and role of `kb`.
    pub fn new(kb: &'a KnowledgeBase) -> Self {
        let mut plans = Vec::new();
        for tool in &kb.tools {
            for role in [Role::Source, Role::Destination, Role::Dc] {
                let traces = prepare(tool, role);
                if !traces.is_empty() {
                    plans.push(Plan { tool, role, traces });
                }
            }
        }
        let mut index: HashMap<Key, Vec<TraceId>> = HashMap::new();
        let mut facts: HashMap<FactKind, ProgramIndex> = HashMap::new();
        let mut programs = ProgramIndex::default();
        let mut usn_traces = Vec::new();
        for (p, plan) in plans.iter().enumerate() {
            for (t, trace) in plan.traces.iter().enumerate() {
                let id = (p as u32, t as u32);
                match (trace.facts.first(), trace.artifact) {
                    (Some(fact), _) => {
                        // A trace without an image accepts any program: filed unkeyed.
                        let images: Option<Vec<Glob>> = trace
                            .facts
                            .iter()
                            .map(|f| f.fields.get("image").cloned())
                            .collect::<Option<Vec<_>>>()
                            .map(|lists| lists.concat());
                        let entry = facts.entry(fact.kind).or_default();
                        entry.add(id, images.as_deref().unwrap_or_default());
                    }
                    (None, Artifact::Usn { .. }) => usn_traces.push(id),
                    (None, Artifact::Process { .. }) => {
                        let exes: Vec<Glob> = trace
                            .resolved
                            .iter()
                            .filter_map(|a| match a {
                                Artifact::Process { exe } => Some(exe.clone()),
                                _ => None,
                            })
                            .collect();
                        programs.add(id, &exes);
                    }
                    (None, Artifact::Evtx { event_id, .. }) => index
                        .entry((ArtifactKind::Evtx, *event_id))
                        .or_default()
                        .push(id),
                    (None, other) => index.entry((other.kind(), 0)).or_default().push(id),
                }
            }
        }
        let hits = Hits {
            kept: Vec::new(),
            by_trace: plans
                .iter()
                .map(|p| vec![Vec::new(); p.traces.len()])
                .collect(),
            overflow: plans.iter().map(|p| vec![0; p.traces.len()]).collect(),
            groups: HashMap::new(),
        };
        Matcher {
            plans,
            index,
            facts,
            programs,
            usn_traces,
            usn_cache: Mutex::new(HashMap::new()),
            hits: Mutex::new(hits),
        }
    }

    /// Whether any trace looks at this event (`field` looks its fields up by name):
    /// callers skip building an observation for the others.
    pub fn wants_event<'v>(
        &self,
        channel: &str,
        event_id: u32,
        field: &dyn Fn(&str) -> Option<&'v str>,
    ) -> bool {
        self.index.contains_key(&(ArtifactKind::Evtx, event_id))
            || facts::witness(channel, event_id).is_some_and(|w| self.facts.contains_key(&w.kind))
            || acting_programs(field)
                .chain(process_original_name(field))
                .any(|program| {
                    self.programs
                        .may_accept(program, |id| self.accepts_program(id, program))
                })
    }

    /// Whether `process` trace `id` accepts a program called `program`.
    fn accepts_program(&self, (p, t): TraceId, program: &str) -> bool {
        self.plans[p as usize].traces[t as usize]
            .resolved
            .iter()
            .any(|a| matches!(a, Artifact::Process { exe } if exe.matches(program)))
    }

    /// Compares one observation with every trace that could accept it and keeps it
    /// if any does.
    pub fn observe(&self, observation: &Observation) {
        let accepted = self.accepting(observation);
        if accepted.is_empty() {
            return;
        }
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let mut slot = None;
        for (p, t) in accepted {
            if !self.group_complete(&mut hits, (p, t), observation) {
                continue;
            }
            let (p, t) = (p as usize, t as usize);
            if hits.by_trace[p][t].len() >= MAX_KEPT_PER_TRACE
                || (slot.is_none() && hits.kept.len() >= MAX_KEPT)
            {
                hits.overflow[p][t] += 1;
                continue;
            }
            let index = *slot.get_or_insert_with(|| {
                hits.kept.push(Kept {
                    time: observation.time.clone(),
                    seconds: observation.time.as_deref().and_then(time::seconds),
                    reference: observation.reference.clone(),
                });
                (hits.kept.len() - 1) as u32
            });
            hits.by_trace[p][t].push(index);
        }
    }

    /// Whether the record counts as a hit of trace `id` now: always, unless the trace
    /// is met by records together, when only the record completing a group counts.
    fn group_complete(&self, hits: &mut Hits, id: TraceId, observation: &Observation) -> bool {
        let trace = &self.plans[id.0 as usize].traces[id.1 as usize];
        let Some(together) = trace.together else {
            return true;
        };
        let Some(artifact) = trace.resolved.first() else {
            return false;
        };
        let Some((shared, bits)) = together_part(artifact, together, observation) else {
            return false;
        };
        let count = match artifact {
            Artifact::Evtx { fields, .. } => fields.get(&together.all_of).map_or(0, Vec::len),
            _ => 0,
        };
        hits.completes(id, shared, bits, count)
    }

    fn accepting(&self, observation: &Observation) -> Vec<TraceId> {
        let fact = facts::of(&observation.observed);
        let accepts = |&(p, t): &TraceId| {
            let trace = &self.plans[p as usize].traces[t as usize];
            if trace.facts.is_empty() {
                trace.resolved.iter().any(|a| matches(a, observation))
                    && !excluded(trace.unless, observation)
            } else {
                fact.as_ref()
                    .is_some_and(|f| trace.facts.iter().any(|ft| ft.matches(f)))
            }
        };
        if let Observed::Usn { name, .. } = &observation.observed {
            return self
                .usn_candidates(name)
                .into_iter()
                .filter(accepts)
                .collect();
        }
        let mut candidates: Vec<TraceId> = Vec::new();
        if let Observed::Event {
            event_id, fields, ..
        } = &observation.observed
        {
            if let Some(ids) = self.index.get(&(ArtifactKind::Evtx, *event_id)) {
                candidates.extend_from_slice(ids);
            }
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            };
            // The process's PE name finds a renamed copy (see `matching::matches`).
            let original = process_original_name(field);
            self.programs
                .candidates(acting_programs(field).chain(original), &mut candidates);
        } else {
            for kind in observation.kinds() {
                if let Some(ids) = self.index.get(&(*kind, 0)) {
                    candidates.extend_from_slice(ids);
                }
            }
        }
        if let Some(f) = &fact {
            if let Some(by_image) = self.facts.get(&f.kind) {
                // A renamed copy is found by its PE name (see `FactTrace::matches`).
                let names = f.values("image").chain(f.get("original_file_name"));
                by_image.candidates(names, &mut candidates);
            }
        }
        candidates.retain(accepts);
        candidates
    }

    /// The USN traces whose name glob accepts `name` (reasons are checked per record).
    fn usn_candidates(&self, name: &str) -> Vec<TraceId> {
        if let Some(hit) = self
            .usn_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
        {
            return hit.clone();
        }
        let folded = crate::traces::glob::fold(name);
        let found: Vec<TraceId> = self
            .usn_traces
            .iter()
            .copied()
            .filter(|&(p, t)| {
                self.plans[p as usize].traces[t as usize]
                    .resolved
                    .iter()
                    .any(
                        |a| matches!(a, Artifact::Usn { name: g, .. } if g.matches_folded(&folded)),
                    )
            })
            .collect();
        let mut cache = self.usn_cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= USN_CACHE_NAMES {
            cache.clear();
        }
        cache.insert(name.to_string(), found.clone());
        found
    }

    /// The findings the kept records support on a host with `profile`.
    pub fn judge(self, profile: &HostProfile) -> Vec<Finding> {
        let hits = self.hits.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut findings = Vec::new();
        for (p, plan) in self.plans.iter().enumerate() {
            let ctx = Context {
                tool: plan.tool,
                role: plan.role,
                traces: &plan.traces,
                hits: &hits.by_trace[p],
                overflow: &hits.overflow[p],
                kept: &hits.kept,
                profile,
            };
            if let Some(finding) = ctx.finding() {
                findings.push(finding);
            }
        }
        let tools: HashMap<&str, &Tool> = self
            .plans
            .iter()
            .map(|p| (p.tool.id.as_str(), p.tool))
            .collect();
        settle_one_host(collapse_families(findings, &tools), &tools, profile)
    }
}

/// A tool that runs on one host (`one_host`: ntdsutil, vssadmin; the directory's
/// command-line clients csvde, dcdiag, dsquery and ldifde, which the sheets ran on
/// the DC and any domain member can run) is named `dc` by one sheet and `source` by
/// the other, or `dc` only, and its traces are split between the two roles:
/// whichever matched, the host played one role. It is `dc` when the host's
/// records show a domain controller or a matched trace names the AD database
/// (`ntds.dit`, `ntdsutil`), which only a DC holds; otherwise `source` (shadow copies
/// made or deleted on any other host). One finding stays, in that role: the one
/// already in it, else the other one moved to it.
fn settle_one_host(
    findings: Vec<Finding>,
    tools: &HashMap<&str, &Tool>,
    profile: &HostProfile,
) -> Vec<Finding> {
    let one_host = |f: &Finding| {
        matches!(f.role, Role::Source | Role::Dc)
            && tools.get(f.tool_id.as_str()).is_some_and(|t| t.one_host)
    };
    let role_of = |id: &str| {
        let names_ad_database = findings
            .iter()
            .filter(|f| f.tool_id == id)
            .flat_map(|f| &f.evidence)
            .any(|e| e.trace.to_ascii_lowercase().contains("ntds"));
        if names_ad_database || profile.domain_controller() {
            Role::Dc
        } else {
            Role::Source
        }
    };
    let decided: HashMap<String, (Role, bool)> = findings
        .iter()
        .filter(|f| one_host(f))
        .map(|f| {
            let role = role_of(&f.tool_id);
            let present = findings
                .iter()
                .any(|g| g.tool_id == f.tool_id && g.role == role);
            (f.tool_id.clone(), (role, present))
        })
        .collect();
    findings
        .into_iter()
        .filter_map(|mut f| {
            let Some(&(role, present)) = decided.get(&f.tool_id).filter(|_| one_host(&f)) else {
                return Some(f);
            };
            if f.role == role {
                Some(f)
            } else if present {
                None
            } else {
                f.role = role;
                Some(f)
            }
        })
        .collect()
}

/// One binary, many modules: when several tools of one program (mimikatz's
/// `sekurlsa`, `lsadump`, `kerberos` modules…) are found in the same role on exactly
/// the same anchor records, nothing recorded which module ran. They become one
/// finding named after the program, "module unknown", listing the candidates.
fn collapse_families(findings: Vec<Finding>, tools: &HashMap<&str, &Tool>) -> Vec<Finding> {
    type AnchorSet = BTreeSet<(String, String, String)>;
    let anchors = |f: &Finding| -> AnchorSet {
        f.evidence
            .iter()
            .filter(|e| e.strength == Strength::Anchor)
            .map(|e| {
                (
                    e.reference.artifact.clone(),
                    e.reference.file.clone(),
                    e.reference.locator.clone(),
                )
            })
            .collect()
    };
    let mut groups: Vec<(Role, AnchorSet, Vec<Finding>)> = Vec::new();
    for finding in findings {
        let set = anchors(&finding);
        match groups
            .iter_mut()
            .find(|(role, s, _)| *role == finding.role && *s == set)
        {
            Some((_, _, members)) => members.push(finding),
            None => groups.push((finding.role, set, vec![finding])),
        }
    }
    let mut out = Vec::new();
    for (_, _, members) in groups {
        match shared_program(&members, tools) {
            Some(program) if members.len() > 1 => {
                let (named, others) = named_modules(members, tools);
                if named.is_empty() {
                    out.push(family(others, &program));
                } else {
                    out.extend(named);
                }
            }
            _ => out.extend(members),
        }
    }
    out
}

/// Splits the members into those whose module a matched anchor names (a command
/// line holding `sekurlsa::logonpasswords` or `Rubeus.exe diamond`: one of the
/// tool's `modules` words in the anchor's trace) and the others. Named members are
/// each a finding: the records say those modules ran, and the others only shared
/// the program's own traces.
fn named_modules(
    members: Vec<Finding>,
    tools: &HashMap<&str, &Tool>,
) -> (Vec<Finding>, Vec<Finding>) {
    let names_its_module = |f: &Finding| {
        let Some(tool) = tools.get(f.tool_id.as_str()) else {
            return false;
        };
        f.evidence.iter().any(|e| {
            e.strength == Strength::Anchor && {
                let trace = e.trace.to_ascii_lowercase();
                tool.modules.iter().any(|m| trace.contains(m.as_str()))
            }
        })
    };
    members.into_iter().partition(|f| names_its_module(f))
}

/// The one program every member's tool runs as, if they share exactly one.
fn shared_program(members: &[Finding], tools: &HashMap<&str, &Tool>) -> Option<String> {
    let mut common: Option<BTreeSet<&str>> = None;
    for m in members {
        let own: BTreeSet<&str> = tools
            .get(m.tool_id.as_str())?
            .specific_executables
            .iter()
            .map(String::as_str)
            .collect();
        common = Some(match common {
            None => own,
            Some(c) => c.intersection(&own).copied().collect(),
        });
    }
    let common = common?;
    let mut names = common.into_iter();
    let first = names.next()?;
    names.next().is_none().then(|| first.to_string())
}

/// The members as one finding of the program's family.
fn family(members: Vec<Finding>, program: &str) -> Finding {
    let stem = program.rsplit_once('.').map_or(program, |(s, _)| s);
    let ids: Vec<String> = members.iter().map(|m| m.tool_id.clone()).collect();
    let mut merged = members
        .iter()
        .max_by_key(|m| (m.confidence, m.matched_anchors + m.matched_supporting))
        .cloned()
        .unwrap_or_else(|| members[0].clone());
    merged.tool_id = stem.to_string();
    merged.tool_name = format!("{stem} (module unknown: one of {})", ids.join(", "));
    merged.reason = format!(
        "{}; the same records fit {}: nothing recorded which module ran",
        merged.reason,
        ids.join(", ")
    );
    merged.first_time = members.iter().filter_map(|m| m.first_time.clone()).min();
    merged.last_time = members.iter().filter_map(|m| m.last_time.clone()).max();
    merged
}

struct Context<'a> {
    tool: &'a Tool,
    role: Role,
    traces: &'a [Prepared<'a>],
    hits: &'a [Vec<u32>],
    overflow: &'a [u64],
    kept: &'a [Kept],
    profile: &'a HostProfile,
}

impl Context<'_> {
    fn finding(&self) -> Option<Finding> {
        let anchor_traces: Vec<usize> = (0..self.traces.len())
            .filter(|&i| self.traces[i].strength == Strength::Anchor && !self.hits[i].is_empty())
            .collect();
        if anchor_traces.is_empty() {
            return None;
        }
        let anchor_obs: BTreeSet<u32> = anchor_traces
            .iter()
            .flat_map(|&i| self.hits[i].iter().copied())
            .collect();
        let anchor_times: Vec<i64> = anchor_obs
            .iter()
            .filter_map(|&o| self.kept[o as usize].seconds)
            .collect();
        let in_window = |o: u32| match self.kept[o as usize].seconds {
            None => true,
            Some(t) => {
                anchor_times.is_empty()
                    || anchor_times.iter().any(|a| (t - a).abs() <= WINDOW_SECONDS)
            }
        };
        let mut evidence = Vec::new();
        let mut supporting = 0;
        let mut success_hit = false;
        let mut counted = BTreeSet::new();
        for (i, trace) in self.traces.iter().enumerate() {
            let mut kept: Vec<u32> = match trace.strength {
                Strength::Anchor => self.hits[i].clone(),
                Strength::Supporting => self.hits[i]
                    .iter()
                    .copied()
                    .filter(|&o| in_window(o))
                    .collect(),
            };
            // Records arrive in whatever order the collector threads deliver them:
            // listed by time, then by where they are, the evidence is the same at
            // any thread count.
            kept.sort_by(|&a, &b| {
                let (a, b) = (&self.kept[a as usize], &self.kept[b as usize]);
                (
                    &a.time,
                    &a.reference.artifact,
                    &a.reference.file,
                    &a.reference.locator,
                )
                    .cmp(&(
                        &b.time,
                        &b.reference.artifact,
                        &b.reference.file,
                        &b.reference.locator,
                    ))
            });
            if kept.is_empty() {
                continue;
            }
            if trace.strength == Strength::Supporting {
                supporting += 1;
            }
            success_hit |= trace.success;
            let description = trace.description.clone();
            for o in kept {
                counted.insert(o);
                let record = &self.kept[o as usize];
                evidence.push(Evidence {
                    trace: description.clone(),
                    strength: trace.strength,
                    success: trace.success,
                    reference: record.reference.clone(),
                    time: record.time.clone(),
                });
            }
        }
        let times: Vec<&String> = counted
            .iter()
            .filter_map(|&o| self.kept[o as usize].time.as_ref())
            .collect();
        let matched_anchors = anchor_traces.len();
        let uncounted: u64 = self.overflow.iter().sum();
        let specific = anchor_traces
            .iter()
            .filter(|&&i| !self.traces[i].generic)
            .count();
        let (confidence, mut reason) = if specific == 0 {
            (
                Confidence::Possible,
                format!(
                    "only anchors that ordinary activity also writes ({matched_anchors} trace(s) in {} record(s))",
                    anchor_obs.len()
                ),
            )
        } else if success_hit {
            (
                Confidence::Confirmed,
                format!("{matched_anchors} anchor trace(s) and a success indicator"),
            )
        } else if matched_anchors >= 2 && anchor_obs.len() >= 2 {
            (
                Confidence::Confirmed,
                format!(
                    "{matched_anchors} distinct anchor traces in {} records",
                    anchor_obs.len()
                ),
            )
        } else {
            (
                Confidence::Likely,
                format!(
                    "one tool-specific anchor in {} record(s), {supporting} supporting trace(s) within {} min",
                    anchor_obs.len(),
                    WINDOW_SECONDS / 60
                ),
            )
        };
        if uncounted > 0 {
            reason.push_str(&format!(
                "; {uncounted} more matching records not kept (over {MAX_KEPT_PER_TRACE} per trace or {MAX_KEPT} in all)"
            ));
        }
        if let Some(gone) = self.profile.event_logs_gone() {
            reason.push_str(&format!("; {gone}: judged from the other artifacts alone"));
        }
        let missing = self.missing();
        let success_traces: Vec<&Prepared> = self.traces.iter().filter(|t| t.success).collect();
        let success = if success_hit {
            Some(true)
        } else if !success_traces.is_empty()
            && success_traces
                .iter()
                .all(|t| missing_reason(t, self.profile) == MissingReason::NotFound)
        {
            Some(false)
        } else {
            None
        };
        Some(Finding {
            tool_id: self.tool.id.clone(),
            tool_name: self.tool.name.clone(),
            category: self.tool.category,
            role: self.role,
            first_time: times.iter().min().map(|t| (*t).clone()),
            last_time: times.iter().max().map(|t| (*t).clone()),
            confidence,
            reason,
            matched_anchors,
            total_anchors: count(self.traces, |t| t.strength == Strength::Anchor),
            matched_supporting: supporting,
            total_supporting: count(self.traces, |t| t.strength == Strength::Supporting),
            success,
            missing,
            evidence,
        })
    }

    fn missing(&self) -> Vec<Missing> {
        let mut seen = BTreeSet::new();
        self.traces
            .iter()
            .zip(self.hits)
            .filter(|(t, hits)| {
                hits.is_empty()
                    && (t.strength == Strength::Anchor || t.success)
                    && !t.resolved.is_empty()
            })
            .filter_map(|(t, _)| {
                let trace = t.description.clone();
                seen.insert(trace.clone()).then(|| Missing {
                    trace,
                    reason: missing_reason(t, self.profile),
                })
            })
            .collect()
    }
}

fn count(traces: &[Prepared], keep: impl Fn(&Prepared) -> bool) -> usize {
    traces.iter().filter(|t| keep(t)).count()
}

/// Why `trace` could be absent on a host with `profile`.
fn missing_reason(trace: &Prepared, profile: &HostProfile) -> MissingReason {
    let Artifact::Evtx { channel, .. } = trace.artifact else {
        // Any event of any log may name an acting process.
        let kind = match trace.artifact.kind() {
            ArtifactKind::Process => ArtifactKind::Evtx,
            kind => kind,
        };
        return if profile.has_collected(kind) {
            MissingReason::NotFound
        } else {
            MissingReason::ArtifactNotCollected
        };
    };
    if *trace.logging == Logging::Sysmon && !profile.sysmon() {
        return MissingReason::SysmonNotInstalled;
    }
    let logs: Vec<&ChannelProfile> = profile.channels_where(|c| channel.matches(c)).collect();
    if logs.is_empty() {
        return MissingReason::LogNotPresent;
    }
    if let Logging::Audit(sub) = trace.logging {
        if !profile.audit_subcategories.contains(sub) {
            return MissingReason::AuditPolicyNotEnabled(sub.clone());
        }
    }
    let clear = profile
        .clears
        .iter()
        .find(|c| logs.iter().any(|l| l.name.eq_ignore_ascii_case(&c.channel)));
    match clear {
        Some(c) => MissingReason::LogCleared(format!(
            "{} at {}",
            c.channel,
            c.time.as_deref().unwrap_or("unknown time")
        )),
        None => MissingReason::NotFound,
    }
}

/// The kinds of artifact a knowledge base needs, for callers deciding what to collect.
pub fn needed_kinds(kb: &KnowledgeBase) -> BTreeSet<ArtifactKind> {
    kb.tools
        .iter()
        .flat_map(|t| t.traces.iter().map(|tr| tr.artifact.kind()))
        .collect()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod variant_tests;
