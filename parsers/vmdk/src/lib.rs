//! Read-only VMware VMDK disks: hosted sparse extents (monolithicSparse,
//! twoGbMaxExtentSparse), stream-optimized (compressed grains), flat extents
//! (monolithicFlat, twoGbMaxExtentFlat) and snapshot children through
//! `parentFileNameHint`. See README.md for the format notes this follows.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod descriptor;
mod sparse;

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use blockio::{invalid, read_vec, Shifted, Source, VirtualDisk};

pub use descriptor::{Descriptor, ExtentKind, ExtentLine};
use sparse::SparseExtent;

/// The first bytes of a hosted sparse extent.
pub const SPARSE_MAGIC: &[u8; 4] = b"KDMV";
/// Largest descriptor file (or embedded descriptor) we read: real ones are a few KiB.
pub const MAX_DESCRIPTOR: u64 = 1 << 20;

/// True if `first` (the file's first bytes) starts a sparse extent or a text
/// descriptor.
pub fn is_vmdk(first: &[u8]) -> bool {
    first.starts_with(SPARSE_MAGIC) || descriptor::looks_like_descriptor(first)
}

enum Data {
    Flat { file: Arc<dyn Source>, offset: u64 },
    Zero,
    Sparse(Box<SparseExtent>),
}

struct Extent {
    start: u64,
    len: u64,
    data: Data,
}

/// A VMDK disk opened for reading.
pub struct Vmdk {
    extents: Vec<Extent>,
    size: u64,
    create_type: String,
    parent_hint: Option<String>,
    cid: Option<String>,
    parent_cid: Option<String>,
    parent: Option<Arc<dyn Source>>,
}

impl Vmdk {
    /// Opens the VMDK whose first file is `file`. `open_extent` opens an extent
    /// file a descriptor names (the caller decides where names may lead).
    pub fn open(
        file: Arc<dyn Source>,
        open_extent: &mut dyn FnMut(&str) -> io::Result<Arc<dyn Source>>,
    ) -> io::Result<Vmdk> {
        let mut first = vec![0u8; 512.min(file.len()) as usize];
        file.read_exact_at(&mut first, 0)?;
        if first.starts_with(SPARSE_MAGIC) {
            let extent = SparseExtent::open(Arc::clone(&file))?;
            let descriptor = match extent.embedded_descriptor() {
                Some((at, len)) => {
                    let text = read_vec(&*file, at, len.min(MAX_DESCRIPTOR), "VMDK descriptor")?;
                    Descriptor::parse(&text)
                }
                None => Descriptor::default(),
            };
            let size = extent.capacity();
            let create_type = match descriptor.create_type.as_deref() {
                Some(t) => t.to_string(),
                None if extent.compressed() => "streamOptimized".to_string(),
                None => "monolithicSparse".to_string(),
            };
            return Ok(Vmdk {
                extents: vec![Extent {
                    start: 0,
                    len: size,
                    data: Data::Sparse(Box::new(extent)),
                }],
                size,
                create_type,
                parent_hint: descriptor.parent_hint,
                cid: descriptor.cid,
                parent_cid: descriptor.parent_cid,
                parent: None,
            });
        }
        if file.len() > MAX_DESCRIPTOR {
            return Err(invalid(format!(
                "VMDK: descriptor file of {} bytes is larger than any real one",
                file.len()
            )));
        }
        let text = read_vec(&*file, 0, file.len(), "VMDK descriptor")?;
        let descriptor = Descriptor::parse(&text);
        if let Some(line) = descriptor.unsupported.first() {
            return Err(invalid(format!("VMDK: extent type not supported: {line}")));
        }
        if descriptor.extents.is_empty() {
            return Err(invalid("VMDK: descriptor lists no extents"));
        }
        let mut extents = Vec::with_capacity(descriptor.extents.len());
        // Each file named is opened once, however many extents name it: 20 000
        // one-sector extents of one file must not need 20 000 open handles.
        let mut opened: BTreeMap<String, Arc<dyn Source>> = BTreeMap::new();
        let mut open_once = |name: &str| -> io::Result<Arc<dyn Source>> {
            if let Some(file) = opened.get(name) {
                return Ok(Arc::clone(file));
            }
            let file = open_extent(name)?;
            opened.insert(name.to_string(), Arc::clone(&file));
            Ok(file)
        };
        let mut start = 0u64;
        for line in &descriptor.extents {
            let len = line
                .sectors
                .checked_mul(512)
                .ok_or_else(|| invalid("VMDK: extent size overflows"))?;
            let data = match line.kind {
                ExtentKind::Zero => Data::Zero,
                ExtentKind::Flat => Data::Flat {
                    file: open_once(&line.file)?,
                    offset: line.offset.saturating_mul(512),
                },
                ExtentKind::Sparse => {
                    let extent = SparseExtent::open(open_once(&line.file)?)
                        .map_err(|e| invalid(format!("extent {}: {e}", line.file)))?;
                    if extent.capacity() < len {
                        return Err(invalid(format!(
                            "VMDK: extent {} holds {} bytes, the descriptor says {len}",
                            line.file,
                            extent.capacity()
                        )));
                    }
                    Data::Sparse(Box::new(extent))
                }
            };
            extents.push(Extent { start, len, data });
            start = start
                .checked_add(len)
                .ok_or_else(|| invalid("VMDK: disk size overflows"))?;
        }
        Ok(Vmdk {
            extents,
            size: start,
            create_type: descriptor.create_type.unwrap_or_else(|| "unknown".into()),
            parent_hint: descriptor.parent_hint,
            cid: descriptor.cid,
            parent_cid: descriptor.parent_cid,
            parent: None,
        })
    }

