//! Reading and checking a rules file.
//!
//! The text is first read into loose serde types that keep the byte span of every
//! value (`toml::Spanned`), then checked field by field; each problem is reported
//! with the line and column of the value (or table) it concerns. All problems are
//! collected, so one run shows an author everything that is wrong.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::glob::Glob;
use super::model::{
    Artifact, ArtifactKind, Category, Hive, KnowledgeBase, Logging, Role, Strength, Together, Tool,
    Trace, USN_REASONS,
};

/// The only rules-file format this code reads.
pub const FORMAT_VERSION: u32 = 1;

/// Most alternatives an `all_of` field may list (the matcher keeps one bit each).
pub const MAX_ALL_OF: usize = 64;

/// One thing wrong in a rules file, with its position (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line of the offending value or table (1-based; 0 if the parser gave no position).
    pub line: usize,
    /// Column in characters (1-based; 0 if unknown).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}:{}: {}", self.line, self.column, self.message)
    }
}

/// Why a rules file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("cannot read rules file {path}: {source}")]
    Io {
        /// The file asked for.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The text is not TOML, or not a valid rule set; every problem found is listed.
    #[error("invalid rules ({} problem(s)):\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
}

impl RulesError {
    /// The positioned problems (empty for I/O errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            RulesError::Io { .. } => &[],
            RulesError::Invalid(problems) => problems,
        }
    }
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where each line of a text starts, so byte offsets become line:column without
/// rescanning the text for each of the thousands of traces a rule file holds.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text`.
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// 1-based line and column (in characters) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut end = offset.min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= end);
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self.text[start..end].chars().count() + 1;
        (line, column)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    format: Spanned<u32>,
    #[serde(default)]
    tool: Vec<Spanned<RawTool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTool {
    id: Spanned<String>,
    name: String,
    category: Spanned<String>,
    #[serde(default)]
    executables: Vec<Spanned<String>>,
    #[serde(default)]
    specific_executables: Vec<Spanned<String>>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    modules: Vec<String>,
    #[serde(default)]
    one_host: bool,
    #[serde(default)]
    role_executables: BTreeMap<Role, Vec<Spanned<String>>>,
    note: Option<String>,
    #[serde(default)]
    trace: Vec<Spanned<RawTrace>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrace {
    role: Role,
    strength: Strength,
    logging: Spanned<String>,
    #[serde(default)]
    success: bool,
    #[serde(default)]
    generic: bool,
    artifact: Spanned<String>,
    note: Option<String>,
    #[serde(default)]
    sheet: Vec<String>,
    channel: Option<Spanned<String>>,
    event_id: Option<Spanned<u32>>,
    fields: Option<Spanned<BTreeMap<String, Spanned<OneOrMany>>>>,
    unless: Option<Spanned<BTreeMap<String, Spanned<OneOrMany>>>>,
    all_of: Option<Spanned<String>>,
    within: Option<Spanned<String>>,
    case_sensitive: Option<Spanned<Vec<String>>>,
    pattern: Option<Spanned<String>>,
    hive: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    value: Option<Spanned<String>>,
    data: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    image_path: Option<Spanned<String>>,
    command: Option<Spanned<String>>,
    reasons: Option<Spanned<Vec<Spanned<String>>>>,
    exe: Option<Spanned<String>>,
}

impl RawTrace {
    /// The artifact-specific keys that are present, with their spans.
    fn specific_keys(&self) -> Vec<(&'static str, Range<usize>)> {
        let strings = [
            ("channel", &self.channel),
            ("pattern", &self.pattern),
            ("hive", &self.hive),
            ("key", &self.key),
            ("value", &self.value),
            ("data", &self.data),
            ("path", &self.path),
            ("name", &self.name),
            ("image_path", &self.image_path),
            ("command", &self.command),
            ("exe", &self.exe),
            ("all_of", &self.all_of),
            ("within", &self.within),
        ];
        let mut keys: Vec<_> = strings
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|s| (k, s.span())))
            .collect();
        keys.extend(self.event_id.as_ref().map(|s| ("event_id", s.span())));
        keys.extend(self.fields.as_ref().map(|s| ("fields", s.span())));
        keys.extend(self.unless.as_ref().map(|s| ("unless", s.span())));
        keys.extend(
            self.case_sensitive
                .as_ref()
                .map(|s| ("case_sensitive", s.span())),
        );
        keys.extend(self.reasons.as_ref().map(|s| ("reasons", s.span())));
        keys
    }
}

