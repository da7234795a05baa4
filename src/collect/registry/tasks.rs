//! tasks.csv: scheduled tasks from the SOFTWARE hive's TaskCache joined with their
//! XML definitions in `Windows/System32/Tasks`.
//!
//! - `...\Schedule\TaskCache\Tree\<folder>\<name>` (nested like the Tasks folder):
//!   value `Id`, the task's GUID.
//! - `...\Schedule\TaskCache\Tasks\{GUID}`: `Path` (`\folder\name`), `URI`,
//!   `Author`, `Date`, and `DynamicInfo` (u32 version, then the creation FILETIME @4
//!   and the last run FILETIME @12; libyal winreg-kb "Task Scheduler keys").
//! - `Windows/System32/Tasks/<folder>/<name>`: the XML (see [`super::task_xml`]).
//!
//! Tasks deleted from the XML folder but left in the registry (or the reverse) are
//! still listed: one row per TaskCache entry, the XML columns empty when the file is
//! gone (`xml_problem` says why).

use std::collections::{BTreeSet, HashSet};

use filetime::Filetime;

use super::load::{HiveKind, Hives};
use super::reader::Reader;
use super::task_xml::{self, TaskXml, MAX_XML_BYTES};
use crate::collect::rows::observation;
use crate::collect::source::Source;
use crate::output::Stage;
use crate::pipeline::Sinks;
use crate::traces::matcher::Observed;

const TASK_CACHE: &str = "Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache";
const TASKS_DIR: &str = "Windows/System32/Tasks";
/// Deepest Tree folder nesting followed.
const MAX_DEPTH: usize = 32;

/// Writes every task of the volume's SOFTWARE hive.
pub fn collect(source: &Source, out: &Sinks<'_>, volume: &str, hives: &Hives) {
    let Some(software) = hives.first(HiveKind::Software) else {
        return;
    };
    let read = Reader::new(out, volume, &software.path);
    let Some(cache) = read.open(&software.hive, TASK_CACHE) else {
        return;
    };
    let mut by_tree = Vec::new();
    if let Some(tree) = read.subkey(&cache, "Tree") {
        let mut reached = HashSet::from([tree.offset()]);
        walk_tree(&read, &tree, String::new(), 0, &mut reached, &mut by_tree);
    }
    let tasks = read.subkey(&cache, "Tasks");
    let mut seen = BTreeSet::new();
    for (name, id) in &by_tree {
        let task = tasks.as_ref().and_then(|t| read.subkey(t, id));
        seen.insert(id.to_ascii_lowercase());
        write(source, &read, name, id, task.as_ref());
    }
    // Entries the Tree no longer points to (a half-deleted task).
    for task in tasks.as_ref().map(|t| read.subkeys(t)).unwrap_or_default() {
        let id = task.name();
        if seen.contains(&id.to_ascii_lowercase()) {
            continue;
        }
        let name = read.text(&task, "Path");
        write(source, &read, &name, &id, Some(&task));
    }
}

/// `(\folder\name, id)` of every Tree key with an `Id`, each key once (`reached`:
/// the keys already met; a subkey list leading back is reported, not followed).
fn walk_tree(
    read: &Reader<'_>,
    key: &regf::Key<'_>,
    path: String,
    depth: usize,
    reached: &mut HashSet<u32>,
    out: &mut Vec<(String, String)>,
) {
    let children = read.unreached_subkeys(key, reached);
    if depth > MAX_DEPTH {
        if !children.is_empty() {
            read.report(
                &format!("TaskCache Tree folder {path}"),
                &format_args!("nested deeper than {MAX_DEPTH} folders: its subkeys are not read"),
            );
        }
        return;
    }
    for child in children {
        let child_path = format!("{path}\\{}", child.name());
        let id = read.text(&child, "Id");
        if !id.is_empty() {
            out.push((child_path.clone(), id));
        }
        walk_tree(read, &child, child_path, depth + 1, reached, out);
    }
}

fn write(source: &Source, read: &Reader<'_>, name: &str, id: &str, task: Option<&regf::Key<'_>>) {
    let (out, volume, hive_path) = (read.out(), read.volume(), read.hive_path());
    let get = |value: &str| task.map(|t| read.text(t, value)).unwrap_or_default();
    let dynamic = task.and_then(|t| read.bytes(t, "DynamicInfo"));
    // Its two times end at byte 20 (real values hold 28 or 36 bytes): shorter
    // data is damage, said so, not two empty cells.
    if let Some(d) = dynamic.as_deref().filter(|d| d.len() < 20) {
        read.report(
            &format!("{TASK_CACHE}\\Tasks\\{id} value DynamicInfo"),
            &format_args!(
                "{} bytes, too short for its created and last-run times",
                d.len()
            ),
        );
    }
    let at = |offset: usize| {
        dynamic
            .as_deref()
            .and_then(|d| d.get(offset..))
            .and_then(Filetime::from_le_slice)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    let (created, last_run) = (at(4), at(12));
    let written = task
        .map(|t| t.last_written().to_string())
        .unwrap_or_default();
    let xml_path = format!("{TASKS_DIR}{}", name.replace('\\', "/"));
    let (xml, xml_problem) = match read_xml(source, &xml_path) {
        Ok(x) => (x, String::new()),
        Err((e, absent)) => {
            // A deleted XML is a finding of its own (the column says so); one
            // that exists but cannot be read is a loss.
            if !absent {
                out.error(volume, &xml_path, Stage::Task, &e);
            }
            (TaskXml::default(), e)
        }
    };
    let registered = xml.date.clone();
    let observed_command = format!("{} {}", xml.command, xml.arguments)
        .trim()
        .to_string();
    out.row(
        "tasks",
        volume,
        vec![
            hive_path.to_string(),
            name.to_string(),
            id.to_string(),
            get("Path"),
            get("URI"),
            get("Author"),
            get("Date"),
            created.clone(),
            last_run.clone(),
            written,
            xml_path.clone(),
            xml.command.clone(),
            xml.arguments.clone(),
            xml.author,
            xml.date,
            xml.user_id,
            xml.triggers,
            xml_problem,
        ],
    );
    out.observe(
        volume,
        observation(
            &registered,
            "tasks",
            hive_path,
            name.to_string(),
            Observed::Task {
                name: name.to_string(),
                command: observed_command,
            },
        ),
    );
    let action = format!("{} {}", xml.command, xml.arguments);
    for (time, desc) in [(created, "Task Created"), (last_run, "Task Last Run")] {
        out.event(
            volume,
            &time,
            desc,
            format!("task {name}: {}", action.trim()),
            "tasks",
            hive_path,
            format!("{TASK_CACHE}\\Tasks\\{id}"),
        );
    }
}

/// The task file at `path`, or why not and whether it is simply absent.
fn read_xml(source: &Source, path: &str) -> Result<TaskXml, (String, bool)> {
    let bytes = source
        .open(path)
        .map_err(|e| (e.message, e.absent))?
        .read_all(MAX_XML_BYTES)
        .map_err(|e| (e.to_string(), false))?;
    task_xml::parse(&task_xml::decode(&bytes)).map_err(|e| (e, false))
}
