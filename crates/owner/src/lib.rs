//! The one way the kiosk owns a thread. Every thread is an [`Owned`] value: it has a name, a [`Life`] that
//! the thread waits on (a stop is a wake-up, never a flag polled with sleeps) and beats for the watchdog,
//! and it is stopped and joined by whoever holds it, at the latest when it is dropped. [`Owners`] stops a
//! group in reverse start order. No thread is detached.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The process's fixed origin for heartbeats: beats are milliseconds since it, in one atomic.
fn origin() -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn since_origin(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(origin()).as_millis()).unwrap_or(u64::MAX)
}

/// One thread's sign of life: cheap to beat (one atomic store), cloned into the thread that beats it.
#[derive(Clone, Debug)]
pub struct Heartbeat(Arc<AtomicU64>);

impl Default for Heartbeat {
    fn default() -> Self {
        let h = Heartbeat(Arc::new(AtomicU64::new(0)));
        h.beat();
        h
    }
}

impl Heartbeat {
    /// "I am alive now."
    pub fn beat(&self) {
        self.beat_at(Instant::now());
    }

    /// A beat at `at` (the watchdog's tests set the time).
    pub fn beat_at(&self, at: Instant) {
        self.0.store(since_origin(at), Ordering::Relaxed);
    }

    /// How long ago the last beat was, seen at `now`.
    pub fn silent_for(&self, now: Instant) -> Duration {
        Duration::from_millis(since_origin(now).saturating_sub(self.0.load(Ordering::Relaxed)))
    }
}

/// A stop that threads wait on: set once, wakes every waiter at once.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<(Mutex<bool>, Condvar)>);

impl Stop {
    /// Stops: every thread waiting on this wakes now, and every later wait returns at once.
    pub fn set(&self) {
        let (flag, woken) = &*self.0;
        *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        woken.notify_all();
    }

