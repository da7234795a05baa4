#![no_main]
//! Opens arbitrary bytes as an NTFS volume and walks it as a scan does: the root
//! folder's listing, a few files' streams read through, a path looked up, and the
//! first MFT records assembled (extension records, attribute lists, runs, LZNT1).

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use toolmark::evidence::ReadAt;
use toolmark::ntfs::Volume;

fuzz_target!(|data: &[u8]| {
    let bytes: Arc<dyn ReadAt> = Arc::new(data.to_vec());
    let Ok(volume) = Volume::open(bytes) else {
        return;
    };
    let _ = volume.lookup("Windows/System32/config/SYSTEM");
    for number in 0..volume.record_count().min(64) {
        let Ok(file) = volume.file(number) else {
            continue;
        };
        if file.is_directory {
            let _ = volume.read_dir(&file);
        }
        for stream in file.streams().iter().filter(|s| s.is_data) {
            if let Ok(data) = volume.stream(&file, &stream.name) {
                let mut buf = vec![0u8; 65536];
                let _ = data.read_at(&mut buf, 0);
            }
        }
    }
});
