//! Queue tickets end to end over a real TCP socket to the virtual printer: number, text, QR, cut, faults, concurrency.

use crate::support::{KillOnDrop, config_in, kiosk, run};
use std::path::{Path, PathBuf};

fn sim_printer(out: &Path, status: &str) -> (KillOnDrop, String) {
    crate::support::sim_printer(out, status, &["--listen", "127.0.0.1:0"])
}

fn tcp_config(dir: &Path, addr: &str) -> PathBuf {
    let path = config_in(dir);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("transport = \"simulated\"", "transport = \"tcp\"")
        .replace("address = \"127.0.0.1:9100\"", &format!("address = \"{addr}\""));
    std::fs::write(&path, text).unwrap();
    path
}

fn issue(config: &Path, category: &str) -> (Option<i32>, String, String) {
    run(kiosk().args(["ticket", "issue", "--config"]).arg(config).args(["--category", category]))
}

fn journal_rows(db: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn tickets_print_over_tcp_with_number_chinese_text_qr_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("printed");
    let (_printer, addr) = sim_printer(&out, "ok");
    let config = tcp_config(dir.path(), &addr);
    let mut ids = Vec::new();
    for expect in ["A001", "A002", "A003"] {
        let (code, stdout, err) = issue(&config, "A");
        assert_eq!(code, Some(0), "{err}");
        let (number, id) = stdout.trim().split_once(' ').unwrap();
        assert_eq!(number, expect);
        ids.push(id.to_owned());
    }
    let transcript = std::fs::read_to_string(out.join("job-0003.txt")).unwrap();
    assert!(transcript.contains("[center x4 bold] A003\n"), "{transcript}");
    assert!(transcript.contains("[center x2] 综合业务\n"), "{transcript}");
    assert!(transcript.contains("[center x2] 前面还有 2 人\n"), "{transcript}");
    assert!(transcript.contains("临沭县24小时政务服务大厅"), "{transcript}");
    assert!(transcript.trim_end().ends_with("[cut]"), "{transcript}");

    // The QR drawn on the PNG decodes to the ticket's own id.
    let png = out.join("job-0003.png");
    crate::support::wait_for(std::time::Duration::from_secs(20), || png.exists().then_some(()))
        .expect("the PNG is drawn");
    let img = crate::support::Rgb::load(&png).unwrap();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(img.width as usize, img.height as usize, |x, y| {
        img.pixels[y * img.width as usize + x][0]
    });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the ticket");
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, format!("https://zwfw.example.invalid/rate/{}", ids[2]), "the QR rates this very ticket");

    let db = dir.path().join("journal.sqlite3");
    let kinds = journal_rows(&db, "SELECT kind FROM entries WHERE kind LIKE 'ticket_%' ORDER BY seq");
    assert_eq!(kinds, ["ticket_issued", "ticket_printed"].repeat(3), "journal first: issued before printed, each time");
}

#[test]
fn printer_faults_fail_the_ticket_and_name_the_cause() {
    for (status, says, cause) in [
        ("paper-out", "out of paper", "paper_out"),
        ("cover-open", "cover is open", "cover_open"),
        ("silent", "not available", "no_answer"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("printed");
        let (_printer, addr) = sim_printer(&out, status);
        let config = tcp_config(dir.path(), &addr);
        let (code, stdout, err) = issue(&config, "A");
        assert_eq!(code, Some(1), "{status}: {err}");
        assert!(stdout.is_empty(), "no number is handed out: {stdout}");
        assert!(err.contains("A001 was not printed") && err.contains(says), "{status}: {err}");
        assert!(!out.join("job-0001.txt").exists(), "{status}: nothing printed");
        let db = dir.path().join("journal.sqlite3");
        let rows = journal_rows(
            &db,
            "SELECT kind || ':' || coalesce(json_extract(payload, '$.cause'), json_extract(payload, '$.fault'), '') FROM entries WHERE kind IN ('ticket_issued', 'ticket_print_failed', 'device_fault') ORDER BY seq",
        );
        assert_eq!(
            rows,
            ["ticket_issued:".to_string(), format!("ticket_print_failed:{cause}"), format!("device_fault:{cause}")]
        );
        let state = journal_rows(&db, "SELECT state FROM tickets");
        assert_eq!(state, ["print_failed"], "a failed ticket never waits in the queue");
    }
}

#[test]
fn paper_near_end_prints_and_warns_technicians() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("printed");
    let (_printer, addr) = sim_printer(&out, "near-end");
    let config = tcp_config(dir.path(), &addr);
    let (code, _, err) = issue(&config, "A");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.join("job-0001.txt").exists());
    let rows = journal_rows(
        &dir.path().join("journal.sqlite3"),
        "SELECT json_extract(payload, '$.fault') FROM entries WHERE kind = 'device_fault'",
    );
    assert_eq!(rows, ["paper_near_end"]);
}

