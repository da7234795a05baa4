//! Rendering a record whose own chunk is lost, with a template from another chunk.
//!
//! A record's body is binary XML that almost always starts with a template
//! instance: `0F 01 01 00` (fragment header), `0C` (TemplateInstance), one byte,
//! the template id (u32), the chunk offset of the template definition (u32), and
//! then either the definition itself (when the record is its first use in the
//! chunk) or directly the substitution values. A definition starts with the offset
//! of the next definition (u32), the template GUID (16 bytes) and the size of its
//! binary XML (u32). The template id equals the first four bytes of the GUID
//! (checked on the corpus: every record of the host's Security log), so the same
//! template can be found in any intact chunk that defines it, by id.
//!
//! The values are all a record holds of its event; the element names and the
//! structure come from the definition. A value can itself be a binary XML fragment
//! (type 0x21) with a template instance of its own: the Security log keeps one
//! outer template for thousands of events and puts each event's EventData in such a
//! nested instance. Every instance, outer and nested, must therefore be pointed at
//! the donor's definition of the same template id, or the record would be rendered
//! with whatever template the donor happens to hold at the old offset.
//!
//! So a lone record is rebuilt with every template reference pointing at one donor
//! chunk's definitions (inline definitions cut out, value sizes fixed), appended to a
//! copy of the donor chunk whose own records are hidden (their signatures cleared,
//! the definitions and names they carry left in place), and the copy is handed to
//! an ordinary chunk parser. The header is rewritten so that parser walks exactly the
//! appended records. A fragment that is not a template instance carries element
//! names as offsets into its lost chunk: such records are not rebuilt.

use binview::View;

use crate::{CHUNK_HEADER_SIZE, CHUNK_SIZE, MIN_RECORD, RECORD_MAGIC};

/// Bytes of the record header before the binary XML.
const RECORD_HEADER: usize = 24;
/// Fragment header + TemplateInstance token, flag byte, id and offset.
const INSTANCE_HEADER: usize = 14;
/// Next-offset, GUID and size in front of a definition's binary XML.
const DEFINITION_HEADER: usize = 24;
/// Template pointer table of the chunk header (32 u32 offsets).
const TEMPLATE_TABLE: std::ops::Range<usize> = 384..512;

/// Binary XML value type of a nested fragment.
const BINXML_VALUE: u8 = 0x21;
/// Deepest nesting of fragments followed (real records nest once).
const MAX_NESTING: usize = 8;

/// The outer template id of `record` (the first four bytes of its GUID), if its
/// binary XML starts with a template instance.
pub fn template_id(record: &[u8]) -> Option<u32> {
    let view = View::new(record);
    (view.bytes(RECORD_HEADER, 5)? == [0x0F, 0x01, 0x01, 0x00, 0x0C])
        .then(|| view.u32_at(RECORD_HEADER + 6))
        .flatten()
}

/// `(template id, definition offset)` of every template an intact chunk defines,
/// found through the header's pointer table and each definition's next-offset.
pub fn template_definitions(chunk: &[u8]) -> Vec<(u32, u32)> {
    let view = View::new(chunk);
    let mut found = Vec::new();
    for slot in TEMPLATE_TABLE.step_by(4) {
        let mut offset = view.u32_at(slot).unwrap_or(0);
        // A chain can only visit distinct offsets, at most one per 24 bytes.
        for _ in 0..CHUNK_SIZE / DEFINITION_HEADER {
            let at = offset as usize;
            if !(CHUNK_HEADER_SIZE..CHUNK_SIZE).contains(&at) {
                break;
            }
            let Some(id) = view.u32_at(at + 4) else { break };
            if !found.iter().any(|&(_, o)| o == offset) {
                found.push((id, offset));
            }
            let Some(next) = view.u32_at(at) else { break };
            if next == offset {
                break;
            }
            offset = next;
        }
    }
    found
}

/// `record` rebuilt so every template instance in it (outer and nested) points at
/// the definition `definition(id)` gives, inline definitions removed and sizes
/// fixed; `None` if a template has no definition there or the record cannot be
/// followed.
pub fn rebase_record(record: &[u8], definition: &dyn Fn(u32) -> Option<u32>) -> Option<Vec<u8>> {
    rebase_with(record, &|id, _| definition(id))
}

