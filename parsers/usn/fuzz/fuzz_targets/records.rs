#![no_main]
//! Feeds arbitrary bytes to both entry points; they must not panic and must agree on
//! the records they find.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let from_slice: Vec<_> = usn::records(data, 0).filter_map(Result::ok).collect();
    let from_stream: Vec<_> = usn::UsnStream::with_block_size(data, 0, 64)
        .filter_map(Result::ok)
        .collect();
    assert_eq!(from_slice, from_stream);
});