#[test]
fn four_processes_at_once_never_duplicate_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("printed");
    let (_printer, addr) = sim_printer(&out, "ok");
    let config = tcp_config(dir.path(), &addr);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let config = config.clone();
            std::thread::spawn(move || {
                (0..50)
                    .map(|_| {
                        let (code, stdout, err) = issue(&config, "A");
                        assert_eq!(code, Some(0), "{err}");
                        stdout.split_whitespace().next().unwrap().to_owned()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut numbers: Vec<String> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=200).map(|n| format!("A{n:03}")).collect();
    assert_eq!(numbers, expected, "200 tickets from 4 processes: every number once, no gaps");
}

#[test]
fn a_failed_ticket_is_reprinted_with_its_number_or_voided_when_the_printer_returns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("printed");
    let db = dir.path().join("journal.sqlite3");
    let (printer, addr) = sim_printer(&out, "paper-out");
    let config = tcp_config(dir.path(), &addr);
    let (code, _, err) = issue(&config, "A");
    assert_eq!(code, Some(1), "{err}");
    let (code, _, _) = issue(&config, "A");
    assert_eq!(code, Some(1));
    drop(printer);
    let ids = journal_rows(&db, "SELECT id FROM tickets ORDER BY number");
    assert_eq!(ids.len(), 2);

    // Paper refilled: a printer that answers "ok" again.
    let (_printer, addr) = sim_printer(&out, "ok");
    let config = tcp_config(dir.path(), &addr);
    let (code, stdout, err) =
        run(kiosk().args(["ticket", "reprint", "--config"]).arg(&config).args(["--ticket", &ids[0]]));
    assert_eq!(code, Some(0), "{err}");
    assert!(stdout.starts_with("A001 "), "same number: {stdout}");
    let transcript = std::fs::read_to_string(out.join("job-0001.txt")).unwrap();
    assert!(transcript.contains("[center x4 bold] A001\n"), "{transcript}");

    let (code, _, err) = run(kiosk().args(["ticket", "void", "--config"]).arg(&config).args(["--ticket", &ids[0]]));
    assert_eq!(code, Some(2), "a printed ticket cannot be voided: {err}");
    assert!(err.contains("A001 is printed"), "{err}");
    let (code, _, err) = run(kiosk().args(["ticket", "void", "--config"]).arg(&config).args(["--ticket", &ids[1]]));
    assert_eq!(code, Some(0), "{err}");

    let (code, stdout, _) = issue(&config, "A");
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("A003 "), "the voided A002 leaves a gap, never a duplicate: {stdout}");
    let states = journal_rows(&db, "SELECT number || ':' || state FROM tickets ORDER BY number");
    assert_eq!(states, ["1:printed", "2:voided", "3:printed"]);
    let kinds =
        journal_rows(&db, "SELECT kind FROM entries WHERE kind IN ('ticket_reprinted', 'ticket_voided') ORDER BY seq");
    assert_eq!(kinds, ["ticket_reprinted", "ticket_voided"]);
}

#[test]
fn a_hall_name_with_a_rare_character_prints_as_a_raster_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("printed");
    let (_printer, addr) = sim_printer(&out, "ok");
    let config = tcp_config(dir.path(), &addr);
    let text = std::fs::read_to_string(&config).unwrap().replace("临沭县24小时政务服务大厅", "临沭县㐀村便民服务点");
    std::fs::write(&config, text).unwrap();
    let (code, _, err) = issue(&config, "A");
    assert_eq!(code, Some(0), "{err}");
    let transcript = std::fs::read_to_string(out.join("job-0001.txt")).unwrap();
    // Inside the print area (issue #30 item 7): the paper's 576 dots less a 16-dot margin each side.
    assert!(
        transcript.starts_with("[margin 16]\n[width 544]\n[raster 544x52]\n"),
        "the hall name, double size, as a raster line: {transcript}"
    );
    assert!(transcript.contains("[center x4 bold] A001"), "{transcript}");
}
