//! A minimal registry hive writer for tests that need a hive with one structure
//! damaged in a known way: cells are appended to one hive bin, keys and values
//! are laid out as the format description says (see toolmark-regf's modules), and
//! the caller gets every cell offset back to damage what it likes.

const BASE_BLOCK: usize = 4096;
const BIN_HEADER: usize = 32;
const NO_CELL: u32 = 0xFFFF_FFFF;

/// Builds the hive bins data of a hive, one cell after another.
pub struct HiveBuilder {
    bin: Vec<u8>,
}

impl Default for HiveBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HiveBuilder {
    /// An empty hive bin.
    pub fn new() -> Self {
        let mut bin = vec![0u8; BIN_HEADER];
        bin[..4].copy_from_slice(b"hbin");
        HiveBuilder { bin }
    }

    /// Appends an allocated cell holding `payload`; returns its cell offset.
    pub fn cell(&mut self, payload: &[u8]) -> u32 {
        let offset = self.bin.len();
        let size = (payload.len() + 4).div_ceil(8) * 8;
        self.bin.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.bin.extend_from_slice(payload);
        self.bin.resize(offset + size, 0);
        offset as u32
    }

    /// A value: data of 4 bytes or less resident in the record, longer data in a
    /// cell of its own.
    pub fn value(&mut self, name: &str, value_type: u32, data: &[u8]) -> u32 {
        if data.len() <= 4 {
            let mut field = [0u8; 4];
            field[..data.len()].copy_from_slice(data);
            let size = 0x8000_0000 | data.len() as u32;
            self.raw_value(name, value_type, size, u32::from_le_bytes(field))
        } else {
            let cell = self.cell(data);
            self.raw_value(name, value_type, data.len() as u32, cell)
        }
    }

    /// A REG_SZ value (UTF-16LE, NUL-terminated).
    pub fn string(&mut self, name: &str, text: &str) -> u32 {
        let mut data: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        data.extend_from_slice(&[0, 0]);
        self.value(name, 1, &data)
    }

    /// A REG_DWORD value.
    pub fn dword(&mut self, name: &str, number: u32) -> u32 {
        self.value(name, 4, &number.to_le_bytes())
    }

    /// A value record with its size and data offset fields exactly as given.
    pub fn raw_value(&mut self, name: &str, value_type: u32, size: u32, offset: u32) -> u32 {
        let mut vk = Vec::new();
        vk.extend_from_slice(b"vk");
        vk.extend_from_slice(&(name.len() as u16).to_le_bytes());
        vk.extend_from_slice(&size.to_le_bytes());
        vk.extend_from_slice(&offset.to_le_bytes());
        vk.extend_from_slice(&value_type.to_le_bytes());
        vk.extend_from_slice(&1u16.to_le_bytes()); // name in one byte per character
        vk.extend_from_slice(&0u16.to_le_bytes());
        vk.extend_from_slice(name.as_bytes());
        self.cell(&vk)
    }

    /// A value list cell naming `values` in order (repeats allowed).
    pub fn value_list(&mut self, values: &[u32]) -> u32 {
        let list: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.cell(&list)
    }

    /// A key with these subkeys (an `lf` list) and values; its counts are the
    /// lists' lengths.
    pub fn key(&mut self, name: &str, subkeys: &[u32], values: &[u32]) -> u32 {
        let value_list = match values.is_empty() {
            true => NO_CELL,
            false => self.value_list(values),
        };
        self.key_with_lists(name, subkeys, values.len() as u32, value_list)
    }

    /// A key with these subkeys whose value count and value list offset are given
    /// as stored.
    pub fn key_with_lists(
        &mut self,
        name: &str,
        subkeys: &[u32],
        value_count: u32,
        value_list: u32,
    ) -> u32 {
        let subkey_list = match subkeys.is_empty() {
            true => NO_CELL,
            false => {
                let mut lf = Vec::new();
                lf.extend_from_slice(b"lf");
                lf.extend_from_slice(&(subkeys.len() as u16).to_le_bytes());
                for &k in subkeys {
                    lf.extend_from_slice(&k.to_le_bytes());
                    lf.extend_from_slice(&[0; 4]);
                }
                self.cell(&lf)
            }
        };
        let mut nk = Vec::new();
        nk.extend_from_slice(b"nk");
        nk.extend_from_slice(&0x20u16.to_le_bytes()); // name in one byte per character
        nk.extend_from_slice(&0x01D5_0000_0000_0000u64.to_le_bytes());
        let fields = [
            0,                    // access bits
            0,                    // parent
            subkeys.len() as u32, // subkey count
            0,                    // volatile subkey count
            subkey_list,          // subkey list
            NO_CELL,              // volatile subkey list
            value_count,          // value count
            value_list,           // value list
            NO_CELL,              // security
            NO_CELL,              // class name
            0,                    // five size hints
            0,
            0,
            0,
            0,
        ];
        for f in fields {
            nk.extend_from_slice(&f.to_le_bytes());
        }
        nk.extend_from_slice(&(name.len() as u16).to_le_bytes());
        nk.extend_from_slice(&0u16.to_le_bytes());
        nk.extend_from_slice(name.as_bytes());
        self.cell(&nk)
    }

