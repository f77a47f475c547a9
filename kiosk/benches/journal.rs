//! Journal benchmarks: durable append vs bare SQLite, sealing overhead, group commit, verify and export of a
//! million entries.
//!
//! Each line: `bench NAME: VALUE UNIT (baseline BASE: VALUE UNIT, ratio R, goal G)`; the baseline
//! runs in the same process on the same disk, so the ratio is what to compare across machines.

use kiosk::journal::{EntryKind, ExportFilter, ExportFormat, Journal, JournalSettings, NewEntry, Verdict};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

fn settings(dir: &Path) -> JournalSettings {
    JournalSettings::in_dir("bench-kiosk", dir)
}

#[allow(clippy::too_many_arguments)]
fn report(name: &str, value: f64, unit: &str, base_name: &str, base: f64, base_unit: &str, ratio: f64, goal: &str) {
    println!(
        "bench {name}: {value:.1} {unit} (baseline {base_name}: {base:.1} {base_unit}, ratio {ratio:.2}, goal {goal})"
    );
}

fn payload(i: u64) -> serde_json::Value {
    json!({ "ticket": format!("A{:03}", i % 1000), "category": "A", "waiting_ahead": i % 17 })
}

/// One entry per commit through the writer thread, against a bare rusqlite loop doing the same.
/// The two alternate in rounds so that a noisy disk hits both alike; medians are reported.
fn durable_append(n: u64) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(settings(dir.path())).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("bare.sqlite3")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA foreign_keys = ON;
         CREATE TABLE entries (seq INTEGER PRIMARY KEY, kiosk_id TEXT NOT NULL, boot_id TEXT NOT NULL, time_utc TEXT NOT NULL,
           mono_ms INTEGER NOT NULL, session_id TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT, payload_digest TEXT NOT NULL,
           prev_hash TEXT NOT NULL, hash TEXT NOT NULL) STRICT;",
    )
    .unwrap();
    let h = "0".repeat(64);
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    let mut seq = 0i64;
    for _round in 0..5 {
        let t = Instant::now();
        for i in 0..n {
            journal.append(NewEntry::new(EntryKind::TicketIssued, payload(i))).unwrap();
        }
        ours.push(n as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        for i in 0..n {
            seq += 1;
            conn.execute(
                "INSERT INTO entries VALUES (?1, 'bench-kiosk', '0123456789abcdef', '2026-11-25T12:00:00.000Z', ?1, '', 'ticket_issued', ?2, ?3, ?3, ?3)",
                rusqlite::params![seq, payload(i).to_string(), h],
            )
            .unwrap();
        }
        bare.push(n as f64 / t.elapsed().as_secs_f64());
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ours, bare) = (med(ours), med(bare));
    report(
        "journal_durable_append",
        ours,
        "commits/s",
        "bare rusqlite, same pragmas and rows",
        bare,
        "commits/s",
        ours / bare,
        ">= 0.9",
    );
}

/// Durable appends with forward-secure sealing (an epoch every 200 entries: a new key written and synced,
/// the seal, the old key overwritten and synced) against the same journal with sealing off. With
/// `session_every`, every that-many-th entry is a session end, which ends an epoch at once.
fn sealing_overhead(n: u64, session_every: Option<u64>) {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sealed = Journal::open(settings(a.path())).unwrap();
    let mut off = settings(b.path());
    off.epoch = kiosk::journal::EpochRule { max_entries: 0, ..off.epoch };
    let unsealed = Journal::open(off).unwrap();
    let entry = |i: u64| match session_every {
        Some(k) if i % k == k - 1 => NewEntry::new(EntryKind::SessionEnd, json!({ "reason": "completed" })),
        _ => NewEntry::new(EntryKind::TicketIssued, payload(i)),
    };
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _round in 0..5 {
        let t = Instant::now();
        for i in 0..n {
            sealed.append(entry(i)).unwrap();
        }
        with.push(n as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        for i in 0..n {
            unsealed.append(entry(i)).unwrap();
        }
        without.push(n as f64 / t.elapsed().as_secs_f64());
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (with, without) = (med(with), med(without));
    let (name, goal) = match session_every {
        None => ("journal_sealing_overhead".to_owned(), ">= 0.9"),
        Some(k) => (format!("journal_sealing_overhead_session_end_every_{k}"), "report"),
    };
    report(&name, with, "commits/s", "the same journal with sealing off", without, "commits/s", with / without, goal);
}

/// Eight submitters at once: group commit folds them into fewer transactions.
fn group_commit(per_thread: u64) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(settings(dir.path())).unwrap();
    let t = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let j = journal.clone();
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    j.append(NewEntry::new(EntryKind::Evaluation, payload(i))).unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|h| h.join().unwrap());
    let grouped = (8 * per_thread) as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for i in 0..per_thread {
        journal.append(NewEntry::new(EntryKind::Evaluation, payload(i))).unwrap();
    }
    let single = per_thread as f64 / t.elapsed().as_secs_f64();
    report(
        "journal_group_commit_8_submitters",
        grouped,
        "entries/s",
        "one submitter",
        single,
        "entries/s",
        grouped / single,
        "> 1",
    );
}

