//! Facts about the host, read from SYSTEM and SOFTWARE before any row is written
//! (every row carries the host name).
//!
//! - The current control set is `SYSTEM\Select\Current` (a number N naming
//!   `ControlSet00N`); `CurrentControlSet` does not exist in an offline hive.
//! - Computer name: `<set>\Control\ComputerName\ComputerName` value `ComputerName`.
//! - Time zone: `<set>\Control\TimeZoneInformation` values `TimeZoneKeyName` (Vista+;
//!   older systems only have `StandardName`) and `Bias` (minutes, UTC = local + bias,
//!   a signed DWORD).
//! - IP addresses: `<set>\Services\Tcpip\Parameters\Interfaces\*` values `IPAddress`
//!   (static, MULTI_SZ) and `DhcpIPAddress` (leased); `0.0.0.0` means none.
//! - OS: `SOFTWARE\Microsoft\Windows NT\CurrentVersion` values `ProductName`,
//!   `CurrentBuild` (`CurrentBuildNumber` before 8.1) and `DisplayVersion` (20H2+;
//!   `ReleaseId` before).

use regf::Key;
use serde::Serialize;

use super::load::{HiveKind, Hives};
use super::value::{as_number, checked_data, render};

/// What the registry says about the host; fields are empty when not recorded.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HostFacts {
    /// NetBIOS computer name.
    pub computer_name: String,
    /// The current control set (`ControlSet001`).
    pub control_set: String,
    /// Windows product name.
    pub product_name: String,
    /// Build number.
    pub current_build: String,
    /// Feature release (`22H2`).
    pub display_version: String,
    /// Time zone key name (`Pacific Standard Time`).
    pub timezone: String,
    /// Minutes to add to local time to get UTC.
    pub timezone_bias_minutes: Option<i32>,
    /// IPv4/IPv6 addresses configured or leased, unique, in key order.
    pub ip_addresses: Vec<String>,
}

/// Keys and values read for the facts: absent is empty, unreadable is a problem
/// (a fact the hive holds but damage hides must not pass for "not recorded").
struct Lookup {
    problems: Vec<String>,
}

impl Lookup {
    fn key<'h>(&mut self, hive: &'h regf::Hive, path: &str) -> Option<Key<'h>> {
        hive.open_key(path)
            .map_err(|e| self.problems.push(format!("key {path} unreadable: {e}")))
            .ok()
            .flatten()
    }

    fn value(&mut self, key: &Key<'_>, name: &str) -> Option<regf::ValueData> {
        checked_data(key, name)
            .map_err(|e| self.problems.push(e))
            .ok()
            .flatten()
    }

    fn text(&mut self, key: &Key<'_>, name: &str) -> String {
        self.value(key, name)
            .map(|d| render(&d))
            .unwrap_or_default()
    }

    fn number(&mut self, key: &Key<'_>, name: &str) -> Option<u64> {
        let data = self.value(key, name)?;
        let number = as_number(&data);
        if number.is_none() {
            self.problems.push(format!(
                "value {name} of {} is not a number: {}",
                key.name(),
                render(&data)
            ));
        }
        number
    }

    fn subkeys<'h>(&mut self, key: &Key<'h>) -> Vec<Key<'h>> {
        key.subkeys().unwrap_or_else(|e| {
            self.problems
                .push(format!("subkeys of {} unreadable: {e}", key.name()));
            Vec::new()
        })
    }
}

/// The name of the current control set of a SYSTEM hive, if `Select` says. Its
/// read errors are not returned: [`facts`] reads the same key first, for every
/// volume with a SYSTEM hive, and reports them.
pub fn current_control_set(system: &regf::Hive) -> Option<String> {
    control_set(
        system,
        &mut Lookup {
            problems: Vec::new(),
        },
    )
}

fn control_set(system: &regf::Hive, lookup: &mut Lookup) -> Option<String> {
    let select = lookup.key(system, "Select")?;
    let current = lookup.number(&select, "Current")?;
    Some(format!("ControlSet{current:03}"))
}

/// Reads the host facts from the volume's SYSTEM and SOFTWARE hives, with the
/// `(hive path, problem)` of every key or value that could not be read.
pub fn facts(hives: &Hives) -> (HostFacts, Vec<(String, String)>) {
    let mut facts = HostFacts::default();
    let mut problems = Vec::new();
    if let Some(system) = hives.first(HiveKind::System) {
        let mut lookup = Lookup {
            problems: Vec::new(),
        };
        system_facts(&system.hive, &mut facts, &mut lookup);
        problems.extend(
            lookup
                .problems
                .into_iter()
                .map(|p| (system.path.clone(), p)),
        );
    }
    if let Some(software) = hives.first(HiveKind::Software) {
        let mut lookup = Lookup {
            problems: Vec::new(),
        };
        if let Some(cv) = lookup.key(&software.hive, "Microsoft\\Windows NT\\CurrentVersion") {
            facts.product_name = lookup.text(&cv, "ProductName");
            let build = [
                lookup.text(&cv, "CurrentBuild"),
                lookup.text(&cv, "CurrentBuildNumber"),
            ];
            facts.current_build = first_non_empty(build);
            let version = [
                lookup.text(&cv, "DisplayVersion"),
                lookup.text(&cv, "ReleaseId"),
            ];
            facts.display_version = first_non_empty(version);
        }
        problems.extend(
            lookup
                .problems
                .into_iter()
                .map(|p| (software.path.clone(), p)),
        );
    }
    (facts, problems)
}

fn system_facts(system: &regf::Hive, facts: &mut HostFacts, lookup: &mut Lookup) {
    let Some(set) = control_set(system, lookup) else {
        return;
    };
    let key = |lookup: &mut Lookup, path: &str| lookup.key(system, &format!("{set}\\{path}"));
    if let Some(k) = key(lookup, "Control\\ComputerName\\ComputerName") {
        facts.computer_name = lookup.text(&k, "ComputerName");
    }
    if let Some(k) = key(lookup, "Control\\TimeZoneInformation") {
        let names = [
            lookup.text(&k, "TimeZoneKeyName"),
            lookup.text(&k, "StandardName"),
        ];
        facts.timezone = first_non_empty(names);
        // Bias is a signed quantity stored in a DWORD.
        facts.timezone_bias_minutes = lookup.number(&k, "Bias").map(|b| b as u32 as i32);
    }
    if let Some(interfaces) = key(lookup, "Services\\Tcpip\\Parameters\\Interfaces") {
        for interface in lookup.subkeys(&interfaces) {
            for name in ["IPAddress", "DhcpIPAddress"] {
                for address in lookup.text(&interface, name).split(" | ") {
                    let address = address.trim();
                    if !address.is_empty()
                        && address != "0.0.0.0"
                        && !facts.ip_addresses.iter().any(|a| a == address)
                    {
                        facts.ip_addresses.push(address.to_string());
                    }
                }
            }
        }
    }
    facts.control_set = set;
}

fn first_non_empty<const N: usize>(candidates: [String; N]) -> String {
    candidates
        .into_iter()
        .find(|c| !c.is_empty())
        .unwrap_or_default()
}
