//! MFT file records: the `FILE` header, the update-sequence fixups, and the
//! attributes inside.
//!
//! Every 512-byte stride of a record ends in a copy of the update sequence number;
//! the real last two bytes of each stride are kept in the update sequence array.
//! A stride whose tail does not match was torn by an interrupted write, and the
//! record is rejected rather than read with garbage in it.

use super::attribute::Attribute;
use super::le::Fields;

/// Record flag: the record is in use (a live file).
pub const FLAG_IN_USE: u16 = 0x0001;
/// Record flag: the record is a directory.
pub const FLAG_DIRECTORY: u16 = 0x0002;
/// Attribute type that ends the attribute sequence.
const END_MARKER: u32 = 0xFFFF_FFFF;

/// One MFT record with fixups applied.
#[derive(Clone, Debug)]
pub struct Record {
    /// The record number this buffer was read as.
    pub number: u64,
    data: Vec<u8>,
}

impl Record {
    /// Validates the `FILE` signature and applies fixups to a raw record buffer.
    pub fn from_raw(number: u64, mut data: Vec<u8>) -> Result<Record, String> {
        apply_fixups(&mut data, b"FILE")?;
        let record = Record { number, data };
        Ok(record)
    }

    fn fields(&self) -> Fields<'_> {
        Fields(&self.data)
    }

    /// The record number the header states when it is not this record's own:
    /// NTFS 3.1 headers (those with room before the update sequence array) carry
    /// it at 0x2C. Another number means these bytes are misplaced (damaged `$MFT`
    /// runs reading some other record's clusters, a stray copy) or the header is
    /// damaged. (mkntfs leaves the never-used reserved records 16 to 23 numbered
    /// 0: free, they serve nothing, and are not reported.)
    pub fn misplaced(&self) -> Option<u32> {
        let f = self.fields();
        if f.u16(4).is_none_or(|usa| usa < 0x30) {
            return None;
        }
        let stated = f.u32(0x2C).unwrap_or(0);
        let unnumbered_free = stated == 0 && !self.in_use();
        (u64::from(stated) != self.number & 0xFFFF_FFFF && !unnumbered_free).then_some(stated)
    }

    /// [`Record::misplaced`] as a file's problem.
    pub fn misplaced_problem(&self) -> Option<String> {
        self.misplaced().map(|stated| {
            format!(
                "record {}: the record states it is record {stated} (misplaced or damaged header)",
                self.number
            )
        })
    }

    /// Raw record flags.
    pub fn flags(&self) -> u16 {
        self.fields().u16(0x16).unwrap_or(0)
    }

    /// True if the record describes a live file.
    pub fn in_use(&self) -> bool {
        self.flags() & FLAG_IN_USE != 0
    }

    /// True if the record is a directory.
    pub fn is_directory(&self) -> bool {
        self.flags() & FLAG_DIRECTORY != 0
    }

    /// Sequence number, bumped each time the record is reused.
    pub fn sequence(&self) -> u16 {
        self.fields().u16(0x10).unwrap_or(0)
    }

    /// Hard link count.
    pub fn link_count(&self) -> u16 {
        self.fields().u16(0x12).unwrap_or(0)
    }

    /// Base record number for extension records; 0 for base records.
    pub fn base_record(&self) -> u64 {
        self.fields().u64(0x20).unwrap_or(0) & 0x0000_FFFF_FFFF_FFFF
    }

    /// The attributes of this record, in order; a malformed attribute ends the walk
    /// and is returned as the last item.
    pub fn attributes(&self) -> Vec<Result<Attribute, String>> {
        let mut out = Vec::new();
        let used = (self.fields().u32(0x18).unwrap_or(0) as usize).min(self.data.len());
        let mut offset = usize::from(self.fields().u16(0x14).unwrap_or(0));
        while offset + 8 <= used {
            let kind = self.fields().u32(offset).unwrap_or(END_MARKER);
            if kind == END_MARKER {
                break;
            }
            let length = self.fields().u32(offset + 4).unwrap_or(0) as usize;
            if length < 16 || length % 8 != 0 || offset + length > used {
                out.push(Err(format!(
                    "record {}: attribute 0x{kind:x} at {offset} has bad length {length}",
                    self.number
                )));
                break;
            }
            out.push(Attribute::parse(
                &self.data[offset..offset + length],
                self.number,
            ));
            offset += length;
        }
        out
    }
}