/// `(template id, chunk offset it points at)` of every template instance in
/// `record`, outer and nested, in order; `None` if the record cannot be followed.
/// A record still in its own chunk can be rendered where it lies when each of
/// those offsets holds the definition of that id (see [`definition_at`]).
pub fn template_references(record: &[u8]) -> Option<Vec<(u32, u32)>> {
    let seen = std::cell::RefCell::new(Vec::new());
    rebase_with(record, &|id, offset| {
        seen.borrow_mut().push((id, offset));
        Some(offset)
    })?;
    Some(seen.into_inner())
}

/// Whether `chunk` holds, at `offset`, the definition of template `id`: its GUID
/// (after the next-offset) starts with the id, and its binary XML fits the chunk.
pub fn definition_at(chunk: &[u8], offset: u32, id: u32) -> bool {
    let view = View::new(chunk);
    let at = offset as usize;
    (CHUNK_HEADER_SIZE..chunk.len()).contains(&at)
        && view.u32_at(at + 4) == Some(id)
        && view
            .u32_at(at + 20)
            .is_some_and(|size| at + DEFINITION_HEADER + size as usize <= chunk.len())
}

/// [`rebase_record`] with a lookup given each instance's id and the offset it
/// points at.
fn rebase_with(record: &[u8], definition: &dyn Fn(u32, u32) -> Option<u32>) -> Option<Vec<u8>> {
    let body = record.get(RECORD_HEADER..record.len().checked_sub(4)?)?;
    let body = rebase_fragment(body, definition, 0)?;
    let size = u32::try_from(RECORD_HEADER + body.len() + 4).ok()?;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(RECORD_MAGIC);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(record.get(8..RECORD_HEADER)?);
    out.extend_from_slice(&body);
    out.extend_from_slice(&size.to_le_bytes());
    Some(out)
}

/// One fragment (`[0F 01 01 00] 0C ...`) rebased; see [`rebase_record`].
fn rebase_fragment(
    fragment: &[u8],
    definition: &dyn Fn(u32, u32) -> Option<u32>,
    depth: usize,
) -> Option<Vec<u8>> {
    let view = View::new(fragment);
    // A record's fragment has a fragment header; a nested value starts directly
    // with the instance token.
    let start = match view.bytes(0, 5)? {
        [0x0F, 0x01, 0x01, 0x00, 0x0C] => 4,
        [0x0C, ..] => 0,
        _ => return None,
    };
    if depth > MAX_NESTING {
        return None;
    }
    let id = view.u32_at(start + 2)?;
    let mut at = start + INSTANCE_HEADER - 4;
    // An inline definition follows when its GUID starts with the id.
    if view.u32_at(at + 4) == Some(id) {
        let size = view.u32_at(at + 20)? as usize;
        at = at.checked_add(DEFINITION_HEADER)?.checked_add(size)?;
    }
    let count = view.u32_at(at)? as usize;
    let descriptors = view.bytes(at + 4, count.checked_mul(4)?)?;
    let mut value_at = at + 4 + descriptors.len();
    let mut out = Vec::with_capacity(fragment.len());
    out.extend_from_slice(view.bytes(0, start + 6)?);
    out.extend_from_slice(&definition(id, view.u32_at(start + 6)?)?.to_le_bytes());
    out.extend_from_slice(view.bytes(at, 4)?);
    let mut values = Vec::new();
    let mut new_descriptors = Vec::with_capacity(descriptors.len());
    for d in descriptors.chunks_exact(4) {
        let size = usize::from(u16::from_le_bytes([d[0], d[1]]));
        let value = view.bytes(value_at, size)?;
        value_at += size;
        let value = if d[2] == BINXML_VALUE && !value.is_empty() {
            rebase_fragment(value, definition, depth + 1)?
        } else {
            value.to_vec()
        };
        new_descriptors.extend_from_slice(&u16::try_from(value.len()).ok()?.to_le_bytes());
        new_descriptors.extend_from_slice(&d[2..4]);
        values.extend_from_slice(&value);
    }
    out.extend_from_slice(&new_descriptors);
    out.extend_from_slice(&values);
    // Whatever follows the values (the end-of-fragment token) is kept.
    out.extend_from_slice(fragment.get(value_at..)?);
    Some(out)
}

