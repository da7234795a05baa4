//! Subkey lists. A key's subkeys are referenced through one of four list cells:
//! `li` (offsets only), `lf` (offset + 4-byte name prefix hint), `lh` (offset + name
//! hash), or `ri` (an index root: offsets of further `li`/`lf`/`lh` lists, used when a
//! key has many subkeys). Each starts with a 2-byte signature and a 2-byte count.
//! Windows never nests `ri` lists, but a hostile hive can make one point at itself,
//! so nesting is capped.

use crate::bytes::View;
use crate::cell::Cells;
use crate::error::{Error, Result};

/// Index roots are one level deep in real hives; a little slack for odd writers.
const MAX_LIST_DEPTH: usize = 4;

/// Appends the key node offsets listed in the subkey list cell at `offset`.
pub(crate) fn collect(cells: &Cells<'_>, offset: u32, out: &mut Vec<u32>) -> Result<()> {
    collect_at_depth(cells, offset, out, 0)
}

fn collect_at_depth(
    cells: &Cells<'_>,
    offset: u32,
    out: &mut Vec<u32>,
    depth: usize,
) -> Result<()> {
    if depth > MAX_LIST_DEPTH {
        return Err(Error::TooDeep {
            offset,
            limit: MAX_LIST_DEPTH,
        });
    }
    let cell = cells.get(offset, "subkey list")?;
    let signature = cell.slice(0, 2)?;
    let count = usize::from(cell.u16(2)?);
    let stride = match signature {
        b"li" | b"ri" => 4,
        b"lf" | b"lh" => 8,
        _ => {
            return Err(Error::BadSignature {
                what: "subkey list",
                offset: u64::from(offset),
                expected: "li, lf, lh or ri",
                found: String::from_utf8_lossy(signature).into_owned(),
            })
        }
    };
    let elements = View::new(
        cell.bytes().get(4..).unwrap_or(&[]),
        u64::from(offset) + 8,
        "subkey list",
    );
    for i in 0..count {
        let target = elements.u32(i.saturating_mul(stride))?;
        if signature == b"ri" {
            collect_at_depth(cells, target, out, depth + 1)?;
        } else {
            // An index root repeating one big list could otherwise multiply a small
            // hive into billions of entries; real key nodes need 8+ bytes each.
            let limit = cells.len() / 8;
            if out.len() >= limit {
                return Err(Error::ListTooLong { offset, limit });
            }
            out.push(target);
        }
    }
    Ok(())
}
