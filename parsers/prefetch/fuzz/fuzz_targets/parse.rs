//! Feeds arbitrary bytes to every public entry point of the Prefetch crate: the
//! whole-file parser (which decompresses MAM itself), the MAM decompressor, and the
//! raw LZXPRESS Huffman decoder with a size taken from the first input byte.
//! Run: `cargo +nightly fuzz run parse fuzz/corpus/parse` from parsers/prefetch.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = prefetch::parse(data);
    let _ = prefetch::decompress(data);
    if let Some((&size, stream)) = data.split_first() {
        let _ = prefetch::lzxpress_huffman::decompress(stream, usize::from(size) * 256);
    }
});
