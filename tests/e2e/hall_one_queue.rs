//! One hall, one queue (issue #31), against a real PostgreSQL with kiosk processes: three kiosks issue into
//! one queue and each ticket counts the whole hall ahead of it; two counters, each reaching a different
//! kiosk's staff API, call in the hall's order whichever kiosk issued the ticket, recall, complete, mark
//! no-show and transfer; many counters calling at once never get the same ticket; with the hall database
//! stopped mid-day, offline-band tickets join the queue in issue order when it is back, nothing twice and
//! nothing lost.

use crate::support::{KillOnDrop, Postgres, hall_config_serving, http, kiosk, run, serve_staff_api, wait_for};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TOKEN: &str = "demo-counter-token";

fn migrated(root: &Path) -> Postgres {
    let pg = Postgres::start(root);
    pg.migrate();
    pg
}

/// A kiosk of the hall: its configuration (with its own staff API port) and that port.
fn hall_kiosk(root: &Path, n: u32, pg: &Postgres, band: [u32; 2]) -> (PathBuf, u16) {
    hall_config_serving(root, n, &pg.url(), band, 1)
}

/// `kiosk admin serve` for a kiosk: a counter reaches the hall through it.
fn serve(config: &Path, port: u16) -> KillOnDrop {
    serve_staff_api(config, port)
}

/// Issues `n` tickets of `category` at a kiosk; their numbers.
fn issue(config: &Path, category: &str, n: u32) -> Vec<String> {
    let (code, out, err) = run(kiosk()
        .args(["ticket", "issue", "--category", category, "--count", &n.to_string(), "--config"])
        .arg(config));
    assert_eq!(code, Some(0), "{err}");
    out.lines().map(|l| l.split(' ').next().unwrap().to_owned()).collect()
}

