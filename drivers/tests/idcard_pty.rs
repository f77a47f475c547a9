//! The ID-card reader over real pseudo-terminal pairs: full read cycle, removal, every fault mode, unplug and return.

use drivers::idcard::reader::ReaderError;
use drivers::idcard::reply::ReplyError;
use drivers::idcard::sim::{Fault, SamSim, serve};
use drivers::idcard::{CardKind, ReaderEvent, Sam, SamStatus, fixtures, run_reader};
use serialport::{SerialPort, TTYPort};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

const CARDS: &str = include_str!("../../config/cards.toml");

/// A simulated SAM on a pty; returns the shared state, the host end and the device end.
fn sim_on_pty() -> (Arc<Mutex<SamSim>>, TTYPort, std::thread::JoinHandle<()>) {
    let (mut master, slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_millis(100)).unwrap();
    let sim = Arc::new(Mutex::new(SamSim::new(fixtures::load(CARDS).unwrap())));
    let s = sim.clone();
    let h = std::thread::spawn(move || {
        let _ = serve(s, master, false);
    });
    (sim, slave, h)
}

fn host(mut slave: TTYPort) -> Sam<TTYPort> {
    slave.set_timeout(Duration::from_millis(50)).unwrap();
    Sam::new(slave)
}

#[test]
fn every_fixture_card_is_read_over_a_pty() {
    let (sim, slave, _h) = sim_on_pty();
    let mut sam = host(slave);
    let info = sam.init().unwrap();
    assert_eq!(info.sam_id.len(), 32);
    assert!(sam.read_card().unwrap().is_none(), "no card yet");
    let kinds = [
        CardKind::Resident,
        CardKind::Resident,
        CardKind::Resident,
        CardKind::Permit,
        CardKind::Foreign2017,
        CardKind::Foreign2023,
    ];
    for (i, kind) in kinds.iter().enumerate() {
        sim.lock().unwrap().place(i);
        let card = sam.read_card().unwrap().expect("a card");
        assert_eq!(card.kind, *kind);
        assert_eq!(card, fixtures::load(CARDS).unwrap().remove(i));
    }
    sim.lock().unwrap().remove();
    assert!(sam.read_card().unwrap().is_none(), "removed");
}

#[test]
fn each_fault_mode_gives_a_clear_error() {
    let (sim, slave, _h) = sim_on_pty();
    let mut sam = host(slave);
    sam.init().unwrap();
    sim.lock().unwrap().place(0);
    for (fault, check) in [
        (Fault::Sw3(0x41), "reading the card failed (SW3 41)"),
        (Fault::Sw3(0x31), "the card failed to authenticate the SAM (SW3 31)"),
        (Fault::Sw3(0x32), "the SAM failed to authenticate the card (SW3 32)"),
        (Fault::Sw3(0x33), "information verification error (SW3 33)"),
        (Fault::Sw3(0x81), "selecting the card failed (SW3 81)"),
        (Fault::Checksum, "checksum is wrong"),
        (Fault::Silent, "did not answer"),
    ] {
        sim.lock().unwrap().fault = fault;
        let err = sam.read_card().unwrap_err().to_string();
        assert!(err.contains(check), "{fault:?}: {err}");
    }
    sim.lock().unwrap().fault = Fault::Sw3(0x80);
    assert!(sam.read_card().unwrap().is_none(), "SW3 80 means no card");
    sim.lock().unwrap().fault = Fault::Garbage;
    assert!(sam.read_card().unwrap().is_some(), "noise before replies is skipped");
    sim.lock().unwrap().fault = Fault::None;
    let err = ReaderError::Reply(ReplyError::Sam(SamStatus::from_sw3(0x41)));
    assert_eq!(err.to_string(), "the reader reported: reading the card failed (SW3 41)");
}

#[test]
fn the_reader_task_reports_insertion_removal_unplug_and_return() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyIDCARD");
    let (sim, slave, _h) = sim_on_pty();
    std::os::unix::fs::symlink(slave.name().unwrap(), &link).unwrap();
    let (tx, rx) = mpsc::channel();
    let path = link.to_string_lossy().into_owned();
    std::thread::spawn(move || run_reader(&path, 115_200, Duration::from_millis(50), tx));
    let next = || rx.recv_timeout(Duration::from_secs(10)).expect("an event");
    assert!(matches!(next(), ReaderEvent::Ready(_)));
    sim.lock().unwrap().place(1);
    match next() {
        ReaderEvent::CardInserted(card) => assert_eq!(card.masked_name(), "李**"),
        other => panic!("{other:?}"),
    }
    sim.lock().unwrap().remove();
    assert!(matches!(next(), ReaderEvent::CardRemoved));

    // Unplug: the device end goes silent and its path disappears.
    sim.lock().unwrap().fault = Fault::Silent;
    std::fs::remove_file(&link).unwrap();
    drop(slave);
    assert!(matches!(next(), ReaderEvent::Fault(_)));
    // Plugged back in (a new device behind the same path).
    let (sim2, slave2, _h2) = sim_on_pty();
    std::os::unix::fs::symlink(slave2.name().unwrap(), &link).unwrap();
    assert!(matches!(next(), ReaderEvent::Recovered));
    assert!(matches!(next(), ReaderEvent::Ready(_)));
    sim2.lock().unwrap().place(0);
    assert!(matches!(next(), ReaderEvent::CardInserted(_)));
}
