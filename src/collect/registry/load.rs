//! Finding a volume's hive files, reading them with their transaction logs and
//! replaying the logs.
//!
//! Windows writes a hive lazily: recent changes may sit only in `<hive>.LOG1` /
//! `<hive>.LOG2` beside it (a single `<hive>.LOG` on XP). `regf::recover` is always
//! applied (it leaves a clean hive as it is). A dirty hive whose logs could not be
//! applied at all is a problem (errors.csv); a replay that worked keeps its notes
//! (stale entries in the older log, entries missing after a partial reconcile, both
//! normal on a live system) in the manifest, beside every hive's replay summary,
//! and its damage (an entry that would have continued the replay but is damaged, a
//! log of another hive) in errors.csv too.
//! Either way the best bytes available are read.

use serde::Serialize;

use crate::collect::source::Source;
use crate::collect::CollectError;

/// Largest hive (or log) read: real SOFTWARE hives reach a few hundred MiB at most.
pub const MAX_HIVE_BYTES: u64 = 512 << 20;
/// Hive bins are whole multiples of 4 KiB: an unreadable block costs the bins in it.
const HBIN_BLOCK: u64 = 4096;

/// Which hive a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HiveKind {
    /// `Windows/System32/config/SYSTEM`.
    System,
    /// `Windows/System32/config/SOFTWARE`.
    Software,
    /// `Windows/System32/config/SAM`.
    Sam,
    /// `Windows/System32/config/SECURITY`.
    Security,
    /// A user's `NTUSER.DAT`.
    Ntuser,
    /// A user's `UsrClass.dat`.
    Usrclass,
    /// `Windows/AppCompat/Programs/Amcache.hve`.
    Amcache,
}

impl HiveKind {
    /// The hive as the trace rules name it (Amcache has no rules of this kind).
    pub fn rule_hive(self) -> Option<crate::traces::Hive> {
        use crate::traces::Hive;
        Some(match self {
            HiveKind::System => Hive::System,
            HiveKind::Software => Hive::Software,
            HiveKind::Sam => Hive::Sam,
            HiveKind::Security => Hive::Security,
            HiveKind::Ntuser => Hive::Ntuser,
            HiveKind::Usrclass => Hive::Usrclass,
            HiveKind::Amcache => return None,
        })
    }
}

/// A hive read from the volume, logs replayed.
pub struct LoadedHive {
    /// What it is.
    pub kind: HiveKind,
    /// Volume-relative path of the hive file.
    pub path: String,
    /// Profile folder name for user hives, empty otherwise.
    pub user: String,
    /// The hive.
    pub hive: regf::Hive,
}

/// How a hive was read, for manifest.json.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct HiveReplay {
    /// Volume label (filled in by the caller).
    pub volume: String,
    /// Volume path of the hive.
    pub path: String,
    /// The base block said the hive was not written completely.
    pub dirty: bool,
    /// Logs whose entries were applied (`Log1`, `Log2`).
    pub logs_applied: Vec<String>,
    /// Log entries (new format) or dirty pages (old format) applied.
    pub entries_applied: usize,
    /// What the replay noted without failing.
    pub notes: Vec<String>,
}

/// Which hives to read.
#[derive(Clone, Copy, Debug)]
pub struct Wanted {
    /// SYSTEM, SOFTWARE, SAM, SECURITY and the user hives.
    pub registry: bool,
    /// Amcache.hve.
    pub amcache: bool,
}

/// Every hive found on a volume, and what went wrong reading them.
#[derive(Default)]
pub struct Hives {
    /// Hives read, in discovery order.
    pub hives: Vec<LoadedHive>,
    /// `(path, problem)` for hives that could not be read, or were dirty and could
    /// not be replayed.
    pub problems: Vec<(String, String)>,
    /// How each hive read was replayed.
    pub replays: Vec<HiveReplay>,
    /// `(kind, path)` of hives that exist but could not be read at all (their
    /// problem is in `problems`): their keys are not searchable, not absent.
    pub unreadable: Vec<(HiveKind, String)>,
}

impl Hives {
    /// The first hive of `kind` (the machine hives exist once per volume).
    pub fn first(&self, kind: HiveKind) -> Option<&LoadedHive> {
        self.hives.iter().find(|h| h.kind == kind)
    }

    /// Every hive of `kind`.
    pub fn all(&self, kind: HiveKind) -> impl Iterator<Item = &LoadedHive> {
        self.hives.iter().filter(move |h| h.kind == kind)
    }
}

const CONFIG: &str = "Windows/System32/config";
/// Where profiles live: Vista and later, then XP/2003.
const PROFILE_ROOTS: [&str; 2] = ["Users", "Documents and Settings"];
/// A profile's UsrClass.dat: Vista and later, then XP/2003.
const USRCLASS_PATHS: [&str; 2] = [
    "AppData/Local/Microsoft/Windows/UsrClass.dat",
    "Local Settings/Application Data/Microsoft/Windows/UsrClass.dat",
];

