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
use super::value::{as_number, as_text, checked_data, render};

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

    /// A string value for a name: another type is reported, not shown.
    fn string(&mut self, key: &Key<'_>, name: &str) -> String {
        let Some(data) = self.value(key, name) else {
            return String::new();
        };
        match as_text(&data) {
            Ok(text) => text.to_string(),
            Err(why) => {
                self.problems
                    .push(format!("value {name} of {} {why}", key.name()));
                String::new()
            }
        }
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

/// The name of the current control set of a SYSTEM hive (see [`control_set`]).
/// Its problems are not returned: [`facts`] resolves the same set first, for every
/// volume with a SYSTEM hive, and reports them.
pub fn current_control_set(system: &regf::Hive) -> Option<String> {
    control_set(
        system,
        &mut Lookup {
            problems: Vec::new(),
        },
    )
}

/// The current control set: the one `Select\Current` names if the hive holds it;
/// else, said as a problem, the only `ControlSetNNN` there is. With none, or
/// several and no way to choose, there is no current set: a problem too, since
/// ShimCache, services and the host facts then cannot be read.
fn control_set(system: &regf::Hive, lookup: &mut Lookup) -> Option<String> {
    let current = lookup
        .key(system, "Select")
        .and_then(|select| lookup.number(&select, "Current"));
    let said = match current {
        Some(n) => {
            let named = format!("ControlSet{n:03}");
            match system.open_key(&named) {
                Ok(Some(_)) => return Some(named),
                Ok(None) => format!("Select\\Current names {named}, which the hive does not hold"),
                Err(e) => {
                    // There but damaged: the readers of each key report what they lose.
                    lookup.problems.push(format!("key {named} unreadable: {e}"));
                    return Some(named);
                }
            }
        }
        None => "the hive has no readable Select\\Current".to_string(),
    };
    let sets = control_sets(system, lookup);
    match sets.as_slice() {
        [only] => {
            lookup
                .problems
                .push(format!("{said}; reading the only control set, {only}"));
            Some(only.clone())
        }
        [] => {
            lookup.problems.push(format!(
                "{said} and no ControlSet key: no current control set, so ShimCache, services and host facts are not read"
            ));
            None
        }
        many => {
            lookup.problems.push(format!(
                "{said}; {} control sets ({}) and none named current: ShimCache, services and host facts are not read",
                many.len(),
                many.join(", ")
            ));
            None
        }
    }
}

/// Names of the root's `ControlSetNNN` keys.
fn control_sets(system: &regf::Hive, lookup: &mut Lookup) -> Vec<String> {
    let Some(root) = system
        .root()
        .map_err(|e| lookup.problems.push(format!("root key unreadable: {e}")))
        .ok()
    else {
        return Vec::new();
    };
    lookup
        .subkeys(&root)
        .iter()
        .map(|k| k.name())
        .filter(|name| is_control_set(name))
        .collect()
}

/// `ControlSet` followed by digits, in any case.
pub(crate) fn is_control_set(name: &str) -> bool {
    match (name.get(..10), name.get(10..)) {
        (Some(head), Some(digits)) => {
            head.eq_ignore_ascii_case("ControlSet")
                && !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
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
        facts.computer_name = lookup.string(&k, "ComputerName");
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

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::hive::HiveBuilder;

    /// A SYSTEM hive with `Select\Current` (if given) and the control sets named,
    /// each holding a computer name value made by `name`.
    fn system(
        current: Option<u32>,
        sets: &[&str],
        name: fn(&mut HiveBuilder) -> u32,
    ) -> regf::Hive {
        let mut b = HiveBuilder::new();
        let mut top = Vec::new();
        if let Some(current) = current {
            let v = b.dword("Current", current);
            top.push(b.key("Select", &[], &[v]));
        }
        for set in sets {
            let v = name(&mut b);
            let inner = b.key("ComputerName", &[], &[v]);
            let outer = b.key("ComputerName", &[inner], &[]);
            let control = b.key("Control", &[outer], &[]);
            top.push(b.key(set, &[control], &[]));
        }
        let root = b.key("ROOT", &top, &[]);
        regf::Hive::from_bytes(b.finish(root)).unwrap()
    }

    fn host(b: &mut HiveBuilder) -> u32 {
        b.string("ComputerName", "HOST")
    }

    fn read(hive: &regf::Hive) -> (HostFacts, Vec<String>) {
        let mut facts = HostFacts::default();
        let mut lookup = Lookup {
            problems: Vec::new(),
        };
        system_facts(hive, &mut facts, &mut lookup);
        (facts, lookup.problems)
    }

    #[test]
    fn the_named_control_set_is_read() {
        let (facts, problems) = read(&system(Some(1), &["ControlSet001", "ControlSet002"], host));
        assert_eq!(facts.control_set, "ControlSet001");
        assert_eq!(facts.computer_name, "HOST");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_missing_current_set_falls_back_to_the_only_one_and_says_so() {
        let hive = system(Some(0xFFFF_FFFF), &["ControlSet001"], host);
        let (facts, problems) = read(&hive);
        assert_eq!(facts.control_set, "ControlSet001");
        assert_eq!(facts.computer_name, "HOST");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("ControlSet4294967295"), "{problems:?}");
        assert!(problems[0].contains("only control set"), "{problems:?}");
        assert_eq!(current_control_set(&hive).as_deref(), Some("ControlSet001"));
    }

    #[test]
    fn no_usable_control_set_is_a_problem() {
        let several = system(Some(7), &["ControlSet001", "ControlSet002"], host);
        let none = system(None, &[], host);
        for hive in [several, none] {
            let (facts, problems) = read(&hive);
            assert_eq!(facts.control_set, "");
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains("not read"), "{problems:?}");
        }
    }

    #[test]
    fn a_computer_name_of_another_type_is_damage_not_a_name() {
        let (facts, problems) = read(&system(Some(1), &["ControlSet001"], |b| {
            b.dword("ComputerName", 4_325_441)
        }));
        assert_eq!(facts.computer_name, "");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("DWORD"), "{problems:?}");
    }

    #[test]
    fn control_set_names() {
        assert!(is_control_set("ControlSet001"));
        assert!(is_control_set("controlset12"));
        assert!(!is_control_set("ControlSet"));
        assert!(!is_control_set("ControlSetÄ"));
        assert!(!is_control_set("Select"));
    }
}