/// Rows of a kiosk's journal file.
fn rows(config: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(config.parent().unwrap().join("journal.sqlite3")).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, rusqlite::types::Value>(i)).collect::<Result<Vec<_>, _>>())
        .unwrap()
        .map(|r| {
            r.unwrap()
                .into_iter()
                .map(|v| match v {
                    rusqlite::types::Value::Null => String::new(),
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

fn call_next(port: u16, counter: &str, categories: &str) -> serde_json::Value {
    let (status, body) = http(
        port,
        "POST",
        &format!("/api/v1/counters/{counter}/call-next"),
        Some(TOKEN),
        &format!("{{\"categories\":{categories}}}"),
    );
    assert_eq!(status, 200, "{body}");
    body
}

fn number(body: &serde_json::Value) -> String {
    body["called"]["number"].as_str().unwrap_or("none").to_owned()
}

#[test]
fn three_kiosks_one_queue_two_counters_call_it_in_the_halls_order() {
    let root = tempfile::tempdir().unwrap();
    let pg = migrated(root.path());
    let (k1, p1) = hall_kiosk(root.path(), 1, &pg, [950, 965]);
    let (k2, p2) = hall_kiosk(root.path(), 2, &pg, [966, 981]);
    let (k3, _) = hall_kiosk(root.path(), 3, &pg, [982, 997]);

    // Kiosks take turns: the hall's order is the order of issue, whichever kiosk.
    let mut order = vec![];
    for k in [&k1, &k2, &k3, &k1, &k2] {
        order.extend(issue(k, "A", 1));
    }
    assert_eq!(order, ["A001", "A002", "A003", "A004", "A005"]);
    // Each ticket counted the hall's tickets ahead of it, and says so.
    let ahead = rows(
        &k2,
        "SELECT json_extract(payload, '$.number'), json_extract(payload, '$.waiting_ahead'),
                json_extract(payload, '$.ahead_counted') FROM entries WHERE kind = 'ticket_issued' ORDER BY seq",
    );
    assert_eq!(ahead, [["A002", "1", "hall"], ["A005", "4", "hall"]], "kiosk 2 counts the hall's tickets");

    let _s1 = serve(&k1, p1);
    let _s2 = serve(&k2, p2);
    let (status, body) = http(p2, "GET", "/api/v1/queue", Some(TOKEN), "");
    assert_eq!(
        (status, body["hall"].as_bool(), body["categories"]["A"]["waiting"].as_i64()),
        (200, Some(true), Some(5)),
        "{body}"
    );

    // Counter 1 reaches kiosk 1, counter 2 reaches kiosk 2; they call in turn.
    let mut called = vec![];
    let mut ids = std::collections::BTreeMap::new();
    for (port, counter) in [(p1, "1"), (p2, "2"), (p1, "1")] {
        let body = call_next(port, counter, "[\"A\"]");
        ids.insert(number(&body), body["called"]["ticket_id"].as_str().unwrap().to_owned());
        called.push((number(&body), body["called"]["kiosk_id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(
        called,
        [
            ("A001".to_owned(), "linshu-county-01".to_owned()),
            ("A002".to_owned(), "linshu-county-02".to_owned()),
            ("A003".to_owned(), "linshu-county-03".to_owned())
        ],
        "hall order, whichever kiosk issued the ticket or answered the counter"
    );
    // The kiosk that answered a call journals it, whoever issued the ticket.
    let journaled = rows(
        &k1,
        "SELECT json_extract(payload, '$.ticket_id'), json_extract(payload, '$.counter') FROM entries
          WHERE kind = 'ticket_called' ORDER BY seq",
    );
    assert_eq!(journaled, [[ids["A001"].clone(), "1".into()], [ids["A003"].clone(), "1".into()]]);

    // Any counter may act on a called ticket, through any kiosk: counter 2 recalls A003 to its window and
    // completes A001, which counter 1 called.
    let (status, body) =
        http(p2, "POST", &format!("/api/v1/tickets/{}/recall", ids["A003"]), Some(TOKEN), r#"{"counter":"2"}"#);
    assert_eq!((status, body["counter"].as_str()), (200, Some("2")), "recalled to counter 2: {body}");
    let (status, body) = http(p2, "POST", &format!("/api/v1/tickets/{}/complete", ids["A001"]), Some(TOKEN), "");
    assert_eq!((status, body["state"].as_str()), (200, Some("completed")), "{body}");
    let (status, body) = http(p1, "POST", &format!("/api/v1/tickets/{}/complete", ids["A001"]), Some(TOKEN), "");
    assert_eq!(status, 409, "completed already: {body}");
    assert!(body["error"].as_str().unwrap().contains("A001 is completed"), "{body}");
    let (status, body) = http(p1, "POST", &format!("/api/v1/tickets/{}/no-show", ids["A002"]), Some(TOKEN), "");
    assert_eq!((status, body["state"].as_str()), (200, Some("no_show")), "{body}");
    let (status, body) = http(p1, "POST", "/api/v1/tickets/nobody-20260101-A001/complete", Some(TOKEN), "");
    assert_eq!(status, 404, "{body}");

    // A003 is transferred to 帮办代办 (D) for window 2 only: counter 1 does not get it, counter 2 does, before
    // D's own tickets issued later.
    let (status, body) = http(
        p1,
        "POST",
        &format!("/api/v1/tickets/{}/transfer", ids["A003"]),
        Some(TOKEN),
        r#"{"category":"D","counter":"2"}"#,
    );
    assert_eq!((status, body["state"].as_str()), (200, Some("waiting")), "{body}");
    let d = issue(&k3, "D", 1);
    assert_eq!(d, ["D3001"]);
    assert_eq!(number(&call_next(p1, "1", "[\"D\"]")), "D3001", "counter 1 skips the ticket sent to window 2");
    assert_eq!(number(&call_next(p2, "2", "[\"D\"]")), "A003", "window 2 gets the transferred ticket");
    let transferred = rows(
        &k1,
        "SELECT json_extract(payload, '$.category'), json_extract(payload, '$.counter') FROM entries
          WHERE kind = 'ticket_transferred'",
    );
    assert_eq!(transferred, [["D", "2"]]);

    // What counters did elsewhere comes back to the issuing kiosk's own records (its hall sync).
    let own = || rows(&k1, "SELECT prefix || printf('%03d', number), state FROM tickets ORDER BY number");
    let synced = wait_for(Duration::from_secs(20), || {
        let now = own();
        (now.iter().any(|r| r[0] == "A001" && r[1] == "completed")).then_some(now)
    });
    assert!(synced.is_some(), "kiosk 1 never learned that A001 was completed at counter 2: {:?}", own());

    // The display's feed: every call in order, recalls marked.
    let (status, body) = http(p2, "GET", "/api/v1/calls?since=0", Some(TOKEN), "");
    assert_eq!(status, 200, "{body}");
    let feed: Vec<(String, String, bool)> = body["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["number"].as_str().unwrap().into(),
                c["counter"].as_str().unwrap().into(),
                c["recall"].as_bool().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, String, bool)> = [
        ("A001", "1", false),
        ("A002", "2", false),
        ("A003", "1", false),
        ("A003", "2", true),
        ("D3001", "1", false),
        ("A003", "2", false),
    ]
    .iter()
    .map(|(n, c, r)| ((*n).into(), (*c).into(), *r))
    .collect();
    assert_eq!(feed, want, "{body}");
    let last = body["calls"][0]["id"].as_i64().unwrap();
    let (_, later) = http(p1, "GET", &format!("/api/v1/calls?since={last}"), Some(TOKEN), "");
    assert_eq!(later["calls"].as_array().unwrap().len(), 5, "after the first: {later}");
    let (status, _) = http(p1, "GET", "/api/v1/calls?since=-1", Some(TOKEN), "");
    assert_eq!(status, 400);
}

#[test]
fn counters_calling_at_the_same_instant_never_get_the_same_ticket() {
    let root = tempfile::tempdir().unwrap();
    let pg = migrated(root.path());
    let (k1, p1) = hall_kiosk(root.path(), 1, &pg, [950, 965]);
    let (k2, p2) = hall_kiosk(root.path(), 2, &pg, [966, 981]);
    let mut issued: BTreeSet<String> = issue(&k1, "A", 30).into_iter().collect();
    issued.extend(issue(&k2, "A", 30));
    assert_eq!(issued.len(), 60);
    let _s1 = serve(&k1, p1);
    let _s2 = serve(&k2, p2);
    // Eight counters, four through each kiosk, call until nothing waits.
    let counters: Vec<_> = (0..8)
        .map(|i| {
            let port = if i % 2 == 0 { p1 } else { p2 };
            std::thread::spawn(move || {
                let mut mine = vec![];
                loop {
                    let body = call_next(port, &format!("{}", i + 1), "[\"A\"]");
                    match body["called"]["number"].as_str() {
                        Some(n) => mine.push(n.to_owned()),
                        None => return mine,
                    }
                }
            })
        })
        .collect();
    let mut all = vec![];
    for c in counters {
        all.extend(c.join().unwrap());
    }
    let distinct: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(all.len(), distinct.len(), "a ticket was called twice: {all:?}");
    assert_eq!(distinct, issued, "every ticket called once");

    // Priority first (an elderly citizen's ticket, an appointment's check-in), whenever it was issued: two
    // tickets published as a kiosk publishes them, the priority one issued later.
    let mut db = pg.client();
    for (id, number, priority, at) in [("late-priority", 901i32, true, "2 minutes"), ("early", 902, false, "5 minutes")]
    {
        let display = format!("A{number}");
        db.execute(
            "INSERT INTO hall_tickets (hall, ticket_id, business_day, kiosk_id, category, number, display, priority,
                                       issued_at, numbering)
             SELECT 'linshu-county', $1, business_day, 'linshu-county-02', 'A', $2, $5, $3,
                    now() - $4::text::interval, 'hall'
               FROM hall_tickets LIMIT 1",
            &[&id, &number, &priority, &at, &display],
        )
        .unwrap();
    }
    assert_eq!(number(&call_next(p2, "2", "[\"A\"]")), "A901", "the priority ticket first");
    assert_eq!(number(&call_next(p1, "1", "[\"A\"]")), "A902");

    // A ticket of an earlier business day still waiting (the hall rolled over) is not called today.
    db.execute(
        "INSERT INTO hall_tickets (hall, ticket_id, business_day, kiosk_id, category, number, display, priority,
                                       issued_at, numbering)
             VALUES ('linshu-county', 'linshu-county-01-20200101-A001', '2020-01-01', 'linshu-county-01', 'A', 1,
                     'A001', true, '2020-01-01T10:00:00Z', 'hall')",
        &[],
    )
    .unwrap();
    assert_eq!(number(&call_next(p1, "1", "[\"A\"]")), "none", "yesterday's ticket stays yesterday's");
}

#[test]
fn with_the_hall_database_away_offline_tickets_join_the_queue_in_issue_order_when_it_is_back() {
    let root = tempfile::tempdir().unwrap();
    let pg = migrated(root.path());
    let (k1, p1) = hall_kiosk(root.path(), 1, &pg, [950, 965]);
    let (k2, p2) = hall_kiosk(root.path(), 2, &pg, [966, 981]);
    // Kiosk 2 prints on a network printer whose paper the test reads.
    let (_printer, addr) =
        crate::support::sim_printer(&root.path().join("printed-2"), "ok", &["--listen", "127.0.0.1:0"]);
    let text = std::fs::read_to_string(&k2)
        .unwrap()
        .replace("transport = \"simulated\"", "transport = \"tcp\"")
        .replace("address = \"127.0.0.1:9100\"", &format!("address = \"{addr}\""));
    std::fs::write(&k2, text).unwrap();
    let mut order = issue(&k1, "A", 2);
    pg.stop_server();
    order.extend(issue(&k1, "A", 2));
    order.extend(issue(&k2, "A", 1));
    assert_eq!(order, ["A001", "A002", "A950", "A951", "A966"]);
    let counted = rows(
        &k2,
        "SELECT json_extract(payload, '$.waiting_ahead'), json_extract(payload, '$.ahead_counted') FROM entries
          WHERE kind = 'ticket_issued'",
    );
    assert_eq!(counted, [["0", "kiosk"]], "kiosk 2 counts its own tickets and says so");
    let paper = std::fs::read_to_string(root.path().join("printed-2/job-0001.txt")).unwrap();
    assert!(
        paper.contains("前面还有 0 人")
            && paper.contains("（暂时只统计本机取的号）")
            && paper.contains("this machine's tickets only"),
        "the ticket says whose tickets it counted: {paper}"
    );
    // While the database is away, a counter reaching kiosk 1 calls kiosk 1's tickets.
    let s1 = serve(&k1, p1);
    let body = call_next(p1, "1", "[\"A\"]");
    assert_eq!(number(&body), "A001", "{body}");
    assert_eq!(body["hall"].as_bool(), Some(false), "this kiosk's own queue: {body}");
    drop(s1);

    pg.start_server();
    // Kiosk 2 has no more tickets to issue: its hall sync publishes what it printed.
    let _s2 = serve(&k2, p2);
    let _s1 = serve(&k1, p1);
    let waiting = wait_for(Duration::from_secs(20), || {
        let (_, body) = http(p2, "GET", "/api/v1/queue", Some(TOKEN), "");
        (body["hall"].as_bool() == Some(true) && body["categories"]["A"]["waiting"].as_i64() == Some(4)).then_some(body)
    });
    assert!(waiting.is_some(), "the offline tickets never joined the hall's queue");
    order.extend(issue(&k2, "A", 1));
    let mut called = vec![];
    for i in 0..6 {
        let port = if i % 2 == 0 { p2 } else { p1 };
        called.push(number(&call_next(port, "2", "[\"A\"]")));
    }
    assert_eq!(
        called,
        ["A002", "A950", "A951", "A966", "A003", "none"],
        "A001 was called while the database was away (the hall learned it); the rest in issue order"
    );
    let hall: i64 =
        pg.client().query_one("SELECT count(*) FROM hall_tickets WHERE state = 'called'", &[]).unwrap().get(0);
    assert_eq!(hall, 6, "every ticket in the hall's queue, called once");
}
