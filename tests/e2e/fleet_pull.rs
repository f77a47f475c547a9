//! `kiosk-county fleet` against a real PostgreSQL (a throwaway cluster of Debian's package) and real kiosks serving
//! their staff API over TLS: migrations, a verified pull of two kiosks with a third unreachable, a re-pull
//! that inserts nothing, a resumed pull after new entries, the staff views, the round trip out of
//! PostgreSQL through `kiosk journal verify`, and a kiosk whose journal was restored from a backup and
//! written on (a fork of its history) stopped and alerted while the others go on.

use crate::support::{FleetKiosk as TestKiosk, Postgres, county, free_port, kiosk, run};
use kiosk::journal::{EntryKind, NewEntry};
use serde_json::json;
use std::path::Path;

/// A day of a hall kiosk: tickets issued and called, ratings, licence prints, a printer fault and recovery.
fn a_day(n: u32) -> Vec<NewEntry> {
    let mut v = Vec::new();
    for i in 1..=n {
        let id = format!("T-{i}");
        v.push(NewEntry::new(
            EntryKind::TicketIssued,
            json!({ "ticket_id": id, "number": format!("A{i:03}"), "category": "A", "business_day": "2026-11-26",
                    "waiting_ahead": 0, "priority": false }),
        ));
        v.push(NewEntry::new(EntryKind::TicketCalled, json!({ "ticket_id": id, "state": "called", "counter": "3" })));
        v.push(NewEntry::new(
            EntryKind::Evaluation,
            json!({ "transaction": { "kind": "ticket", "ticket_id": id }, "level": if i % 4 == 0 { 2 } else { 5 }, "level_name": "",
                    "reason": null, "channel": "kiosk", "follow_up": false }),
        ));
    }
    v.push(NewEntry::new(
        EntryKind::LicencePrinted,
        json!({ "print_id": "p1", "document_id": "d1", "copies": 2, "job_id": 7 }),
    ));
    v.push(NewEntry::new(
        EntryKind::DeviceFault,
        json!({ "device": "ticket_printer", "severity": "error", "fault": "paper_out" }),
    ));
    v.push(NewEntry::new(EntryKind::DeviceRecovered, json!({ "device": "ticket_printer" })));
    v
}

fn fleet(args: &[&str], fleet_file: &Path, pg: &Postgres) -> (Option<i32>, String, String) {
    run(county().args(["fleet"]).args(args).arg("--fleet").arg(fleet_file).args(["--db", &pg.url()]))
}