    /// Bytes of the hive bins data so far (to damage a cell in place).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bin
    }

    /// The whole hive file: a clean base block (minor version 5) naming `root`,
    /// then the bin padded to a multiple of 4096 bytes with one free cell.
    pub fn finish(mut self, root: u32) -> Vec<u8> {
        let end = self.bin.len().div_ceil(4096).max(1) * 4096;
        if end > self.bin.len() {
            let free = (end - self.bin.len()) as i32;
            self.bin.extend_from_slice(&free.to_le_bytes());
            self.bin.resize(end, 0);
        }
        self.bin[8..12].copy_from_slice(&(end as u32).to_le_bytes());
        let mut file = base_block(1, 1, root, end as u32, 0, "hive");
        file.extend_from_slice(&self.bin);
        file
    }
}

/// A base block with the given sequence numbers, root cell, hive bins data size,
/// file type and file name, its checksum set.
pub fn base_block(
    primary_sequence: u32,
    secondary_sequence: u32,
    root: u32,
    hive_bins_data_size: u32,
    file_type: u32,
    file_name: &str,
) -> Vec<u8> {
    let mut b = vec![0u8; BASE_BLOCK];
    b[..4].copy_from_slice(b"regf");
    let fields: [(usize, u32); 9] = [
        (4, primary_sequence),
        (8, secondary_sequence),
        (20, 1),
        (24, 5),
        (28, file_type),
        (32, 1),
        (36, root),
        (40, hive_bins_data_size),
        (44, 1),
    ];
    for (at, v) in fields {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    b[12..20].copy_from_slice(&0x01D0_0000_0000_0000u64.to_le_bytes());
    for (i, unit) in file_name.encode_utf16().take(32).enumerate() {
        b[48 + i * 2..50 + i * 2].copy_from_slice(&unit.to_le_bytes());
    }
    reseal(&mut b);
    b
}

/// Recomputes the base block checksum (XOR of the first 127 words, 0 and
/// 0xFFFFFFFF remapped as Windows does) after an edit.
pub fn reseal(base_block: &mut [u8]) {
    let xor = base_block[..508]
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .fold(0u32, |a, w| a ^ w);
    let sum = match xor {
        0 => 1,
        0xFFFF_FFFF => 0xFFFF_FFFE,
        x => x,
    };
    base_block[508..512].copy_from_slice(&sum.to_le_bytes());
}

/// A new-format (`HvLE`) log entry writing `pages` (offset in the hive bins data,
/// bytes) with a hive bins data size of `hive_bins_data_size`, hashes valid.
pub fn log_entry(sequence: u32, hive_bins_data_size: u32, pages: &[(u32, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (offset, data) in pages {
        body.extend_from_slice(&offset.to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    }
    for (_, data) in pages {
        body.extend_from_slice(data);
    }
    let size = (40 + body.len()).div_ceil(512) * 512;
    body.resize(size - 40, 0);
    let mut head = Vec::new();
    head.extend_from_slice(b"HvLE");
    for f in [
        size as u32,
        0,
        sequence,
        hive_bins_data_size,
        pages.len() as u32,
    ] {
        head.extend_from_slice(&f.to_le_bytes());
    }
    let hash1 = marvin32(&body);
    head.extend_from_slice(&hash1.to_le_bytes());
    let hash2 = marvin32(&head);
    head.extend_from_slice(&hash2.to_le_bytes());
    head.extend_from_slice(&body);
    head
}

/// Marvin32 with the registry's seed (written from the algorithm's description,
/// apart from toolmark-regf's own copy, so a test checks one against the other).
fn marvin32(data: &[u8]) -> u64 {
    const SEED: u64 = 0x82EF_4D88_7A4E_55C5;
    let (mut lo, mut hi) = (SEED as u32, (SEED >> 32) as u32);
    let mix = |lo: &mut u32, hi: &mut u32| {
        *hi ^= *lo;
        *lo = lo.rotate_left(20).wrapping_add(*hi);
        *hi = hi.rotate_left(9) ^ *lo;
        *lo = lo.rotate_left(27).wrapping_add(*hi);
        *hi = hi.rotate_left(19);
    };
    let words = data.chunks_exact(4);
    let tail = words.remainder();
    for w in words {
        lo = lo.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        mix(&mut lo, &mut hi);
    }
    let mut last = [0u8; 4];
    last[..tail.len()].copy_from_slice(tail);
    last[tail.len()] = 0x80;
    lo = lo.wrapping_add(u32::from_le_bytes(last));
    mix(&mut lo, &mut hi);
    mix(&mut lo, &mut hi);
    (u64::from(hi) << 32) | u64::from(lo)
}