/// Reads the hives `wanted` asks for. SYSTEM and SOFTWARE are always read: the host
/// facts every row carries come from them. Missing files are not problems (a triage
/// collection may hold only some); unreadable or unreplayable ones are.
pub fn load(source: &Source, wanted: Wanted) -> Hives {
    let mut hives = Hives::default();
    let machine: &[(HiveKind, &str)] = if wanted.registry {
        &[
            (HiveKind::System, "SYSTEM"),
            (HiveKind::Software, "SOFTWARE"),
            (HiveKind::Sam, "SAM"),
            (HiveKind::Security, "SECURITY"),
        ]
    } else {
        &[
            (HiveKind::System, "SYSTEM"),
            (HiveKind::Software, "SOFTWARE"),
        ]
    };
    for (kind, name) in machine {
        read_if_present(source, *kind, &format!("{CONFIG}/{name}"), "", &mut hives);
    }
    if wanted.registry {
        for (user, dir) in profiles(source, &mut hives) {
            read_if_present(
                source,
                HiveKind::Ntuser,
                &format!("{dir}/NTUSER.DAT"),
                &user,
                &mut hives,
            );
            for tail in USRCLASS_PATHS {
                read_if_present(
                    source,
                    HiveKind::Usrclass,
                    &format!("{dir}/{tail}"),
                    &user,
                    &mut hives,
                );
            }
        }
    }
    if wanted.amcache {
        read_if_present(
            source,
            HiveKind::Amcache,
            "Windows/AppCompat/Programs/Amcache.hve",
            "",
            &mut hives,
        );
    }
    hives
}

/// `(profile folder name, volume path)` of every profile directory; a profile
/// root that exists but cannot be listed is a problem (its users' hives are lost).
fn profiles(source: &Source, hives: &mut Hives) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for root in PROFILE_ROOTS {
        let listing = match source.list(root) {
            Ok(listing) => listing,
            Err(e) if e.absent => continue,
            Err(e) => {
                hives.problems.push((root.to_string(), e.message));
                continue;
            }
        };
        for problem in listing.problems {
            hives.problems.push((root.to_string(), problem));
        }
        for item in listing.items.into_iter().filter(|i| i.is_dir) {
            out.push((item.name.clone(), format!("{root}/{}", item.name)));
        }
    }
    out
}

fn read_if_present(source: &Source, kind: HiveKind, path: &str, user: &str, hives: &mut Hives) {
    let file = match source.open_if_present(path) {
        Ok(Some(file)) => file,
        Ok(None) => return,
        Err(e) => {
            hives.unreadable.push((kind, path.to_string()));
            return hives.problems.push((path.to_string(), e.to_string()));
        }
    };
    match read_hive(source, path, &file) {
        Ok((hive, problems, replay)) => {
            for p in problems.into_iter().chain(not_this_kind(kind, &hive)) {
                hives.problems.push((path.to_string(), p));
            }
            hives.replays.push(replay);
            hives.hives.push(LoadedHive {
                kind,
                path: path.to_string(),
                user: user.to_string(),
                hive,
            });
        }
        Err(e) => {
            hives.unreadable.push((kind, path.to_string()));
            hives.problems.push((path.to_string(), e.to_string()));
        }
    }
}

/// A hive kind's name, the root keys a hive of that kind always has (any one
/// will do) described, and the test for them: a hive placed as SYSTEM or SOFTWARE
/// whose root has none is another hive (a SOFTWARE hive copied as SYSTEM, an
/// NTUSER.DAT named SYSTEM), whose tables would come out silently empty.
type Markers = (&'static str, &'static str, fn(&str) -> bool);

fn markers(kind: HiveKind) -> Option<Markers> {
    match kind {
        HiveKind::System => Some(("SYSTEM", "Select or a ControlSetNNN key", |k| {
            k.eq_ignore_ascii_case("Select") || super::host::is_control_set(k)
        })),
        HiveKind::Software => Some(("SOFTWARE", "a Microsoft key", |k| {
            k.eq_ignore_ascii_case("Microsoft")
        })),
        _ => None,
    }
}

/// A problem when `hive`'s root holds none of the keys a hive of `kind` always
/// has. Only a root whose whole subkey list was read is judged: damage is
/// reported as damage elsewhere, not as a wrong hive.
fn not_this_kind(kind: HiveKind, hive: &regf::Hive) -> Option<String> {
    let (name, wanted, is_marker) = markers(kind)?;
    let root = hive.root().ok()?;
    let keys: Vec<String> = root.subkeys().ok()?.iter().map(|k| k.name()).collect();
    if (root.subkey_count() as usize) > keys.len() || keys.iter().any(|k| is_marker(k)) {
        return None;
    }
    let shown = match keys.is_empty() {
        true => "no keys".to_string(),
        false => keys.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
    };
    Some(format!(
        "not a {name} hive: its root has no {wanted} but {shown} (base block name {:?}): what toolmark reads from a {name} hive is not there",
        hive.base_block().file_name,
    ))
}