fn count(pg: &Postgres, sql: &str) -> i64 {
    pg.client().query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn the_county_pulls_every_kiosk_verified_into_postgresql_and_a_forked_kiosk_is_stopped() {
    let root = tempfile::tempdir().unwrap();
    let pg = Postgres::start(root.path());

    // Before the schema exists, a pull says what to do and writes nothing.
    let mut a = TestKiosk::new(root.path(), "linshu-hall-01");
    let mut b = TestKiosk::new(root.path(), "qingyun-town-01");
    let fleet_file = root.path().join("fleet.toml");
    let unreachable_port = free_port();
    let unreachable = format!(
        "[[kiosk]]\nid = \"village-07\"\ntown = \"大兴镇\"\nurl = \"https://127.0.0.1:{unreachable_port}\"\npin = \"{}\"\ntoken_file = \"{}\"\nroot_key = \"{}\"\n",
        a.pin,
        a.token_file.display(),
        a.root_key
    );
    std::fs::write(
        &fleet_file,
        format!(
            "[pull]\nconcurrency = 2\npage_size = 100\n\n{}{}{unreachable}",
            a.fleet_entry("临沭街道"),
            b.fleet_entry("青云镇")
        ),
    )
    .unwrap();
    let (code, _, err) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("kiosk-county fleet migrate"), "{err}");

    let (code, out, err) = run(county().args(["fleet", "migrate", "--db", &pg.url()]));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("Applied V1, V2"), "{out}");
    let (code, out, _) = run(county().args(["fleet", "migrate", "--db", &pg.url()]));
    assert_eq!(code, Some(0));
    assert!(out.contains("up to date"), "{out}");

    a.append(a_day(120));
    b.append(a_day(40));
    a.serve();
    b.serve();
    let (a_head, b_head) = (1 + 120 * 3 + 3, 1 + 40 * 3 + 3);

    // Both kiosks pulled in pages of 100 while the third cannot be reached: exit 3, the others stored.
    let (code, out, err) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(out.contains(&format!("linshu-hall-01: {a_head} new entries, stored through seq {a_head}")), "{out}");
    assert!(out.contains(&format!("qingyun-town-01: {b_head} new entries")), "{out}");
    assert!(out.contains("village-07: not pulled"), "{out}");
    assert_eq!(count(&pg, "SELECT count(*) FROM entries"), (a_head + b_head) as i64);
    assert_eq!(
        count(
            &pg,
            &format!(
                "SELECT count(DISTINCT seq) FROM entries WHERE kiosk_id = 'linshu-hall-01' AND seq BETWEEN 1 AND {a_head}"
            )
        ),
        a_head as i64,
        "keyed by (kiosk, seq), every seq once"
    );
    assert_eq!(count(&pg, "SELECT count(*) FROM alerts WHERE kiosk_id = 'village-07'"), 1);

    // A second pull inserts nothing.
    let (code, out, _) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert_eq!(code, Some(3));
    assert!(out.contains("linshu-hall-01: 0 new entries"), "{out}");
    assert_eq!(count(&pg, "SELECT count(*) FROM entries"), (a_head + b_head) as i64);

    // New entries on kiosk a: the pull resumes from the stored head.
    a.stop();
    a.append(a_day(10));
    a.serve();
    let (_, out, _) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert!(out.contains("linshu-hall-01: 33 new entries"), "{out}");
    let a_head = a_head + 33;

    // The views staff read.
    let mut c = pg.client();
    let tickets: i64 = c
        .query_one(
            "SELECT sum(tickets)::bigint FROM tickets_per_day WHERE kiosk_id = 'linshu-hall-01' AND category = 'A'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tickets, 130);
    let row = c
        .query_one(
            "SELECT ratings, good, good_rate::float8 FROM ratings_per_day WHERE kiosk_id = 'qingyun-town-01'",
            &[],
        )
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (40, 30));
    assert!((row.get::<_, f64>(2) - 0.75).abs() < 1e-9);
    assert_eq!(count(&pg, "SELECT count(*) FROM ticket_waits WHERE kiosk_id = 'qingyun-town-01'"), 40);
    let copies: i64 = c
        .query_one("SELECT sum(copies)::bigint FROM licence_prints_per_day WHERE kiosk_id = 'linshu-hall-01'", &[])
        .unwrap()
        .get(0);
    assert_eq!(copies, 4);
    let faults = c
        .query("SELECT device, recovered_at IS NOT NULL FROM device_faults WHERE kiosk_id = 'qingyun-town-01'", &[])
        .unwrap();
    assert_eq!(faults.len(), 1);
    assert!(faults[0].get::<_, bool>(1), "the fault's recovery was found");
    let silent: Vec<String> =
        c.query("SELECT kiosk_id FROM kiosks_not_heard_from(1)", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(silent, vec!["village-07".to_owned()]);

    // The round trip: out of PostgreSQL, and `kiosk journal verify` with the recorded root key.
    let exported = root.path().join("a-from-db.jsonl");
    let (code, out, err) =
        run(county().args(["fleet", "export", "--db", &pg.url(), "--kiosk", "linshu-hall-01", "--out"]).arg(&exported));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(&format!("{a_head} entries")), "{out}");
    assert!(out.contains("each page proven by the kiosk's signature"), "{out}");
    let (code, out, err) = run(kiosk().args(["journal", "verify", "--pubkey", &a.root_key]).arg(&exported));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(&format!("intact: {a_head} entries")), "{out}");
    // Issue #28 item 1: the county's copy is a joined file whose pages the kiosk signed, not version 1.
    assert!(out.contains(&format!("seq 1–{a_head} is proven contiguous")), "{out}");
    // A kiosk whose first pages were stored before the county kept page proofs (simulated by taking them
    // away behind the guard): written as version 1, said so, and verified only when asked to accept it.
    pg.client()
        .batch_execute(
            "ALTER TABLE page_proofs DISABLE TRIGGER page_proofs_kept;
             DELETE FROM page_proofs WHERE kiosk_id = 'linshu-hall-01' AND first_seq = 1;
             ALTER TABLE page_proofs ENABLE TRIGGER page_proofs_kept;",
        )
        .unwrap();
    let older = root.path().join("a-older.jsonl");
    let (code, out, err) =
        run(county().args(["fleet", "export", "--db", &pg.url(), "--kiosk", "linshu-hall-01", "--out"]).arg(&older));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("as a version 1 file") && out.contains("--accept-old-format"), "{out}");
    let (code, out, err) = run(kiosk().args(["journal", "verify", "--pubkey", &a.root_key]).arg(&older));
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains("NOT VERIFIED: this is a version 1 export"), "{err}");
    let (code, out, err) =
        run(kiosk().args(["journal", "verify", "--accept-old-format", "--pubkey", &a.root_key]).arg(&older));
    assert_eq!(code, Some(0), "{out}{err}");
    // The guard keeps proofs as evidence.
    let refused = pg.client().batch_execute("DELETE FROM page_proofs WHERE kiosk_id = 'linshu-hall-01'").unwrap_err();
    let message = refused.as_db_error().map(|d| d.message().to_owned()).unwrap_or_default();
    assert!(message.contains("never changed or deleted"), "{refused:?}");

    // Kiosk b is restored from an old backup (with the epoch key of that time) and written on past the
    // county's copy: a fork of its history. Its pull stops with an alert; kiosk a goes on.
    b.stop();
    let backup = root.path().join("b-backup");
    let (code, _, err) = run(std::process::Command::new("cp").arg("-a").arg(&b.dir).arg(&backup));
    assert_eq!(code, Some(0), "{err}");
    b.append(a_day(5));
    b.serve();
    let (_, out, _) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert!(out.contains("qingyun-town-01: 18 new entries"), "{out}");
    b.stop();
    std::fs::remove_dir_all(&b.dir).unwrap();
    let (code, _, err) = run(std::process::Command::new("cp").arg("-a").arg(&backup).arg(&b.dir));
    assert_eq!(code, Some(0), "{err}");
    b.append(a_day(30));
    b.serve();
    let stored_b = count(&pg, "SELECT count(*) FROM entries WHERE kiosk_id = 'qingyun-town-01'");
    a.stop();
    a.append(a_day(1));
    a.serve();
    let (code, out, err) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("qingyun-town-01: BROKEN at seq"), "{out}");
    assert!(err.contains("ALERT kiosk qingyun-town-01"), "{err}");
    assert!(out.contains("linshu-hall-01: 6 new entries"), "{out}");
    assert_eq!(
        count(&pg, "SELECT count(*) FROM entries WHERE kiosk_id = 'qingyun-town-01'"),
        stored_b,
        "nothing of the fork stored"
    );
    assert_eq!(
        count(&pg, "SELECT count(*) FROM alerts WHERE kiosk_id = 'qingyun-town-01' AND what LIKE 'chain broken%'"),
        1
    );
    let reason: String =
        c.query_one("SELECT broken_reason FROM kiosks WHERE kiosk_id = 'qingyun-town-01'", &[]).unwrap().get(0);
    assert!(!reason.is_empty());

    // Not pulled again until staff clear it; cleared, it is checked again and stops again.
    let (code, out, _) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert_eq!(code, Some(1));
    assert!(out.contains("at an earlier pull"), "{out}");
    let (code, _, err) = run(county().args(["fleet", "clear", "--db", &pg.url(), "--kiosk", "qingyun-town-01"]));
    assert_eq!(code, Some(0), "{err}");
    let (code, out, _) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert_eq!(code, Some(1));
    assert!(out.contains("qingyun-town-01: BROKEN at seq") && !out.contains("earlier pull"), "{out}");

    assert_eq!(
        count(&pg, "SELECT count(*) FROM alerts WHERE kiosk_id = 'village-07'"),
        1,
        "one alert when the kiosk went silent, not one a round"
    );

    // The report: one self-contained HTML file, opened in headless Chromium; its charts are drawn.
    let report = root.path().join("report.html");
    let (code, out, err) = run(county()
        .args(["fleet", "report", "--db", &pg.url(), "--from", "2026-01-01", "--to", "2099-12-31", "--out"])
        .arg(&report));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("3 kiosks"), "{out}");
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("<svg").count(), 6, "every chart is inline");
    assert!(html.contains("<td>临沭街道</td><td>131</td>"), "the town's tickets");
    assert!(html.contains("链断裂 chain broken"), "the broken kiosk is marked");
    let shot = root.path().join("report.png");
    let chromium = run(std::process::Command::new("timeout")
        .args([
            "120",
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1000,3200",
        ])
        .arg(format!("--user-data-dir={}", root.path().join("chromium").display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report.display())));
    assert_eq!(chromium.0, Some(0), "{}{}", chromium.1, chromium.2);
    let _ = std::fs::copy(&shot, crate::support::workspace_root().join("target/fleet-report.png"));
    let png = crate::support::Rgb::load(&shot).expect("Chromium wrote a PNG");
    let bar = png.fraction(0, 0, png.width, png.height, |p| p == [0x1f, 0x6f, 0xb4]);
    assert!(bar > 0.01, "the charts' bars and lines are on the page ({:.4} of its pixels)", bar);

    // A fleet file with a mistake is refused with its line, and nothing is pulled.
    let bad = root.path().join("bad.toml");
    std::fs::write(&bad, a.fleet_entry("x").replace(&a.root_key, "abc")).unwrap();
    let (code, _, err) = fleet(&["pull", "--once"], &bad, &pg);
    assert_eq!(code, Some(2));
    assert!(err.contains("bad.toml:7:") && err.contains("kiosk[0].root_key"), "{err}");
}

