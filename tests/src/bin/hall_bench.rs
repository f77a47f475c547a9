//! The hall database benchmark (scripts/bench, issue #29): tap-to-printed time of `kiosk ticket issue`
//! (numbered, journaled and printed on the demo's printer) with the hall's PostgreSQL frozen by SIGSTOP,
//! against the same with it healthy, in the same run. Goal: p99 at most 2.5 s frozen.
//!
//! Usage: KIOSK_BIN=target/release/kiosk KIOSK_COUNTY_BIN=target/release/kiosk-county hall-bench [TICKETS]

use kiosk_e2e::{Postgres, hall_config, kiosk, p99};
use std::io::BufRead;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The time each ticket took, from the line before it to its own line (the first line, which includes
/// the process's start, is left out).
fn ticket_times(config: &Path, tickets: u32) -> Vec<Duration> {
    let mut child = kiosk()
        .args(["ticket", "issue", "--category", "A", "--count", &(tickets + 1).to_string(), "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kiosk ticket issue starts");
    let mut last: Option<Instant> = None;
    let mut times = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().expect("stdout")).lines() {
        line.expect("a ticket line");
        let now = Instant::now();
        if let Some(before) = last {
            times.push(now - before);
        }
        last = Some(now);
    }
    assert!(child.wait().expect("the kiosk ends").success(), "kiosk ticket issue failed");
    assert_eq!(times.len(), tickets as usize, "every ticket printed");
    times
}

fn main() {
    let tickets: u32 = std::env::args().nth(1).map_or(300, |a| a.parse().expect("TICKETS is a number"));
    let root = tempfile::tempdir().expect("a temporary folder");
    let pg = Postgres::start(root.path());
    pg.migrate();
    // The database is tried again a second after it failed: the frozen run pays the deadline about once a
    // second, the worst a citizen meets.
    let healthy = hall_config(root.path(), 1, &pg.url(), [5001, 5999], 1);
    let frozen = hall_config(root.path(), 2, &pg.url(), [5001, 5999], 1);
    let base = p99(ticket_times(&healthy, tickets));
    pg.freeze();
    let times = ticket_times(&frozen, tickets);
    pg.thaw();
    let slow = times.iter().filter(|t| **t > Duration::from_millis(1000)).count();
    let value = p99(times);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bench hall_ticket_p99_frozen: {:.0} ms (baseline healthy: {:.0} ms, ratio {:.1}, goal ≤ 2500 ms; {slow} of {tickets} tickets waited for the deadline)",
        ms(value),
        ms(base),
        ms(value) / ms(base).max(1.0)
    );
    if value > Duration::from_millis(2500) {
        eprintln!("hall-bench: p99 {value:?} is above the 2.5 s goal");
        std::process::exit(1);
    }
}
