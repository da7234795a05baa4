#![no_main]
//! Reads arbitrary bytes as a one-segment E01 set (`image.E01`), opened and read
//! through as `common/ewf_set.rs` says.

use libfuzzer_sys::fuzz_target;

#[path = "common/ewf_set.rs"]
mod ewf_set;

fuzz_target!(|data: &[u8]| ewf_set::read_set(&[data]));