    pub fn is_set(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout` for the stop. True when stopped (at once if it already was).
    pub fn wait(&self, timeout: Duration) -> bool {
        let (flag, woken) = &*self.0;
        let guard = flag.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) =
            woken.wait_timeout_while(guard, timeout, |stopped| !*stopped).unwrap_or_else(PoisonError::into_inner);
        *guard
    }
}

/// What an owned thread's body is given: its stop, to wait on, and its heartbeat, to beat.
#[derive(Clone, Debug, Default)]
pub struct Life {
    pub stop: Stop,
    pub heartbeat: Heartbeat,
}

impl Life {
    /// True once the owner has stopped the thread.
    pub fn stopped(&self) -> bool {
        self.stop.is_set()
    }

    /// Beats, then waits up to `timeout` for the stop: the idle step of a thread's loop. True when stopped.
    pub fn rest(&self, timeout: Duration) -> bool {
        self.heartbeat.beat();
        self.stop.wait(timeout)
    }
}

/// A thread and the one value that owns it: [`Owned::stop`] (or dropping it) sets its stop, runs its wake
/// (for a thread blocked elsewhere: a channel to close, a socket to shut down) and joins it.
pub struct Owned {
    name: String,
    life: Life,
    wake: Option<Box<dyn FnOnce() + Send>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Owned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Owned").field("name", &self.name).field("running", &self.thread.is_some()).finish()
    }
}

impl Owned {
    /// Starts `body` on a thread named `name` (as `ps` and panics show it). The body gets the thread's
    /// [`Life`]; it should return soon after the stop is set.
    pub fn spawn<F>(name: &str, body: F) -> std::io::Result<Owned>
    where
        F: FnOnce(Life) + Send + 'static,
    {
        Owned::spawn_with(name, Life::default(), body)
    }

    /// As [`Owned::spawn`], with a life made beforehand (a stop shared with other parts, a heartbeat the
    /// watchdog already watches).
    pub fn spawn_with<F>(name: &str, life: Life, body: F) -> std::io::Result<Owned>
    where
        F: FnOnce(Life) + Send + 'static,
    {
        let given = life.clone();
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || body(given))?;
        Ok(Owned { name: name.into(), life, wake: None, thread: Some(thread) })
    }

    /// What else to do to wake the thread when it is stopped, after its stop is set.
    pub fn waking_with(mut self, wake: impl FnOnce() + Send + 'static) -> Owned {
        self.wake = Some(Box::new(wake));
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The thread's heartbeat, for the watchdog.
    pub fn heartbeat(&self) -> Heartbeat {
        self.life.heartbeat.clone()
    }

    /// The thread's stop, for others that may stop it.
    pub fn stopper(&self) -> Stop {
        self.life.stop.clone()
    }

    /// Whether the thread has returned (or was stopped).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops the thread and waits for it. Stopping twice does nothing; a thread that panicked is logged.
    pub fn stop(&mut self) {
        self.life.stop.set();
        if let Some(wake) = self.wake.take() {
            wake();
        }
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() == std::thread::current().id() {
                // A thread dropping its own owner (its last handle went with it) cannot join itself.
                return;
            }
            if thread.join().is_err() {
                log::error!("the {} thread had panicked", self.name);
            }
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Threads started together and stopped together, the last started first (it may use the earlier ones).
#[derive(Debug, Default)]
pub struct Owners(Vec<Owned>);

impl Owners {
    pub fn push(&mut self, owned: Owned) {
        self.0.push(owned);
    }

    /// Stops every thread, in reverse start order.
    pub fn stop(&mut self) {
        while let Some(mut owned) = self.0.pop() {
            owned.stop();
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Owners {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    #[test]
    fn a_stop_wakes_a_waiting_thread_at_once_and_it_is_joined() {
        let (tx, rx) = channel();
        let mut owned = Owned::spawn("waiter", move |life| {
            // An hour's wait: only the stop can end it within the test.
            let stopped = life.stop.wait(Duration::from_secs(3600));
            tx.send(stopped).unwrap();
        })
        .unwrap();
        assert!(!owned.is_finished());
        owned.stop();
        assert!(owned.is_finished());
        assert_eq!(rx.try_recv(), Ok(true), "the thread saw the stop and had returned when stop() did");
        owned.stop();
    }

    #[test]
    fn dropping_the_owner_stops_and_joins_and_runs_the_wake() {
        let (tx, rx) = channel::<u32>();
        let (done_tx, done_rx) = channel();
        let owned = Owned::spawn("receiver", move |_| {
            // Blocked on a channel, not on the stop: the wake closes it.
            for _ in rx {}
            done_tx.send(()).unwrap();
        })
        .unwrap();
        let sender = Arc::new(Mutex::new(Some(tx)));
        let close = sender.clone();
        let owned = owned.waking_with(move || {
            close.lock().unwrap().take();
        });
        drop(owned);
        assert!(done_rx.try_recv().is_ok(), "the thread had returned when the drop did");
        assert!(sender.lock().unwrap().is_none());
    }

    #[test]
    fn owners_stop_the_last_started_first() {
        let order = Arc::new(Mutex::new(vec![]));
        let mut owners = Owners::default();
        for name in ["first", "second", "third"] {
            let order = order.clone();
            owners.push(
                Owned::spawn(name, move |life| {
                    life.stop.wait(Duration::from_secs(3600));
                    order.lock().unwrap().push(name);
                })
                .unwrap(),
            );
        }
        owners.stop();
        assert_eq!(*order.lock().unwrap(), ["third", "second", "first"]);
        assert!(owners.is_empty());
    }

    #[test]
    fn a_wait_without_a_stop_times_out_and_a_heartbeat_tells_its_silence() {
        let life = Life::default();
        assert!(!life.stop.wait(Duration::from_millis(1)));
        let now = Instant::now();
        life.heartbeat.beat_at(now);
        assert_eq!(life.heartbeat.silent_for(now + Duration::from_secs(3)), Duration::from_secs(3));
        assert!(life.rest(Duration::ZERO) == life.stopped());
    }
}
