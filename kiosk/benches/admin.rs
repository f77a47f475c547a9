//! Staff API benchmarks (issue #12), over loopback TLS with a pinned certificate:
//! - journal pull throughput against reading the same rows straight from SQLite (goal ≥ 0.5);
//! - p99 latency of call-next with 50 clients at once, against one client alone.
//!
//! Each line: `bench NAME: VALUE UNIT (baseline BASE: VALUE UNIT, ratio R, goal G)`.

use kiosk::admin::client::{Endpoint, StaffClient};
use kiosk::config::Config;
use kiosk::journal::{ENTRY_COLUMNS, EntryKind, Journal, JournalSettings, NewEntry};
use std::path::Path;
use std::time::{Duration, Instant};

const ENTRIES: u64 = 100_000;

#[allow(clippy::too_many_arguments)]
fn report(name: &str, value: f64, unit: &str, base_name: &str, base: f64, base_unit: &str, ratio: f64, goal: &str) {
    println!(
        "bench {name}: {value:.1} {unit} (baseline {base_name}: {base:.1} {base_unit}, ratio {ratio:.2}, goal {goal})"
    );
}

/// A demo configuration in `dir` with TLS on a free loopback port; returns it and the certificate's pin.
fn tls_config(dir: &Path) -> (Config, [u8; 32]) {
    let mut config = Config::demo(dir);
    config.admin.listen = "127.0.0.1:0".into();
    let made = kiosk::admin::tls::generate("bench", &["127.0.0.1".into()], 1).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &made.cert_pem).unwrap();
    std::fs::write(&key, &made.key_pem).unwrap();
    config.admin.tls_cert = Some(cert);
    config.admin.tls_key = Some(key);
    (config, kiosk::admin::tls::parse_pin(&kiosk::admin::tls::fingerprint(&made.der)).unwrap())
}

fn client(port: u16, pin: [u8; 32], token: &str) -> StaffClient {
    let endpoint = Endpoint::parse(&format!("https://127.0.0.1:{port}")).unwrap();
    StaffClient::new(endpoint, Some(pin), zeroize::Zeroizing::new(token.into())).unwrap()
}

fn fill(journal: &Journal, n: u64) {
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(10_000);
        journal
            .transact(move |_| {
                let entries = (0..batch)
                    .map(|i| {
                        NewEntry::new(
                            EntryKind::TicketIssued,
                            serde_json::json!({ "ticket_id": format!("t{}", done + i), "number": "A001", "category": "A" }),
                        )
                    })
                    .collect();
                Ok((entries, ()))
            })
            .unwrap();
        done += batch;
    }
}

/// Pulls everything in pages of `page` entries; entries per second.
fn pull_all(c: &mut StaffClient, page: u64) -> f64 {
    let t = Instant::now();
    let (mut after, mut got, mut seals) = (0u64, 0u64, 0usize);
    loop {
        let (status, body) =
            c.get(&format!("/api/v1/journal?after_seq={after}&limit={page}&seals_from={seals}")).unwrap();
        assert_eq!(status, 200);
        // As `kiosk-county journal pull` does: count the lines, read the seq of the last entry only, ask each page
        // only for the seals not yet received.
        let text = String::from_utf8(body).unwrap();
        seals += text.lines().filter(|l| l.starts_with("{\"seal\"")).count();
        let entries: Vec<&str> =
            text.lines().skip(1).filter(|l| !l.starts_with("{\"checkpoint\"") && !l.starts_with("{\"seal\"")).collect();
        let n = entries.len() as u64;
        if let Some(last) = entries.last() {
            after = serde_json::from_str::<serde_json::Value>(last).unwrap()["seq"].as_u64().unwrap();
        }
        if n == 0 {
            break;
        }
        got += n;
    }
    assert_eq!(got, ENTRIES);
    got as f64 / t.elapsed().as_secs_f64()
}

/// The same rows read straight from SQLite into entries and written out as JSON lines.
fn read_straight(path: &Path) -> f64 {
    let t = Instant::now();
    let conn = kiosk::journal::open_read_only(path).unwrap();
    let mut stmt = conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM entries ORDER BY seq")).unwrap();
    let mut out = Vec::with_capacity(64 << 20);
    let mut rows = stmt.query([]).unwrap();
    let mut n = 0u64;
    while let Some(row) = rows.next().unwrap() {
        let e = kiosk::journal::schema_entry_from_row(row).unwrap();
        serde_json::to_writer(&mut out, &e).unwrap();
        out.push(b'\n');
        n += 1;
    }
    assert_eq!(n, ENTRIES);
    n as f64 / t.elapsed().as_secs_f64()
}

