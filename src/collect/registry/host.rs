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

use serde::Serialize;

use super::load::{HiveKind, Hives};
use super::value::{number, subkeys, text};

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

/// The name of the current control set of a SYSTEM hive, if `Select` says.
pub fn current_control_set(system: &regf::Hive) -> Option<String> {
    let select = system.open_key("Select").ok()??;
    let current = number(&select, "Current")?;
    Some(format!("ControlSet{current:03}"))
}

/// Reads the host facts from the volume's SYSTEM and SOFTWARE hives.
pub fn facts(hives: &Hives) -> HostFacts {
    let mut facts = HostFacts::default();
    if let Some(system) = hives.first(HiveKind::System) {
        system_facts(&system.hive, &mut facts);
    }
    if let Some(software) = hives.first(HiveKind::Software) {
        if let Ok(Some(cv)) = software
            .hive
            .open_key("Microsoft\\Windows NT\\CurrentVersion")
        {
            facts.product_name = text(&cv, "ProductName");
            facts.current_build =
                first_non_empty([text(&cv, "CurrentBuild"), text(&cv, "CurrentBuildNumber")]);
            facts.display_version =
                first_non_empty([text(&cv, "DisplayVersion"), text(&cv, "ReleaseId")]);
        }
    }
    facts
}

fn system_facts(system: &regf::Hive, facts: &mut HostFacts) {
    let Some(set) = current_control_set(system) else {
        return;
    };
    let key = |path: &str| system.open_key(&format!("{set}\\{path}")).ok().flatten();
    if let Some(k) = key("Control\\ComputerName\\ComputerName") {
        facts.computer_name = text(&k, "ComputerName");
    }
    if let Some(k) = key("Control\\TimeZoneInformation") {
        facts.timezone = first_non_empty([text(&k, "TimeZoneKeyName"), text(&k, "StandardName")]);
        // Bias is a signed quantity stored in a DWORD.
        facts.timezone_bias_minutes = number(&k, "Bias").map(|b| b as u32 as i32);
    }
    if let Some(interfaces) = key("Services\\Tcpip\\Parameters\\Interfaces") {
        for interface in subkeys(&interfaces) {
            for name in ["IPAddress", "DhcpIPAddress"] {
                for address in text(&interface, name).split(" | ") {
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