/// Checks the signature and restores the bytes hidden by the update sequence.
pub fn apply_fixups(data: &mut [u8], signature: &[u8; 4]) -> Result<(), String> {
    if data.get(..4) != Some(signature.as_slice()) {
        return Err(format!(
            "no '{}' signature",
            String::from_utf8_lossy(signature)
        ));
    }
    let f = Fields(data);
    let usa_offset = usize::from(f.u16(4).unwrap_or(0));
    let usa_count = usize::from(f.u16(6).unwrap_or(0));
    let strides = data.len() / 512;
    if usa_count == 0 || usa_count - 1 > strides || usa_offset + usa_count * 2 > data.len() {
        return Err(format!(
            "update sequence array (offset {usa_offset}, {usa_count} entries) invalid"
        ));
    }
    let usn = [data[usa_offset], data[usa_offset + 1]];
    for i in 1..usa_count {
        let end = i * 512;
        if data[end - 2..end] != usn {
            return Err(format!(
                "torn write: stride {i} does not end in the update sequence number"
            ));
        }
        let saved = usa_offset + i * 2;
        data[end - 2] = data[saved];
        data[end - 1] = data[saved + 1];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1 KiB NTFS 3.1 record numbered `number`, fixups in place, no attributes.
    fn record(number: u32) -> Vec<u8> {
        let mut r = vec![0u8; 1024];
        r[..4].copy_from_slice(b"FILE");
        r[4..6].copy_from_slice(&0x30u16.to_le_bytes());
        r[6..8].copy_from_slice(&3u16.to_le_bytes());
        r[0x14..0x16].copy_from_slice(&0x38u16.to_le_bytes());
        r[0x18..0x1C].copy_from_slice(&0x40u32.to_le_bytes());
        r[0x1C..0x20].copy_from_slice(&1024u32.to_le_bytes());
        r[0x2C..0x30].copy_from_slice(&number.to_le_bytes());
        r[0x30..0x32].copy_from_slice(&[7, 0]);
        r[0x38..0x3C].copy_from_slice(&u32::MAX.to_le_bytes());
        for end in [510, 1022] {
            r[end..end + 2].copy_from_slice(&[7, 0]);
        }
        r
    }

    #[test]
    fn a_record_stating_its_own_number_is_in_place() {
        assert_eq!(Record::from_raw(68, record(68)).unwrap().misplaced(), None);
    }

    /// `$MFT` runs that map the same clusters twice make record 100 read record 4's
    /// bytes: the header says so.
    #[test]
    fn a_record_stating_another_number_is_misplaced() {
        let r = Record::from_raw(100, record(4)).unwrap();
        assert_eq!(r.misplaced(), Some(4));
        assert!(r.misplaced_problem().unwrap().contains("record 4"));
    }

    /// mkntfs's reserved records 16 to 23: free, numbered 0.
    #[test]
    fn a_free_record_numbered_zero_is_not_misplaced() {
        assert_eq!(Record::from_raw(17, record(0)).unwrap().misplaced(), None);
        let mut in_use = record(0);
        in_use[0x16] = 1;
        assert_eq!(Record::from_raw(17, in_use).unwrap().misplaced(), Some(0));
    }

    /// NTFS 3.0 headers (update sequence array at 0x2A) have no number to check.
    #[test]
    fn an_ntfs_3_0_record_has_no_number_to_check() {
        let mut r = record(0);
        r[4..6].copy_from_slice(&0x2Au16.to_le_bytes());
        r[0x2A..0x2C].copy_from_slice(&[7, 0]);
        assert_eq!(Record::from_raw(100, r).unwrap().misplaced(), None);
    }
}