fn journal_pull() {
    let dir = tempfile::tempdir().unwrap();
    let (config, pin) = tls_config(dir.path());
    let journal = Journal::open(JournalSettings::from_config(&config)).unwrap();
    fill(&journal, ENTRIES);
    let queue = kiosk::queue::Queue::new(&config, journal.clone()).unwrap();
    let mut server = kiosk::admin::start(&config, queue, kiosk::admin::Devices::default()).unwrap();
    let port = server.local_addr.port();
    let mut c = client(port, pin, "demo-staff-token");
    // The first pull signs a checkpoint per page; later pulls find them stored. Both are reported.
    let first = pull_all(&mut c, 500);
    let again = pull_all(&mut c, 500);
    let large = pull_all(&mut c, 5000);
    let straight = read_straight(&config.journal.path);
    let goal = ">= 0.5";
    report(
        "journal_pull_tls_pages_of_500_first",
        first,
        "entries/s",
        "straight from SQLite",
        straight,
        "entries/s",
        first / straight,
        goal,
    );
    report(
        "journal_pull_tls_pages_of_500_again",
        again,
        "entries/s",
        "straight from SQLite",
        straight,
        "entries/s",
        again / straight,
        goal,
    );
    report(
        "journal_pull_tls_pages_of_5000",
        large,
        "entries/s",
        "straight from SQLite",
        straight,
        "entries/s",
        large / straight,
        goal,
    );
    server.stop();
    journal.close();
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 * p).ceil() as usize).saturating_sub(1).min(v.len() - 1)]
}

fn call_next_latency() {
    let dir = tempfile::tempdir().unwrap();
    let (config, pin) = tls_config(dir.path());
    let journal = Journal::open(JournalSettings::from_config(&config)).unwrap();
    // A journal as long as 180 days of a busy kiosk, so that the reads around each call cost what they will.
    fill(&journal, ENTRIES);
    let queue = kiosk::queue::Queue::new(&config, journal.clone()).unwrap();
    // 999 printed tickets in category A waiting today, in one transaction.
    let day = kiosk::queue::business_day(jiff::Timestamp::now(), config.tz(), config.rollover_minutes()).to_string();
    journal
        .transact(move |conn| {
            for n in 1..=999 {
                conn.execute(
                    "INSERT INTO tickets (id, business_day, prefix, number, state, priority, issued_at, issued_seq)
                     VALUES (?1, ?2, 'A', ?3, 'printed', 0, '08:00', ?3)",
                    rusqlite::params![format!("bench-{n}"), day, n],
                )?;
            }
            Ok((vec![], ()))
        })
        .unwrap();
    let mut server = kiosk::admin::start(&config, queue, kiosk::admin::Devices::default()).unwrap();
    let port = server.local_addr.port();
    let call = |c: &mut StaffClient| {
        let t = Instant::now();
        let (status, body) = c.request("POST", "/api/v1/counters/1/call-next", br#"{"categories":["A"]}"#).unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        t.elapsed()
    };
    let mut alone = client(port, pin, "demo-counter-token");
    call(&mut alone);
    let mut single: Vec<Duration> = (0..100).map(|_| call(&mut alone)).collect();
    let threads: Vec<_> = (0..50)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = client(port, pin, "demo-counter-token");
                call(&mut c);
                (0..15).map(|_| call(&mut c)).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut loaded: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let (p99_loaded, p50_loaded) = (percentile(&mut loaded, 0.99), percentile(&mut loaded, 0.5));
    let p99_single = percentile(&mut single, 0.99);
    report(
        "call_next_p99_50_clients",
        p99_loaded.as_secs_f64() * 1000.0,
        "ms",
        "one client alone, p99",
        p99_single.as_secs_f64() * 1000.0,
        "ms",
        p99_loaded.as_secs_f64() / p99_single.as_secs_f64(),
        "p99 well under 1 s; the ratio shows the queueing of 50 clients on one journal writer",
    );
    println!("bench call_next_p50_50_clients: {:.1} ms", p50_loaded.as_secs_f64() * 1000.0);
    server.stop();
    journal.close();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    journal_pull();
    call_next_latency();
}