    /// How many extents make up the disk.
    pub fn extent_count(&self) -> usize {
        self.extents.len()
    }
}

impl Source for Vmdk {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.size {
            return Ok(0);
        }
        let total = (self.size - offset).min(buf.len() as u64) as usize;
        let mut done = 0usize;
        while done < total {
            let at = offset + done as u64;
            let index = self.extents.partition_point(|e| e.start <= at) - 1;
            let extent = &self.extents[index];
            let within = at - extent.start;
            let n = ((extent.len - within) as usize).min(total - done);
            let out = &mut buf[done..done + n];
            match &extent.data {
                Data::Zero => out.fill(0),
                Data::Flat { file, offset } => file.read_exact_at(out, offset + within)?,
                Data::Sparse(sparse) => {
                    let parent = self.parent.as_deref().map(|inner| Shifted {
                        inner,
                        base: extent.start,
                    });
                    sparse.read(out, within, parent.as_ref().map(|p| p as &dyn Source))?;
                }
            }
            done += n;
        }
        Ok(total)
    }

    fn len(&self) -> u64 {
        self.size
    }
}

impl VirtualDisk for Vmdk {
    fn format(&self) -> &'static str {
        "VMDK"
    }

    fn subformat(&self) -> String {
        self.create_type.clone()
    }

    fn parent_locations(&self) -> Vec<String> {
        self.parent_hint.iter().cloned().collect()
    }

    fn set_parent(&mut self, parent: Arc<dyn Source>) {
        self.parent = Some(parent);
    }

    fn identity(&self) -> Option<String> {
        self.cid.clone()
    }

    fn parent_identities(&self) -> Vec<String> {
        self.parent_cid.iter().cloned().collect()
    }

    fn repairs(&self) -> Vec<String> {
        self.extents
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.data {
                Data::Sparse(sparse) => Some((i, sparse.repairs())),
                _ => None,
            })
            .flat_map(|(i, repairs)| {
                repairs
                    .iter()
                    .map(move |r| format!("extent {}: {r}", i + 1))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many extents of one file open it once, and each reads its own part.
    #[test]
    fn extents_naming_one_file_share_one_handle() {
        let mut text = String::from("# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\n");
        for i in 0..1000 {
            text.push_str(&format!("RW 1 FLAT \"flat.bin\" {}\n", 999 - i));
        }
        let flat: Vec<u8> = (0..1000u32).flat_map(|s| [(s % 251) as u8; 512]).collect();
        let flat: Arc<dyn Source> = Arc::new(flat);
        let mut opens = 0;
        let mut open = |name: &str| -> io::Result<Arc<dyn Source>> {
            assert_eq!(name, "flat.bin");
            opens += 1;
            Ok(Arc::clone(&flat))
        };
        let vmdk = Vmdk::open(Arc::new(text.into_bytes()), &mut open).unwrap();
        assert_eq!(opens, 1);
        assert_eq!(vmdk.extent_count(), 1000);
        let mut sector = [0u8; 512];
        vmdk.read_exact_at(&mut sector, 0).unwrap();
        assert!(sector.iter().all(|&b| b == (999 % 251) as u8));
        vmdk.read_exact_at(&mut sector, 999 * 512).unwrap();
        assert!(sector.iter().all(|&b| b == 0));
    }
}
