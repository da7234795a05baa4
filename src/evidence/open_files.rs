//! The process's limit on open files. An E01 set is read with every segment open (the
//! `ewf` crate holds one handle per segment), and so are a split raw set and a
//! virtual disk's extents: a 2 TB disk acquired in 1.5 GB segments is 1 400 files,
//! an EnCase set of 640 MB segments thousands, while most systems give a process a
//! soft limit of 1 024. The soft limit is raised to the hard one, which the
//! administrator set and any process may take.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Raises the soft limit on open files to the hard limit (when there is one, and
/// capped at `cap` so a system with no hard limit does not get an absurd one).
/// Returns the limit in force afterwards, `None` for no limit at all.
pub fn raise_open_file_limit(cap: u64) -> Option<u64> {
    let limits = getrlimit(Resource::Nofile);
    let wanted = limits.maximum.map_or(cap, |hard| hard.min(cap));
    match limits.current {
        Some(soft) if soft < wanted => {
            let raised = Rlimit {
                current: Some(wanted),
                maximum: limits.maximum,
            };
            // Refused (a sandbox, a system whose real ceiling is lower than it
            // reports): the old limit stays, and a set that needs more handles
            // fails with an error naming the limit.
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => Some(wanted),
                Err(_) => Some(soft),
            }
        }
        current => current,
    }
}

/// The limit on open files now in force, `None` for none.
pub fn open_file_limit() -> Option<u64> {
    getrlimit(Resource::Nofile).current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one_within_the_cap() {
        let before = getrlimit(Resource::Nofile);
        let after = raise_open_file_limit(1 << 20);
        assert_eq!(after, open_file_limit());
        let hard = before.maximum.map_or(1 << 20, |h| h.min(1 << 20));
        // Never lowered; raised up to the hard limit (or the cap).
        match (before.current, after) {
            (Some(soft), Some(now)) => assert!(now >= soft.min(hard) && now <= hard.max(soft)),
            (None, None) => {}
            other => panic!("limit changed kind: {other:?}"),
        }
    }
}
