//! The ID-card reader over real pseudo-terminal pairs: full read cycle, removal, every fault mode, unplug and return.

use drivers::idcard::reader::ReaderError;
use drivers::idcard::reply::ReplyError;
use drivers::idcard::sim::{Fault, SamSim, serve};
use drivers::idcard::{
    CardKind, CardWatch, ReaderEvent, Reply, Request, Sam, SamStatus, fixtures, run_reader, run_reader_until,
};
use serialport::{SerialPort, TTYPort};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Issue #30 item 2: a card that failed to read was never read again while it lay there, and nothing said
/// so; a card already on the reader when a step opened was not read until lifted and put back.
#[test]
fn a_card_that_fails_to_read_is_tried_again_and_a_card_lying_there_is_read_again_when_asked() {
    let (sim, slave, _h) = sim_on_pty();
    let path = slave.name().unwrap();
    let (tx, rx) = mpsc::channel();
    let again = Arc::new(AtomicBool::new(false));
    let a = again.clone();
    let mut reader = owner::Owned::spawn("id-reader", move |life| {
        run_reader_until(&path, 115_200, Duration::from_millis(50), tx, &life.stop, &a, &|| {})
    })
    .unwrap();
    let next = || rx.recv_timeout(Duration::from_secs(10)).expect("an event");
    assert!(matches!(next(), ReaderEvent::Ready(_)));

    // Two failed reads, then a good one: the citizen sees the card read, nothing else.
    sim.lock().unwrap().failing_reads = CardWatch::ATTEMPTS - 1;
    sim.lock().unwrap().place(1);
    match next() {
        ReaderEvent::CardInserted(card) => assert_eq!(card.masked_name(), "李**"),
        other => panic!("tried again until read, got {other:?}"),
    }

    // Lying there, read: asked again (a card step opened), it is read afresh.
    again.store(true, Ordering::SeqCst);
    assert!(matches!(next(), ReaderEvent::CardInserted(_)), "read again when asked");
    sim.lock().unwrap().remove();
    assert!(matches!(next(), ReaderEvent::CardRemoved));

    // A card that never reads: one report after the attempts, then quiet until it is lifted.
    sim.lock().unwrap().failing_reads = 1000;
    sim.lock().unwrap().place(0);
    match next() {
        ReaderEvent::CardReadFailed(why) => assert!(why.contains("3 attempts"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(rx.recv_timeout(Duration::from_millis(500)).is_err(), "reported once, not every poll");
    assert_eq!(1000 - sim.lock().unwrap().failing_reads, CardWatch::ATTEMPTS, "read exactly three times");
    // Lifted and put back once the chip reads: read.
    sim.lock().unwrap().remove();
    assert!(matches!(next(), ReaderEvent::CardRemoved));
    sim.lock().unwrap().failing_reads = 0;
    sim.lock().unwrap().place(0);
    assert!(matches!(next(), ReaderEvent::CardInserted(_)));
    reader.stop();
}

/// A reply frame as a SAM sends it: SW1 SW2 SW3 and the data.
fn reply_frame(sw3: u8, data: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, 0x00, sw3];
    body.extend_from_slice(data);
    drivers::idcard::frame::frame(&body)
}

/// The device's end of a pty: reads one request and returns it.
fn next_request(device: &mut TTYPort) -> Request {
    let mut dec = drivers::idcard::Decoder::default();
    let mut buf = [0u8; 64];
    loop {
        if let Some(body) = dec.next_body() {
            let body = body.unwrap();
            return Request::from_parts(body[0], body[1], &body[2..]).expect("a request the driver knows");
        }
        match std::io::Read::read(device, &mut buf) {
            Ok(n) => dec.feed(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("{e}"),
        }
    }
}

/// A host end whose first read after each request comes back empty and then holds the thread up for
/// `held` (while the reply arrives): what a starved box or a slow USB-serial hop does to the reader.
struct Held {
    port: TTYPort,
    held: Duration,
    wrote: bool,
}

impl std::io::Read for Held {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if std::mem::take(&mut self.wrote) {
            std::thread::sleep(self.held);
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.port.read(buf)
    }
}

impl std::io::Write for Held {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.wrote = true;
        self.port.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.port.flush()
    }
}

impl drivers::idcard::reader::SamLink for Held {
    fn discard_input(&mut self) -> std::io::Result<usize> {
        self.port.discard_input()
    }
}

/// Issue #30: a reply already waiting when the reader's thread gets to run again is its reply, however late
/// the thread is; it is not a timeout (which used to end the session and, with the reply left on the line,
/// desynchronise every later command).
#[test]
fn a_reply_that_waited_for_a_held_up_thread_is_taken_not_called_a_timeout() {
    let (sim, mut slave, _h) = sim_on_pty();
    slave.set_timeout(Duration::from_millis(50)).unwrap();
    sim.lock().unwrap().place(0);
    let held = Duration::from_millis(Request::FindCard.timeout_ms() + 300);
    let mut sam = Sam::new(Held { port: slave, held, wrote: false });
    assert!(sam.card_present().unwrap(), "FindCard's reply was on the line when the thread came back");
    let card = sam.read_card().unwrap().expect("and the card reads on, command by command");
    assert_eq!(card, fixtures::load(CARDS).unwrap().remove(0));
}

/// A reply left on the line (from a request that timed out) is dropped before the next request: SamId gets
/// SamId's reply, not the card-found frame before it.
#[test]
fn a_stale_reply_on_the_line_is_not_taken_for_the_next_requests() {
    let (mut device, slave) = TTYPort::pair().unwrap();
    device.set_timeout(Duration::from_millis(100)).unwrap();
    let mut sam = host(slave);
    std::io::Write::write_all(&mut device, &reply_frame(0x9F, &[0, 0, 0, 0])).unwrap();
    // The stale bytes reach the host's side before its request goes out.
    std::thread::sleep(Duration::from_millis(100));
    let sam_id: [u8; 16] = *b"0123456789ABCDEF";
    let answer = std::thread::spawn(move || {
        assert_eq!(next_request(&mut device), Request::SamId);
        std::io::Write::write_all(&mut device, &reply_frame(0x90, &sam_id)).unwrap();
        device
    });
    assert_eq!(sam.call(Request::SamId).unwrap(), Reply::SamId(sam_id));
    let _device = answer.join().unwrap();
}

/// A SAM that answers FindCard after the host gave up: the late card-found reply arrives while the host
/// waits for its next request's, and is skipped; the next request gets its own reply.
#[test]
fn a_late_card_found_reply_is_skipped_and_the_next_request_gets_its_own() {
    let (mut device, slave) = TTYPort::pair().unwrap();
    device.set_timeout(Duration::from_millis(100)).unwrap();
    let mut sam = host(slave);
    let late = Duration::from_millis(Request::FindCard.timeout_ms() + 300);
    let device_side = std::thread::spawn(move || {
        assert_eq!(next_request(&mut device), Request::FindCard);
        std::thread::sleep(late);
        std::io::Write::write_all(&mut device, &reply_frame(0x9F, &[0, 0, 0, 0])).unwrap();
        assert_eq!(next_request(&mut device), Request::SamStatus);
        std::io::Write::write_all(&mut device, &reply_frame(0x90, &[])).unwrap();
        device
    });
    assert!(matches!(sam.call(Request::FindCard), Err(ReaderError::Timeout(Request::FindCard))));
    assert_eq!(sam.call(Request::SamStatus).unwrap(), Reply::Done);
    let _device = device_side.join().unwrap();
}
