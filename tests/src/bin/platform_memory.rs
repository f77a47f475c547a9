//! The platform answers' memory benchmark (scripts/bench, issue #29 item 3): the kiosk's peak resident memory
//! while it asks a platform that sends the largest answers the bounds let through — a 1 MiB appointment
//! list of thousands of rows (refused after parsing: more than 50), 50 rows of the longest fields, and an
//! 8 MiB documents answer — against the same process idle, in the same run. Goal: at most +50 MB.
//!
//! Usage: platform-memory [ROUNDS]

use kiosk::config::PlatformSection;
use kiosk::platform::{Platform, bounds};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

/// Peak resident memory of this process so far (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmHWM");
    kb * 1024
}

/// An appointment list just under `limit` bytes: `rows` rows whose item names are `name_chars` long.
fn appointments(rows: usize, name_chars: usize, limit: usize) -> String {
    let row = |i: usize| {
        format!(
            r#"{{"code":"{i:08}","item_name":"{}","category":"A","start":"2026-11-27T09:30:00+08:00","status":"booked"}}"#,
            "办".repeat(name_chars)
        )
    };
    let mut out = String::from(r#"{"appointments":["#);
    for i in 0..rows {
        let r = row(i);
        if out.len() + r.len() + 3 > limit {
            break;
        }
        if i > 0 {
            out.push(',');
        }
        out.push_str(&r);
    }
    out.push_str("]}");
    out
}

/// A documents answer just under `limit` bytes: documents with many long fields.
fn documents(limit: usize) -> String {
    let fields: Vec<String> = (0..bounds::MAX_FIELDS).map(|f| format!(r#""f{f}":"{}""#, "证".repeat(100))).collect();
    let doc = |i: usize| format!(r#"{{"id":"doc-{i}","type":"business_licence","fields":{{{}}}}}"#, fields.join(","));
    let mut out = String::from(r#"{"documents":["#);
    let mut i = 0;
    loop {
        let d = doc(i);
        if out.len() + d.len() + 3 > limit {
            break;
        }
        if i > 0 {
            out.push(',');
        }
        out.push_str(&d);
        i += 1;
    }
    out.push_str("]}");
    out
}

static ASKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn serve(listener: TcpListener, answers: Arc<Vec<(&'static str, String)>>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { return };
        let answers = answers.clone();
        let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() {
                break;
            }
            // The appointment queries alternate between the many-rows list and the longest rows.
            let answer = if path.ends_with("/v1/appointments/query") {
                let n = ASKED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                answers[n % 2].1.as_str()
            } else {
                answers.iter().find(|(p, _)| path.ends_with(p)).map_or("{}", |(_, a)| a.as_str())
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                answer.len()
            );
            if stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(answer.as_bytes())).is_err() {
                break;
            }
        }
    }
}

fn main() {
    let rounds: usize = std::env::args().nth(1).map_or(20, |a| a.parse().expect("ROUNDS is a number"));
    // The answers are made before the idle figure, so the server's copies count in the baseline.
    let answers = Arc::new(vec![
        ("/many", appointments(100_000, 1, bounds::MAX_LIST_ANSWER)),
        ("/longest", appointments(bounds::MAX_ROWS, bounds::MAX_NAME_CHARS, bounds::MAX_LIST_ANSWER)),
        ("/documents", documents(bounds::MAX_DOCUMENTS_ANSWER)),
    ]);
    let sizes: Vec<String> = answers.iter().map(|(p, a)| format!("{p} {} KiB", a.len() / 1024)).collect();
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("its address").port();
    let server = answers.clone();
    std::thread::spawn(move || serve(listener, server));
    let section = PlatformSection {
        url: Some(format!("http://127.0.0.1:{port}")),
        token_file: None,
        ca_file: None,
        pin: None,
        timeout_seconds: 30,
        case_url: None,
    };
    let platform = Platform::from_config(&section, "bench-kiosk").expect("the platform client");
    // One small call first: the client, its runtime and the connection are part of idle.
    let _ = platform.call::<(), serde_json::Value>("GET", "/nothing", None, 1024);
    let idle = peak_rss();
    let mut refused = 0;
    for _ in 0..rounds {
        for _ in 0..2 {
            // As 预约签到 asks: parsed as the kiosk's own types, bounded, then refused when over the rows.
            let list = platform.appointments(None, Some("12345678"), "2026-11-27");
            refused += usize::from(list.is_err());
        }
        let docs: Result<serde_json::Value, _> =
            platform.call::<(), _>("POST", "/v1/documents", None, bounds::MAX_DOCUMENTS_ANSWER);
        assert!(docs.is_ok(), "the documents answer is within its bound: {docs:?}");
    }
    let peak = peak_rss();
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "bench platform_answers_peak_rss: +{:.1} MB over idle (idle {:.1} MB, peak {:.1} MB; goal ≤ +50 MB; {rounds} rounds of {}; {refused} oversized lists refused)",
        mb(peak.saturating_sub(idle)),
        mb(idle),
        mb(peak),
        sizes.join(", ")
    );
}
