//! The app's wall clock for what a citizen's visit is judged by (today's appointments and their check-in
//! windows): the system's time, which a test in the same process may move to a fixed moment so that fixtures
//! "in 10 minutes" never fall on another day. Nothing outside tests moves it.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds added to the system's time (0 outside tests).
static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Now, as the app's visits see it.
pub fn now() -> jiff::Timestamp {
    let real = jiff::Timestamp::now();
    let offset = jiff::SignedDuration::from_millis(OFFSET_MS.load(Ordering::Relaxed));
    real.checked_add(offset).unwrap_or(real)
}

/// Moves this process's clock so that it reads `at` now, and goes on from there (tests only: each test
/// runs in its own process under nextest).
pub fn set_for_tests(at: jiff::Timestamp) {
    let offset = at.duration_since(jiff::Timestamp::now());
    OFFSET_MS.store(offset.as_millis().clamp(i64::MIN as i128, i64::MAX as i128) as i64, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_clock_reads_the_moment_given_and_goes_on() {
        let at: jiff::Timestamp = "2026-11-27T02:00:00Z".parse().unwrap();
        set_for_tests(at);
        let read = now();
        assert!(read >= at && read.duration_since(at) < jiff::SignedDuration::from_secs(5), "{read}");
    }
}
