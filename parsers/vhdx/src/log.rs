//! The metadata log: when a header names an active log, the writes it holds
//! never reached their place in the file. They are replayed here, in memory,
//! over the file's bytes; the file itself is never written.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use blockio::{invalid, le32, le64, read_vec, Source};

use crate::crc32c::crc32c_zeroed;

const PAGE: u64 = 4096;
/// Largest log we replay (Hyper-V writes 1 MiB): the replayed pages are held in
/// memory, so the bound is the memory the replay may take.
pub const MAX_LOG: u64 = 64 << 20;

/// One change the log holds: a 4 KiB page of new bytes, or a run of zeros.
enum Write {
    Page(Box<[u8]>),
    Zeros(u64),
}

/// The file as it is after the log's active sequence is applied.
pub struct Replayed {
    file: Arc<dyn Source>,
    len: u64,
    /// File offset -> changes at that offset, in the order the log applies them.
    writes: Vec<(u64, Write)>,
}

struct Entry {
    offset: u64,
    length: u64,
    tail: u64,
    sequence: u64,
    last_file_offset: u64,
}

impl Replayed {
    /// Replays the log at `offset .. offset + length` whose entries carry `guid`.
    pub fn replay(
        file: Arc<dyn Source>,
        offset: u64,
        length: u64,
        guid: &[u8],
    ) -> io::Result<Replayed> {
        if length > MAX_LOG || length % PAGE != 0 {
            return Err(invalid(format!(
                "VHDX: log of {length} bytes not replayed (limit {MAX_LOG})"
            )));
        }
        let log = read_vec(&*file, offset, length, "VHDX log")?;
        let mut entries = BTreeMap::new();
        let mut head: Option<(u64, u64)> = None;
        for at in (0..length).step_by(PAGE as usize) {
            let Some(entry) = entry_at(&log, at, guid) else {
                continue;
            };
            if head.is_none_or(|(seq, _)| entry.sequence > seq) {
                head = Some((entry.sequence, at));
            }
            entries.insert(at, entry);
        }
        let (head_sequence, head_at) =
            head.ok_or_else(|| invalid("VHDX: log is active but holds no valid entry"))?;
        // The active sequence runs from the head's tail to the head, each entry
        // numbered one more than the one before.
        let mut at = entries[&head_at].tail;
        let mut expected = None;
        let mut sequence = Vec::new();
        loop {
            let entry = entries.get(&at).ok_or_else(|| {
                invalid(format!(
                    "VHDX: log sequence broken: no valid entry at log offset {at}"
                ))
            })?;
            if expected.is_some_and(|e| e != entry.sequence)
                || sequence.len() as u64 > length / PAGE
            {
                return Err(invalid("VHDX: log sequence broken: entries out of order"));
            }
            sequence.push(entry);
            if entry.sequence == head_sequence {
                break;
            }
            expected = Some(entry.sequence + 1);
            at = (at + entry.length) % length;
        }
        let mut writes = Vec::new();
        for entry in &sequence {
            apply(&log, entry, &mut writes)?;
        }
        let last = sequence.last().map_or(0, |e| e.last_file_offset);
        Ok(Replayed {
            len: file.len().max(last),
            file,
            writes,
        })
    }
}

fn entry_at(log: &[u8], at: u64, guid: &[u8]) -> Option<Entry> {
    let start = at as usize;
    let header = log.get(start..start + 64)?;
    if !header.starts_with(b"loge") || &header[32..48] != guid {
        return None;
    }
    let length = u64::from(le32(header, 8));
    if length == 0 || length % PAGE != 0 {
        return None;
    }
    let bytes = log.get(start..start.checked_add(length as usize)?)?;
    if crc32c_zeroed(bytes, 4) != le32(header, 4) {
        return None;
    }
    Some(Entry {
        offset: at,
        length,
        tail: u64::from(le32(header, 12)),
        sequence: le64(header, 16),
        last_file_offset: le64(header, 56),
    })
}