/// Fills a journal with `n` entries quickly (10,000 per transaction).
fn fill(dir: &Path, n: u64) {
    let journal = Journal::open(settings(dir)).unwrap();
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(10_000);
        journal
            .transact(move |_| {
                Ok(((0..batch).map(|i| NewEntry::new(EntryKind::TicketIssued, payload(done + i))).collect(), ()))
            })
            .unwrap();
        done += batch;
    }
}

fn verify_and_export(n: u64) {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), n);
    let db = dir.path().join("journal.sqlite3");
    rusqlite::Connection::open(&db).unwrap().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();

    // Three rounds each, alternating, medians: a warm page cache for both, and one noisy moment does not decide.
    let bytes = std::fs::read(&db).unwrap();
    let (mut verify, mut sha) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let t = Instant::now();
        match kiosk::journal::verify_path(&db, None).unwrap() {
            Verdict::Intact { entries, .. } => assert_eq!(entries, n),
            other => panic!("{other:?}"),
        }
        verify.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let _ = std::hint::black_box(<sha2::Sha256 as sha2::Digest>::digest(std::hint::black_box(&bytes)));
        sha.push(t.elapsed().as_secs_f64());
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (verify_s, sha_s) = (med(verify), med(sha));
    report(
        &format!("journal_verify_{n}"),
        verify_s,
        "s",
        "plain SHA-256 over the database file",
        sha_s,
        "s",
        verify_s / sha_s,
        "<= 3",
    );

    let out = dir.path().join("export.csv");
    let conn = kiosk::journal::open_read_only(&db).unwrap();
    let t = Instant::now();
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&out).unwrap());
    kiosk::journal::export(
        &conn,
        &ExportFilter::default(),
        ExportFormat::Csv,
        None,
        &mut w,
        &|_| {},
        kiosk::journal::export::Closing {
            checkpoint: &mut |_| unreachable!("a CSV has no closing line"),
            sign: &|_| unreachable!("a CSV has no closing line"),
            seals_from: 0,
        },
    )
    .unwrap();
    drop(w);
    let ours = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let status = std::process::Command::new("sqlite3")
        .arg("-csv")
        .arg(&db)
        .arg(format!("SELECT {} FROM entries ORDER BY seq", kiosk::journal::ENTRY_COLUMNS))
        .stdout(std::fs::File::create(dir.path().join("sqlite3.csv")).unwrap())
        .status();
    let base = t.elapsed().as_secs_f64();
    match status {
        Ok(s) if s.success() => report(
            &format!("journal_export_csv_{n}"),
            ours,
            "s",
            "sqlite3 -csv, same table",
            base,
            "s",
            ours / base,
            "<= 1.5",
        ),
        _ => {
            println!("bench journal_export_csv_{n}: {ours:.2} s (baseline sqlite3 -csv: unavailable — install sqlite3)")
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; a number sets the size of the million-entry runs (for quick checks).
    let n: u64 = std::env::var("KIOSK_BENCH_ENTRIES").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    // KIOSK_BENCH_ONLY=verify runs just the million-entry verify and export (for profiling).
    if std::env::var("KIOSK_BENCH_ONLY").as_deref() != Ok("verify") {
        durable_append(200);
        sealing_overhead(1000, None);
        sealing_overhead(200, Some(10));
        group_commit(250);
    }
    verify_and_export(n);
}
