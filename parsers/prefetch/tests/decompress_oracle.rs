//! The decompressor against an independent implementation: Fox-IT's
//! `dissect.util` LZXPRESS Huffman decoder (Python, PyPI package `dissect.util`)
//! run on every `MAM` file of the corpus.
//!
//! dissect decodes until its input ends rather than to a stated size, so its
//! output can carry a few bytes decoded from the end-of-stream padding or stop a
//! byte short; the comparison is therefore on the common prefix, while our output
//! must have exactly the stated size (its SCCA file-size field is checked against
//! it in `corpus.rs`). The texts are compared by CRC-32 to keep the pipe small.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

const ORACLE: &str = r#"
import struct, sys, zlib
try:
    from dissect.util.compression import lzxpress_huffman
except ImportError as e:
    sys.exit("dissect.util is missing (pip install dissect.util): %s" % e)
for path in sys.stdin.read().splitlines():
    data = open(path, "rb").read()
    out = lzxpress_huffman.decompress(data[8:])
    stated = struct.unpack("<I", data[4:8])[0]
    common = min(len(out), stated)
    print("%s\t%d\t%d\t%d" % (path, stated, len(out), zlib.crc32(out[:common])))
"#;

#[test]
fn decompressed_bytes_equal_dissect_util() {
    let files: Vec<_> = common::prefetch_files()
        .into_iter()
        .filter(|p| std::fs::read(p).unwrap().starts_with(b"MAM"))
        .collect();
    let list: String = files.iter().map(|p| format!("{}\n", p.display())).collect();

    let mut child = Command::new("python3")
        .args(["-c", ORACLE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the dissect.util oracle");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut compared = 0usize;
    let mut oracle_length_differs = 0usize;
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [path, stated, their_len, their_crc] = fields[..] else {
            panic!("bad oracle line {line:?}");
        };
        let stated: usize = stated.parse().unwrap();
        let their_len: usize = their_len.parse().unwrap();
        let ours = prefetch::decompress(&std::fs::read(path).unwrap())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(ours.len(), stated, "{path}: our length");
        let common_len = their_len.min(stated);
        assert_eq!(
            crc32(&ours[..common_len]).to_string(),
            their_crc,
            "{path}: bytes differ from dissect.util in the first {common_len}"
        );
        // dissect may run on into the padding, but it must not stop early by more
        // than a few bytes (5 seen), or the comparison would leave our tail unchecked.
        assert!(
            common_len + 16 >= stated,
            "{path}: dissect gave only {their_len}"
        );
        oracle_length_differs += usize::from(their_len != stated);
        compared += 1;
    }
    eprintln!(
        "{compared} MAM files equal to dissect.util; its length differed from the stated \
         size on {oracle_length_differs}"
    );
    assert_eq!(compared, files.len());
    assert!(compared >= 700, "only {compared} MAM files");
}

/// CRC-32 (IEEE, as Python's `zlib.crc32`).
fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    !bytes.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}
