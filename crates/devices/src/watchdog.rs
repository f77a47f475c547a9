//! Liveness under systemd: `READY=1` once the window is up, and `WATCHDOG=1` only while the UI event loop
//! and every device owner are alive, so a hung owner stops the pings and systemd restarts the kiosk.
//!
//! Each long-lived thread that matters holds a [`Heartbeat`] and beats it at least once per turn of its
//! loop (an idle owner wakes at least every second to do so). [`Liveness`] knows how long each may stay
//! silent: a printer job or a card read is allowed its own timeouts, never more. The notify protocol is
//! one datagram per message to `$NOTIFY_SOCKET` (sd_notify(3)); it is small enough to speak directly.

pub use owner::Heartbeat;
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A watched part: its name as a technician reads it in the log, how long it may stay silent, its beat.
#[derive(Debug)]
struct Part {
    name: String,
    limit: Duration,
    heartbeat: Heartbeat,
}

/// The parts whose silence must stop the watchdog pings.
#[derive(Clone, Debug, Default)]
pub struct Liveness {
    parts: Arc<Mutex<Vec<Part>>>,
}

impl Liveness {
    /// Watches `heartbeat` from now on: silent longer than `limit`, the kiosk is not alive.
    pub fn watch(&self, name: &str, limit: Duration, heartbeat: Heartbeat) {
        if let Ok(mut parts) = self.parts.lock() {
            parts.push(Part { name: name.to_string(), limit, heartbeat });
        }
    }

    /// The parts silent longer than their limit at `now`, with how long they have been silent.
    pub fn silent(&self, now: Instant) -> Vec<(String, Duration)> {
        let Ok(parts) = self.parts.lock() else {
            return vec![("the watchdog's list of parts".into(), Duration::ZERO)];
        };
        parts
            .iter()
            .filter_map(|p| {
                let quiet = p.heartbeat.silent_for(now);
                (quiet > p.limit).then(|| (p.name.clone(), quiet))
            })
            .collect()
    }
}

/// The service manager's notification socket (`$NOTIFY_SOCKET`), when the kiosk runs under one.
#[derive(Debug, Clone)]
pub struct Notifier {
    path: String,
}

impl Notifier {
    /// The socket systemd gave this process, or `None` when started by hand.
    pub fn from_env() -> Option<Notifier> {
        std::env::var("NOTIFY_SOCKET").ok().filter(|p| !p.is_empty()).map(|path| Notifier { path })
    }

    /// Sends one notification ("READY=1", "WATCHDOG=1", "STATUS=…"), newline-separated assignments.
    pub fn send(&self, message: &str) -> std::io::Result<()> {
        let socket = UnixDatagram::unbound()?;
        if let Some(name) = self.path.strip_prefix('@') {
            // An abstract socket (systemd's default for user managers and containers).
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            socket.send_to_addr(message.as_bytes(), &addr)?;
        } else {
            socket.send_to(message.as_bytes(), &self.path)?;
        }
        Ok(())
    }

    /// Sends and logs a failure instead of returning it: a lost notification must not stop the kiosk.
    pub fn tell(&self, message: &str) {
        if let Err(e) = self.send(message) {
            log::warn!("cannot tell systemd \"{}\" through {}: {e}", message.replace('\n', "; "), self.path);
        }
    }
}

