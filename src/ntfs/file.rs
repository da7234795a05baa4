//! A file as the sum of its base MFT record and any extension records.

use super::attribute::{kind, Attribute, Body, FileName, StandardInformation, NAMESPACE_DOS};

/// Everything the MFT says about one file.
#[derive(Clone, Debug)]
pub struct FileEntry {
    /// Record number.
    pub record: u64,
    /// Sequence number.
    pub sequence: u16,
    /// Record is in use (the file exists); false for deleted files.
    pub in_use: bool,
    /// Record is a directory.
    pub is_directory: bool,
    /// `$STANDARD_INFORMATION`, if present.
    pub standard_information: Option<StandardInformation>,
    /// All `$FILE_NAME` attributes (several for hard links and 8.3 names).
    pub names: Vec<FileName>,
    /// Attributes from the base and extension records.
    pub(super) attributes: Vec<Attribute>,
    /// Damage found while assembling the file (bad extension records, bad attributes).
    pub problems: Vec<String>,
}

/// A stream of a file as listed: the unnamed `$DATA`, a named `$DATA` (ADS), or a
/// named index other than the directory's `$I30` (e.g. `$Secure:$SDH`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    /// Stream name; empty for the unnamed data.
    pub name: String,
    /// Logical size in bytes (for a named index, the size of its root).
    pub size: u64,
    /// True for `$DATA` streams, false for named indexes.
    pub is_data: bool,
}

impl FileEntry {
    pub(super) fn new(
        record: &super::record::Record,
        attributes: Vec<Attribute>,
        mut problems: Vec<String>,
    ) -> FileEntry {
        // Both are always resident and of fixed layout: a value that does not
        // parse is damage (a name or times lost), never simply absent.
        let mut unreadable = |what: &str| {
            problems.push(format!(
                "record {}: {what} attribute unreadable (not resident or cut short)",
                record.number
            ))
        };
        let standard_information = attributes
            .iter()
            .find(|a| a.kind == kind::STANDARD_INFORMATION)
            .and_then(|a| {
                let parsed = a.resident_value().and_then(StandardInformation::parse);
                if parsed.is_none() {
                    unreadable("$STANDARD_INFORMATION");
                }
                parsed
            });
        let mut names = Vec::new();
        for attr in attributes.iter().filter(|a| a.kind == kind::FILE_NAME) {
            match attr.resident_value().and_then(FileName::parse) {
                Some(name) => names.push(name),
                None => unreadable("$FILE_NAME"),
            }
        }
        // Sizes that contradict each other are damage even where the value is
        // still read whole.
        for attr in attributes.iter().filter(|a| a.kind == kind::DATA) {
            if let Body::NonResident(head) = &attr.body {
                if head.first_vcn == 0 {
                    problems.extend(super::stream::size_problem(attr, head));
                }
            }
        }
        FileEntry {
            record: record.number,
            sequence: record.sequence(),
            in_use: record.in_use(),
            is_directory: record.is_directory(),
            standard_information,
            names,
            attributes,
            problems,
        }
    }

    /// The name to show: the Win32 (long) name if there is one, else any name.
    pub fn best_name(&self) -> Option<&FileName> {
        self.names
            .iter()
            .find(|n| n.namespace != NAMESPACE_DOS)
            .or_else(|| self.names.first())
    }

    /// Extents (from all records) of the attribute of `kind` named `name`.
    pub(super) fn extents(&self, kind: u32, name: &str) -> Vec<&Attribute> {
        self.attributes
            .iter()
            .filter(|a| a.kind == kind && a.name == name)
            .collect()
    }

    /// True if the base record holds an `$ATTRIBUTE_LIST`: the file's other
    /// attributes (and their damage) are in extension records, which only
    /// [`super::Volume::file`] reads.
    pub fn has_attribute_list(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| a.kind == kind::ATTRIBUTE_LIST)
    }

    /// True if the file has an unnamed `$DATA` attribute.
    pub fn has_unnamed_data(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| a.kind == kind::DATA && a.name.is_empty())
    }

    /// Every stream of the file, unnamed data first, each name once.
    pub fn streams(&self) -> Vec<StreamInfo> {
        let mut out: Vec<StreamInfo> = Vec::new();
        for attr in &self.attributes {
            let is_data = attr.kind == kind::DATA;
            let is_named_index =
                attr.kind == kind::INDEX_ROOT && attr.name != "$I30" && !attr.name.is_empty();
            if !(is_data || is_named_index) {
                continue;
            }
            if out
                .iter()
                .any(|s| s.name == attr.name && s.is_data == is_data)
            {
                continue;
            }
            let size = match &attr.body {
                Body::Resident(v) if is_data => v.len() as u64,
                // The size is the first extent's; without one (damage the
                // stream's open reports) this extent's own figure is shown.
                Body::NonResident(n) if is_data => self
                    .extents(kind::DATA, &attr.name)
                    .iter()
                    .find_map(|a| match &a.body {
                        Body::NonResident(x) if x.first_vcn == 0 => Some(x.data_size),
                        _ => None,
                    })
                    .unwrap_or(n.data_size),
                Body::Resident(v) => v.len() as u64,
                Body::NonResident(_) => 0,
            };
            out.push(StreamInfo {
                name: attr.name.clone(),
                size,
                is_data,
            });
        }
        out.sort_by(|a, b| (!a.name.is_empty(), &a.name).cmp(&(!b.name.is_empty(), &b.name)));
        out
    }
}
