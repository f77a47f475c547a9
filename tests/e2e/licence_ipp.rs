//! Licence printing against a real IPP printer (CUPS's ippeveprinter): every template reaches the spool as
//! a PDF with its Chinese text, faults give the right message and journal rows, copy limits hold.

use crate::support::{IppEve, config_in, kiosk, run, workspace_root};
use std::path::Path;
use std::process::Command;

fn setup(dir: &Path, uri: &str) -> std::path::PathBuf {
    let config = config_in(dir);
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "uri = \"simulated\"                       # or e.g.",
        &format!("uri = \"{uri}\"\njob_timeout_s = 30 # was:"),
    );
    let text = text.replace("job_timeout_s = 180", "");
    std::fs::write(&config, text).unwrap();
    let samples = workspace_root().join("config/sample-documents.jsonl");
    let (code, out, err) = run(kiosk().args(["documents", "import", "--config"]).arg(&config).arg(&samples));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("imported 5 documents (5 new, 0 replaced)"), "{out}");
    config
}

fn print(config: &Path, id: &str) -> (Option<i32>, String, String) {
    run(kiosk().args(["licence", "print", "--config"]).arg(config).args(["--document", id]))
}

/// (kind, payload) of every licence and licence-printer journal entry, in order.
fn licence_rows(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let conn = rusqlite::Connection::open(dir.join("journal.sqlite3")).unwrap();
    let mut stmt = conn
        .prepare("SELECT kind, payload FROM entries WHERE kind LIKE 'licence_%' OR (kind LIKE 'device_%' AND payload LIKE '%licence_printer%') ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(|r| {
            let (k, p) = r.unwrap();
            (k, serde_json::from_str(&p).unwrap())
        })
        .collect()
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext").arg(pdf).arg("-").output().expect("pdftotext (poppler-utils)");
    assert!(out.status.success());
    // Layout puts spaces between spaced-out title characters; compare without whitespace.
    String::from_utf8_lossy(&out.stdout).split_whitespace().collect()
}

fn qpdf_ok(pdf: &Path) -> bool {
    Command::new("qpdf").arg("--check").arg(pdf).output().expect("qpdf").status.success()
}

#[test]
fn every_template_prints_to_the_spool_as_a_checked_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let printer = IppEve::start(dir.path(), None);
    let config = setup(dir.path(), &printer.uri);
    let cases = [
        ("BL-91371329MA3DEMO01", "临沭县小梅示例柳编工艺品有限公司", "91371329MA3DEMO01X"),
        ("LS-HJ-2026-000318", "户籍证明", "临沭县公安局临沭派出所"),
        ("GC-HMT-2026-000055", "居住登记凭证", "HMT3713292026000055"),
    ];
    for (n, (id, text_a, text_b)) in cases.iter().enumerate() {
        let (code, out, err) = print(&config, id);
        assert_eq!(code, Some(0), "{id}: {out}{err}");
        assert!(out.contains(&format!("printed {id}: copies 1,")), "{out}");
        let jobs = printer.jobs();
        assert_eq!(jobs.len(), n + 1, "{jobs:?}");
        let pdf = jobs.last().unwrap();
        assert!(std::fs::read(pdf).unwrap().starts_with(b"%PDF-"), "{pdf:?} is not a PDF");
        assert!(qpdf_ok(pdf), "qpdf --check failed on {pdf:?}");
        let text = pdftotext(pdf);
        assert!(text.contains(text_a) && text.contains(text_b), "{id}: {text}");
    }
    let rows = licence_rows(dir.path());
    let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["licence_print_requested", "licence_printed"].repeat(3));
    assert_eq!(rows[0].1["document_id"], "BL-91371329MA3DEMO01");
    assert_eq!(rows[0].1["copies"], 1);
    assert!(rows[0].1["subject"].as_str().is_some_and(|s| s.len() == 64), "{:?}", rows[0].1);
    assert_eq!(rows[1].1["print_id"], rows[0].1["print_id"]);
}

