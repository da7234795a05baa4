//! Seeds of fuzz/corpus/amcache and deterministic truncations / bit flips of a real
//! Amcache hive go through the fuzz entry point without panicking.

#[path = "common/exercise.rs"]
mod exercise;

#[test]
fn seeds_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/amcache");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("seed directory") {
        exercise::exercise(&std::fs::read(entry.expect("entry").path()).expect("seed"));
        n += 1;
    }
    assert!(n >= 3, "expected the seeds made by fuzz/make_seeds.py");
}

#[test]
fn mutated_hive_does_not_panic() {
    let corpus = std::env::var_os("TOOLMARK_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    let path = corpus.join("registry/amcache/plaso-win10/win10-Amcache.hve");
    let original =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{} is required: {e}", path.display()));
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    for case in 0..1500 {
        let mut data = original.clone();
        if case % 4 == 0 {
            data.truncate(next(data.len()));
        } else {
            for _ in 0..1 + next(16) {
                let at = next(data.len());
                if let Some(b) = data.get_mut(at) {
                    *b ^= 1 << next(8);
                }
            }
        }
        exercise::exercise(&data);
    }
}