/// `--every` as the service runs it: rounds keep coming, new entries arrive within a round, an unreachable
/// database is logged and retried, and SIGTERM ends it cleanly.
#[test]
fn the_pull_service_runs_round_after_round_until_stopped() {
    let root = tempfile::tempdir().unwrap();
    let pg = Postgres::start(root.path());
    pg.migrate();
    let mut k = TestKiosk::new(root.path(), "linshu-hall-02");
    k.append(a_day(3));
    k.serve();
    let fleet_file = root.path().join("fleet.toml");
    std::fs::write(&fleet_file, k.fleet_entry("临沭街道")).unwrap();
    let service = county()
        .env("RUST_LOG", "info")
        .args(["fleet", "pull", "--every", "1s", "--db", &pg.url(), "--fleet"])
        .arg(&fleet_file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let service = crate::support::KillOnDrop(service);
    let stored = |n: i64| {
        crate::support::wait_for(std::time::Duration::from_secs(30), || {
            let mut c = postgres::Client::connect(&pg.url(), postgres::NoTls).ok()?;
            let got: i64 = c.query_one("SELECT count(*) FROM entries", &[]).ok()?.get(0);
            (got == n).then_some(())
        })
    };
    assert!(stored(1 + 12).is_some(), "the first round stores the kiosk's entries");
    k.stop();
    k.append(a_day(2));
    k.serve();
    assert!(stored(1 + 12 + 9).is_some(), "a later round brings the new ones");
    // The database goes away for a while: rounds fail, are logged, and the service keeps running.
    pg.stop_server();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    pg.start_server();
    k.stop();
    k.append(a_day(1));
    k.serve();
    assert!(stored(1 + 12 + 9 + 6).is_some(), "pulling resumes once the database is back");
    let mut child = service;
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.0.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let status = child.0.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "SIGTERM ends the service cleanly: {err}");
    assert!(err.contains("ALERT the fleet pull cannot use the database"), "{err}");
    assert!(err.contains("fleet pull stopped"), "{err}");
}