#[test]
fn copy_limits_hold_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let printer = IppEve::start(dir.path(), None);
    let config = setup(dir.path(), &printer.uri);
    // GC-HMT-2026-000055 allows one copy. Each `kiosk licence print` is a fresh process: the count
    // comes from the journal, not from memory.
    let (code, out, err) = print(&config, "GC-HMT-2026-000055");
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = print(&config, "GC-HMT-2026-000055");
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("may be printed 1 times at the kiosk and 1 have been printed"), "{err}");
    assert_eq!(printer.jobs().len(), 1);
    let rows = licence_rows(dir.path());
    assert_eq!(rows.last().unwrap().0, "licence_print_failed");
    assert_eq!(rows.last().unwrap().1["reason"], "copy_limit");
    // Two copies of a document that allows three, then two more: refused, one is still allowed.
    let (code, ..) = run(kiosk().args(["licence", "print", "--config"]).arg(&config).args([
        "--document",
        "LS-HJ-2026-000318",
        "--copies",
        "2",
    ]));
    assert_eq!(code, Some(0));
    let (code, _, err) = run(kiosk().args(["licence", "print", "--config"]).arg(&config).args([
        "--document",
        "LS-HJ-2026-000318",
        "--copies",
        "2",
    ]));
    assert_eq!(code, Some(2), "{err}");
    let (code, out, _) = print(&config, "LS-HJ-2026-000318");
    assert_eq!(code, Some(0));
    assert!(out.contains("copies still allowed: 0."), "{out}");
}

/// A `-c` program for ippeveprinter that raises `reason` on the printer and fails the job.
fn fault_script(dir: &Path, reason: &str) -> std::path::PathBuf {
    let path = dir.join(format!("fault-{reason}.sh"));
    std::fs::write(&path, format!("#!/bin/sh\necho 'STATE: +{reason}' >&2\nexit 1\n")).unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    path
}

#[test]
fn printer_faults_are_reported_journaled_and_not_counted() {
    for (reason, code_word, sentence) in [
        ("media-empty-error", "media_empty", "load A4 paper"),
        ("cover-open-error", "cover_open", "close every cover"),
        ("media-jam-error", "media_jam", "clear the paper path"),
        ("paused", "stopped", "is stopped"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let script = fault_script(dir.path(), reason);
        let printer = IppEve::start(dir.path(), Some(&script));
        let config = setup(dir.path(), &printer.uri);
        // The first job meets the fault while printing: the job ends aborted and the printer says why.
        let (code, out, err) = print(&config, "GC-HMT-2026-000055");
        assert_eq!(code, Some(3), "{reason}: {out}{err}");
        assert!(err.contains(sentence), "{reason}: {err}");
        // The second is refused before anything is sent.
        let (code, _, err) = print(&config, "GC-HMT-2026-000055");
        assert_eq!(code, Some(3), "{reason}: {err}");
        assert!(err.contains(sentence), "{reason}: {err}");
        let (code, out, _) = run(kiosk().args(["licence", "status", "--config"]).arg(&config));
        assert_eq!(code, Some(3), "{reason}: {out}");
        let rows = licence_rows(dir.path());
        let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            ["licence_print_requested", "licence_print_failed", "device_fault", "licence_print_failed", "device_fault"],
            "{reason}"
        );
        assert_eq!(rows[1].1["reason"], code_word, "{reason}");
        assert_eq!(rows[3].1["reason"], code_word, "{reason}");
        assert_eq!(rows[2].1["fault"], code_word, "{reason}");
        // Nothing was counted: the one allowed copy is still there on a healthy printer.
        drop(printer);
        let healthy = IppEve::start(&dir.path().join("healthy"), None);
        let text = std::fs::read_to_string(&config).unwrap();
        let old = text.lines().find(|l| l.starts_with("uri = \"ipp://")).unwrap().to_string();
        std::fs::write(&config, text.replace(&old, &format!("uri = \"{}\"", healthy.uri))).unwrap();
        let (code, out, err) = print(&config, "GC-HMT-2026-000055");
        assert_eq!(code, Some(0), "{reason}: {out}{err}");
    }
}

#[test]
fn an_unreachable_printer_is_a_sentence_and_a_journal_row() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::support::free_port();
    let config = setup(dir.path(), &format!("ipp://127.0.0.1:{port}/ipp/print"));
    let (code, _, err) = print(&config, "BL-91371329MA3DEMO01");
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("cannot be reached") && err.contains("[devices.licence_printer] uri"), "{err}");
    let rows = licence_rows(dir.path());
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].1["reason"], "unreachable");
    assert_eq!(rows[1].1["fault"], "unreachable");
}

