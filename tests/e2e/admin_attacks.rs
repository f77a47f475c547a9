//! The staff API under the attacks the network review reproduced (issue #12), against `kiosk run` in a real
//! window under Xvfb: each attack is answered or cut off, a valid client is still served, the process stays
//! up, the UI still answers a tap, and the failed logins are in the journal.

use crate::support::{
    KillOnDrop, Xvfb, config_in, county, free_port, fresh_credentials, http, kiosk, parse_response, run, wait_for,
};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
    s
}

/// Reads whatever the server sends until it closes (or the read times out).
fn read_all(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap()
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// A valid client is answered, and quickly.
fn served_quickly(port: u16, token: &str, within: Duration) {
    let t = Instant::now();
    let (status, body) = http(port, "GET", "/api/v1/queue", Some(token), "");
    assert_eq!(status, 200, "{body}");
    assert!(t.elapsed() < within, "a valid client waited {:?}", t.elapsed());
}

#[test]
fn kiosk_run_refuses_the_demo_credentials_and_config_check_warns() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let (code, _, err) = run(kiosk().args(["run", "--config"]).arg(&config));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("replace the demo credentials"), "{err}");
    assert!(err.contains("kiosk admin hash-token") && err.contains("kiosk admin hash-pin"), "{err}");
    assert!(!dir.path().join("journal.sqlite3").exists(), "nothing was started, nothing written");
    let (code, out, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("valid configuration"), "{out}");
    assert!(err.contains("warning:") && err.contains("demo"), "{err}");
    // The staff API alone refuses them too, unless started as a demonstration.
    let (code, _, err) = run(kiosk().args(["admin", "serve", "--config"]).arg(&config));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("published credentials") && err.contains("--demo") && err.contains("Nothing was served"),
        "{err}"
    );
}

/// A staff token never crosses the network in clear: `journal pull` to a plain http:// address of
/// another machine is refused before anything is sent (loopback stays allowed for tests and tunnels).
#[test]
fn a_staff_token_never_travels_in_clear_to_another_machine() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("staff.token");
    std::fs::write(&token_file, "a-long-random-staff-token-0123456789\n").unwrap();
    let (code, _, err) = run(county()
        .args(["journal", "pull", "--url", "http://192.0.2.10:8080"])
        .arg("--token-file")
        .arg(&token_file)
        .arg("--out")
        .arg(dir.path().join("pulled.jsonl")));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("would cross the network in clear") && err.contains("https://"), "{err}");
    assert!(!dir.path().join("pulled.jsonl").exists());
}

