//! Lists the shadow copies of a raw NTFS volume file, or writes one snapshot's
//! bytes: `vss_dump VOLUME [OFFSET] [N > snapshot.raw]`.

use std::io::Write;
use std::os::unix::fs::FileExt;

struct File(std::fs::File, u64);

impl vss::ReadAt for File {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.0.read_exact_at(buf, offset + self.1)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: vss_dump VOLUME [OFFSET] [N]")?;
    let start: u64 = args.get(2).map_or(Ok(0), |s| s.parse())?;
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len() - start;
    let src = File(file, start);
    let Some(catalog) = vss::Catalog::open(&src, size)? else {
        println!("no VSS header");
        return Ok(());
    };
    let Some(n) = args.get(3) else {
        for (i, s) in catalog.stores.iter().enumerate() {
            println!(
                "{}: store {{{}}} shadow copy {{{}}} set {{{}}} created {} size {} attributes {:#x}",
                i + 1,
                s.store_id,
                s.shadow_copy_id,
                s.shadow_copy_set_id,
                s.creation_time.raw(),
                s.volume_size,
                s.attributes
            );
        }
        for p in &catalog.problems {
            println!("problem: {p}");
        }
        return Ok(());
    };
    let snapshot = catalog.snapshot(&src, n.parse()?)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < snapshot.len() {
        let got = snapshot.read_at(&src, &mut buf, at)?;
        out.write_all(&buf[..got])?;
        at += got as u64;
    }
    Ok(())
}
