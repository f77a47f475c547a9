//! The ID-card reader from the command line, and a card session that leaves no personal data on disk or in logs.

use crate::support::{KillOnDrop, config_in, kiosk, run, workspace_root};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

/// `kiosk sim idreader --pty` with card `place`; returns the child (stdin open for commands) and the pty path.
fn sim_reader(place: usize) -> (KillOnDrop, String) {
    crate::support::sim_reader(&["--place", &place.to_string()])
}

#[test]
fn idcard_read_prints_the_card_masked_unless_revealed() {
    let (_sim, path) = sim_reader(1);
    let (code, out, err) = run(kiosk().args(["idcard", "read", "--port", &path, "--wait-s", "5"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("李**") && out.contains("371***********2020") && out.contains("毛南"), "{out}");
    assert!(!out.contains("李小梅") && !out.contains("371329198812122020") && !out.contains("样例村"), "{out}");
    let (code, out, _) = run(kiosk().args(["idcard", "read", "--port", &path, "--json", "--reveal"]));
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["id_number"], "371329198812122020");
    assert_eq!(v["valid_to"], "2040-06-01");
}

#[test]
fn a_read_failure_is_a_clear_error() {
    let (mut sim, path) = sim_reader(0);
    writeln!(sim.0.stdin.as_mut().unwrap(), "fault sw3-41").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (code, _, err) = run(kiosk().args(["idcard", "read", "--port", &path, "--wait-s", "3"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("reading the card failed (SW3 41)") && err.contains("try again"), "{err}");
}

/// A frame exactly as a reader sends it for a card, as hex with spaces and some noise before it.
fn card_frame_hex(card: &drivers::idcard::IdCard) -> String {
    let mut data = vec![0x01, 0x00, 0x04, 0x00];
    data.extend_from_slice(&card.encode());
    data.extend_from_slice(&[0u8; 1024]);
    let mut body = vec![0x00, 0x00, 0x90];
    body.extend(data);
    let frame = drivers::idcard::frame::frame(&body);
    let mut hex = String::from("13 37 ");
    for (i, b) in frame.iter().enumerate() {
        hex.push_str(&format!("{b:02x}{}", if i % 16 == 15 { "\n" } else { " " }));
    }
    hex
}

fn decode(input: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = kiosk()
        .args(["idcard", "decode"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn idcard_decode_reads_captured_frames_and_refuses_bad_ones() {
    let cards =
        drivers::idcard::fixtures::load(&std::fs::read_to_string(workspace_root().join("config/cards.toml")).unwrap())
            .unwrap();
    for card in &cards {
        let (code, out, err) = decode(&card_frame_hex(card), &["--json"]);
        assert_eq!(code, Some(0), "{err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["id_number"], card.masked_id(), "masked by default");
        assert_ne!(v["id_number"], card.id_number);
    }
    // scripts/box-check decodes this captured frame with the aarch64 build: it must stay the first card's.
    let fixture = workspace_root().join("tests/fixtures/idcard-reply.hex");
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(fixture.parent().unwrap()).unwrap();
        std::fs::write(&fixture, card_frame_hex(&cards[0])).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&fixture).unwrap(), card_frame_hex(&cards[0]), "UPDATE_FIXTURES=1 remakes it");
    let (code, out, _) = decode(&card_frame_hex(&cards[3]), &["--reveal"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("港澳台居民居住证") && out.contains("810000199211204567"), "{out}");
    // Every field of the permit: its pass number (通行证号码) and issue count too.
    assert!(out.contains("通行证号码 Permit:  H12345678") && out.contains("签发次数 Issued:    01"), "{out}");
    // A 2023 permanent-residence card's long English name, split at a word over two padded fields.
    let mut long = cards[5].clone();
    long.english_name = "WILLIAMSON-HARGREAVES, ELIZABETH ANNE".into();
    let (code, out, err) = decode(&card_frame_hex(&long), &["--reveal"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("英文名 English:     WILLIAMSON-HARGREAVES, ELIZABETH ANNE\n"), "{out}");

    let mut broken = cards[0].clone();
    broken.id_number.replace_range(17.., "9");
    let (code, _, err) = decode(&card_frame_hex(&broken), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("GB 11643 check digit"), "{err}");
    let (code, _, err) = decode("AA AA AA 96 69 00 03 zz", &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not hex"), "{err}");
    let hex = card_frame_hex(&cards[0]);
    let (code, _, err) = decode(&hex[..hex.len() - 12], &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no complete frame"), "{err}");
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[test]
fn a_card_session_leaves_no_id_number_name_or_address_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, reader) = sim_reader(0);
    let out = dir.path().join("printed");
    let (_printer, addr) = crate::support::sim_printer(&out, "ok", &["--listen", "127.0.0.1:0"]);
    let config = config_in(dir.path());
    // Category D (round the clock) requires an ID card here.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("\nport = \"simulated\"", &format!("\nport = \"{reader}\""))
        .replace("transport = \"simulated\"", "transport = \"tcp\"")
        .replace("address = \"127.0.0.1:9100\"", &format!("address = \"{addr}\""))
        .replace("last = 3999\nrequires_id = false", "last = 3999\nrequires_id = true");
    std::fs::write(&config, text).unwrap();
    let (code, stdout, log) = run(kiosk()
        .env("RUST_LOG", "debug")
        .args(["ticket", "issue", "--config"])
        .arg(&config)
        .args(["--category", "D"]));
    assert_eq!(code, Some(0), "{log}");
    assert!(stdout.starts_with("D3001 "), "{stdout}");
    let transcript = std::fs::read_to_string(out.join("job-0001.txt")).unwrap();
    assert!(transcript.contains("优先 Priority"), "张三丰 is 76: a priority ticket: {transcript}");

    let db = dir.path().join("journal.sqlite3");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (subject, masked): (String, String) = conn
        .query_row("SELECT json_extract(payload, '$.subject'), json_extract(payload, '$.id_masked') FROM entries WHERE kind = 'card_read'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(subject.len(), 64);
    assert_eq!(masked, "371***********1012");
    let priority: bool = conn.query_row("SELECT priority FROM tickets", [], |r| r.get(0)).unwrap();
    assert!(priority);
    // Keep the WAL as it is (no checkpoint) and search every file and the log.
    let mut places: Vec<(String, Vec<u8>)> = vec![("log".into(), log.into_bytes())];
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            places.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    drop(conn);
    assert!(places.iter().any(|(n, _)| n.ends_with("-wal")) || Path::new(&db).exists());
    for secret in ["371329195003071012", "张三丰", "示例路1号", "19500307"] {
        for (name, bytes) in &places {
            assert!(!contains(bytes, secret.as_bytes()), "{secret} found in {name}");
            assert!(!contains(bytes, &utf16(secret)), "{secret} (UCS-2) found in {name}");
        }
    }
}