/// Required and optional artifact-specific keys per kind.
fn key_rules(kind: ArtifactKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        ArtifactKind::Evtx => (
            &["channel", "event_id"],
            &["fields", "unless", "all_of", "within", "case_sensitive"],
        ),
        ArtifactKind::Prefetch => (&["pattern"], &[]),
        ArtifactKind::Registry => (&["hive", "key"], &["value", "data"]),
        ArtifactKind::File | ArtifactKind::Mft => (&["path"], &[]),
        ArtifactKind::Usn => (&["name"], &["reasons"]),
        ArtifactKind::Process
        | ArtifactKind::Amcache
        | ArtifactKind::Shimcache
        | ArtifactKind::Bam
        | ArtifactKind::Userassist => (&["exe"], &[]),
        ArtifactKind::Service => (&["name"], &["image_path", "unless"]),
        ArtifactKind::Task => (&[], &["name", "command", "unless"]),
    }
}

struct Checker<'a> {
    lines: LineIndex<'a>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn report(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = self.lines.line_col(span.start);
        self.problems.push(Problem {
            line,
            column,
            message: message.into(),
        });
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        self.lines.line_col(span.start).0
    }

    fn glob(&mut self, value: &Spanned<String>, what: &str) -> Option<Glob> {
        match Glob::new(value.get_ref()) {
            Ok(g) => Some(g),
            Err(e) => {
                self.report(value.span(), format!("bad glob in `{what}`: {e}"));
                None
            }
        }
    }

    fn opt_glob(&mut self, value: &Option<Spanned<String>>, what: &str) -> Option<Option<Glob>> {
        match value {
            None => Some(None),
            Some(v) => self.glob(v, what).map(Some),
        }
    }

    fn tool(&mut self, raw: &Spanned<RawTool>) -> Option<Tool> {
        let t = raw.get_ref();
        let id_ok = !t.id.get_ref().is_empty()
            && t.id
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !id_ok {
            self.report(
                t.id.span(),
                format!("tool id `{}` is not snake_case", t.id.get_ref()),
            );
        }
        let category = Category::parse(t.category.get_ref());
        if category.is_none() {
            let known: Vec<_> = Category::ALL.iter().map(|c| c.as_str()).collect();
            self.report(
                t.category.span(),
                format!(
                    "unknown category `{}` (known: {})",
                    t.category.get_ref(),
                    known.join(", ")
                ),
            );
        }
        for exe in t.executables.iter().chain(&t.specific_executables) {
            if exe.get_ref().is_empty() || exe.get_ref().to_lowercase() != *exe.get_ref() {
                self.report(
                    exe.span(),
                    format!(
                        "executable name `{}` must be non-empty lower case",
                        exe.get_ref()
                    ),
                );
            }
        }
        for exe in t.role_executables.values().flatten() {
            if !t
                .specific_executables
                .iter()
                .any(|e| e.get_ref() == exe.get_ref())
            {
                self.report(
                    exe.span(),
                    format!(
                        "role executable `{}` is not listed in `specific_executables`",
                        exe.get_ref()
                    ),
                );
            }
        }
        for exe in &t.specific_executables {
            if !t.executables.iter().any(|e| e.get_ref() == exe.get_ref()) {
                self.report(
                    exe.span(),
                    format!(
                        "specific executable `{}` is not listed in `executables`",
                        exe.get_ref()
                    ),
                );
            }
        }
        let traces: Vec<Option<Trace>> = t.trace.iter().map(|tr| self.trace(tr)).collect();
        let traces: Option<Vec<Trace>> = traces.into_iter().collect();
        let traces = traces?;
        if !traces.iter().any(|tr| tr.strength == Strength::Anchor) {
            self.report(
                t.id.span(),
                format!("tool `{}` has no anchor trace", t.id.get_ref()),
            );
            return None;
        }
        Some(Tool {
            id: t.id.get_ref().clone(),
            name: t.name.clone(),
            category: category?,
            executables: t.executables.iter().map(|e| e.get_ref().clone()).collect(),
            specific_executables: t
                .specific_executables
                .iter()
                .map(|e| e.get_ref().clone())
                .collect(),
            aliases: t.aliases.clone(),
            modules: t.modules.iter().map(|m| m.to_ascii_lowercase()).collect(),
            one_host: t.one_host,
            role_executables: t
                .role_executables
                .iter()
                .map(|(role, names)| (*role, names.iter().map(|n| n.get_ref().clone()).collect()))
                .collect(),
            note: t.note.clone(),
            traces,
        })
        .filter(|_| id_ok)
    }

    fn trace(&mut self, raw: &Spanned<RawTrace>) -> Option<Trace> {
        let t = raw.get_ref();
        let before = self.problems.len();
        let logging = Logging::parse(t.logging.get_ref());
        if logging.is_none() {
            self.report(
                t.logging.span(),
                format!(
                    "unknown logging `{}` (use default, sysmon, audit:<subcategory> or powershell:<policy>)",
                    t.logging.get_ref()
                ),
            );
        }
        if t.success && t.strength != Strength::Supporting {
            self.report(
                raw.span(),
                "a success trace must have strength = \"supporting\"",
            );
        }
        if t.generic && t.strength != Strength::Anchor {
            self.report(
                raw.span(),
                "only an anchor can be generic (a supporting trace never names the tool alone)",
            );
        }
        let Some(kind) = ArtifactKind::parse(t.artifact.get_ref()) else {
            let known: Vec<_> = ArtifactKind::ALL.iter().map(|k| k.as_str()).collect();
            self.report(
                t.artifact.span(),
                format!(
                    "unknown artifact kind `{}` (known: {})",
                    t.artifact.get_ref(),
                    known.join(", ")
                ),
            );
            return None;
        };
        let (required, optional) = key_rules(kind);
        let present = t.specific_keys();
        for (key, span) in &present {
            if !required.contains(key) && !optional.contains(key) {
                self.report(
                    span.clone(),
                    format!("`{key}` does not apply to artifact `{}`", kind.as_str()),
                );
            }
        }
        for key in required {
            if !present.iter().any(|(k, _)| k == key) {
                self.report(
                    raw.span(),
                    format!("artifact `{}` needs `{key}`", kind.as_str()),
                );
            }
        }
        if kind == ArtifactKind::Task && present.iter().all(|(k, _)| *k == "unless") {
            self.report(raw.span(), "artifact `task` needs `name` or `command`");
        }
        let artifact = self.artifact(kind, t);
        let unless = self.unless(kind, t);
        let together = self.together(t, artifact.as_ref());
        if self.problems.len() > before {
            return None;
        }
        Some(Trace {
            role: t.role,
            strength: t.strength,
            logging: logging?,
            success: t.success,
            generic: t.generic,
            artifact: artifact?,
            unless,
            together,
            note: t.note.clone(),
            sheet: t.sheet.clone(),
            line: self.line_of(&raw.span()),
        })
    }

    /// Field name -> globs of a `fields` or `unless` table.
    fn field_globs(
        &mut self,
        raw: &Spanned<BTreeMap<String, Spanned<OneOrMany>>>,
        what: &str,
    ) -> BTreeMap<String, Vec<Glob>> {
        let mut fields = BTreeMap::new();
        for (name, value) in raw.get_ref() {
            let texts = match value.get_ref() {
                OneOrMany::One(s) => vec![s.clone()],
                OneOrMany::Many(v) => v.clone(),
            };
            if texts.is_empty() {
                self.report(value.span(), format!("{what} `{name}` has no alternatives"));
                continue;
            }
            let mut globs = Vec::new();
            for text in texts {
                match Glob::new(&text) {
                    Ok(g) => globs.push(g),
                    Err(e) => {
                        self.report(value.span(), format!("bad glob in {what} `{name}`: {e}"))
                    }
                }
            }
            fields.insert(name.clone(), globs);
        }
        fields
    }

    /// The trace's benign-twin exclusions. Service and task traces name the fields of
    /// their fact (`name`, `image_path`, …); placeholders are refused, since an
    /// exclusion must not depend on the name an attacker gave the tool.
    fn unless(&mut self, kind: ArtifactKind, t: &RawTrace) -> BTreeMap<String, Vec<Glob>> {
        let Some(raw) = &t.unless else {
            return BTreeMap::new();
        };
        let unless = self.field_globs(raw, "unless field");
        let known: &[&str] = match kind {
            ArtifactKind::Service => &[
                "name",
                "image_path",
                "service_type",
                "start_type",
                "account",
            ],
            ArtifactKind::Task => &["name", "command", "user"],
            _ => &[],
        };
        for (name, globs) in &unless {
            if !known.is_empty() && !known.contains(&name.as_str()) {
                self.report(
                    raw.span(),
                    format!(
                        "unless field `{name}` is not a field of artifact `{}` (known: {})",
                        kind.as_str(),
                        known.join(", ")
                    ),
                );
            }
            if globs.iter().any(Glob::has_placeholder) {
                self.report(
                    raw.span(),
                    format!("unless field `{name}` uses a placeholder ({{exe}}/{{path}})"),
                );
            }
        }
        unless
    }

    /// The trace's `all_of` / `within` pair: both or neither; `all_of` names a field
    /// of `fields` with 2 to [`MAX_ALL_OF`] alternatives (one bit each per group).
    fn together(&mut self, t: &RawTrace, artifact: Option<&Artifact>) -> Option<Together> {
        let (all_of, within) = match (&t.all_of, &t.within) {
            (None, None) => return None,
            (Some(all_of), Some(within)) => (all_of, within),
            (Some(one), None) | (None, Some(one)) => {
                self.report(one.span(), "`all_of` and `within` go together");
                return None;
            }
        };
        let alternatives = match artifact {
            Some(Artifact::Evtx { fields, .. }) => fields.get(all_of.get_ref()).map(Vec::len),
            _ => return None,
        };
        if !alternatives.is_some_and(|n| (2..=MAX_ALL_OF).contains(&n)) {
            self.report(
                all_of.span(),
                format!(
                    "`all_of` must name a field of `fields` with 2 to {MAX_ALL_OF} alternatives"
                ),
            );
            return None;
        }
        if within.get_ref().trim().is_empty() {
            self.report(within.span(), "`within` names no field");
            return None;
        }
        Some(Together {
            all_of: all_of.get_ref().clone(),
            within: within.get_ref().clone(),
        })
    }

    /// Builds the artifact; presence of required keys was checked by the caller.
    /// Recompiles the globs of the fields `names` lists to compare with case kept;
    /// every name must be a field of `fields`.
    fn keep_case(
        &mut self,
        fields: &mut BTreeMap<String, Vec<Glob>>,
        names: &Spanned<Vec<String>>,
    ) {
        if names.get_ref().is_empty() {
            self.report(names.span(), "`case_sensitive` names no field");
        }
        for name in names.get_ref() {
            let Some(globs) = fields.get_mut(name) else {
                self.report(
                    names.span(),
                    format!("`case_sensitive` names `{name}`, which is not a field of `fields`"),
                );
                continue;
            };
            for glob in globs.iter_mut() {
                // The pattern compiled once already, so it compiles again.
                if let Ok(kept) = Glob::case_sensitive(glob.as_str()) {
                    *glob = kept;
                }
            }
        }
    }

    fn artifact(&mut self, kind: ArtifactKind, t: &RawTrace) -> Option<Artifact> {
        Some(match kind {
            ArtifactKind::Evtx => {
                let channel = self.glob(t.channel.as_ref()?, "channel")?;
                let event_id = *t.event_id.as_ref()?.get_ref();
                let mut fields = match &t.fields {
                    Some(raw) => self.field_globs(raw, "field"),
                    None => BTreeMap::new(),
                };
                if let Some(names) = &t.case_sensitive {
                    self.keep_case(&mut fields, names);
                }
                Artifact::Evtx {
                    channel,
                    event_id,
                    fields,
                }
            }
            ArtifactKind::Prefetch => Artifact::Prefetch {
                pattern: self.glob(t.pattern.as_ref()?, "pattern")?,
            },
            ArtifactKind::Registry => {
                let hive_raw = t.hive.as_ref()?;
                let hive = Hive::parse(hive_raw.get_ref());
                if hive.is_none() {
                    let known: Vec<_> = Hive::ALL.iter().map(|h| h.as_str()).collect();
                    self.report(
                        hive_raw.span(),
                        format!(
                            "unknown hive `{}` (known: {})",
                            hive_raw.get_ref(),
                            known.join(", ")
                        ),
                    );
                }
                let key_raw = t.key.as_ref()?;
                if key_raw.get_ref().starts_with("HK") || key_raw.get_ref().starts_with('\\') {
                    self.report(
                        key_raw.span(),
                        "registry `key` is a path inside the hive: drop the root (HKLM\\…, \\REGISTRY\\…)",
                    );
                }
                let key = self.glob(key_raw, "key");
                let value = self.opt_glob(&t.value, "value");
                let data = self.opt_glob(&t.data, "data");
                Artifact::Registry {
                    hive: hive?,
                    key: key?,
                    value: value?,
                    data: data?,
                }
            }
            ArtifactKind::File => Artifact::File {
                path: self.volume_path(t.path.as_ref()?)?,
            },
            ArtifactKind::Mft => Artifact::Mft {
                path: self.volume_path(t.path.as_ref()?)?,
            },
            ArtifactKind::Usn => {
                let name = self.glob(t.name.as_ref()?, "name");
                let mut reasons = Vec::new();
                for r in t.reasons.iter().flat_map(|r| r.get_ref()) {
                    if USN_REASONS.contains(&r.get_ref().as_str()) {
                        reasons.push(r.get_ref().clone());
                    } else {
                        self.report(r.span(), format!("unknown USN reason `{}`", r.get_ref()));
                    }
                }
                Artifact::Usn {
                    name: name?,
                    reasons,
                }
            }
            ArtifactKind::Process => Artifact::Process {
                exe: self.glob(t.exe.as_ref()?, "exe")?,
            },
            ArtifactKind::Amcache => Artifact::Amcache {
                exe: self.glob(t.exe.as_ref()?, "exe")?,
            },
            ArtifactKind::Shimcache => Artifact::Shimcache {
                exe: self.glob(t.exe.as_ref()?, "exe")?,
            },
            ArtifactKind::Bam => Artifact::Bam {
                exe: self.glob(t.exe.as_ref()?, "exe")?,
            },
            ArtifactKind::Userassist => Artifact::Userassist {
                exe: self.glob(t.exe.as_ref()?, "exe")?,
            },
            ArtifactKind::Service => {
                let name = self.glob(t.name.as_ref()?, "name");
                let image_path = self.opt_glob(&t.image_path, "image_path");
                Artifact::Service {
                    name: name?,
                    image_path: image_path?,
                }
            }
            ArtifactKind::Task => {
                let name = self.opt_glob(&t.name, "name");
                let command = self.opt_glob(&t.command, "command");
                Artifact::Task {
                    name: name?,
                    command: command?,
                }
            }
        })
    }

    /// File and MFT paths are relative to the volume: no drive letter.
    fn volume_path(&mut self, value: &Spanned<String>) -> Option<Glob> {
        let text = value.get_ref();
        if text.as_bytes().get(1) == Some(&b':') {
            self.report(
                value.span(),
                format!("path `{text}` must be volume-relative (drop the drive letter)"),
            );
            return None;
        }
        self.glob(value, "path")
    }
}

