//! Which Windows wrote a blob, told from the blob alone.

use binview::View;

/// The AppCompatCache layouts, by the Windows versions that write them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Windows XP 32-bit: magic `0xDEADBEEF`, 96 fixed 552-byte slots.
    WinXp,
    /// Windows Server 2003 (and XP 64-bit): magic `0xBADC0FFE`, entries hold a file size.
    Win2003 {
        /// 64-bit entry layout (32 bytes) rather than 32-bit (24 bytes).
        is_64bit: bool,
    },
    /// Windows Vista / Server 2008: magic `0xBADC0FFE`, entries hold insert flags.
    Vista {
        /// 64-bit entry layout (32 bytes) rather than 32-bit (24 bytes).
        is_64bit: bool,
    },
    /// Windows 7 / Server 2008 R2: magic `0xBADC0FEE`, 128-byte header.
    Win7 {
        /// 64-bit entry layout (48 bytes) rather than 32-bit (32 bytes).
        is_64bit: bool,
    },
    /// Windows 8.0 / Server 2012: 128-byte header, `00ts` entries.
    Win80,
    /// Windows 8.1 / Server 2012 R2: 128-byte header, `10ts` entries.
    Win81,
    /// Windows 10 before Creators Update: 0x30-byte header, `10ts` entries.
    Win10,
    /// Windows 10 Creators Update (1703) and later, Windows 11: 0x34-byte header.
    Win10Creators,
}

pub(crate) const XP_MAGIC: u32 = 0xDEAD_BEEF;
pub(crate) const NT52_MAGIC: u32 = 0xBADC_0FFE;
pub(crate) const WIN7_MAGIC: u32 = 0xBADC_0FEE;
pub(crate) const WIN8_HEADER_LEN: usize = 0x80;
pub(crate) const TAG_00TS: [u8; 4] = *b"00ts";
pub(crate) const TAG_10TS: [u8; 4] = *b"10ts";

/// The family of a magic value, before the 32/64-bit and 2003/Vista questions that
/// need the entries themselves.
pub(crate) enum Family {
    Xp,
    Nt52OrVista,
    Win7,
    Tagged(Format),
}

/// Recognises the header. Windows 8+ blobs carry no magic in front; they are known
/// by the header size in the first u32 (0x30/0x34 on Windows 10) or by the entry tag
/// right after the 128-byte header (Windows 8.x).
pub(crate) fn family(blob: &[u8]) -> Option<Family> {
    let view = View::new(blob);
    let first = view.u32_at(0)?;
    match first {
        XP_MAGIC => return Some(Family::Xp),
        NT52_MAGIC => return Some(Family::Nt52OrVista),
        WIN7_MAGIC => return Some(Family::Win7),
        _ => {}
    }
    let tagged_after = |header_len: usize, tag: [u8; 4]| {
        blob.len() == header_len || view.array::<4>(header_len) == Some(tag)
    };
    match first {
        0x30 if tagged_after(0x30, TAG_10TS) => Some(Family::Tagged(Format::Win10)),
        0x34 if tagged_after(0x34, TAG_10TS) => Some(Family::Tagged(Format::Win10Creators)),
        _ if view.array::<4>(WIN8_HEADER_LEN) == Some(TAG_00TS) => {
            Some(Family::Tagged(Format::Win80))
        }
        _ if view.array::<4>(WIN8_HEADER_LEN) == Some(TAG_10TS) => {
            Some(Family::Tagged(Format::Win81))
        }
        _ => None,
    }
}
