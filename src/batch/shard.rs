//! Splitting one batch over many machines: `--shard I/N` keeps the inputs whose
//! position in the sorted input list is I modulo N, so N processes started with the
//! same command line and I = 0..N-1 scan every image exactly once, whatever order the
//! scheduler starts them in. `--shard auto` takes I and N from a Slurm job array or a
//! Kubernetes Indexed Job.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which slice of the batch this process scans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based slice number.
    pub index: usize,
    /// Slices in all.
    pub count: usize,
}

/// What a shard's batch manifest says about the whole batch, so `toolmark merge`
/// can check that the shards it is given belong together and miss nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// This shard's slice number.
    pub index: usize,
    /// Slices in all.
    pub count: usize,
    /// Every image name of the whole batch, in input order.
    pub batch: Vec<String>,
}

/// The environment variable that gives the number of slices to a Kubernetes Indexed
/// Job (Kubernetes gives each pod its index, but not the job's completions).
pub const COUNT_VARIABLE: &str = "TOOLMARK_SHARD_COUNT";

impl Shard {
    /// Reads `I/N` (0 <= I < N) or `auto`; `env` looks an environment variable up.
    pub fn parse(spec: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard, String> {
        if spec == "auto" {
            return Shard::from_environment(env);
        }
        let (i, n) = spec
            .split_once('/')
            .ok_or_else(|| format!("--shard {spec}: expected I/N (such as 0/4) or auto"))?;
        Shard::new(number(i, "--shard index")?, number(n, "--shard count")?)
    }

    fn new(index: usize, count: usize) -> Result<Shard, String> {
        if count == 0 || index >= count {
            return Err(format!(
                "shard {index}/{count}: the index must be at least 0 and below the count"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Slurm: `SLURM_ARRAY_TASK_ID` within `SLURM_ARRAY_TASK_MIN`, `_STEP` and
    /// `_COUNT` (so `--array=1-8` and `--array=0-14:2` work too); Kubernetes:
    /// `JOB_COMPLETION_INDEX` with the count in [`COUNT_VARIABLE`].
    fn from_environment(env: &dyn Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let var = |name: &str| -> Result<Option<usize>, String> {
            env(name).map(|v| number(&v, name)).transpose()
        };
        if let Some(id) = var("SLURM_ARRAY_TASK_ID")? {
            let count = var("SLURM_ARRAY_TASK_COUNT")?.ok_or(
                "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not",
            )?;
            let min = var("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = var("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let offset = id.checked_sub(min).filter(|o| o % step == 0).ok_or_else(|| {
                format!("--shard auto: array task {id} is not in a range starting at {min} by {step}; submit with --array=0-{}", count.saturating_sub(1))
            })?;
            return Shard::new(offset / step, count);
        }
        if let Some(index) = var("JOB_COMPLETION_INDEX")? {
            let count = var(COUNT_VARIABLE)?.ok_or_else(|| {
                format!("--shard auto: JOB_COMPLETION_INDEX is set but {COUNT_VARIABLE} (the Job's completions) is not")
            })?;
            return Shard::new(index, count);
        }
        Err(
            "--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor \
             JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give --shard I/N"
                .into(),
        )
    }

    /// The inputs of this slice, in their batch order: the k-th input of the list
    /// sorted by path (then by image name) belongs to slice k mod N.
    pub fn select(&self, named: &[(PathBuf, String)]) -> Vec<(PathBuf, String)> {
        let mut order: Vec<usize> = (0..named.len()).collect();
        order.sort_by(|&a, &b| named[a].cmp(&named[b]));
        let mut mine: Vec<usize> = order
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % self.count == self.index)
            .map(|(_, i)| i)
            .collect();
        mine.sort_unstable();
        mine.into_iter().map(|i| named[i].clone()).collect()
    }
}

fn number(text: &str, what: &str) -> Result<usize, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{what}: '{text}' is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn explicit_and_scheduler_shards() {
        let none = env(&[]);
        assert_eq!(Shard::parse("2/5", &none), Ok(Shard { index: 2, count: 5 }));
        assert!(Shard::parse("5/5", &none).is_err());
        assert!(Shard::parse("1/0", &none).is_err());
        assert!(Shard::parse("auto", &none).unwrap_err().contains("neither"));
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ]);
        assert_eq!(
            Shard::parse("auto", &slurm),
            Ok(Shard { index: 3, count: 4 })
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "1")]);
        assert!(Shard::parse("auto", &k8s)
            .unwrap_err()
            .contains(COUNT_VARIABLE));
        let k8s = env(&[("JOB_COMPLETION_INDEX", "1"), (COUNT_VARIABLE, "3")]);
        assert_eq!(Shard::parse("auto", &k8s), Ok(Shard { index: 1, count: 3 }));
    }

    #[test]
    fn slices_cover_every_input_once_whatever_the_given_order() {
        let named: Vec<(PathBuf, String)> = ["d", "b", "e", "a", "c"]
            .iter()
            .map(|n| (PathBuf::from(format!("/in/{n}")), n.to_string()))
            .collect();
        let mut reversed = named.clone();
        reversed.reverse();
        let mut seen = Vec::new();
        for index in 0..3 {
            let shard = Shard { index, count: 3 };
            let mine: Vec<String> = shard.select(&named).into_iter().map(|p| p.1).collect();
            let mut again: Vec<String> = shard.select(&reversed).into_iter().map(|p| p.1).collect();
            again.reverse();
            assert_eq!(mine, again, "same slice for any argument order");
            seen.extend(mine);
        }
        seen.sort();
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
        // Sorted a..e: slice 0 holds positions 0 and 3, in the given order.
        let first: Vec<String> = Shard { index: 0, count: 3 }
            .select(&named)
            .into_iter()
            .map(|p| p.1)
            .collect();
        assert_eq!(first, ["d", "a"]);
    }
}
