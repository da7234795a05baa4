//! `toolmark verify`: recompute the media hashes and compare with the stored ones.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Outcome, EXIT_MISMATCH};
use crate::evidence::{hex, Evidence, ReadAt};

/// Runs `toolmark verify`; exit status 1 when a stored hash does not match.
pub fn run(image: &Path, quiet: bool) -> Outcome {
    let evidence = Evidence::open(image)?;
    // A set read only up to its damage (a split raw piece missing or short) hashes
    // without a read error, but that hash is not the media's.
    if let Some(missing) = evidence.media_incomplete() {
        anyhow::bail!("the media cannot be read whole: {missing}");
    }
    let bar = ProgressBar::new(evidence.len());
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else {
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }
    let hashes = evidence
        .hash_media(&mut |done| bar.set_position(done))
        .with_context(|| image.display().to_string())?;
    bar.finish_and_clear();
    let md5 = hex(&hashes.md5);
    let sha1 = hex(&hashes.sha1);
    say!("{}", image.display());
    say!("  computed MD5:  {md5}");
    say!("  computed SHA1: {sha1}");
    let stored = evidence.ewf();
    let checks = [
        ("MD5", stored.and_then(|e| e.stored_md5.clone()), md5),
        ("SHA1", stored.and_then(|e| e.stored_sha1.clone()), sha1),
    ];
    let mut compared = 0;
    let mut mismatch = false;
    for (name, stored, computed) in checks {
        if let Some(stored) = stored {
            compared += 1;
            let ok = stored.eq_ignore_ascii_case(&computed);
            mismatch |= !ok;
            say!(
                "  stored {name:<5}  {stored}  {}",
                if ok { "match" } else { "MISMATCH" }
            );
        }
    }
    if compared == 0 {
        say!("  no stored hashes in this image: nothing to compare");
    }
    // Damage the container's own redundancy made good: the hash is the media's,
    // but the evidence is not intact, and the status says so.
    let repaired = evidence.damage();
    if let Some(damage) = &repaired {
        eprintln!("toolmark: warning: {damage}");
    }
    Ok(if mismatch {
        ExitCode::from(EXIT_MISMATCH)
    } else if repaired.is_some() {
        ExitCode::from(super::EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}
