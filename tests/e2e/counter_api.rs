//! The staff counter API over a real HTTP socket: calls make "waiting ahead" on the next ticket true.

use crate::support::{KillOnDrop, config_in, free_port, http, kiosk, run, wait_for};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

const TOKEN: &str = "demo-counter-token";

fn setup(dir: &Path) -> (KillOnDrop, KillOnDrop, std::path::PathBuf, u16) {
    let (printer, addr) = crate::support::sim_printer(&dir.join("printed"), "ok", &["--listen", "127.0.0.1:0"]);
    let port = free_port();
    let config = config_in(dir);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("transport = \"simulated\"", "transport = \"tcp\"")
        .replace("address = \"127.0.0.1:9100\"", &format!("address = \"{addr}\""))
        .replace("listen = \"127.0.0.1:8080\"", &format!("listen = \"127.0.0.1:{port}\""));
    std::fs::write(&config, text).unwrap();
    let admin = kiosk().args(["admin", "serve", "--demo", "--config"]).arg(&config).spawn().unwrap();
    wait_for(Duration::from_secs(20), || TcpStream::connect(("127.0.0.1", port)).ok()).expect("the admin API listens");
    (printer, KillOnDrop(admin), config, port)
}

fn issue(config: &Path) -> String {
    let (code, stdout, err) = run(kiosk().args(["ticket", "issue", "--config"]).arg(config).args(["--category", "A"]));
    assert_eq!(code, Some(0), "{err}");
    stdout.split_whitespace().next().unwrap().to_owned()
}

#[test]
fn calling_tickets_changes_the_waiting_count_on_the_next_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let (_printer, _admin, config, port) = setup(dir.path());
    for _ in 0..3 {
        issue(&config);
    }
    let (status, body) = http(port, "GET", "/api/queue", None, "");
    assert_eq!(status, 401, "{body}");
    let (status, body) = http(port, "GET", "/api/queue", Some("wrong-token-wrong-token"), "");
    assert_eq!(status, 401, "{body}");
    let (status, body) = http(port, "GET", "/api/queue", Some(TOKEN), "");
    assert_eq!((status, body["categories"]["A"]["waiting"].as_i64()), (200, Some(3)), "{body}");
    let (status, body) = http(port, "GET", "/api/v1/queue?x=1", Some(TOKEN), "");
    assert_eq!((status, body["categories"]["A"]["waiting"].as_i64()), (200, Some(3)), "v1 path, query ignored: {body}");
    let (status, body) =
        http(port, "POST", "/api/v1/counters/5/call-next", Some("demo-staff-token"), r#"{"categories":["A"]}"#);
    assert_eq!(status, 403, "a staff token does not call tickets: {body}");
    assert!(body["error"].as_str().unwrap().contains("needs a counter token"), "{body}");

    let (status, body) = http(port, "POST", "/api/counters/5/call-next", Some(TOKEN), r#"{"categories":["A","D"]}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["called"]["number"], "A001", "{body}");
    let a001 = body["called"]["ticket_id"].as_str().unwrap().to_owned();

    assert_eq!(issue(&config), "A004");
    let transcript = std::fs::read_to_string(dir.path().join("printed/job-0004.txt")).unwrap();
    assert!(transcript.contains("前面还有 2 人"), "A002 and A003 wait; A001 was called: {transcript}");

    let (status, _) = http(port, "POST", &format!("/api/tickets/{a001}/recall"), Some(TOKEN), r#"{"counter":"5"}"#);
    assert_eq!(status, 200);
    let (status, body) = http(port, "POST", &format!("/api/tickets/{a001}/complete"), Some(TOKEN), "");
    assert_eq!((status, body["state"].as_str()), (200, Some("completed")), "{body}");
    let (status, body) = http(port, "POST", &format!("/api/tickets/{a001}/complete"), Some(TOKEN), "");
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("A001 is completed"), "{body}");

    let (_, body) = http(port, "POST", "/api/counters/5/call-next", Some(TOKEN), r#"{"categories":["A"]}"#);
    let a002 = body["called"]["ticket_id"].as_str().unwrap().to_owned();
    let (status, _) = http(port, "POST", &format!("/api/tickets/{a002}/no-show"), Some(TOKEN), "");
    assert_eq!(status, 200);

    for (path, body, want) in [
        ("/api/counters/5/call-next", "{not json", 400),
        ("/api/counters/5/call-next", r#"{"categories":["Z"]}"#, 400),
        ("/api/tickets/nope/complete", "", 404),
        ("/api/nothing", "", 404),
    ] {
        let (status, resp) = http(port, "POST", path, Some(TOKEN), body);
        assert_eq!(status, want, "{path} {body}: {resp}");
        assert!(resp["error"].is_string(), "{resp}");
    }

    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM entries WHERE kind IN ('ticket_called', 'ticket_completed', 'ticket_no_show') ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds, ["ticket_called", "ticket_called", "ticket_completed", "ticket_called", "ticket_no_show"]);
}