/// A copy of `donor` (an intact chunk) holding `records` (rebased onto its
/// definitions, distinct record ids in increasing order) instead of its own, and
/// where those that fitted lie (the first ones of `records`, back to back). The
/// donor's records are hidden by clearing their signatures; what they carry
/// (definitions, names) stays where it is.
pub fn host_chunk(donor: &[u8], records: &[&[u8]]) -> Option<(Vec<u8>, Vec<usize>)> {
    let mut chunk = donor.get(..CHUNK_SIZE)?.to_vec();
    let free = View::new(&chunk).u32_at(48)? as usize;
    let mut at = CHUNK_HEADER_SIZE;
    while at < free.min(CHUNK_SIZE) {
        let size = View::new(&chunk).u32_at(at + 4).unwrap_or(0) as usize;
        if chunk.get(at..at + 4) != Some(RECORD_MAGIC.as_slice()) || size < MIN_RECORD {
            break;
        }
        chunk[at..at + 4].fill(0);
        at += size;
    }
    let mut end = free.max(CHUNK_HEADER_SIZE);
    let (mut placed, mut first_id, mut last_id, mut last_at) = (Vec::new(), None, 0u64, end);
    for record in records {
        let Some(slot) = chunk.get_mut(end..end + record.len()) else {
            break;
        };
        slot.copy_from_slice(record);
        let id = View::new(record).u64_at(8)?;
        first_id.get_or_insert(id);
        last_id = id;
        last_at = end;
        placed.push(end);
        end += record.len();
    }
    let first_id = first_id?;
    // Record numbers and ids, last record offset, free space: what the parser walks by.
    for (offset, value) in [(8, first_id), (16, last_id), (24, first_id), (32, last_id)] {
        chunk[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
    }
    chunk[44..48].copy_from_slice(&u32::try_from(last_at).ok()?.to_le_bytes());
    chunk[48..52].copy_from_slice(&u32::try_from(end).ok()?.to_le_bytes());
    Some((chunk, placed))
}

/// A copy of `chunk` (one of a log's own) in which the parser walks exactly the
/// record at `at`, rendered where it lies with the definitions the chunk holds:
/// the records starting at `hide` (the chunk's others) lose their signatures, and
/// the header's record numbers, ids, last-record and free-space offsets name only
/// this record.
pub fn in_place_chunk(chunk: &[u8], at: usize, hide: &[usize]) -> Option<Vec<u8>> {
    let mut copy = chunk.get(..CHUNK_SIZE)?.to_vec();
    let view = View::new(&copy);
    let (size, id) = (view.u32_at(at + 4)? as usize, view.u64_at(at + 8)?);
    let end = u32::try_from(at.checked_add(size).filter(|&e| e <= CHUNK_SIZE)?).ok()?;
    for &other in hide.iter().filter(|&&o| o != at) {
        if let Some(signature) = copy.get_mut(other..other + 4) {
            signature.fill(0);
        }
    }
    for offset in [8, 16, 24, 32] {
        copy[offset..offset + 8].copy_from_slice(&id.to_le_bytes());
    }
    copy[44..48].copy_from_slice(&u32::try_from(at).ok()?.to_le_bytes());
    copy[48..52].copy_from_slice(&end.to_le_bytes());
    Some(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template-instance fragment with `values` (bytes, type), its definition
    /// inline when `inline` is set, ending with the end-of-fragment token.
    fn fragment(template: u32, inline: Option<&[u8]>, values: &[(Vec<u8>, u8)]) -> Vec<u8> {
        let mut body = vec![0x0F, 0x01, 0x01, 0x00, 0x0C, 0x01];
        body.extend(template.to_le_bytes());
        body.extend(600u32.to_le_bytes());
        if let Some(xml) = inline {
            body.extend(0u32.to_le_bytes());
            body.extend(template.to_le_bytes());
            body.extend([0xAB; 12]);
            body.extend((xml.len() as u32).to_le_bytes());
            body.extend(xml);
        }
        body.extend((values.len() as u32).to_le_bytes());
        for (v, kind) in values {
            body.extend((v.len() as u16).to_le_bytes());
            body.extend([*kind, 0]);
        }
        for (v, _) in values {
            body.extend(v);
        }
        body.push(0x00);
        body
    }

    /// A record whose body is [`fragment`].
    fn record(id: u64, template: u32, inline: Option<&[u8]>, values: &[(Vec<u8>, u8)]) -> Vec<u8> {
        let body = fragment(template, inline, values);
        let size = (RECORD_HEADER + body.len() + 4) as u32;
        let mut r = Vec::new();
        r.extend(RECORD_MAGIC);
        r.extend(size.to_le_bytes());
        r.extend(id.to_le_bytes());
        r.extend(0x01D8_0000_0000_0000u64.to_le_bytes());
        r.extend(body);
        r.extend(size.to_le_bytes());
        r
    }

    #[test]
    fn inline_definitions_are_cut_out_and_nested_instances_rebased() {
        // Nested values start at the instance token, without a fragment header.
        let nested = fragment(0xBEEF, Some(&[7; 6]), &[(b"inner".to_vec(), 0x01)])[4..].to_vec();
        let values = vec![(b"plain".to_vec(), 0x01), (nested, BINXML_VALUE)];
        let inline = record(5, 0xC0FFEE, Some(&[1, 2, 3, 4, 5, 6, 7, 8]), &values);
        let plain = record(6, 0xC0FFEE, None, &values);
        assert_eq!(template_id(&inline), Some(0xC0FFEE));
        let defs = |id: u32| match id {
            0xC0FFEE => Some(1234),
            0xBEEF => Some(4321),
            _ => None,
        };
        let a = rebase_record(&inline, &defs).unwrap();
        let b = rebase_record(&plain, &defs).unwrap();
        // Same values and definition offsets; only the record id differs.
        assert_eq!(a[24..], b[24..]);
        let v = View::new(&a);
        assert_eq!(v.u32_at(34), Some(1234));
        assert_eq!(v.u32_at(4), v.u32_at(a.len() - 4));
        // The nested instance points at its own template's definition.
        let nested_at = a
            .windows(4)
            .position(|w| w == 0xBEEFu32.to_le_bytes())
            .unwrap();
        assert_eq!(v.u32_at(nested_at + 4), Some(4321));
        // Every instance and where it points, outer first.
        assert_eq!(
            template_references(&plain),
            Some(vec![(0xC0FFEE, 600), (0xBEEF, 600)])
        );
        // A template the donor lacks: no rebuild.
        assert!(rebase_record(&plain, &|id| (id == 0xC0FFEE).then_some(1)).is_none());
        assert_eq!(template_id(b"**\0\0short"), None);
    }

    #[test]
    fn donor_records_are_hidden_and_the_guests_walkable() {
        let mut donor = vec![0u8; CHUNK_SIZE];
        donor[..8].copy_from_slice(crate::CHUNK_MAGIC);
        let own = record(1, 7, Some(&[9; 16]), &[(b"x".to_vec(), 0x01)]);
        donor[512..512 + own.len()].copy_from_slice(&own);
        let free = (512 + own.len()) as u32;
        donor[48..52].copy_from_slice(&free.to_le_bytes());
        donor[384..388].copy_from_slice(&(512u32 + 38).to_le_bytes());
        assert_eq!(template_definitions(&donor), vec![(7, 550)]);
        assert!(definition_at(&donor, 550, 7));
        assert!(!definition_at(&donor, 550, 8) && !definition_at(&donor, 40, 7));
        let lone = record(40, 7, None, &[(b"v".to_vec(), 0x01)]);
        let guest = rebase_record(&lone, &|id| (id == 7).then_some(550)).unwrap();
        let (chunk, placed) = host_chunk(&donor, &[guest.as_slice()]).unwrap();
        let at = free as usize;
        assert_eq!(placed, vec![at]);
        assert_eq!(&chunk[512..516], &[0; 4], "donor record hidden");
        assert_eq!(&chunk[at..at + guest.len()], guest.as_slice());
        assert_eq!(View::new(&chunk).u64_at(32), Some(40));
        assert_eq!(
            View::new(&chunk).u32_at(48),
            Some(free + guest.len() as u32)
        );
        // The same record left in the donor's unused space, rendered where it lies.
        let mut log_chunk = donor.clone();
        let at = free as usize + 8;
        log_chunk[at..at + lone.len()].copy_from_slice(&lone);
        let copy = in_place_chunk(&log_chunk, at, &[512, at]).unwrap();
        assert_eq!(&copy[512..516], &[0; 4], "the live record hidden");
        assert_eq!(&copy[at..at + lone.len()], lone.as_slice());
        let view = View::new(&copy);
        assert_eq!((view.u64_at(24), view.u64_at(32)), (Some(40), Some(40)));
        assert_eq!(view.u32_at(44), Some(at as u32));
        assert_eq!(view.u32_at(48), Some((at + lone.len()) as u32));
        assert!(in_place_chunk(&log_chunk, CHUNK_SIZE - 8, &[]).is_none());
    }
}
