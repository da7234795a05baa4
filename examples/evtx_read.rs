//! The event-log parser alone: `read_log` over every `.evtx` under a folder,
//! counting records, nothing written. For bench/evtx-vs-evtx-dump.sh.
//!
//! usage: evtx_read DIR [THREADS]   (threads per log, default 1; logs one after another)

use std::path::PathBuf;
use std::time::Instant;

use toolmark::collect::evtx::read_log;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: evtx_read DIR [THREADS]"));
    let threads: usize = args.next().map_or(1, |t| t.parse().expect("THREADS"));
    let mut logs = Vec::new();
    let mut dirs = vec![dir];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("evtx"))
            {
                logs.push(path);
            }
        }
    }
    logs.sort();
    let start = Instant::now();
    let (mut records, mut errors, mut fields) = (0u64, 0u64, 0usize);
    for log in &logs {
        let file = std::io::BufReader::new(std::fs::File::open(log).expect("open"));
        let stats = read_log(
            file,
            threads,
            &mut |r| fields += r.fields.len(),
            &mut |_| errors += 1,
        );
        match stats {
            Ok(s) => records += s.records,
            Err(e) => eprintln!("{}: {e}", log.display()),
        }
    }
    println!("logs {}", logs.len());
    println!("records {records}");
    println!("errors {errors}");
    println!("fields {fields}");
    println!("seconds {:.3}", start.elapsed().as_secs_f64());
}