fn apply(log: &[u8], entry: &Entry, writes: &mut Vec<(u64, Write)>) -> io::Result<()> {
    let start = entry.offset as usize;
    let bytes = &log[start..start + entry.length as usize];
    let count = le32(bytes, 24) as usize;
    let descriptor_area = (64 + 32 * count).div_ceil(PAGE as usize) * PAGE as usize;
    if descriptor_area > bytes.len() {
        return Err(invalid(
            "VHDX: log entry has more descriptors than it holds",
        ));
    }
    let mut data_index = 0usize;
    for d in bytes[64..64 + 32 * count].chunks_exact(32) {
        let file_offset = le64(d, 16);
        match &d[..4] {
            b"zero" => writes.push((file_offset, Write::Zeros(le64(d, 8)))),
            b"desc" => {
                let at = descriptor_area + data_index * PAGE as usize;
                data_index += 1;
                let sector = bytes
                    .get(at..at + PAGE as usize)
                    .filter(|s| s.starts_with(b"data"))
                    .ok_or_else(|| invalid("VHDX: log data sector missing"))?;
                let mut page = sector.to_vec().into_boxed_slice();
                page[..8].copy_from_slice(&d[8..16]);
                page[4092..].copy_from_slice(&d[4..8]);
                writes.push((file_offset, Write::Page(page)));
            }
            _ => return Err(invalid("VHDX: log descriptor of unknown type")),
        }
    }
    Ok(())
}

impl Source for Replayed {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let n = (self.len - offset).min(buf.len() as u64) as usize;
        let buf = &mut buf[..n];
        blockio::fill_from(&*self.file, buf, offset)?;
        let end = offset + n as u64;
        for (at, write) in &self.writes {
            let len = match write {
                Write::Page(p) => p.len() as u64,
                Write::Zeros(z) => *z,
            };
            let (from, to) = ((*at).max(offset), at.saturating_add(len).min(end));
            if from >= to {
                continue;
            }
            let out = &mut buf[(from - offset) as usize..(to - offset) as usize];
            match write {
                Write::Page(p) => out.copy_from_slice(&p[(from - at) as usize..(to - at) as usize]),
                Write::Zeros(_) => out.fill(0),
            }
        }
        Ok(n)
    }

    fn len(&self) -> u64 {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log of one entry built by hand from the MS-VHDX layout: a data
    /// descriptor for the page at 4 KiB and a zero descriptor for the page at
    /// 8 KiB, over a file of 0xff bytes.
    #[test]
    fn active_log_is_applied_over_the_file() {
        let guid = [7u8; 16];
        let (log_at, log_len) = (32 * 1024u64, 8192u64);
        let mut file = vec![0xffu8; 64 * 1024];
        let mut entry = vec![0u8; log_len as usize];
        entry[..4].copy_from_slice(b"loge");
        entry[8..12].copy_from_slice(&(log_len as u32).to_le_bytes());
        entry[16..24].copy_from_slice(&5u64.to_le_bytes());
        entry[24..28].copy_from_slice(&2u32.to_le_bytes());
        entry[32..48].copy_from_slice(&guid);
        entry[56..64].copy_from_slice(&(64 * 1024u64).to_le_bytes());
        let desc = &mut entry[64..96];
        desc[..4].copy_from_slice(b"desc");
        desc[4..8].copy_from_slice(&[1, 2, 3, 4]);
        desc[8..16].copy_from_slice(&[9; 8]);
        desc[16..24].copy_from_slice(&4096u64.to_le_bytes());
        let zero = &mut entry[96..128];
        zero[..4].copy_from_slice(b"zero");
        zero[8..16].copy_from_slice(&4096u64.to_le_bytes());
        zero[16..24].copy_from_slice(&8192u64.to_le_bytes());
        let data = &mut entry[4096..8192];
        data[..4].copy_from_slice(b"data");
        data[8..4092].fill(0x77);
        let crc = crc32c_zeroed(&entry, 4);
        entry[4..8].copy_from_slice(&crc.to_le_bytes());
        file[log_at as usize..(log_at + log_len) as usize].copy_from_slice(&entry);

        let replayed = Replayed::replay(Arc::new(file), log_at, log_len, &guid).unwrap();
        let mut page = vec![0u8; 4096];
        replayed.read_exact_at(&mut page, 4096).unwrap();
        assert_eq!(&page[..8], &[9; 8]);
        assert!(page[8..4092].iter().all(|&b| b == 0x77));
        assert_eq!(&page[4092..], &[1, 2, 3, 4]);
        replayed.read_exact_at(&mut page, 8192).unwrap();
        assert!(page.iter().all(|&b| b == 0));
        replayed.read_exact_at(&mut page, 0).unwrap();
        assert!(page.iter().all(|&b| b == 0xff));

        // An entry whose checksum fails is not part of the log: nothing to replay.
        let mut broken = vec![0xffu8; 64 * 1024];
        entry[200] ^= 1;
        broken[log_at as usize..(log_at + log_len) as usize].copy_from_slice(&entry);
        let error = Replayed::replay(Arc::new(broken), log_at, log_len, &guid)
            .err()
            .unwrap();
        assert!(error.to_string().contains("no valid entry"), "{error}");
    }
}
