#![no_main]
//! Opens arbitrary bytes as an image and reads it (`blockio::read_through`).

use std::sync::Arc;

use blockio::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file: Arc<dyn Source> = Arc::new(data.to_vec());
    if let Ok(mut disk) = vmdk::Vmdk::open(file, &mut |_| {
        Err(std::io::Error::other("no extents while fuzzing"))
    }) {
        blockio::read_through(&mut disk);
    }
});