/// The replayed hive, the problems met on the way and the replay summary.
fn read_hive(
    source: &Source,
    path: &str,
    file: &crate::collect::source::OpenFile,
) -> Result<(regf::Hive, Vec<String>, HiveReplay), CollectError> {
    // A hive survives a hole bin by bin: an unreadable block costs its bins.
    let (primary, mut problems) = file.read_around_damage(MAX_HIVE_BYTES, HBIN_BLOCK)?;
    // A size nothing backs costs nothing to read, but it is damage all the same.
    problems.extend(file.unbacked_tail());
    let mut log = |suffix: &str| -> Option<Vec<u8>> {
        let log_path = format!("{path}.{suffix}");
        // An absent log is normal (a clean hive needs none); one that is there
        // but cannot be opened is damage.
        let file = match source.open_if_present(&log_path) {
            Ok(file) => file?,
            Err(e) => {
                problems.push(format!("{log_path}: {e}"));
                return None;
            }
        };
        problems.extend(
            file.unbacked_tail()
                .map(|tail| format!("{log_path}: {tail}")),
        );
        match file.read_all(MAX_HIVE_BYTES) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                problems.push(format!("{log_path}: {e}"));
                None
            }
        }
    };
    // XP and 2003 keep a single `.LOG`, in the old format; it takes LOG1's place.
    let log1 = log("LOG1").or_else(|| log("LOG"));
    let log2 = log("LOG2");
    // The primary is replayed in place: a copy would hold a large hive twice.
    let recovered = regf::recover_owned(primary, log1.as_deref(), log2.as_deref())
        .map_err(|e| CollectError::NotTheFormat(format!("not a registry hive: {e}")))?;
    drop((log1, log2));
    let report = recovered.report;
    let replayed = report.format.is_some();
    if report.was_dirty && !replayed {
        problems.extend(report.problems.iter().map(|p| format!("log replay: {p}")));
    } else {
        // A replay that went on but lost an entry, or passed over another hive's
        // log, lost data: that is damage, not a note.
        problems.extend(report.damage.iter().map(|p| format!("log replay: {p}")));
    }
    let replay = HiveReplay {
        volume: String::new(),
        path: path.to_string(),
        dirty: report.was_dirty,
        logs_applied: report
            .logs_applied
            .iter()
            .map(|l| format!("{l:?}"))
            .collect(),
        entries_applied: report.entries_applied,
        notes: if replayed {
            report.problems
        } else {
            Vec::new()
        },
    };
    let hive = regf::Hive::from_bytes(recovered.bytes)
        .map_err(|e| CollectError::NotTheFormat(e.to_string()))?;
    problems.extend(tree_damage(&hive));
    Ok((hive, problems, replay))
}

/// Most key-tree problems named one by one per hive; the rest are counted.
const MAX_TREE_PROBLEMS: usize = 20;

/// Damage anywhere in the hive's key tree: a subkey list leading back into the tree,
/// a list that cannot be read, a key claiming more subkeys than its list holds, a
/// tree nested deeper than any real one. Collectors look keys up by path and would
/// meet such damage only where they look, and elsewhere call a key "not present";
/// walking every key once (linear in the hive, each key entered once) names it
/// wherever it is. An unreadable root is left to the collectors, which report it.
fn tree_damage(hive: &regf::Hive) -> Vec<String> {
    let Ok(found) = hive.walk(|_, _| {}) else {
        return Vec::new();
    };
    let mut out: Vec<String> = found
        .iter()
        .take(MAX_TREE_PROBLEMS)
        .map(|e| format!("key tree: {e}"))
        .collect();
    if found.len() > MAX_TREE_PROBLEMS {
        out.push(format!(
            "key tree: {} more problems of the kinds above",
            found.len() - MAX_TREE_PROBLEMS
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::hive::HiveBuilder;

    fn hive_with(keys: &[&str]) -> regf::Hive {
        let mut b = HiveBuilder::new();
        let top: Vec<u32> = keys.iter().map(|k| b.key(k, &[], &[])).collect();
        let root = b.key("ROOT", &top, &[]);
        regf::Hive::from_bytes(b.finish(root)).unwrap()
    }

    #[test]
    fn a_hive_without_the_keys_of_its_kind_is_named() {
        let software = hive_with(&["Classes", "Microsoft", "Policies"]);
        let system = hive_with(&["ControlSet001", "Select", "Setup"]);
        let ntuser = hive_with(&["AppEvents", "Console", "Software"]);
        assert_eq!(not_this_kind(HiveKind::Software, &software), None);
        assert_eq!(not_this_kind(HiveKind::System, &system), None);
        let swapped = not_this_kind(HiveKind::System, &software).unwrap();
        assert!(swapped.starts_with("not a SYSTEM hive"), "{swapped}");
        assert!(not_this_kind(HiveKind::System, &ntuser).is_some());
        assert!(not_this_kind(HiveKind::Software, &system).is_some());
        // Only SYSTEM and SOFTWARE are judged.
        assert_eq!(not_this_kind(HiveKind::Ntuser, &system), None);
    }
}