/// Two county servers pulling the same kiosk at once (a second pull server, or a manual `--once` beside the
/// service) serialise on the kiosk's row: every entry is stored once and the chain stays whole.
#[test]
fn concurrent_pulls_of_one_kiosk_store_every_entry_once() {
    let root = tempfile::tempdir().unwrap();
    let pg = Postgres::start(root.path());
    pg.migrate();
    let mut k = TestKiosk::new(root.path(), "linshu-hall-03");
    k.append(a_day(300));
    k.serve();
    let fleet_file = root.path().join("fleet.toml");
    std::fs::write(&fleet_file, format!("[pull]\npage_size = 50\n\n{}", k.fleet_entry("临沭街道"))).unwrap();
    let pulls: Vec<_> = (0..3)
        .map(|_| {
            county()
                .args(["fleet", "pull", "--once", "--db", &pg.url(), "--fleet"])
                .arg(&fleet_file)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut stored_by_each = 0;
    for p in pulls {
        let out = p.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let n: u64 = text.split("linshu-hall-03: ").nth(1).and_then(|r| r.split(' ').next()).unwrap().parse().unwrap();
        stored_by_each += n;
    }
    let total = 1 + 300 * 3 + 3;
    assert_eq!(stored_by_each, total, "the pulls' counts add up: each page was stored by one of them");
    assert_eq!(count(&pg, "SELECT count(*) FROM entries"), total as i64);
    assert_eq!(count(&pg, "SELECT max(seq) FROM entries"), total as i64);
    let exported = root.path().join("copy.jsonl");
    let (code, _, err) =
        run(county().args(["fleet", "export", "--db", &pg.url(), "--kiosk", "linshu-hall-03", "--out"]).arg(&exported));
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run(kiosk().args(["journal", "verify", "--pubkey", &k.root_key]).arg(&exported));
    assert_eq!(code, Some(0), "{out}{err}");
}

/// A kiosk that accepts and never answers, and one that drips its answer a byte a second, each cost a
/// worker at most its deadline (`first_byte_seconds`, `page_seconds` of the fleet file); the others are
/// pulled and the pull ends. (They used to hold a worker 120 s each.)
#[test]
fn a_silent_or_dripping_kiosk_costs_a_worker_at_most_its_deadline() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let root = tempfile::tempdir().unwrap();
    let pg = Postgres::start(root.path());
    pg.migrate();
    let mut a = TestKiosk::new(root.path(), "linshu-hall-01");
    a.append(a_day(10));
    a.serve();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let drip = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let entry = |id: &str, port: u16| {
        format!(
            "[[kiosk]]\nid = \"{id}\"\ntown = \"大兴镇\"\nurl = \"http://127.0.0.1:{port}\"\ntoken_file = \"{}\"\nroot_key = \"{}\"\n\n",
            a.token_file.display(),
            a.root_key
        )
    };
    let fleet_file = root.path().join("fleet.toml");
    std::fs::write(
        &fleet_file,
        format!(
            "[pull]\nconcurrency = 3\nfirst_byte_seconds = 2\npage_seconds = 5\n\n{}{}{}",
            a.fleet_entry("临沭街道"),
            entry("village-silent", silent.local_addr().unwrap().port()),
            entry("village-drip", drip.local_addr().unwrap().port())
        ),
    )
    .unwrap();
    let held = std::thread::spawn(move || {
        let (conn, _) = silent.accept().unwrap();
        std::thread::sleep(Duration::from_secs(10));
        drop(conn);
    });
    let dripping = std::thread::spawn(move || {
        let (mut conn, _) = drip.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = conn.read(&mut request);
        let _ =
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n");
        for _ in 0..10 {
            if conn.write_all(b"{").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let started = Instant::now();
    let (code, out, err) = fleet(&["pull", "--once"], &fleet_file, &pg);
    let took = started.elapsed();
    assert_eq!(code, Some(3), "some kiosks were not pulled: {out}{err}");
    assert!(out.contains("linshu-hall-01: 34 new entries"), "{out}");
    assert!(out.contains("village-silent: not pulled") && out.contains("did not answer within 2 s"), "{out}");
    assert!(out.contains("village-drip: not pulled") && out.contains("did not answer within 5 s"), "{out}");
    assert!(took < Duration::from_secs(25), "the pull took {took:?}, not its deadlines");
    held.join().unwrap();
    dripping.join().unwrap();
}

/// A kiosk restored from an older backup is caught at the next pull as rolled back (before it writes past
/// the county's head), and one that then writes on is caught as forked at the first seq the two histories
/// do not share; nothing of either is stored and the kiosk is skipped until cleared.
#[test]
fn a_rolled_back_or_forked_kiosk_is_stopped_where_its_history_parts() {
    let root = tempfile::tempdir().unwrap();
    let pg = Postgres::start(root.path());
    pg.migrate();
    let mut k = TestKiosk::new(root.path(), "linshu-hall-01");
    k.append(a_day(10));
    let backup_head = 1 + 10 * 3 + 3;
    let backup = root.path().join("backup");
    let (code, _, err) = run(std::process::Command::new("cp").arg("-a").arg(&k.dir).arg(&backup));
    assert_eq!(code, Some(0), "{err}");
    k.append(a_day(5));
    k.serve();
    let fleet_file = root.path().join("fleet.toml");
    std::fs::write(&fleet_file, k.fleet_entry("临沭街道")).unwrap();
    let (code, out, err) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert_eq!(code, Some(0), "{out}{err}");
    let county_head = backup_head + 18;
    assert!(out.contains(&format!("{county_head} new entries")), "{out}");

    // Restored from the backup: it says nothing new, and used to be counted as heard from.
    k.stop();
    std::fs::remove_dir_all(&k.dir).unwrap();
    let (code, _, err) = run(std::process::Command::new("cp").arg("-a").arg(&backup).arg(&k.dir));
    assert_eq!(code, Some(0), "{err}");
    k.serve();
    let (code, out, err) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains(&format!("BROKEN at seq {}", backup_head + 1)), "{out}");
    assert!(err.contains(&format!("rolled back: the kiosk's journal ends at seq {backup_head}")), "{err}");

    // Cleared, the restored kiosk writes on: its history parts from the county's at the backup's head.
    let (code, _, err) = run(county().args(["fleet", "clear", "--db", &pg.url(), "--kiosk", "linshu-hall-01"]));
    assert_eq!(code, Some(0), "{err}");
    k.stop();
    k.append(a_day(8));
    k.serve();
    let (code, out, err) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains(&format!("BROKEN at seq {}", backup_head + 1)), "{out}");
    assert!(err.contains(&format!("forked at seq {}", backup_head + 1)), "{err}");
    assert_eq!(count(&pg, "SELECT count(*) FROM entries"), county_head as i64, "nothing of either stored");
}

/// One kiosk's sealed entry whose payload is not what its kind says (a rating of level "x", a ticket whose
/// business day is not a date) is stored — the chain needs it — but marked, alerted and left out of every
/// figure, and the report names it; the report used to exit 1 for the whole county. Entries stored before
/// the county checked payloads are checked by `fleet migrate`.
#[test]
fn one_kiosks_malformed_payload_is_stored_marked_and_left_out_of_the_county_figures() {
    let root = tempfile::tempdir().unwrap();
    let pg = Postgres::start(root.path());
    pg.migrate();
    let mut good = TestKiosk::new(root.path(), "linshu-hall-01");
    good.append(a_day(4));
    let mut bad = TestKiosk::new(root.path(), "qingyun-town-01");
    let mut day = a_day(4);
    day.push(NewEntry::new(
        EntryKind::Evaluation,
        json!({ "transaction": { "kind": "hall_service" }, "level": "x", "level_name": "", "reason": null,
                "channel": "kiosk", "follow_up": false }),
    ));
    day.push(NewEntry::new(
        EntryKind::TicketIssued,
        json!({ "ticket_id": "T-bad", "number": "A999", "category": "A", "business_day": "someday",
                "waiting_ahead": 0, "priority": false }),
    ));
    bad.append(day);
    good.serve();
    bad.serve();
    let fleet_file = root.path().join("fleet.toml");
    std::fs::write(&fleet_file, format!("{}{}", good.fleet_entry("临沭街道"), bad.fleet_entry("青云镇"))).unwrap();
    let (code, out, err) = fleet(&["pull", "--once"], &fleet_file, &pg);
    assert_eq!(code, Some(0), "stored, not a break: {out}{err}");
    let bad_seqs: Vec<i64> = pg
        .client()
        .query("SELECT seq FROM entries WHERE payload_problem IS NOT NULL ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let n = 1 + 4 * 3 + 3;
    assert_eq!(bad_seqs, vec![n + 1, n + 2], "both marked, nothing else");
    assert_eq!(count(&pg, "SELECT count(*) FROM entries WHERE kiosk_id = 'qingyun-town-01'"), n + 2, "all stored");
    let alerts: Vec<String> = pg
        .client()
        .query("SELECT what FROM alerts WHERE kiosk_id = 'qingyun-town-01' ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(
        alerts[0].starts_with(&format!(
            "entry seq {} (evaluation) is stored but left out of the figures: the payload does not parse as evaluation (invalid type: string \"x\"",
            n + 1
        )),
        "{alerts:?}"
    );
    assert!(alerts[1].contains("the ticket's business_day \"someday\" is not a date"), "{alerts:?}");
    // Every view reads, and the bad kiosk's good entries still count.
    assert_eq!(count(&pg, "SELECT sum(ratings)::bigint FROM ratings_per_day WHERE kiosk_id = 'qingyun-town-01'"), 4);
    assert_eq!(count(&pg, "SELECT sum(tickets)::bigint FROM tickets_per_day WHERE kiosk_id = 'qingyun-town-01'"), 4);
    assert_eq!(count(&pg, "SELECT count(*) FROM ticket_waits"), 8);

    let report = root.path().join("report.html");
    let (code, out, err) = run(county()
        .args(["fleet", "report", "--db", &pg.url(), "--from", "2026-01-01", "--to", "2099-12-31", "--out"])
        .arg(&report));
    assert_eq!(code, Some(0), "{out}{err}");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("2 entries are left out of the figures"), "{html}");
    assert!(html.contains(&format!("<tr><td>qingyun-town-01</td><td>{}</td><td>evaluation</td>", n + 1)), "{html}");
    assert!(html.contains(&format!("<tr><td>qingyun-town-01</td><td>{}</td><td>ticket_issued</td>", n + 2)));

    // A county that pulled before payloads were checked: migrate checks what it stored, once.
    pg.client()
        .batch_execute("UPDATE entries SET payload_checked = false, payload_problem = NULL; DELETE FROM alerts")
        .unwrap();
    let (code, out, err) = run(county().args(["fleet", "migrate", "--db", &pg.url()]));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(&format!("Checked the payloads of {} stored entries: 2 left out", 2 * n + 2)), "{out}");
    assert_eq!(count(&pg, "SELECT count(*) FROM entries WHERE payload_problem IS NOT NULL"), 2);
    assert_eq!(count(&pg, "SELECT count(*) FROM alerts"), 2);
    let (_, out, _) = run(county().args(["fleet", "migrate", "--db", &pg.url()]));
    assert!(!out.contains("Checked the payloads"), "nothing left to check: {out}");
}
