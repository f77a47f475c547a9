//! The fleet load benchmark (scripts/bench, issue #18): KIOSKS kiosks (200) with ENTRIES entries (2,000)
//! each, every one served by its own `kiosk admin serve` over TLS, pulled by `kiosk fleet pull --once` into
//! a PostgreSQL with its default durability; the baseline is COPY of the very same rows from a file into a
//! table of the same shape, in the same cluster, in the same run. A second pull must insert nothing.
//!
//! Usage: KIOSK_BIN=target/release/kiosk fleet-bench [KIOSKS] [ENTRIES]

use kiosk::journal::{EntryKind, NewEntry};
use kiosk_e2e::{FleetKiosk, Postgres, kiosk, run};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let kiosks: usize = args.next().map_or(200, |a| a.parse().expect("KIOSKS is a number"));
    let entries: usize = args.next().map_or(2000, |a| a.parse().expect("ENTRIES is a number"));
    let root = tempfile::tempdir().expect("a temporary folder");
    let pg = Postgres::start_durable(root.path(), "-c shared_buffers=256MB -c max_connections=300");
    let (code, _, err) = run(kiosk().args(["fleet", "migrate", "--db", &pg.url()]));
    assert_eq!(code, Some(0), "{err}");

    let began = Instant::now();
    let mut fleet = String::from("[pull]\nconcurrency = 8\npage_size = 1000\n\n");
    let mut all: Vec<FleetKiosk> = Vec::with_capacity(kiosks);
    for i in 0..kiosks {
        let mut k = FleetKiosk::new(root.path(), &format!("bench-{i:03}"));
        // The boot entry is the first; the rest are a hall's usual mix.
        let batch: Vec<NewEntry> = (1..entries)
            .map(|n| match n % 4 {
                0 => NewEntry::new(
                    EntryKind::TicketIssued,
                    serde_json::json!({ "ticket_id": format!("t{n}"), "number": format!("A{:03}", n % 1000),
                        "category": "A", "business_day": "2026-11-26", "waiting_ahead": n % 7, "priority": false }),
                ),
                1 => NewEntry::new(
                    EntryKind::TicketCalled,
                    serde_json::json!({ "ticket_id": format!("t{}", n - 1), "state": "called", "counter": "3" }),
                ),
                2 => NewEntry::new(EntryKind::CatalogueSearch, serde_json::json!({ "query": "户籍", "results": 12 })),
                _ => NewEntry::new(
                    EntryKind::Evaluation,
                    serde_json::json!({ "transaction": { "ticket_id": format!("t{}", n - 3) }, "level": 5,
                        "level_name": "非常满意", "reason": null, "channel": "kiosk", "follow_up": false }),
                ),
            })
            .collect();
        k.append(batch);
        k.serve();
        fleet.push_str(&k.fleet_entry(&format!("town-{}", i % 12)));
        all.push(k);
    }
    let fleet_file = root.path().join("fleet.toml");
    std::fs::write(&fleet_file, fleet).expect("write the fleet file");
    eprintln!("fleet-bench: {kiosks} kiosks with {entries} entries each ready in {:.0} s", began.elapsed().as_secs_f64());

    let pull = || {
        let t = Instant::now();
        let (code, out, err) =
            run(kiosk().args(["fleet", "pull", "--once", "--db", &pg.url(), "--fleet"]).arg(&fleet_file));
        assert_eq!(code, Some(0), "{}\n{err}", out.lines().rev().take(5).collect::<Vec<_>>().join("\n"));
        (t.elapsed().as_secs_f64(), out)
    };
    let mut db = pg.client();
    let (first, _) = pull();
    let stored: i64 = db.query_one("SELECT count(*) FROM entries", &[]).unwrap().get(0);
    assert_eq!(stored as usize, kiosks * entries, "every entry stored once");
    let (second, out) = pull();
    let after: i64 = db.query_one("SELECT count(*) FROM entries", &[]).unwrap().get(0);
    assert_eq!(after, stored, "a second pull inserts nothing");
    assert!(out.contains(&format!("{kiosks} pulled (0 new entries)")), "{out}");

    // The baseline: the same rows written to a file by COPY, and read back by COPY into a table of the same
    // shape (primary key and index included), in this cluster.
    let file = root.path().join("pg").join("entries.copy");
    db.batch_execute(&format!("COPY entries TO '{}'", file.display())).unwrap();
    db.batch_execute("CREATE TABLE entries_copy (LIKE entries INCLUDING ALL)").unwrap();
    let t = Instant::now();
    db.batch_execute(&format!("COPY entries_copy FROM '{}'", file.display())).unwrap();
    let copy = t.elapsed().as_secs_f64();
    let n = (kiosks * entries) as f64;
    let (pull_rate, copy_rate) = (n / first, n / copy);
    let ratio = pull_rate / copy_rate;
    println!(
        "bench fleet_pull: {pull_rate:.0} entries/s ({kiosks} kiosks × {entries} entries in {first:.1} s) \
         (baseline COPY from a file: {copy_rate:.0} entries/s in {copy:.2} s, ratio {ratio:.2}, goal ≥ 0.5)"
    );
    println!("bench fleet_repull: {second:.1} s for {kiosks} kiosks with nothing new, 0 entries inserted");
    drop(all);
    if ratio < 0.5 {
        std::process::exit(1);
    }
}
