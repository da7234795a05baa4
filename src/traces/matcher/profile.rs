//! The host's logging profile: which logs exist and over what span, whether Sysmon
//! runs, which audit subcategories produced anything, and whether logs were cleared.
//!
//! The matcher uses it to explain an absent trace: a record that could not have been
//! written (no Sysmon, audit subcategory off, log missing or cleared) is a different
//! statement from one that could have been and was not.

use std::collections::{BTreeMap, BTreeSet};

use super::observation::{Observation, Observed, Reference};
use crate::traces::ArtifactKind;

/// The Sysmon channel.
pub const SYSMON_CHANNEL: &str = "Microsoft-Windows-Sysmon/Operational";

/// Channels profiled one by one (a Windows host has a few hundred); the records of
/// any more, which only a crafted log names, are counted under
/// [`OTHER_CHANNELS`], so the profile does not grow with such a log.
pub const MAX_CHANNELS: usize = 4096;

/// The profile entry of the channels past [`MAX_CHANNELS`].
pub const OTHER_CHANNELS: &str = "(other channels)";

/// Log clears kept; past it, only a clear of a channel not yet seen cleared is
/// kept (one per channel, for at most [`MAX_CHANNELS`] channels), so every cleared
/// channel a real host has is still named.
pub const MAX_CLEARS: usize = 1000;

/// One event log seen on the host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelProfile {
    /// Channel name as recorded.
    pub name: String,
    /// Records seen.
    pub count: u64,
    /// Earliest record time.
    pub first: Option<String>,
    /// Latest record time.
    pub last: Option<String>,
}

/// A log-clear event (Security 1102, System 104).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogClear {
    /// The channel that was cleared (from 104's `Channel` field; `Security` for 1102).
    pub channel: String,
    /// When.
    pub time: Option<String>,
    /// The clear event itself.
    pub reference: Reference,
}

/// What the host was set up to record, as far as its records show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostProfile {
    /// Channels by lower-case name.
    pub channels: BTreeMap<String, ChannelProfile>,
    /// Audit subcategories (snake_case, as in the rules) with at least one Security event.
    pub audit_subcategories: BTreeSet<String>,
    /// Log-clear events: the first [`MAX_CLEARS`], then the first of each channel
    /// not yet among them.
    pub clears: Vec<LogClear>,
    /// The channels of `clears`, lower-case.
    pub cleared_channels: BTreeSet<String>,
    /// Artifact kinds with at least one observation.
    pub artifacts: BTreeSet<ArtifactKind>,
    /// Artifact kinds the scan collected, whether or not anything was found: an empty
    /// Prefetch folder is "not found", a skipped one "not collected".
    pub collected: BTreeSet<ArtifactKind>,
}

