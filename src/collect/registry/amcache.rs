//! amcache.csv: every entry of `Windows/AppCompat/Programs/Amcache.hve` (logs
//! replayed), as the `amcache` crate reads them; the timeline gets each entry key's
//! LastWrite time, which tracks when Windows (re)inventoried the file.

use crate::output::Stage;
use filetime::Filetime;

use super::load::{HiveKind, Hives};
use crate::collect::rows::observation;
use crate::pipeline::Sinks;
use crate::traces::matcher::{ExecutionArtifact, Observed};

/// Writes every Amcache entry of the volume.
pub fn collect(out: &Sinks<'_>, volume: &str, hives: &Hives) {
    let Some(hve) = hives.first(HiveKind::Amcache) else {
        return;
    };
    let parsed = match amcache::parse(&hve.hive) {
        Ok(p) => p,
        Err(e) => return out.error(volume, &hve.path, Stage::Amcache, &e.to_string()),
    };
    for problem in &parsed.problems {
        out.error(volume, &hve.path, Stage::Amcache, problem);
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let time = |v: Option<Filetime>| v.map(|t| t.to_string()).unwrap_or_default();
    let number = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    for e in &parsed.entries {
        let written = e.key_last_written.to_string();
        let kind = format!("{:?}", e.kind);
        out.row(
            "amcache",
            volume,
            vec![
                hve.path.clone(),
                kind.clone(),
                e.key_path.clone(),
                written.clone(),
                text(&e.path),
                text(&e.name),
                text(&e.sha1),
                number(e.size),
                time(e.link_date),
                text(&e.product),
                text(&e.publisher),
                text(&e.version),
                text(&e.program_id),
                time(e.install_date),
                time(e.file_modified),
                text(&e.original_file_name),
                text(&e.product_version),
                text(&e.bin_file_version),
                text(&e.bin_product_version),
                text(&e.binary_type),
                number(e.language),
                text(&e.long_path_hash),
                number(e.usn),
                e.is_os_component.map(|b| b.to_string()).unwrap_or_default(),
            ],
        );
        if let Some(path) = e.path.as_ref().filter(|p| !p.is_empty()) {
            out.observe(
                volume,
                observation(
                    &written,
                    "amcache",
                    &hve.path,
                    e.key_path.clone(),
                    Observed::Execution {
                        artifact: ExecutionArtifact::Amcache,
                        path: path.clone(),
                        original_name: e.original_file_name.clone(),
                    },
                ),
            );
        }
        let what = e.path.as_ref().or(e.name.as_ref()).unwrap_or(&e.key_path);
        out.event(
            volume,
            &written,
            "Amcache Entry Key Last Written",
            format!("{kind} {what}"),
            "amcache",
            &hve.path,
            e.key_path.clone(),
        );
    }
}
