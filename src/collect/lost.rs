//! Files whose data lies where the evidence cannot be read at all (the missing or
//! truncated part of an E01 set): each is named in errors.csv with the volume
//! bytes it lost, when the volume's `$MFT` could be read. The image's own row
//! says which media bytes are gone; these rows say what they held, including
//! files no listing reaches (their folder's index was in the lost part too).

use std::ops::Range;

use crate::collect::mft::{walk, DirectoryMap};
use crate::collect::source::OpenFile;
use crate::evidence::ReadAt;
use crate::ntfs::Volume;
use crate::output::Stage;
use crate::pipeline::Sinks;

/// Names in errors.csv (stage `image`) every in-use file of `ntfs` with a data
/// stream in a range its bytes cannot be read (`mft`: the volume's `$MFT`,
/// `dirs`: its directory map, for paths).
pub fn name_files(
    ntfs: &Volume,
    mft: &OpenFile,
    dirs: &mut DirectoryMap,
    out: &Sinks<'_>,
    label: &str,
) {
    let lost = ntfs.bytes().unreadable_ranges();
    if lost.is_empty() {
        return;
    }
    walk(
        mft.data.as_ref(),
        &mft.extents,
        dirs,
        &mut |row| {
            if !row.entry.in_use {
                return;
            }
            // An extension record's runs are its base file's, named there.
            if ntfs
                .record(row.entry.record)
                .is_ok_and(|r| r.base_record() != 0)
            {
                return;
            }
            // The whole file (extension records too): its runs may be there.
            let Ok(file) = ntfs.file(row.entry.record) else {
                return; // the $MFT table reports unreadable records
            };
            for stream in file.streams().iter().filter(|s| s.is_data) {
                // A stream that cannot be mapped cannot be placed in the lost
                // part; its file is not one toolmark reads (those report it).
                let Ok(data) = ntfs.stream(&file, &stream.name) else {
                    continue;
                };
                let hit = overlap(&data.volume_ranges(), &lost);
                if hit.is_empty() {
                    continue;
                }
                let path = if stream.name.is_empty() {
                    row.path.clone()
                } else {
                    format!("{}:{}", row.path, stream.name)
                };
                let bytes: u64 = hit.iter().map(|r| r.end - r.start).sum();
                let ranges: Vec<String> = hit
                    .iter()
                    .map(|r| format!("{}..{}", r.start, r.end))
                    .collect();
                let message = format!(
                    "{bytes} bytes of its data (volume bytes {}) lie in the part of the \
                     evidence that cannot be read",
                    ranges.join(", ")
                );
                out.error(label, &path, Stage::Image, &message);
            }
        },
        // Each damaged record is reported by the `$MFT` table's own walk.
        &mut |_, _| {},
    );
}

/// The parts of `ranges` inside any of `lost`, in order.
fn overlap(ranges: &[Range<u64>], lost: &[Range<u64>]) -> Vec<Range<u64>> {
    ranges
        .iter()
        .flat_map(|r| {
            lost.iter().filter_map(move |l| {
                let (start, end) = (r.start.max(l.start), r.end.min(l.end));
                (start < end).then_some(start..end)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::overlap;

    #[test]
    fn overlap_keeps_only_the_lost_parts() {
        let lost = [100..200, 300..400];
        let one = |r: std::ops::Range<u64>| Vec::from([r]);
        assert_eq!(overlap(&one(0..50), &lost), Vec::new());
        assert_eq!(overlap(&one(150..350), &lost), [150..200, 300..350]);
        assert_eq!(
            overlap(&[0..1000, 120..130], &lost),
            vec![100..200, 300..400, 120..130]
        );
    }
}
