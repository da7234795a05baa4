//! Panics of the parser we do not own (the `evtx` crate) on hostile bytes,
//! contained where they happen: the unit being read (a chunk, the rest of a log)
//! is lost and reported as an errors.csv row, and reading goes on.
//!
//! Rust's default panic hook prints "thread … panicked at …" on stderr before the
//! unwinding is caught. For a contained panic that text says nothing the row does
//! not, and reads as a crash to whoever watches stderr, so [`quiet_contained_panics`]
//! installs a hook that stays silent while any contained region is running (on any
//! thread: the crate's worker threads panic on the reader's behalf) and prints as
//! always otherwise.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Contained regions running now, over every thread.
static CONTAINING: AtomicUsize = AtomicUsize::new(0);

/// While alive, the hook stays silent (a contained region is running).
pub struct QuietPanics(());

impl QuietPanics {
    /// Starts a contained region; it ends when the value is dropped.
    pub fn begin() -> QuietPanics {
        CONTAINING.fetch_add(1, Ordering::SeqCst);
        QuietPanics(())
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        CONTAINING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `read`; a panic in it becomes `Err` with what the panic said.
pub fn contained<R>(read: impl FnOnce() -> R) -> Result<R, String> {
    let _quiet = QuietPanics::begin();
    catch(read)
}

/// [`contained`] for a caller that already holds a [`QuietPanics`] around many
/// calls (one per record of a log).
pub fn catch<R>(read: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(read)).map_err(|panic| panic_text(panic.as_ref()))
}

/// What a panic said, when it said it as text.
pub fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "no message".into())
}

/// Installs the panic hook that keeps contained panics off stderr (see the module
/// documentation); every other panic is printed by the hook that was there.
pub fn quiet_contained_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if CONTAINING.load(Ordering::SeqCst) == 0 {
            previous(info);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_error_with_its_message() {
        assert_eq!(contained(|| 7), Ok(7));
        assert_eq!(
            contained(|| -> u32 { panic!("bad chunk {}", 3) }),
            Err("bad chunk 3".to_string())
        );
        assert_eq!(
            contained(|| -> u32 { std::panic::panic_any(5u8) }),
            Err("no message".to_string())
        );
    }
}