/// Parses and checks a rules file's text.
pub fn load_from_str(text: &str) -> Result<KnowledgeBase, RulesError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map_or((0, 0), |span| LineIndex::new(text).line_col(span.start));
        RulesError::Invalid(vec![Problem {
            line,
            column,
            message: e.message().to_string(),
        }])
    })?;
    let mut checker = Checker {
        lines: LineIndex::new(text),
        problems: Vec::new(),
    };
    if *raw.format.get_ref() != FORMAT_VERSION {
        checker.report(
            raw.format.span(),
            format!(
                "rules format {} is not supported (this build reads format {FORMAT_VERSION})",
                raw.format.get_ref()
            ),
        );
    }
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    let mut tools = Vec::new();
    for raw_tool in &raw.tool {
        let id = &raw_tool.get_ref().id;
        let line = checker.line_of(&id.span());
        if let Some(first) = first_line.get(id.get_ref().as_str()) {
            checker.report(
                id.span(),
                format!(
                    "duplicate tool id `{}` (first defined on line {first})",
                    id.get_ref()
                ),
            );
            continue;
        }
        first_line.insert(id.get_ref(), line);
        if let Some(tool) = checker.tool(raw_tool) {
            tools.push(tool);
        }
    }
    if checker.problems.is_empty() {
        Ok(KnowledgeBase { tools })
    } else {
        Err(RulesError::Invalid(checker.problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid file; tests break one line of it at a time.
    const GOOD: &str = "\
format = 1

[[tool]]
id = 'demo'
name = 'Demo'
category = 'command_execution'
executables = ['demo.exe']
specific_executables = ['demo.exe']

[[tool.trace]]
role = 'source'
strength = 'anchor'
logging = 'default'
artifact = 'prefetch'
pattern = 'DEMO.EXE-*.pf'
";

    fn problems(text: &str) -> Vec<Problem> {
        match load_from_str(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.problems().to_vec(),
        }
    }

    fn first_line(text: &str) -> (usize, String) {
        let p = problems(text);
        (p[0].line, p[0].message.clone())
    }

    #[test]
    fn good_file_loads() {
        let kb = load_from_str(GOOD).unwrap();
        assert_eq!(kb.tools.len(), 1);
        assert_eq!(
            kb.tools[0].traces[0].artifact.kind(),
            ArtifactKind::Prefetch
        );
    }

    #[test]
    fn role_executables_must_be_the_tools_own() {
        let with = |names: &str| {
            GOOD.replace(
                "specific_executables = ['demo.exe']\n",
                &format!("specific_executables = ['demo.exe']\nrole_executables = {{ source = {names} }}\n"),
            )
        };
        let kb = load_from_str(&with("['demo.exe']")).unwrap();
        assert_eq!(
            kb.tools[0].placeholder_executables(Role::Source),
            ["demo.exe"]
        );
        assert_eq!(kb.tools[0].placeholder_executables(Role::Dc), ["demo.exe"]);
        let (line, msg) = first_line(&with("['other.exe']"));
        assert_eq!(line, 9, "{msg}");
        assert!(msg.contains("role executable `other.exe`"), "{msg}");
    }

    #[test]
    fn line_col_counts_characters() {
        let lines = LineIndex::new("ab\nçd\nef");
        assert_eq!(lines.line_col(0), (1, 1));
        assert_eq!(lines.line_col(3), (2, 1));
        // byte 5 is after the two-byte ç and 'd' starts there: column 2
        assert_eq!(lines.line_col(5), (2, 2));
        assert_eq!(lines.line_col(999), (3, 3));
    }

    #[test]
    fn unknown_artifact_kind_points_at_the_value() {
        let text = GOOD.replace("artifact = 'prefetch'", "artifact = 'lnk'");
        let (line, msg) = first_line(&text);
        assert_eq!(line, 14, "{msg}");
        assert!(msg.contains("unknown artifact kind `lnk`"), "{msg}");
    }

    #[test]
    fn bad_glob_points_at_the_value() {
        let text = GOOD.replace("'DEMO.EXE-*.pf'", "'{tool_exe}-*.pf'");
        let (line, msg) = first_line(&text);
        assert_eq!(line, 15, "{msg}");
        assert!(msg.contains("unknown placeholder {tool_exe}"), "{msg}");
    }

    #[test]
    fn unknown_role_strength_logging() {
        let (line, msg) = first_line(&GOOD.replace("role = 'source'", "role = 'attacker'"));
        assert_eq!(line, 11, "{msg}");
        assert!(msg.contains("attacker"), "{msg}");
        let (line, msg) = first_line(&GOOD.replace("strength = 'anchor'", "strength = 'strong'"));
        assert_eq!(line, 12, "{msg}");
        let (line, msg) =
            first_line(&GOOD.replace("logging = 'default'", "logging = 'audit:everything'"));
        assert_eq!(line, 13, "{msg}");
        assert!(msg.contains("unknown logging"), "{msg}");
    }

    #[test]
    fn missing_and_misplaced_artifact_keys() {
        // prefetch without pattern: reported at the trace table.
        let text = GOOD.replace("pattern = 'DEMO.EXE-*.pf'\n", "");
        let p = problems(&text);
        assert!(p[0].message.contains("needs `pattern`"), "{p:?}");
        assert!((10..=14).contains(&p[0].line), "{p:?}");
        // a key of another artifact kind: reported on its own line.
        let text = GOOD.replace(
            "pattern = 'DEMO.EXE-*.pf'",
            "pattern = 'DEMO.EXE-*.pf'\nevent_id = 4688",
        );
        let (line, msg) = first_line(&text);
        assert_eq!(line, 16, "{msg}");
        assert!(
            msg.contains("`event_id` does not apply to artifact `prefetch`"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_key_is_a_syntax_problem_with_position() {
        let text = GOOD.replace("pattern = 'DEMO.EXE-*.pf'", "patern = 'DEMO.EXE-*.pf'");
        let (line, msg) = first_line(&text);
        assert_eq!(line, 15, "{msg}");
        assert!(msg.contains("patern"), "{msg}");
    }

    #[test]
    fn toml_syntax_error_has_position() {
        let text = GOOD.replace("name = 'Demo'", "name = 'Demo");
        let (line, _) = first_line(&text);
        assert_eq!(line, 5);
    }

    #[test]
    fn duplicate_ids_and_missing_anchor() {
        let second = GOOD.trim_start_matches("format = 1\n");
        let text = format!("{GOOD}{second}");
        let (line, msg) = first_line(&text);
        assert_eq!(line, 18, "{msg}");
        assert!(
            msg.contains("duplicate tool id `demo` (first defined on line 4)"),
            "{msg}"
        );

        let text = GOOD.replace("strength = 'anchor'", "strength = 'supporting'");
        let (line, msg) = first_line(&text);
        assert_eq!(line, 4, "{msg}");
        assert!(msg.contains("no anchor"), "{msg}");
    }

    #[test]
    fn registry_and_file_specific_checks() {
        let reg = GOOD.replace(
            "artifact = 'prefetch'\npattern = 'DEMO.EXE-*.pf'",
            "artifact = 'registry'\nhive = 'HKLM'\nkey = 'HKLM\\Software\\Demo'",
        );
        let p = problems(&reg);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!((p[0].line, p[1].line), (15, 16), "{p:?}");
        let file = GOOD.replace(
            "artifact = 'prefetch'\npattern = 'DEMO.EXE-*.pf'",
            "artifact = 'file'\npath = 'C:\\Windows\\demo.dll'",
        );
        let (line, msg) = first_line(&file);
        assert_eq!(line, 15, "{msg}");
        assert!(msg.contains("volume-relative"), "{msg}");
    }

    #[test]
    fn all_problems_are_collected() {
        let text = GOOD
            .replace("category = 'command_execution'", "category = 'lateral'")
            .replace("logging = 'default'", "logging = 'maybe'");
        let p = problems(&text);
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![6, 13], "{p:?}");
    }

    #[test]
    fn unless_is_checked_per_artifact() {
        let evtx = GOOD.replace(
            "artifact = 'prefetch'\npattern = 'DEMO.EXE-*.pf'",
            "artifact = 'evtx'\nchannel = 'Security'\nevent_id = 4688\nunless = { CommandLine = ['* /query*'] }",
        );
        let kb = load_from_str(&evtx).unwrap();
        let unless = &kb.tools[0].traces[0].unless;
        assert_eq!(unless["CommandLine"][0].as_str(), "* /query*");
        // not on a prefetch trace
        let text = GOOD.replace(
            "pattern = 'DEMO.EXE-*.pf'",
            "pattern = 'DEMO.EXE-*.pf'\nunless = { x = 'y' }",
        );
        let (line, msg) = first_line(&text);
        assert_eq!(line, 16, "{msg}");
        assert!(msg.contains("`unless` does not apply"), "{msg}");
        // a task trace names the fields of its fact, and no placeholders
        let task = GOOD.replace(
            "artifact = 'prefetch'\npattern = 'DEMO.EXE-*.pf'",
            "artifact = 'task'\nname = '*'\nunless = { TaskName = '{exe}' }",
        );
        let p = problems(&task);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].message.contains("not a field of artifact `task`"),
            "{p:?}"
        );
        assert!(p[1].message.contains("placeholder"), "{p:?}");
        // an empty alternative list
        let empty = GOOD.replace(
            "artifact = 'prefetch'\npattern = 'DEMO.EXE-*.pf'",
            "artifact = 'service'\nname = 'X'\nunless = { name = [] }",
        );
        assert!(first_line(&empty).1.contains("no alternatives"));
    }

    /// The demo rule file with its trace made a Security event trace: `event_id`,
    /// the `fields` table's body, then more trace keys.
    fn security_trace(event_id: u32, fields: &str, keys: &str) -> String {
        GOOD.replace(
            "artifact = 'prefetch'\npattern = 'DEMO.EXE-*.pf'",
            &format!(
                "artifact = 'evtx'\nchannel = 'Security'\nevent_id = {event_id}\n\
                 fields = {{ {fields} }}\n{keys}"
            ),
        )
    }

    #[test]
    fn all_of_and_within_are_checked() {
        let with =
            |keys: &str| security_trace(5145, "RelativeTargetName = ['samr', 'lsarpc']", keys);
        let kb = load_from_str(&with(
            "all_of = 'RelativeTargetName'\nwithin = 'SubjectLogonId'",
        ))
        .unwrap();
        let together = kb.tools[0].traces[0].together.as_ref().unwrap();
        assert_eq!(
            (together.all_of.as_str(), together.within.as_str()),
            ("RelativeTargetName", "SubjectLogonId")
        );
        for (keys, expected) in [
            ("all_of = 'RelativeTargetName'", "go together"),
            ("within = 'SubjectLogonId'", "go together"),
            (
                "all_of = 'ShareName'\nwithin = 'SubjectLogonId'",
                "must name a field of `fields`",
            ),
            (
                "all_of = 'RelativeTargetName'\nwithin = ' '",
                "names no field",
            ),
        ] {
            let msg = first_line(&with(keys)).1;
            assert!(msg.contains(expected), "{keys}: {msg}");
        }
        // one alternative is no set
        let single = with("all_of = 'RelativeTargetName'\nwithin = 'SubjectLogonId'")
            .replace("['samr', 'lsarpc']", "'samr'");
        assert!(first_line(&single).1.contains("2 to 64 alternatives"));
        // only on event traces
        let prefetch = GOOD.replace(
            "pattern = 'DEMO.EXE-*.pf'",
            "pattern = 'DEMO.EXE-*.pf'\nall_of = 'x'\nwithin = 'y'",
        );
        assert!(first_line(&prefetch).1.contains("does not apply"));
    }

    /// `case_sensitive` makes the named event fields compare with case kept, names only
    /// fields of `fields`, and applies to event traces alone.
    #[test]
    fn case_sensitive_is_checked() {
        let with = |keys: &str| {
            security_trace(
                4769,
                "TargetDomainName = '*a*', ServiceName = 'krbtgt'",
                keys,
            )
        };
        let kb = load_from_str(&with("case_sensitive = ['TargetDomainName']")).unwrap();
        let Artifact::Evtx { fields, .. } = &kb.tools[0].traces[0].artifact else {
            panic!("not an event trace");
        };
        assert!(!fields["TargetDomainName"][0].folds_case());
        assert!(fields["ServiceName"][0].folds_case());
        for (keys, expected) in [
            ("case_sensitive = ['Status']", "not a field of `fields`"),
            ("case_sensitive = []", "names no field"),
        ] {
            let msg = first_line(&with(keys)).1;
            assert!(msg.contains(expected), "{keys}: {msg}");
        }
        let prefetch = GOOD.replace(
            "pattern = 'DEMO.EXE-*.pf'",
            "pattern = 'DEMO.EXE-*.pf'\ncase_sensitive = ['x']",
        );
        assert!(first_line(&prefetch).1.contains("does not apply"));
    }
}
