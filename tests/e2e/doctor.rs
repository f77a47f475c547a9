//! `kiosk doctor` against the simulators in each state: the reader's SAM on a pty, the thermal printer on
//! TCP with each status, CUPS's ippeveprinter and an unreachable licence printer; the exit code is the worst.

use crate::support::{IppEve, KillOnDrop, config_in, fresh_credentials, kiosk, run, sim_printer};
use std::path::{Path, PathBuf};

fn sim_reader(fault: &str) -> (KillOnDrop, String) {
    crate::support::sim_reader(&["--fault", fault])
}

/// A configuration in `dir` with real (simulated) devices and a journal that has a seal (closing seals it).
fn setup(dir: &Path, reader: &str, printer: &str, licence_uri: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let config = config_in(dir);
    fresh_credentials(&config, "127.0.0.1:0");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replacen("port = \"simulated\"", &format!("port = \"{reader}\""), 1)
        .replace("transport = \"simulated\"", "transport = \"tcp\"")
        .replace("address = \"127.0.0.1:9100\"", &format!("address = \"{printer}\""))
        .replace("uri = \"simulated\"", &format!("uri = \"{licence_uri}\""));
    std::fs::write(&config, text).unwrap();
    let loaded = kiosk::config::Config::load(&config).unwrap();
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&loaded)).unwrap();
    journal.append(kiosk::journal::payload::Boot { version: "test".into() }.into()).unwrap();
    journal.close();
    config
}

fn doctor(config: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let (code, out, err) = run(kiosk().args(["doctor", "--json", "--config"]).arg(config).args(extra));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

fn item<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["checks"].as_array().unwrap().iter().find(|c| c["item"] == name).unwrap_or_else(|| panic!("no {name} in {v}"))
}

#[test]
fn doctor_reports_each_device_state_and_exits_with_the_worst() {
    let dir = tempfile::tempdir().unwrap();
    let ipp = IppEve::start(dir.path(), None);
    let (_reader, pty) = sim_reader("none");
    let (_printer, addr) = sim_printer(&dir.path().join("printed"), "ok", &["--listen", "127.0.0.1:0"]);
    let config = setup(&dir.path().join("k"), &pty, &addr, &ipp.uri);

    let (code, v) = doctor(&config, &["--test-print"]);
    assert_eq!((code, v["worst"].as_str()), (Some(0), Some("OK")), "{v:#}");
    for name in [
        "config",
        "id_reader",
        "ticket_printer",
        "licence_printer",
        "journal",
        "journal_chain",
        "disk",
        "clock",
        "journal_keys",
        "seal",
    ] {
        assert_eq!(item(&v, name)["level"], "OK", "{name}: {v:#}");
    }
    assert!(item(&v, "id_reader")["found"].as_str().unwrap().contains("ready"), "{v:#}");
    assert!(item(&v, "ticket_printer")["found"].as_str().unwrap().contains("printed the test page"));
    let page = std::fs::read_to_string(dir.path().join("printed/job-0001.txt")).unwrap();
    assert!(page.contains("打印测试"), "{page}");

    // The plain output: one line per check, with what to do under a finding.
    let (code, out, _) = run(kiosk().args(["doctor", "--config"]).arg(&config));
    assert_eq!(code, Some(0));
    assert!(out.lines().any(|l| l.starts_with("OK") && l.contains("id_reader")), "{out}");
}

#[test]
fn each_ticket_printer_fault_is_named_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    for (status, level, code, words) in [
        ("near-end", "WARN", 1, "nearly out"),
        ("paper-out", "FAIL", 2, "paper"),
        ("cover-open", "FAIL", 2, "cover"),
        ("silent", "FAIL", 2, "answer"),
    ] {
        let (_printer, addr) = sim_printer(&dir.path().join(status), status, &["--listen", "127.0.0.1:0"]);
        let config = setup(&dir.path().join(format!("k-{status}")), "simulated", &addr, "simulated");
        let (exit, v) = doctor(&config, &[]);
        let p = item(&v, "ticket_printer");
        assert_eq!((exit, p["level"].as_str()), (Some(code), Some(level)), "{status}: {v:#}");
        let said = format!("{} {}", p["found"], p["todo"]).to_lowercase();
        assert!(said.contains(words), "{status}: {said}");
        assert!(!p["todo"].as_str().unwrap().is_empty(), "{status}: a fault says what to do");
    }
}

#[test]
fn a_silent_reader_and_an_unreachable_licence_printer_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (_reader, pty) = sim_reader("silent");
    let (_printer, addr) = sim_printer(&dir.path().join("printed"), "ok", &["--listen", "127.0.0.1:0"]);
    let port = crate::support::free_port();
    let config = setup(&dir.path().join("k"), &pty, &addr, &format!("ipp://127.0.0.1:{port}/ipp/print"));
    let (code, v) = doctor(&config, &[]);
    assert_eq!(code, Some(2), "{v:#}");
    assert_eq!(item(&v, "id_reader")["level"], "FAIL");
    assert!(item(&v, "id_reader")["found"].as_str().unwrap().contains("Nothing answers"), "{v:#}");
    assert_eq!(item(&v, "licence_printer")["level"], "FAIL");
    assert_eq!(item(&v, "ticket_printer")["level"], "OK");

    let gone = setup(&dir.path().join("gone"), "/dev/ttyNOSUCH9", &addr, "simulated");
    let (code, v) = doctor(&gone, &[]);
    assert_eq!(code, Some(2));
    assert!(item(&v, "id_reader")["todo"].as_str().unwrap().contains("stop the kiosk first"), "{v:#}");
}
