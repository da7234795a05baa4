//! The text descriptor: `key=value` settings and one line per extent.

/// What an extent line's type says its file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtentKind {
    /// Raw bytes (`FLAT`, `VMFS`).
    Flat,
    /// A hosted sparse extent (`SPARSE`).
    Sparse,
    /// No file: zeros (`ZERO`).
    Zero,
}

/// One extent line: `RW 8323072 SPARSE "disk-s001.vmdk"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtentLine {
    /// Size in 512-byte sectors.
    pub sectors: u64,
    /// Type of the extent.
    pub kind: ExtentKind,
    /// File name as written (relative to the descriptor).
    pub file: String,
    /// For flat extents: where in the file the data starts, in sectors.
    pub offset: u64,
}

/// The settings of a descriptor toolmark uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// `createType`: the subformat.
    pub create_type: Option<String>,
    /// `parentFileNameHint`, when `parentCID` says there is a parent.
    pub parent_hint: Option<String>,
    /// `CID`, lower-case: what a child's `parentCID` records of this disk (a
    /// writer changes it when it first writes to the disk).
    pub cid: Option<String>,
    /// `parentCID`, lower-case, when there is a parent.
    pub parent_cid: Option<String>,
    /// Extent lines, in disk order.
    pub extents: Vec<ExtentLine>,
    /// Extent lines that could not be used, as written (for the error).
    pub unsupported: Vec<String>,
}

/// True if `first` looks like the start of a text descriptor.
pub fn looks_like_descriptor(first: &[u8]) -> bool {
    let text = String::from_utf8_lossy(first);
    text.contains("# Disk DescriptorFile")
        || (text.contains("version=") && text.contains("createType"))
}

impl Descriptor {
    /// Parses descriptor text; lines it does not know are skipped.
    pub fn parse(bytes: &[u8]) -> Descriptor {
        let text = String::from_utf8_lossy(bytes);
        let mut d = Descriptor::default();
        // An embedded descriptor is padded with NULs after its text.
        for line in text.split('\0').next().unwrap_or_default().lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let first = line.split_whitespace().next().unwrap_or_default();
            if matches!(first, "RW" | "RDONLY" | "NOACCESS") {
                match parse_extent(line) {
                    Some(e) => d.extents.push(e),
                    None => d.unsupported.push(line.to_string()),
                }
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"').to_string();
            match key.trim() {
                "createType" => d.create_type = Some(value),
                "parentFileNameHint" => d.parent_hint = Some(value),
                "CID" => d.cid = Some(value.to_ascii_lowercase()),
                "parentCID" => d.parent_cid = Some(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        if d.parent_cid.as_deref().is_none_or(|cid| cid == "ffffffff") {
            d.parent_hint = None;
            d.parent_cid = None;
        }
        d.parent_hint = d.parent_hint.filter(|h| !h.is_empty());
        d
    }
}

fn parse_extent(line: &str) -> Option<ExtentLine> {
    let mut words = line.splitn(3, char::is_whitespace);
    let _access = words.next()?;
    let sectors = words.next()?.trim().parse().ok()?;
    let rest = words.next()?.trim_start();
    let (kind, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let kind = match kind {
        "FLAT" | "VMFS" => ExtentKind::Flat,
        "SPARSE" => ExtentKind::Sparse,
        "ZERO" => {
            return Some(ExtentLine {
                sectors,
                kind: ExtentKind::Zero,
                file: String::new(),
                offset: 0,
            })
        }
        _ => return None,
    };
    let rest = rest.trim_start().strip_prefix('"')?;
    let (file, after) = rest.split_once('"')?;
    let offset = match after.trim() {
        "" => 0,
        n => n.parse().ok()?,
    };
    Some(ExtentLine {
        sectors,
        kind,
        file: file.to_string(),
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extents_settings_and_parent() {
        let text = b"# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n\
            createType=\"twoGbMaxExtentSparse\"\n\
            RW 8323072 SPARSE \"my disk-s001.vmdk\"\nRW 2048 FLAT \"f.vmdk\" 128\nRW 10 ZERO\n\
            RW 5 VMFSRDM \"x\"\n";
        let d = Descriptor::parse(text);
        assert_eq!(d.create_type.as_deref(), Some("twoGbMaxExtentSparse"));
        assert_eq!(d.parent_hint, None);
        assert_eq!(d.cid.as_deref(), Some("12345678"));
        assert_eq!(d.parent_cid, None);
        assert_eq!(d.extents.len(), 3);
        assert_eq!(d.extents[0].file, "my disk-s001.vmdk");
        assert_eq!(d.extents[1].offset, 128);
        assert_eq!(d.extents[2].kind, ExtentKind::Zero);
        assert_eq!(d.unsupported.len(), 1);
        let child = Descriptor::parse(b"parentCID=abcd0123\nparentFileNameHint=\"base.vmdk\"\n");
        assert_eq!(child.parent_hint.as_deref(), Some("base.vmdk"));
        assert_eq!(child.parent_cid.as_deref(), Some("abcd0123"));
        let upper = Descriptor::parse(b"CID=ABCD0123\n");
        assert_eq!(upper.cid.as_deref(), Some("abcd0123"));
    }
}
