//! The fleet load benchmark (scripts/bench, issue #18): KIOSKS kiosks (200) with ENTRIES entries (2,000)
//! each, every one served by its own `kiosk admin serve` over TLS, pulled by `kiosk-county fleet pull --once` into
//! a PostgreSQL with its default durability; the baseline is COPY of the very same rows from a file into a
//! table of the same shape, in the same cluster, in the same run. A second pull must insert nothing.
//!
//! Usage: KIOSK_BIN=target/release/kiosk KIOSK_COUNTY_BIN=target/release/kiosk-county fleet-bench [KIOSKS] [ENTRIES]

use kiosk::journal::{EntryKind, NewEntry};
use kiosk_e2e::{FleetKiosk, Postgres, county, run};
use std::time::Instant;

/// CPU seconds (user + system) from /proc/PID/stat: the process's own (fields 14, 15) or, for "self", also
/// the children it has waited for (16, 17).
fn cpu_seconds(pid: &str, children: bool) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields after it are counted from its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let ticks = if children { field(16) + field(17) } else { field(14) + field(15) };
    ticks / 100.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let kiosks: usize = args.next().map_or(200, |a| a.parse().expect("KIOSKS is a number"));
    let entries: usize = args.next().map_or(2000, |a| a.parse().expect("ENTRIES is a number"));
    let root = tempfile::tempdir().expect("a temporary folder");
    let pg = Postgres::start_durable(root.path(), "-c shared_buffers=256MB -c max_connections=300");
    pg.migrate();

    let began = Instant::now();
    // The fleet file's defaults: 8 kiosks at once, pages of 1,000 entries.
    let mut fleet = String::new();
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
                    serde_json::json!({ "transaction": { "kind": "ticket", "ticket_id": format!("t{}", n - 3) }, "level": 5,
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
    eprintln!(
        "fleet-bench: {kiosks} kiosks with {entries} entries each ready in {:.0} s",
        began.elapsed().as_secs_f64()
    );

    let servers: Vec<String> = all.iter().filter_map(|k| k.server.as_ref().map(|s| s.0.id().to_string())).collect();
    let kiosks_cpu = || servers.iter().map(|p| cpu_seconds(p, false)).sum::<f64>();
    let pull = || {
        let t = Instant::now();
        let (code, out, err) =
            run(county().args(["fleet", "pull", "--once", "--db", &pg.url(), "--fleet"]).arg(&fleet_file));
        assert_eq!(code, Some(0), "{}\n{err}", out.lines().rev().take(5).collect::<Vec<_>>().join("\n"));
        (t.elapsed().as_secs_f64(), out)
    };
    let mut db = pg.client();
    let (puller_before, kiosks_before) = (cpu_seconds("self", true), kiosks_cpu());
    let (first, _) = pull();
    let (puller_cpu, kiosks_cpu_used) = (cpu_seconds("self", true) - puller_before, kiosks_cpu() - kiosks_before);
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
    println!(
        "bench fleet_pull_cpu: the puller {puller_cpu:.1} s CPU, the {kiosks} kiosks' staff APIs {kiosks_cpu_used:.1} s CPU \
         (on this machine's {} cores, shared with PostgreSQL)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    drop(all);
    if ratio < 0.5 {
        std::process::exit(1);
    }
}
