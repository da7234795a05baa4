//! A panic contained in a parser region (`collect::contain`) is reported by its
//! errors.csv row, not printed: the panic hook toolmark installs stays silent for
//! it and prints every other panic. Its own test binary: the hook is process-wide.

use std::sync::atomic::{AtomicUsize, Ordering};

use toolmark::collect::contain::{contained, quiet_contained_panics};

/// Panics the hook below toolmark's passed on to be printed.
static PRINTED: AtomicUsize = AtomicUsize::new(0);

#[test]
fn contained_panics_stay_off_stderr_and_others_are_printed() {
    std::panic::set_hook(Box::new(|_| {
        PRINTED.fetch_add(1, Ordering::SeqCst);
    }));
    quiet_contained_panics();
    assert_eq!(
        contained(|| -> u8 { panic!("hostile chunk") }),
        Err("hostile chunk".to_string())
    );
    assert_eq!(
        PRINTED.load(Ordering::SeqCst),
        0,
        "a contained panic is not printed"
    );
    // A panic outside any contained region (our own bug) is printed as always.
    assert!(std::panic::catch_unwind(|| panic!("a bug")).is_err());
    assert_eq!(PRINTED.load(Ordering::SeqCst), 1);
}
