//! Attribute headers, resident and non-resident.

use super::le::{utf16_lossy, Fields};
use super::runs::{self, Run};

/// Attribute type codes used by toolmark.
pub mod kind {
    /// $STANDARD_INFORMATION.
    pub const STANDARD_INFORMATION: u32 = 0x10;
    /// $ATTRIBUTE_LIST.
    pub const ATTRIBUTE_LIST: u32 = 0x20;
    /// $FILE_NAME.
    pub const FILE_NAME: u32 = 0x30;
    /// $VOLUME_NAME.
    pub const VOLUME_NAME: u32 = 0x60;
    /// $DATA.
    pub const DATA: u32 = 0x80;
    /// $INDEX_ROOT.
    pub const INDEX_ROOT: u32 = 0x90;
    /// $INDEX_ALLOCATION.
    pub const INDEX_ALLOCATION: u32 = 0xA0;
    /// $BITMAP.
    pub const BITMAP: u32 = 0xB0;
}

/// Attribute flag: compressed (LZNT1).
pub const FLAG_COMPRESSED: u16 = 0x0001;
/// Attribute flag: encrypted (EFS); content cannot be read without the key.
pub const FLAG_ENCRYPTED: u16 = 0x4000;

/// Where an attribute's value lives.
#[derive(Clone, Debug)]
pub enum Body {
    /// The value is inside the record.
    Resident(Vec<u8>),
    /// The value is in clusters described by runs (one extent of possibly several).
    NonResident(NonResident),
}

/// One extent of a non-resident attribute.
#[derive(Clone, Debug)]
pub struct NonResident {
    /// First VCN this extent maps.
    pub first_vcn: u64,
    /// Runs of this extent.
    pub runs: Vec<Run>,
    /// log2 of clusters per compression unit (0 = not compressed).
    pub compression_unit: u8,
    /// Sizes; only meaningful in the extent with `first_vcn == 0`.
    pub allocated_size: u64,
    /// Logical size of the value.
    pub data_size: u64,
    /// Bytes written; beyond this the value reads as zeros.
    pub initialized_size: u64,
}

/// A parsed attribute.
#[derive(Clone, Debug)]
pub struct Attribute {
    /// Type code.
    pub kind: u32,
    /// Name (empty for the unnamed stream).
    pub name: String,
    /// Flags (compressed, encrypted, sparse).
    pub flags: u16,
    /// Attribute id within its record.
    pub instance: u16,
    /// The value or its runs.
    pub body: Body,
}

impl Attribute {
    /// Parses one attribute whose bytes are `raw` (exactly its length).
    pub fn parse(raw: &[u8], record: u64) -> Result<Attribute, String> {
        let f = Fields(raw);
        let err = |what: &str| format!("record {record}: attribute {what}");
        let kind = f.u32(0).ok_or_else(|| err("header cut short"))?;
        let non_resident = f.u8(8).ok_or_else(|| err("header cut short"))? != 0;
        // The common header is 16 bytes, which every attribute the record walk
        // hands us has (it refuses shorter lengths).
        let name_len = usize::from(f.u8(9).unwrap_or(0));
        let name_off = usize::from(f.u16(10).unwrap_or(0));
        let flags = f.u16(12).unwrap_or(0);
        let instance = f.u16(14).unwrap_or(0);
        let name = if name_len == 0 {
            String::new()
        } else {
            f.utf16(name_off, name_len)
                .ok_or_else(|| err("name outside the attribute"))?
        };
        let body = if non_resident {
            // Sizes cut off would read as 0: an empty file, not a damaged one.
            if raw.len() < 64 {
                return Err(err("non-resident header cut short"));
            }
            let first_vcn = f.u64(16).ok_or_else(|| err("header cut short"))?;
            let runs_off = usize::from(f.u16(32).unwrap_or(0));
            let run_bytes = f
                .tail(runs_off)
                .ok_or_else(|| err("run list outside the attribute"))?;
            let runs = runs::decode(run_bytes, first_vcn).map_err(|e| err(&e))?;
            Body::NonResident(NonResident {
                first_vcn,
                runs,
                compression_unit: f.u8(34).unwrap_or(0),
                allocated_size: f.u64(40).unwrap_or(0),
                data_size: f.u64(48).unwrap_or(0),
                initialized_size: f.u64(56).unwrap_or(0),
            })
        } else {
            let (Some(len), Some(off)) = (f.u32(16), f.u16(20)) else {
                return Err(err("resident header cut short"));
            };
            let (len, off) = (len as usize, usize::from(off));
            let value = f
                .bytes(off, len)
                .ok_or_else(|| err("resident value outside the attribute"))?;
            Body::Resident(value.to_vec())
        };
        Ok(Attribute {
            kind,
            name,
            flags,
            instance,
            body,
        })
    }

