//! The kiosk under systemd's notify protocol, as the packaged unit runs it (`Type=notify`, `WatchdogSec`):
//! a real datagram socket stands in for systemd, the real binary runs `kiosk demo` under Xvfb. READY=1
//! comes once the window is up, WATCHDOG=1 keeps coming while everything is alive, and a hung device owner
//! (the debug build's `KIOSK_DEBUG_HANG`) stops the pings with its name in the log and the STATUS line, so
//! systemd would restart the kiosk. Log lines carry journald priorities when stderr is the journal.

use crate::support::{KillOnDrop, Xvfb, kiosk};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// Every datagram that arrives within `within`, with the time it arrived.
fn collect(socket: &UnixDatagram, within: Duration, mut stop: impl FnMut(&str) -> bool) -> Vec<(Instant, String)> {
    let end = Instant::now() + within;
    let mut out = vec![];
    let mut buf = [0u8; 4096];
    while Instant::now() < end {
        socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        if let Ok(n) = socket.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = stop(&msg);
            out.push((Instant::now(), msg));
            if done {
                break;
            }
        }
    }
    out
}

fn start(hang: Option<&str>) -> (Xvfb, tempfile::TempDir, UnixDatagram, KillOnDrop) {
    let x = Xvfb::start(1920, 1080);
    let dir = tempfile::tempdir().unwrap();
    let notify = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&notify).unwrap();
    let mut cmd = kiosk();
    cmd.env("DISPLAY", &x.display)
        .env("NOTIFY_SOCKET", &notify)
        // systemd's WatchdogSec=3 s; the kiosk pings every second.
        .env("WATCHDOG_USEC", "3000000")
        .env("JOURNAL_STREAM", "8:12345")
        .env("RUST_LOG", "info")
        .env_remove("WATCHDOG_PID")
        .args(["demo", "--state-dir"])
        .arg(dir.path().join("state"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("kiosk.log")).unwrap());
    if let Some(part) = hang {
        cmd.env("KIOSK_DEBUG_HANG", part);
    }
    let child = KillOnDrop(cmd.spawn().unwrap());
    (x, dir, socket, child)
}

#[test]
fn ready_once_the_window_is_up_then_watchdog_pings_and_a_clean_stop() {
    let (x, dir, socket, mut child) = start(None);
    let log = || std::fs::read_to_string(dir.path().join("kiosk.log")).unwrap_or_default();
    let first = collect(&socket, Duration::from_secs(90), |m| m.contains("READY=1"));
    assert!(first.iter().any(|(_, m)| m.contains("READY=1")), "no READY=1: {first:?}\n{}", log());
    // The window exists by then: xdotool finds it (the X server maps a window asynchronously, so a loaded
    // machine gets a moment; a READY=1 sent before the window was made would find none at all).
    let found = crate::support::wait_for(Duration::from_secs(3), || {
        let out = std::process::Command::new("xdotool")
            .env("DISPLAY", &x.display)
            .args(["search", "--onlyvisible", "--name", "."])
            .output()
            .ok()?;
        (!out.stdout.is_empty()).then_some(())
    });
    assert!(found.is_some(), "READY=1 came and no window was visible within 3 s");
    let pings = collect(&socket, Duration::from_secs(4), |_| false);
    let count = pings.iter().filter(|(_, m)| m == "WATCHDOG=1").count();
    assert!(count >= 3, "expected a ping about every second for 4 s, got {pings:?}\n{}", log());

    // SIGTERM, as `systemctl stop` sends: STOPPING=1, then a clean exit.
    let sent = std::process::Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let stopping = collect(&socket, Duration::from_secs(30), |m| m.contains("STOPPING=1"));
    assert!(stopping.iter().any(|(_, m)| m.contains("STOPPING=1")), "{stopping:?}");
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status}: {}", log());
    // journald priorities: info lines are <6>, and the shutdown is among them.
    let text = log();
    assert!(text.lines().any(|l| l.starts_with("<6>") && l.contains("READY=1")), "{text}");
    // No log line in env_logger's terminal format ("[2026-… INFO …]"): journald times lines itself.
    assert!(!text.lines().any(|l| l.starts_with('[')), "a log line without its priority: {text}");
}

#[test]
fn a_hung_ticket_printer_owner_stops_the_pings_and_is_named() {
    let (_x, dir, socket, _child) = start(Some("ticket-printer"));
    let log = || std::fs::read_to_string(dir.path().join("kiosk.log")).unwrap_or_default();
    let before = collect(&socket, Duration::from_secs(90), |m| m.contains("READY=1"));
    assert!(before.iter().any(|(_, m)| m.contains("READY=1")), "{before:?}\n{}", log());
    // The owner hangs at once; its limit is 30 s, so the pings stop about 30 s after start.
    let all = collect(&socket, Duration::from_secs(60), |m| m.starts_with("STATUS=Not alive"));
    let (at, status) = all.iter().find(|(_, m)| m.starts_with("STATUS=Not alive")).cloned().unwrap_or_else(|| {
        panic!("the pings never stopped: {all:?}\n{}", log());
    });
    assert!(status.contains("the ticket printer's owner"), "{status}");
    assert!(!status.contains("UI event loop") && !status.contains("ID-card"), "{status}");
    assert!(all.iter().any(|(t, m)| m == "WATCHDOG=1" && *t < at), "pinged while alive: {all:?}");
    // Nothing for 4 s more: systemd's WatchdogSec=3 s would run out and it would restart the kiosk.
    let after = collect(&socket, Duration::from_secs(4), |_| false);
    assert!(after.iter().all(|(_, m)| m != "WATCHDOG=1"), "pinged while hung: {after:?}");
    let text = log();
    assert!(
        text.lines().any(|l| l.starts_with("<3>") && l.contains("not alive: the ticket printer's owner")),
        "{text}"
    );
}
