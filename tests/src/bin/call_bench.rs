//! The hall's call benchmark (scripts/bench, issue #31): call-next p99 with 20 counters calling the hall's
//! queue at once (each through the staff API of one of two kiosks, against a throwaway PostgreSQL), against
//! one counter calling alone, in the same run. Every ticket must be called exactly once.
//!
//! Usage: KIOSK_BIN=target/release/kiosk KIOSK_COUNTY_BIN=target/release/kiosk-county call-bench [TICKETS]
//! (at most 890: 帮办代办's 999 numbers, less the 100 the lone counter calls first)

use kiosk_e2e::{Postgres, hall_config_serving, http, kiosk, p99, serve_staff_api};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

const TOKEN: &str = "demo-counter-token";

fn issue(config: &Path, n: u32) {
    let status = kiosk()
        .args(["ticket", "issue", "--category", "D", "--count", &n.to_string(), "--config"])
        .arg(config)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("kiosk ticket issue");
    assert!(status.success(), "issuing failed");
}

/// One call-next: how long it took and the number called (None when nothing waits).
fn call(port: u16, counter: &str) -> (Duration, Option<String>) {
    let started = Instant::now();
    let (status, body) =
        http(port, "POST", &format!("/api/v1/counters/{counter}/call-next"), Some(TOKEN), r#"{"categories":["D"]}"#);
    let took = started.elapsed();
    assert_eq!(status, 200, "call-next: {body}");
    assert_eq!(body["hall"].as_bool(), Some(true), "called from the hall's queue: {body}");
    (took, body["called"]["number"].as_str().map(str::to_owned))
}

fn main() {
    let tickets: u32 = std::env::args().nth(1).map_or(800, |a| a.parse().expect("TICKETS is a number"));
    let root = tempfile::tempdir().expect("a temporary folder");
    let pg = Postgres::start(root.path());
    pg.migrate();
    let (k1, p1) = hall_config_serving(root.path(), 1, &pg.url(), [950, 965], 1);
    let (k2, p2) = hall_config_serving(root.path(), 2, &pg.url(), [966, 981], 1);
    issue(&k1, tickets / 2 + 100);
    issue(&k2, tickets / 2);
    let _s1 = serve_staff_api(&k1, p1);
    let _s2 = serve_staff_api(&k2, p2);
    // One counter alone: 100 calls.
    let alone: Vec<Duration> = (0..100).map(|_| call(p1, "1").0).collect();
    // Twenty at once, half through each kiosk, until nothing waits.
    let counters: Vec<_> = (0..20)
        .map(|i| {
            let port = if i % 2 == 0 { p1 } else { p2 };
            std::thread::spawn(move || {
                let (mut times, mut numbers) = (vec![], vec![]);
                loop {
                    let (took, number) = call(port, &(i + 2).to_string());
                    match number {
                        Some(n) => {
                            times.push(took);
                            numbers.push(n);
                        }
                        None => return (times, numbers),
                    }
                }
            })
        })
        .collect();
    let (mut times, mut numbers) = (vec![], vec![]);
    for c in counters {
        let (t, n) = c.join().expect("a counter");
        times.extend(t);
        numbers.extend(n);
    }
    let distinct: BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), numbers.len(), "a ticket was called twice");
    assert_eq!(numbers.len() as u32, tickets, "every ticket called once");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (value, base) = (p99(times), p99(alone));
    println!(
        "bench hall_call_next_p99_20_counters: {:.1} ms (baseline one counter alone: {:.1} ms, ratio {:.1}, goal ≤ 500 ms; {} calls, none twice)",
        ms(value),
        ms(base),
        ms(value) / ms(base).max(0.001),
        numbers.len()
    );
    if value > Duration::from_millis(500) {
        eprintln!("call-bench: p99 {value:?} is above the 500 ms goal");
        std::process::exit(1);
    }
}