/// The audit subcategory that writes Security event `event_id` (`object_type` decides
/// between the object-access subcategories that share IDs). Windows' own mapping.
pub fn audit_subcategory(event_id: u32, object_type: Option<&str>) -> Option<&'static str> {
    Some(match event_id {
        4688 => "process_creation",
        4689 => "process_termination",
        5140 | 5142 | 5143 | 5144 => "file_share",
        5145 => "detailed_file_share",
        4656 | 4658 | 4660 | 4663 | 4670 => match object_type {
            Some(t) if t.eq_ignore_ascii_case("File") => "file_system",
            Some(t) if t.eq_ignore_ascii_case("Key") => "registry",
            _ => "kernel_object",
        },
        4690 => "handle_manipulation",
        5154 | 5156 | 5158 => "filtering_platform_connection",
        5152 | 5157 => "filtering_platform_packet_drop",
        4673 | 4674 => "sensitive_privilege_use",
        4698..=4702 => "other_object_access_events",
        4624 | 4625 | 4648 => "logon",
        4634 | 4647 => "logoff",
        4672 | 4964 => "special_logon",
        4703 => "token_right_adjusted",
        4661 => "sam",
        4662 => "directory_service_access",
        5136..=5139 | 5141 => "directory_service_changes",
        4720..=4726 | 4738 | 4740 | 4765..=4767 | 4780 | 4781 | 4794 => "user_account_management",
        4727..=4737 | 4754..=4758 | 4799 => "security_group_management",
        4741..=4743 => "computer_account_management",
        4768 | 4771 | 4772 => "kerberos_authentication_service",
        4769 | 4770 | 4773 => "kerberos_service_ticket_operations",
        4776 | 4777 => "credential_validation",
        4946..=4948 => "mpssvc_rule_level_policy_change",
        5447 => "filtering_platform_policy_change",
        4778 | 4779 => "other_logon_logoff_events",
        4627 => "group_membership",
        4610 | 4611 | 4614 | 4622 | 4697 => "security_system_extension",
        4719 | 4907 | 4912 => "audit_policy_change",
        4704..=4707 => "authorization_policy_change",
        4692..=4695 => "dpapi_activity",
        _ => return None,
    })
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl HostProfile {
    /// The profile of a host whose records are `observations`.
    pub fn from_observations<'a>(observations: impl IntoIterator<Item = &'a Observation>) -> Self {
        let mut profile = HostProfile::default();
        for observation in observations {
            profile.add(observation);
        }
        profile
    }

    /// Takes one more observation into account.
    pub fn add(&mut self, observation: &Observation) {
        self.artifacts.extend(observation.kinds().iter().copied());
        if let Observed::Event {
            channel,
            event_id,
            fields,
        } = &observation.observed
        {
            let field = |name: &str| field(fields, name);
            self.add_event(
                channel,
                *event_id,
                observation.time.as_deref(),
                &field,
                &|| observation.reference.clone(),
            );
        }
    }

    /// Takes one event record into account without building an observation of it
    /// (`field` looks a field up by name; `reference` makes the record's reference,
    /// asked for only when the record is kept: a log clear).
    pub fn add_event<'r>(
        &mut self,
        channel: &str,
        event_id: u32,
        time: Option<&str>,
        field: &dyn Fn(&str) -> Option<&'r str>,
        reference: &dyn Fn() -> Reference,
    ) {
        self.artifacts.insert(ArtifactKind::Evtx);
        self.count_event(channel, time.filter(|t| !t.is_empty()));
        let security = channel.eq_ignore_ascii_case("Security");
        if security {
            if let Some(sub) = audit_subcategory(event_id, field("ObjectType")) {
                if !self.audit_subcategories.contains(sub) {
                    self.audit_subcategories.insert(sub.to_string());
                }
            }
        }
        let cleared = match event_id {
            1102 if security => Some("Security".to_string()),
            104 if channel.eq_ignore_ascii_case("System") => {
                Some(field("Channel").unwrap_or("System").to_string())
            }
            _ => None,
        };
        if let Some(channel) = cleared {
            let lower = channel.to_lowercase();
            let first_of_channel = !self.cleared_channels.contains(&lower);
            let kept = self.clears.len() < MAX_CLEARS
                || (first_of_channel && self.cleared_channels.len() < MAX_CHANNELS);
            if !kept {
                return;
            }
            self.cleared_channels.insert(lower);
            self.clears.push(LogClear {
                channel,
                time: time.filter(|t| !t.is_empty()).map(str::to_string),
                reference: reference(),
            });
        }
    }

    /// Counts one record of `channel` (profiles are keyed by its lower-case name)
    /// at `time`. This runs once per event: an ASCII name (all of them, in practice)
    /// is lower-cased on the stack, a key is allocated only for a new channel, and
    /// the first and last times reuse their strings.
    fn count_event(&mut self, channel: &str, time: Option<&str>) {
        let count = |entry: &mut ChannelProfile| {
            entry.count += 1;
            if let Some(time) = time {
                if entry.first.as_deref().is_none_or(|f| time < f) {
                    replace(&mut entry.first, time);
                }
                if entry.last.as_deref().is_none_or(|l| time > l) {
                    replace(&mut entry.last, time);
                }
            }
        };
        let mut buf = [0u8; 128];
        let key = match buf.get_mut(..channel.len()) {
            Some(lower) if channel.is_ascii() => {
                lower.copy_from_slice(channel.as_bytes());
                lower.make_ascii_lowercase();
                // ASCII in, ASCII out.
                std::str::from_utf8(lower).unwrap_or_default()
            }
            _ => &channel.to_lowercase(),
        };
        let key = if self.channels.len() >= MAX_CHANNELS && !self.channels.contains_key(key) {
            OTHER_CHANNELS
        } else {
            key
        };
        match self.channels.get_mut(key) {
            Some(entry) => count(entry),
            None => {
                let name = if key == OTHER_CHANNELS { key } else { channel };
                let mut entry = ChannelProfile {
                    name: name.to_string(),
                    ..ChannelProfile::default()
                };
                count(&mut entry);
                self.channels.insert(key.to_string(), entry);
            }
        }
    }

    /// Why the host's event logs cannot speak, when they cannot: none was found
    /// although event logs were collected, or every log that had records was cleared.
    pub fn event_logs_gone(&self) -> Option<String> {
        if !self.has_collected(ArtifactKind::Evtx) {
            return None;
        }
        if self.channels.is_empty() {
            return Some("no event log on the host".to_string());
        }
        None
    }

    /// Whether `kind` was collected (or at least seen).
    pub fn has_collected(&self, kind: ArtifactKind) -> bool {
        self.collected.contains(&kind) || self.artifacts.contains(&kind)
    }

    /// Whether any Sysmon record was seen.
    pub fn sysmon(&self) -> bool {
        self.channels.contains_key(&SYSMON_CHANNEL.to_lowercase())
    }

    /// Whether the host's own records show a domain controller: only a DC's KDC writes
    /// Kerberos ticket events (4768, 4769, ...), only a DC audits directory-service
    /// access and changes (4662, 5136, ...), and only DCs keep the Directory Service
    /// and DFS Replication logs.
    pub fn domain_controller(&self) -> bool {
        const DC_AUDITS: [&str; 4] = [
            "kerberos_authentication_service",
            "kerberos_service_ticket_operations",
            "directory_service_access",
            "directory_service_changes",
        ];
        const DC_CHANNELS: [&str; 2] = ["directory service", "dfs replication"];
        DC_AUDITS
            .iter()
            .any(|a| self.audit_subcategories.contains(*a))
            || DC_CHANNELS.iter().any(|c| self.channels.contains_key(*c))
    }

    /// The channels whose names `accepts` returns true for.
    pub fn channels_where<'a>(
        &'a self,
        accepts: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = &'a ChannelProfile> + 'a {
        self.channels.values().filter(move |c| accepts(&c.name))
    }
}

/// Sets `slot` to `value`, reusing the string it holds.
fn replace(slot: &mut Option<String>, value: &str) {
    match slot {
        Some(held) => {
            held.clear();
            held.push_str(value);
        }
        None => *slot = Some(value.to_string()),
    }
}
