//! One queue per hall (`[queue] shared`), against a real PostgreSQL: three kiosk processes issuing 300
//! tickets each at once get 900 distinct numbers without a gap; with the database stopped mid-run a kiosk
//! goes on from its offline band (no duplicate, no lost ticket) and returns to the hall's numbers once the
//! database is back; staff calls at the counter see both kinds.

use crate::support::{Postgres, hall_config, kiosk, run};
use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A kiosk configuration that takes part in the hall queue with offline band `band`.
fn hall_kiosk(root: &Path, n: u32, pg: &Postgres, band: [u32; 2], retry_seconds: u32) -> PathBuf {
    hall_config(root, n, &pg.url(), band, retry_seconds)
}

/// Every ticket_issued in a kiosk's journal: (number as printed, numbering).
fn issued(config: &Path) -> Vec<(String, String)> {
    let db = config.parent().unwrap().join("journal.sqlite3");
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT json_extract(payload, '$.number'), coalesce(json_extract(payload, '$.numbering'), '')
             FROM entries WHERE kind = 'ticket_issued' ORDER BY seq",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

fn number(display: &str) -> u32 {
    display[1..].parse().unwrap()
}

fn migrated(root: &Path) -> Postgres {
    let pg = Postgres::start(root);
    pg.migrate();
    pg
}

#[test]
fn three_kiosks_issuing_at_once_share_one_gap_free_queue() {
    let root = tempfile::tempdir().unwrap();
    let pg = migrated(root.path());
    let bands = [[950, 965], [966, 981], [982, 997]];
    let configs: Vec<PathBuf> = (1..=3).map(|n| hall_kiosk(root.path(), n, &pg, bands[n as usize - 1], 10)).collect();
    let children: Vec<_> = configs
        .iter()
        .map(|c| {
            kiosk()
                .args(["ticket", "issue", "--category", "A", "--count", "300", "--config"])
                .arg(c)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut printed = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 300);
        printed.extend(lines.iter().map(|l| l.split(' ').next().unwrap().to_owned()));
    }
    let mut journaled = Vec::new();
    for c in &configs {
        let tickets = issued(c);
        assert_eq!(tickets.len(), 300, "every ticket journaled");
        assert!(tickets.iter().all(|(_, how)| how == "hall"), "all numbered by the hall database");
        journaled.extend(tickets.into_iter().map(|(n, _)| n));
    }
    let distinct: BTreeSet<u32> = journaled.iter().map(|d| number(d)).collect();
    assert_eq!(distinct.len(), 900, "900 distinct numbers");
    assert_eq!(distinct, (1..=900).collect::<BTreeSet<u32>>(), "A001 to A900, no gap");
    assert_eq!(
        printed.iter().collect::<BTreeSet<_>>(),
        journaled.iter().collect::<BTreeSet<_>>(),
        "printed = journaled"
    );
    // Each kiosk's own numbers rise (one counter row, taken in order).
    for c in &configs {
        let n: Vec<u32> = issued(c).iter().map(|(d, _)| number(d)).collect();
        assert!(n.windows(2).all(|w| w[0] < w[1]), "{n:?}");
    }
    let last: i32 = pg
        .client()
        .query_one("SELECT last_number FROM hall_counters WHERE hall = 'linshu-county' AND category = 'A'", &[])
        .unwrap()
        .get(0);
    assert_eq!(last, 900);
}

#[test]
fn with_the_hall_database_down_a_kiosk_uses_its_offline_band_and_returns_to_the_hall_queue() {
    let root = tempfile::tempdir().unwrap();
    let pg = migrated(root.path());
    // The band stays clear of every category's numbers (A 1–949 here, D up to 3999), and is wide enough for
    // however long the database takes to come back on a slow machine.
    let config = hall_kiosk(root.path(), 3, &pg, [5001, 5999], 1);
    let mut child = kiosk()
        .args(["ticket", "issue", "--category", "A", "--count", "250", "--pause-ms", "40", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen: Vec<String> = Vec::new();
    let mut next = |seen: &mut Vec<String>| -> Option<u32> {
        let line = lines.next()?.unwrap();
        let display = line.split(' ').next().unwrap().to_owned();
        seen.push(display.clone());
        Some(number(&display))
    };
    // 20 tickets from the hall, then the database stops.
    for _ in 0..20 {
        assert!(next(&mut seen).unwrap() < 5001);
    }
    pg.stop_server();
    let stopped_at = Instant::now();
    // The kiosk goes on at once from its band.
    let mut offline = 0;
    while offline < 15 {
        let n = next(&mut seen).expect("the kiosk keeps issuing");
        if n >= 5001 {
            offline += 1;
        }
        assert!(stopped_at.elapsed() < Duration::from_secs(60));
    }
    pg.start_server();
    // Back to the hall's numbers after the retry interval.
    loop {
        let n = next(&mut seen).expect("the kiosk keeps issuing until the database is back");
        if n < 5001 {
            break;
        }
    }
    while next(&mut seen).is_some() {}
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(seen.len(), 250, "no ticket lost");

    let tickets = issued(&config);
    assert_eq!(
        tickets.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        seen,
        "every printed ticket journaled, in order"
    );
    let numbers: Vec<u32> = seen.iter().map(|d| number(d)).collect();
    assert_eq!(numbers.iter().collect::<BTreeSet<_>>().len(), 250, "no duplicate");
    let offline: Vec<u32> = tickets.iter().filter(|(_, how)| how == "offline").map(|(d, _)| number(d)).collect();
    assert!(offline.len() >= 15);
    assert_eq!(offline, (5001..5001 + offline.len() as u32).collect::<Vec<_>>(), "the band in order");
    let hall: Vec<u32> = tickets.iter().filter(|(_, how)| how == "hall").map(|(d, _)| number(d)).collect();
    assert!(hall.windows(2).all(|w| w[0] < w[1]), "the hall's numbers rise: {hall:?}");
    assert!(*hall.last().unwrap() > 20, "hall numbering resumed");
    assert!(err.contains("offline band"), "the switch is logged: {err}");
}

/// Staff at the counter call hall and offline-band tickets alike, in the order they were issued.
#[test]
fn counter_calls_see_hall_and_offline_tickets() {
    let root = tempfile::tempdir().unwrap();
    let pg = migrated(root.path());
    let config = hall_kiosk(root.path(), 2, &pg, [950, 999], 1);
    let issue = |n: u32| {
        let (code, out, err) = run(kiosk()
            .args(["ticket", "issue", "--category", "A", "--count", &n.to_string(), "--config"])
            .arg(&config));
        assert_eq!(code, Some(0), "{err}");
        out.lines().map(|l| l.split(' ').next().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let mut all = issue(2);
    pg.stop_server();
    all.extend(issue(2));
    pg.start_server();
    std::thread::sleep(Duration::from_millis(1100));
    all.extend(issue(1));
    assert_eq!(all, ["A001", "A002", "A950", "A951", "A003"]);
    let config_loaded = kiosk::config::Config::load(&config).unwrap();
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&config_loaded)).unwrap();
    let queue = kiosk::queue::Queue::new(&config_loaded, journal.clone()).unwrap();
    let tz = config_loaded.tz().clone();
    let mut called = Vec::new();
    for _ in 0..6 {
        let req = kiosk::admin::counter::ApiRequest::CallNext { counter: "3".into(), categories: vec!["A".into()] };
        let r =
            kiosk::admin::counter::handle(&queue, &tz, config_loaded.rollover_minutes(), req, jiff::Timestamp::now());
        assert_eq!(r.status, 200, "{}", r.body);
        called.push(r.body["called"]["number"].as_str().unwrap_or("none").to_owned());
    }
    journal.close();
    assert_eq!(called, ["A001", "A002", "A950", "A951", "A003", "none"], "in the order issued, hall and offline alike");
}

/// `kiosk doctor` says whether the hall database answers, and what to do when it does not.
#[test]
fn doctor_reports_the_hall_database() {
    let root = tempfile::tempdir().unwrap();
    let pg = migrated(root.path());
    let config = hall_kiosk(root.path(), 1, &pg, [950, 999], 1);
    let hall_queue = || {
        let (_, out, err) = run(kiosk().args(["doctor", "--json", "--config"]).arg(&config));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        v["checks"].as_array().unwrap().iter().find(|c| c["item"] == "hall_queue").cloned().expect("a hall_queue check")
    };
    let (code, _, err) = run(kiosk().args(["ticket", "issue", "--category", "A", "--config"]).arg(&config));
    assert_eq!(code, Some(0), "{err}");
    let c = hall_queue();
    assert_eq!(c["level"], "OK", "{c}");
    assert!(c["found"].as_str().unwrap().contains("1 category counter"), "{c}");
    pg.stop_server();
    let c = hall_queue();
    assert_eq!(c["level"], "WARN", "{c}");
    assert!(c["found"].as_str().unwrap().contains("offline band 950–999"), "{c}");
    pg.start_server();
    // A database nobody migrated: the counters are missing.
    pg.client().batch_execute("DROP TABLE hall_counters").unwrap();
    let c = hall_queue();
    assert_eq!(c["level"], "FAIL", "{c}");
    assert!(c["todo"].as_str().unwrap().contains("kiosk-county fleet migrate"), "{c}");
}

/// A hall database address on 127.0.0.1 for `config`, replacing the cluster's Unix socket.
fn point_at(config: &Path, pg: &Postgres, port: u16) {
    let text = std::fs::read_to_string(config).unwrap();
    let tcp = format!("host=127.0.0.1 port={port} user=kiosk dbname=postgres");
    std::fs::write(config, text.replace(&pg.url(), &tcp)).unwrap();
}

/// `kiosk ticket issue --count n` for `config`, ended (and the test failed) if it takes longer than `limit`:
/// a kiosk that waits on the hall database without a deadline would otherwise hold the test until nextest
/// ends it. Returns the numbers printed.
fn issue_within(config: &Path, n: u32, limit: Duration) -> Vec<String> {
    let mut child = kiosk()
        .args(["ticket", "issue", "--category", "A", "--count", &n.to_string(), "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{n} ticket(s) took more than {limit:?}: the kiosk waited on the hall database without a deadline");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| l.split(' ').next().unwrap().to_owned()).collect()
}

/// The journal's write lock is free: another process can begin a write transaction at once.
fn journal_writable(config: &Path) -> Result<(), rusqlite::Error> {
    let conn = rusqlite::Connection::open(config.parent().unwrap().join("journal.sqlite3"))?;
    conn.busy_timeout(Duration::ZERO)?;
    conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")
}

/// A hall database that accepts the connection and never says a word (a wedged proxy, a machine whose
/// server hangs): each ticket costs at most the counter's deadline and comes from the offline band, and
/// while the kiosk waits for the database its journal is not locked (the staff API's counter calls and
/// the other flows' records go on).
#[test]
fn a_hall_database_that_accepts_and_never_answers_costs_a_ticket_at_most_the_deadline() {
    let root = tempfile::tempdir().unwrap();
    let pg = migrated(root.path());
    let config = hall_kiosk(root.path(), 1, &pg, [950, 999], 1);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    point_at(&config, &pg, silent.local_addr().unwrap().port());
    let (accepted_tx, accepted) = std::sync::mpsc::channel();
    let held = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().take(2) {
            held.push(stream.unwrap());
            accepted_tx.send(()).unwrap();
        }
        std::thread::sleep(Duration::from_secs(5));
        drop(held);
    });
    let config2 = config.clone();
    let issuing = std::thread::spawn(move || issue_within(&config2, 3, Duration::from_secs(30)));
    accepted.recv_timeout(Duration::from_secs(30)).expect("the kiosk connects to the hall database");
    // The kiosk is now waiting on the database: the journal's write lock must be free.
    journal_writable(&config).expect("the journal is not locked while the hall database is awaited");
    let numbers = issuing.join().unwrap();
    assert_eq!(numbers, ["A950", "A951", "A952"], "from the offline band, the database rested after one try");
    let tickets = issued(&config);
    assert!(tickets.iter().all(|(_, how)| how == "offline"), "{tickets:?}");
    held.join().unwrap();
}

/// A proxy in front of the cluster's socket that holds every chunk the server sends for `delay`.
fn slow_proxy(pg: &Postgres, delay: Duration) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let socket = pg.socket_path();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = std::os::unix::net::UnixStream::connect(&socket) else { return };
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || drop(std::io::copy(&mut c_in, &mut s_out)));
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut buf = [0u8; 16384];
                while let Ok(n @ 1..) = s_in.read(&mut buf) {
                    std::thread::sleep(delay);
                    if c_out.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// A hall database that answers, but slowly: a little slowness still numbers for the hall; answers slower
/// than the deadline give offline numbers at once instead of a citizen waiting for them.
#[test]
fn a_slow_hall_database_numbers_for_the_hall_until_it_is_slower_than_the_deadline() {
    let root = tempfile::tempdir().unwrap();
    let pg = migrated(root.path());
    let quick = hall_kiosk(root.path(), 1, &pg, [950, 999], 1);
    point_at(&quick, &pg, slow_proxy(&pg, Duration::from_millis(50)));
    assert_eq!(issue_within(&quick, 2, Duration::from_secs(30)), ["A001", "A002"]);
    let slow = hall_kiosk(root.path(), 2, &pg, [950, 999], 60);
    point_at(&slow, &pg, slow_proxy(&pg, Duration::from_secs(4)));
    assert_eq!(issue_within(&slow, 2, Duration::from_secs(30)), ["A950", "A951"]);
    let tickets = issued(&slow);
    assert!(tickets.iter().all(|(_, how)| how == "offline"), "{tickets:?}");
}

/// The hall's PostgreSQL frozen (SIGSTOP: postmaster and backends, the kiosk's open connection included)
/// while a kiosk issues: the next tickets come from the offline band within the deadline each, and the
/// kiosk returns to the hall's numbers once the server goes on.
#[test]
fn a_frozen_hall_database_holds_no_ticket() {
    let root = tempfile::tempdir().unwrap();
    let pg = migrated(root.path());
    let config = hall_kiosk(root.path(), 1, &pg, [950, 999], 2);
    let mut child = kiosk()
        .args(["ticket", "issue", "--category", "A", "--count", "40", "--pause-ms", "100", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let display = line.unwrap().split(' ').next().unwrap().to_owned();
            if lines_tx.send(display).is_err() {
                return;
            }
        }
    });
    let next = || lines.recv_timeout(Duration::from_secs(20)).ok();
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(next().expect("tickets before the freeze"));
    }
    pg.freeze();
    // Each ticket after the freeze comes (20 s is far above the counter's deadline; without one, none came).
    let mut offline = 0;
    while offline < 5 {
        let n = next().expect("a ticket while the hall database is frozen");
        offline += usize::from(number(&n) >= 950);
        seen.push(n);
    }
    pg.thaw();
    while let Some(n) = next() {
        seen.push(n);
    }
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(seen.len(), 40, "no ticket lost: {seen:?}");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 40, "no duplicate: {seen:?}");
    assert!(number(seen.last().unwrap()) < 950, "back to the hall's numbers after the thaw: {seen:?}");
    assert!(err.contains("did not answer within"), "the deadline is what ended the wait: {err}");
}