/// The demo PIN hashed again with a new salt is still the demo PIN; `hash-pin` refuses the PINs anyone
/// tries first (one digit repeated, a run, the demo's).
#[test]
fn the_demo_pin_under_a_new_salt_and_guessable_pins_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let resalted = kiosk::secrets::pin_hash(kiosk::config::DEMO_PIN, b"another salt 16b");
    assert_ne!(resalted, kiosk::config::DEMO_PIN_HASH);
    let text = std::fs::read_to_string(&config).unwrap().replace(kiosk::config::DEMO_PIN_HASH, &resalted);
    std::fs::write(&config, text).unwrap();
    let (code, _, err) = run(kiosk().args(["run", "--config"]).arg(&config));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("maintenance_pin_hash is the demo PIN"), "{err}");
    for (pin, refused) in [
        ("111111", Some("one digit repeated")),
        ("123456", Some("a run of digits")),
        ("987654", Some("a run of digits")),
        ("890123", Some("a run of digits")),
        ("246813", Some("published demo PIN")),
        ("12345", Some("6 to 12 digits")),
        ("402917", None),
    ] {
        let mut child = kiosk()
            .args(["admin", "hash-pin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), format!("{pin}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        match refused {
            Some(why) => {
                assert_eq!(out.status.code(), Some(2), "{pin}: {err}");
                assert!(err.contains(why) && err.contains("nothing was hashed"), "{pin}: {err}");
            }
            None => {
                assert!(out.status.success(), "{pin}: {err}");
                assert!(String::from_utf8_lossy(&out.stdout).starts_with("pbkdf2-sha256:"));
            }
        }
    }
}

#[test]
fn attacks_on_the_staff_api_leave_the_kiosk_serving() {
    let x = Xvfb::start(1920, 1080);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = config_in(dir.path());
    let creds = fresh_credentials(&config, &format!("127.0.0.1:{port}"));
    let log = dir.path().join("kiosk.log");
    let child = kiosk()
        .env("DISPLAY", &x.display)
        .args(["run", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut kiosk_proc = KillOnDrop(child);
    let pid = kiosk_proc.0.id();
    let up = wait_for(Duration::from_secs(60), || {
        let (status, _) = http(port, "GET", "/api/v1/queue", Some(&creds.counter), "");
        (status == 200).then_some(())
    });
    assert!(up.is_some(), "the staff API never answered: {}", std::fs::read_to_string(&log).unwrap_or_default());
    let alive = |kiosk_proc: &mut KillOnDrop| {
        assert!(
            kiosk_proc.0.try_wait().unwrap().is_none(),
            "the kiosk died: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    };

    // The long waits run side by side: a head that never ends (5 s), a body that never comes (10 s) and an
    // idle keep-alive connection (30 s).
    let slow_head = std::thread::spawn(move || {
        let mut s = connect(port);
        s.write_all(b"GET /api/v1/queue HTTP/1.1\r\nHost: x\r\n").unwrap();
        let t = Instant::now();
        let answer = read_all(&mut s);
        (t.elapsed(), parse_response(&answer))
    });
    let counter = creds.counter.clone();
    let slow_body = std::thread::spawn(move || {
        let mut s = connect(port);
        write!(
            s,
            "POST /api/v1/counters/1/call-next HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {counter}\r\nContent-Length: 5000\r\n\r\n"
        )
        .unwrap();
        let t = Instant::now();
        let answer = read_all(&mut s);
        (t.elapsed(), parse_response(&answer))
    });
    let counter = creds.counter.clone();
    let keep_alive = std::thread::spawn(move || {
        let mut s = connect(port);
        write!(s, "GET /api/v1/queue HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {counter}\r\n\r\n").unwrap();
        let mut first = [0u8; 12];
        s.read_exact(&mut first).unwrap();
        let mut rest = [0u8; 4096];
        let _ = s.read(&mut rest);
        // Still open at 20 s: a second request on it is answered.
        std::thread::sleep(Duration::from_secs(20));
        write!(s, "GET /api/v1/queue HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {counter}\r\n\r\n").unwrap();
        let mut second = [0u8; 12];
        s.read_exact(&mut second).unwrap();
        let _ = s.read(&mut rest);
        let idle_from = Instant::now();
        let tail = read_all(&mut s);
        (first, second, idle_from.elapsed(), tail.len())
    });

    // 1. A huge Content-Length without a token: 413 at once, nothing allocated, the process lives.
    let mut s = connect(port);
    s.write_all(b"POST /api/queue HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000000\r\n\r\n").unwrap();
    let (status, body) = parse_response(&read_all(&mut s));
    assert_eq!(status, 413, "{body}");
    alive(&mut kiosk_proc);
    served_quickly(port, &creds.counter, Duration::from_secs(1));

    // 2. Content-Length 5000 and no body, without a token: refused at once, not waited for.
    let mut s = connect(port);
    s.write_all(b"POST /api/queue HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n").unwrap();
    let t = Instant::now();
    let (status, _) = parse_response(&read_all(&mut s));
    assert_eq!(status, 401);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // 3. A 1 MiB header line: 431 after 8 KiB, and the kiosk's memory does not grow with it.
    let rss_before = vm_rss_kib(pid);
    for _ in 0..5 {
        let mut s = connect(port);
        let _ = s.write_all(b"GET /api/v1/queue HTTP/1.1\r\nX-Big: ");
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..16 {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
        let (status, _) = parse_response(&read_all(&mut s));
        assert_eq!(status, 431);
    }
    let rss_after = vm_rss_kib(pid);
    assert!(rss_after < rss_before + 20 * 1024, "RSS grew from {rss_before} KiB to {rss_after} KiB");

    // 4. Long fields: a 60 KB counter name cannot even be sent in a path (431); a long one in a body is
    // refused with the field named; a query string is ignored.
    let long = "9".repeat(60_000);
    let (status, _) = http(
        port,
        "POST",
        &format!("/api/v1/counters/{long}/call-next"),
        Some(&creds.counter),
        r#"{"categories":["A"]}"#,
    );
    assert_eq!(status, 431);
    let (status, body) = http(
        port,
        "POST",
        &format!("/api/v1/counters/{}/call-next", "9".repeat(1000)),
        Some(&creds.counter),
        r#"{"categories":["A"]}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("`counter`"), "{body}");
    let (status, body) =
        http(port, "POST", "/api/v1/tickets/x/recall", Some(&creds.counter), &format!("{{\"counter\":\"{long}\"}}"));
    assert_eq!(status, 400, "{body}");
    let (status, body) = http(port, "GET", "/api/queue?x=1", Some(&creds.counter), "");
    assert_eq!(status, 200, "{body}");

    // 5. One address opens 600 connections and keeps them alive with requests without a token (each 401
    // used to keep its connection, so one peer held all 512 places): at most 32 of one peer are kept,
    // every 401 closes its connection, file handles stay bounded, and a counter elsewhere is served
    // within a second while the peer keeps trying.
    let hog = "127.0.0.4";
    let mut held: Vec<TcpStream> = (0..600).filter_map(|_| connect_from(hog, port)).collect();
    std::thread::sleep(Duration::from_millis(300));
    assert!(open_fds(pid) < 32 + 100, "{} file handles open", open_fds(pid));
    let mut kept_after_401 = 0;
    for s in held.iter_mut().take(40) {
        if s.write_all(b"GET /api/v1/queue HTTP/1.1\r\nHost: x\r\n\r\n").is_ok() {
            // The server's close ends the read; a connection kept open after its answer times out instead.
            let mut answer = Vec::new();
            let closed = s.read_to_end(&mut answer).is_ok();
            kept_after_401 += usize::from(!answer.is_empty() && !closed);
        }
    }
    assert_eq!(kept_after_401, 0, "every answered connection of the peer was closed after its 401");
    served_quickly(port, &creds.counter, Duration::from_secs(1));
    alive(&mut kiosk_proc);
    drop(held);

    // 5b. Sixteen bodies that never come, sent with a valid counter token from another peer (they used to
    // take all 16 request turns for 10 s): a body holds no turn, so a counter is served within a second.
    let staller = "127.0.0.5";
    let stalled: Vec<TcpStream> = (0..16)
        .filter_map(|_| {
            let mut s = connect_from(staller, port)?;
            write!(
                s,
                "POST /api/v1/counters/2/call-next HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 100\r\n\r\n{{",
                creds.counter
            )
            .ok()?;
            Some(s)
        })
        .collect();
    assert_eq!(stalled.len(), 16);
    std::thread::sleep(Duration::from_millis(500));
    served_quickly(port, &creds.counter, Duration::from_secs(1));
    drop(stalled);

    // 6. 200 wrong tokens at full speed from one address: 10 get 401, then it gets 429, even with the right
    // token; another address is still served.
    let attacker = "127.0.0.3";
    let mut statuses = Vec::new();
    for i in 0..200 {
        statuses.push(http_from(attacker, port, &format!("wrong-token-{i:04}")));
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 190, "{statuses:?}");
    assert_eq!(http_from(attacker, port, &creds.counter), 429, "blocked even with the right token");
    assert_eq!(http_from("127.0.0.2", port, &creds.counter), 200, "another address is not blocked");
    served_quickly(port, &creds.counter, Duration::from_secs(1));

    // The UI answers a tap while all this goes on: 取号 opens the category page.
    let shot = dir.path().join("screen.png");
    let before = x.screenshot(&shot).expect("a screenshot");
    let ok = std::process::Command::new("xdotool")
        .env("DISPLAY", &x.display)
        .args(["mousemove", "340", "350", "click", "1"])
        .status()
        .unwrap();
    assert!(ok.success());
    let changed = wait_for(Duration::from_secs(5), || {
        let now = x.screenshot(&shot)?;
        // The category page replaces the tiles: far more than a clock's digits change (a few hundred
        // pixels). Both pages are mostly red tiles, so about a fifth of the screen changes, not more.
        let changed = now.pixels.iter().zip(&before.pixels).filter(|(a, b)| a != b).count();
        (changed * 20 > now.pixels.len()).then_some(())
    });
    assert!(changed.is_some(), "the window did not react to a tap");

    let (t, (status, body)) = slow_head.join().unwrap();
    assert_eq!(status, 408, "{body}");
    assert!(t >= Duration::from_secs(4) && t < Duration::from_secs(8), "head cut after {t:?}");
    let (t, (status, body)) = slow_body.join().unwrap();
    assert_eq!(status, 408, "{body}");
    assert!(t >= Duration::from_secs(9) && t < Duration::from_secs(14), "body cut after {t:?}");
    let (first, second, idle_for, tail) = keep_alive.join().unwrap();
    assert_eq!((&first[..], &second[..]), (&b"HTTP/1.1 200"[..], &b"HTTP/1.1 200"[..]));
    assert_eq!(tail, 0, "an idle connection is closed, not answered");
    assert!(
        idle_for >= Duration::from_secs(28) && idle_for < Duration::from_secs(35),
        "idle closed after {idle_for:?}"
    );
    alive(&mut kiosk_proc);

    // A clean stop journals the failed logins: one entry for the address, with the counts.
    let ok = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(ok.success());
    let status = wait_for(Duration::from_secs(30), || kiosk_proc.0.try_wait().unwrap()).expect("the kiosk stops");
    assert!(status.success(), "{status}: {}", std::fs::read_to_string(&log).unwrap_or_default());
    let entries = auth_failed(&dir.path().join("journal.sqlite3"));
    let of = |addr: &str| entries.iter().find(|e| e["address"] == addr).cloned().unwrap_or_default();
    assert_eq!(entries.len(), 3, "one entry per address: {entries:?}");
    // The peer that held connections sent 40 requests without a token: blocked after 10, as any peer.
    let e = of(hog);
    assert_eq!((e["failures"].as_u64(), e["blocked"].as_bool()), (Some(10), Some(true)), "{e}");
    let e = of(attacker);
    assert_eq!(
        (e["failures"].as_u64(), e["refused_while_blocked"].as_u64(), e["blocked"].as_bool()),
        (Some(10), Some(191), Some(true)),
        "{e}"
    );
    let e = of("127.0.0.1");
    assert_eq!(
        (e["failures"].as_u64(), e["blocked"].as_bool()),
        (Some(1), Some(false)),
        "the request without a token in 2: {e}"
    );
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("blocked for 5 minutes"), "{log_text}");
}

/// A connection from the local address `src` (any of 127.0.0.0/8), or None when the kiosk refused it.
fn connect_from(src: &str, port: u16) -> Option<TcpStream> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    sock.bind(&format!("{src}:0").parse::<std::net::SocketAddr>().unwrap().into()).ok()?;
    sock.connect(&format!("127.0.0.1:{port}").parse::<std::net::SocketAddr>().unwrap().into()).ok()?;
    let s: TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    Some(s)
}

/// GET /api/v1/queue with `token` on a connection from the local address `src`; returns the status.
fn http_from(src: &str, port: u16, token: &str) -> u16 {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&format!("{src}:0").parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    sock.connect(&format!("127.0.0.1:{port}").parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    let mut s: TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /api/v1/queue HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
        .unwrap();
    parse_response(&read_all(&mut s)).0
}

fn auth_failed(journal: &Path) -> Vec<serde_json::Value> {
    let conn = rusqlite::Connection::open(journal).unwrap();
    let mut stmt = conn.prepare("SELECT payload FROM entries WHERE kind = 'auth_failed' ORDER BY seq").unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(|p| serde_json::from_str(&p.unwrap()).unwrap()).collect()
}