/// How often systemd wants a ping: `$WATCHDOG_USEC`, when it is meant for this process (`$WATCHDOG_PID`).
pub fn watchdog_interval() -> Option<Duration> {
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.trim() != std::process::id().to_string()
    {
        return None;
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// The running watchdog thread: pings while everything is alive; stopped by [`Watchdog::stop`] or a drop.
#[derive(Debug)]
pub struct Watchdog(owner::Owned);

impl Watchdog {
    /// Starts pinging `notifier` at a third of `interval` (systemd's advice is at most half) while no part
    /// of `liveness` is silent. A silent part is logged once, by name, and the pings stop until it beats
    /// again, so systemd's `WatchdogSec` runs out and it restarts the kiosk.
    pub fn start(notifier: Notifier, interval: Duration, liveness: Liveness) -> std::io::Result<Watchdog> {
        let every = (interval / 3).max(Duration::from_millis(100));
        let thread = owner::Owned::spawn("watchdog", move |life| {
            let mut withheld = false;
            loop {
                let silent = liveness.silent(Instant::now());
                if silent.is_empty() {
                    if withheld {
                        log::warn!("every part of the kiosk is alive again: the watchdog pings resume");
                        withheld = false;
                    }
                    notifier.tell("WATCHDOG=1");
                } else if !withheld {
                    withheld = true;
                    let names: Vec<String> =
                        silent.iter().map(|(name, quiet)| format!("{name} (silent {} s)", quiet.as_secs())).collect();
                    log::error!(
                        "not alive: {}; the watchdog pings stop, and systemd restarts the kiosk when its \
                         WatchdogSec runs out",
                        names.join(", ")
                    );
                    notifier.tell(&format!("STATUS=Not alive: {}", names.join(", ")));
                }
                if life.stop.wait(every) {
                    break;
                }
            }
        })?;
        Ok(Watchdog(thread))
    }

    pub fn stop(&mut self) {
        self.0.stop();
    }
}

/// The debug builds' way to make one owner hang, so the end-to-end test can see the pings stop
/// (`KIOSK_DEBUG_HANG=ticket-printer`, for instance). Release builds do not contain it.
pub fn debug_hang(part: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("KIOSK_DEBUG_HANG").is_ok_and(|v| v == part) {
        log::warn!("KIOSK_DEBUG_HANG: the {part} thread hangs now (a debug build's test hook)");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = part;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_silent_past_its_limit_is_named_and_one_that_beats_is_not() {
        let liveness = Liveness::default();
        let (ui, printer) = (Heartbeat::default(), Heartbeat::default());
        liveness.watch("the UI event loop", Duration::from_secs(15), ui.clone());
        liveness.watch("the ticket printer's owner", Duration::from_secs(30), printer.clone());
        let start = Instant::now();
        assert!(liveness.silent(start).is_empty());
        // 20 s later, neither has beaten: the UI (limit 15 s) is silent, the printer (30 s) is not yet.
        let later = start + Duration::from_secs(20);
        let silent = liveness.silent(later);
        assert_eq!(silent.len(), 1, "{silent:?}");
        assert_eq!(silent[0].0, "the UI event loop");
        assert!(silent[0].1 >= Duration::from_secs(19));
        // 40 s later, both are.
        assert_eq!(liveness.silent(start + Duration::from_secs(40)).len(), 2);
        // A beat clears that part: the printer beat at 25 s is 15 s old at 40 s, within its 30 s.
        printer.beat_at(start + Duration::from_secs(25));
        let after = liveness.silent(start + Duration::from_secs(40));
        assert_eq!(after.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["the UI event loop"]);
    }

    #[test]
    fn pings_stop_while_a_part_is_silent_and_resume_when_it_beats() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&path).expect("bind");
        socket.set_read_timeout(Some(Duration::from_millis(400))).expect("timeout");
        let liveness = Liveness::default();
        let owner = Heartbeat::default();
        liveness.watch("the owner", Duration::from_millis(300), owner.clone());
        let notifier = Notifier { path: path.to_string_lossy().into_owned() };
        let mut dog = Watchdog::start(notifier, Duration::from_millis(300), liveness).expect("start");
        let mut buf = [0u8; 256];
        let n = socket.recv(&mut buf).expect("a ping while the owner is fresh");
        assert_eq!(&buf[..n], b"WATCHDOG=1");
        // Silent: one STATUS naming it, then nothing.
        std::thread::sleep(Duration::from_millis(400));
        let mut seen = vec![];
        while let Ok(n) = socket.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        let status = seen.iter().position(|m| m.starts_with("STATUS=Not alive: the owner")).expect("status");
        assert!(seen[status + 1..].iter().all(|m| m != "WATCHDOG=1"), "{seen:?}");
        owner.beat();
        let n = socket.recv(&mut buf).expect("pings resume");
        assert_eq!(&buf[..n], b"WATCHDOG=1");
        dog.stop();
    }
}
