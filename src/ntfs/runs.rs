//! Data runs: the mapping from a non-resident attribute's virtual clusters (VCN) to
//! the volume's logical clusters (LCN).
//!
//! Each run starts with a header byte whose low nibble is the size of the length
//! field and whose high nibble is the size of the (signed, relative to the previous
//! run) LCN offset; an offset size of 0 marks a sparse run. A zero header ends the
//! list.

/// One contiguous piece of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// First virtual cluster covered.
    pub vcn: u64,
    /// Number of clusters.
    pub clusters: u64,
    /// First logical cluster, or `None` for a sparse (unallocated, reads as zero) run.
    pub lcn: Option<u64>,
}

/// Decodes a run list starting at virtual cluster `first_vcn`.
///
/// Stops at the terminator or at the first malformed run; the caller compares the
/// covered length with the attribute's size, so truncation is detected there.
pub fn decode(raw: &[u8], first_vcn: u64) -> Result<Vec<Run>, String> {
    let mut runs = Vec::new();
    let mut pos = 0usize;
    let mut vcn = first_vcn;
    let mut lcn: i64 = 0;
    while let Some(&header) = raw.get(pos) {
        if header == 0 {
            return Ok(runs);
        }
        let len_size = usize::from(header & 0x0F);
        let off_size = usize::from(header >> 4);
        if len_size == 0 || len_size > 8 || off_size > 8 {
            return Err(format!("run header 0x{header:02x} at byte {pos} invalid"));
        }
        let len_bytes = raw
            .get(pos + 1..pos + 1 + len_size)
            .ok_or_else(|| format!("run at byte {pos} cut short"))?;
        let clusters = read_unsigned(len_bytes);
        let off_bytes = raw
            .get(pos + 1 + len_size..pos + 1 + len_size + off_size)
            .ok_or_else(|| format!("run at byte {pos} cut short"))?;
        if clusters == 0 {
            return Err(format!("run at byte {pos} has zero length"));
        }
        let run_lcn = if off_size == 0 {
            None
        } else {
            lcn = lcn
                .checked_add(read_signed(off_bytes))
                .filter(|&l| l >= 0)
                .ok_or_else(|| format!("run at byte {pos} points before the volume start"))?;
            Some(lcn as u64)
        };
        runs.push(Run {
            vcn,
            clusters,
            lcn: run_lcn,
        });
        vcn = vcn
            .checked_add(clusters)
            .ok_or_else(|| format!("run at byte {pos} overflows the VCN range"))?;
        pos += 1 + len_size + off_size;
    }
    Ok(runs)
}

fn read_unsigned(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

fn read_signed(bytes: &[u8]) -> i64 {
    let value = read_unsigned(bytes);
    let bits = bytes.len() * 8;
    if bits == 0 || bits >= 64 {
        return value as i64;
    }
    // Sign-extend from the field's top bit.
    let shift = 64 - bits;
    ((value << shift) as i64) >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_allocated_sparse_and_negative_runs() {
        // 0x21: 1-byte length 0x18, 2-byte offset 0x5634 -> LCN 0x5634.
        // 0x01: sparse run of 8 clusters.
        // 0x11: length 0x10, offset -0x10 (0xF0) -> LCN 0x5624.
        let raw = [0x21, 0x18, 0x34, 0x56, 0x01, 0x08, 0x11, 0x10, 0xF0, 0x00];
        let runs = decode(&raw, 0).unwrap();
        assert_eq!(
            runs,
            vec![
                Run {
                    vcn: 0,
                    clusters: 0x18,
                    lcn: Some(0x5634)
                },
                Run {
                    vcn: 0x18,
                    clusters: 8,
                    lcn: None
                },
                Run {
                    vcn: 0x20,
                    clusters: 0x10,
                    lcn: Some(0x5624)
                },
            ]
        );
    }

    #[test]
    fn rejects_damage_without_panicking() {
        assert!(decode(&[0x21, 0x18], 0).is_err());
        assert!(decode(&[0x11, 0x01, 0x80], 0).is_err());
        assert!(decode(&[0x9F], 0).is_err());
        assert_eq!(decode(&[], 0).unwrap(), vec![]);
    }
}