    /// The resident value, if resident.
    pub fn resident_value(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Resident(v) => Some(v),
            Body::NonResident(_) => None,
        }
    }
}

/// A `$FILE_NAME` value: a name and its parent, with the times stored beside it.
#[derive(Clone, Debug)]
pub struct FileName {
    /// Parent directory record number.
    pub parent: u64,
    /// Parent sequence number.
    pub parent_sequence: u16,
    /// Creation time.
    pub created: u64,
    /// Content modification time.
    pub modified: u64,
    /// MFT record modification time.
    pub mft_modified: u64,
    /// Last access time.
    pub accessed: u64,
    /// Logical size as recorded in the name (often stale).
    pub size: u64,
    /// File attribute flags.
    pub attributes: u32,
    /// 0 POSIX, 1 Win32, 2 DOS, 3 Win32 and DOS.
    pub namespace: u8,
    /// The name.
    pub name: String,
}

/// Namespace value of a DOS 8.3-only name.
pub const NAMESPACE_DOS: u8 = 2;

impl FileName {
    /// Parses a `$FILE_NAME` value (from an attribute or an index entry key).
    pub fn parse(raw: &[u8]) -> Option<FileName> {
        let f = Fields(raw);
        let parent_ref = f.u64(0)?;
        let units = usize::from(f.u8(64)?);
        Some(FileName {
            parent: parent_ref & 0x0000_FFFF_FFFF_FFFF,
            parent_sequence: (parent_ref >> 48) as u16,
            created: f.u64(8)?,
            modified: f.u64(16)?,
            mft_modified: f.u64(24)?,
            accessed: f.u64(32)?,
            size: f.u64(48)?,
            attributes: f.u32(56)?,
            namespace: f.u8(65)?,
            name: utf16_lossy(f.bytes(66, units * 2)?),
        })
    }
}

/// `$STANDARD_INFORMATION` times and flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct StandardInformation {
    /// Creation time.
    pub created: u64,
    /// Content modification time.
    pub modified: u64,
    /// MFT record modification time.
    pub mft_modified: u64,
    /// Last access time.
    pub accessed: u64,
    /// File attribute flags (read-only, hidden, system, compressed...).
    pub attributes: u32,
}

impl StandardInformation {
    /// Parses the value.
    pub fn parse(raw: &[u8]) -> Option<StandardInformation> {
        let f = Fields(raw);
        Some(StandardInformation {
            created: f.u64(0)?,
            modified: f.u64(8)?,
            mft_modified: f.u64(16)?,
            accessed: f.u64(24)?,
            attributes: f.u32(32)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Attribute;

    /// An attribute `length` bytes long of type `$DATA`, resident or not, whose
    /// run list (if non-resident) starts at 40 and is empty.
    fn attribute(length: usize, non_resident: bool) -> Vec<u8> {
        let mut raw = vec![0u8; length];
        raw[0..4].copy_from_slice(&0x80u32.to_le_bytes());
        raw[4..8].copy_from_slice(&(length as u32).to_le_bytes());
        raw[8] = u8::from(non_resident);
        if non_resident && length > 33 {
            raw[32] = 40;
        }
        raw
    }

    #[test]
    fn a_header_cut_short_is_an_error_not_an_empty_value() {
        // The sizes of a non-resident header end at 64 bytes; the resident
        // value's length and offset at 22.
        assert!(Attribute::parse(&attribute(48, true), 7).is_err());
        assert!(Attribute::parse(&attribute(16, false), 7).is_err());
        assert!(Attribute::parse(&attribute(72, true), 7).is_ok());
        assert!(Attribute::parse(&attribute(24, false), 7).is_ok());
    }
}