#[test]
fn import_refuses_a_bad_file_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path(), "simulated");
    let bad = dir.path().join("bad.jsonl");
    let good = std::fs::read_to_string(workspace_root().join("config/sample-documents.jsonl")).unwrap();
    let first = good.lines().next().unwrap();
    std::fs::write(&bad, format!("{}\n{{\"id\": 5}}\n", first.replace("LS-HJ-2026-000318", "NEW-1"))).unwrap();
    let (code, _, err) = run(kiosk().args(["documents", "import", "--config"]).arg(&config).arg(&bad));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("bad.jsonl:2:") && err.contains("nothing was imported"), "{err}");
    // What a bad file held is echoed escaped, never raw to the terminal (issue #29).
    std::fs::write(
        &bad,
        format!(
            "{}\n{}\n{}\n",
            first.replace("LS-HJ-2026-000318", "NEW-\\u001b[2J"),
            first.replace("LS-HJ-2026-000318", "NEW-2").replacen(
                "\"data\":{",
                "\"data\":{\"k\\u001b]0;x\\u0007\":[1],",
                1
            ),
            first.replace("LS-HJ-2026-000318", "NEW-3").replacen("\"type\":\"", "\"type\":\"\\u001b[31m", 1),
        ),
    )
    .unwrap();
    let (code, out, err) = run(kiosk().args(["documents", "import", "--config"]).arg(&config).arg(&bad));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("bad.jsonl:1:") && err.contains("bad.jsonl:2:") && err.contains("bad.jsonl:3:"), "{err}");
    assert!(!out.contains('\u{1b}') && !err.contains('\u{1b}'), "an escape reached the terminal: {err:?}");
    let (_, out, _) = run(kiosk().args(["documents", "count", "--config"]).arg(&config));
    assert_eq!(out.trim(), "5");
    // The store never holds an ID number.
    let bytes = std::fs::read(dir.path().join("documents.sqlite3")).unwrap();
    assert!(!bytes.windows(18).any(|w| w == b"371329195003071012"));
}

#[test]
fn documents_from_the_platform_stand_in_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::support::free_port();
    let samples = workspace_root().join("config/sample-documents.jsonl");
    let certs = dir.path().join("standin");
    let standin = kiosk()
        .args(["sim", "platform", "--listen", &format!("127.0.0.1:{port}"), "--token", "t0ken", "--cert-dir"])
        .arg(&certs)
        .arg("--documents")
        .arg(&samples)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _standin = crate::support::KillOnDrop(standin);
    crate::support::wait_for(std::time::Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    })
    .expect("the stand-in platform");
    let config = config_in(dir.path());
    let token = dir.path().join("platform.token");
    std::fs::write(&token, "t0ken\n").unwrap();
    let original = std::fs::read_to_string(&config).unwrap();
    let with_platform = |url: &str, trust: &str| {
        original.replace("source = \"local\"", "source = \"platform\"").replace(
            "[platform]\n",
            &format!("[platform]\nurl = \"{url}\"\n{trust}\ntoken_file = \"{}\"\n", token.display()),
        )
    };
    let ca = format!("ca_file = \"{}\"", certs.join("platform.crt").display());

    // ID numbers never cross a network in clear: http:// is refused before anything starts.
    std::fs::write(&config, with_platform(&format!("http://127.0.0.1:{port}"), &ca)).unwrap();
    let (code, _, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("platform.url") && err.contains("http:// is refused"), "{err}");

    std::fs::write(&config, with_platform(&format!("https://127.0.0.1:{port}"), &ca)).unwrap();
    let (code, out, err) = print(&config, "BL-91371329MA3DEMO01");
    assert_eq!(code, Some(0), "{out}{err}");
    let pdfs: Vec<_> = std::fs::read_dir(dir.path().join("licence-prints")).unwrap().collect();
    assert_eq!(pdfs.len(), 1, "the simulated printer files one PDF");
    let (code, _, err) = print(&config, "NO-SUCH-DOC");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no document with id \"NO-SUCH-DOC\""), "{err}");

    // Another certificate (a pin that is not the stand-in's): no connection, nothing printed.
    let other = "pin = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"";
    std::fs::write(&config, with_platform(&format!("https://127.0.0.1:{port}"), other)).unwrap();
    let (code, _, err) = print(&config, "BL-91371329MA3DEMO01");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("TLS handshake"), "{err}");

    std::fs::write(&config, with_platform(&format!("https://127.0.0.1:{port}"), &ca)).unwrap();
    std::fs::write(&token, "wrong").unwrap();
    let (code, _, err) = print(&config, "BL-91371329MA3DEMO01");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("refused the kiosk's token"), "{err}");
    let pdfs: Vec<_> = std::fs::read_dir(dir.path().join("licence-prints")).unwrap().collect();
    assert_eq!(pdfs.len(), 1, "nothing more printed");
}
