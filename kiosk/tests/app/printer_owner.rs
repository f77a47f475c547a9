//! The ticket printer's owner over a real serial line (the virtual printer on a pty, reached through a
//! symlink as a USB serial adapter is): the device goes away in the middle of a job and comes back. The job
//! fails with the cause, the owner drops its link and keeps probing, the outage is journaled once, and the
//! printer works again once it is back, with no one reopening anything by hand.

use drivers::escpos::virtual_printer::{SimStatus, VirtualPrinter, spawn_pty};
use drivers::escpos::{Align, Block, Document, Size};
use kiosk::config::{Config, PrinterTransport};
use kiosk::devices::TicketPrinter;
use kiosk::journal::{Journal, JournalSettings};
use std::time::{Duration, Instant};

fn page(text: &str) -> Document {
    let mut d = Document::default();
    d.blocks.push(Block::Text { text: text.into(), align: Align::Left, size: Size::Normal, bold: false });
    d.blocks.push(Block::Cut);
    d
}

fn health_rows(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT kind || ':' || coalesce(json_extract(payload, '$.fault'), '') FROM entries WHERE json_extract(payload, '$.device') = 'ticket_printer' ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_printer_unplugged_mid_job_fails_that_job_once_and_is_used_again_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("printed");
    let printer = VirtualPrinter::new(&out, 576, SimStatus::Ok).unwrap();
    let served = spawn_pty(printer.clone()).unwrap();
    let pty = served.path.clone();
    let link = dir.path().join("ttyUSB0");
    std::os::unix::fs::symlink(&pty, &link).unwrap();

    let mut config = Config::demo(dir.path());
    config.devices.ticket_printer.transport = PrinterTransport::Serial;
    config.devices.ticket_printer.path = Some(link.clone());
    let journal = Journal::open(JournalSettings::from_config(&config)).unwrap();
    let owner = TicketPrinter::from_config(&config, None).unwrap();
    owner.watch(journal.clone(), Duration::from_millis(200));

    owner.print_document(&page("第一张 first"), &journal).expect("prints while plugged in");
    wait_until("the first job's transcript", || out.join("job-0001.txt").exists());

    // Unplugged while the next job is under way: the device node goes and the printer stops answering.
    std::fs::remove_file(&link).unwrap();
    printer.set_status(SimStatus::Silent);
    let failed = owner.print_document(&page("第二张 second"), &journal).unwrap_err().to_string();
    assert!(failed.contains("not available"), "{failed}");
    // Probes meanwhile find no device: still the same outage, not a new one.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(health_rows(&journal.settings().path), ["device_fault:no_answer"]);
    assert!(owner.probe().is_err());

    // Plugged back in: the owner's next probe opens the link again on its own.
    std::os::unix::fs::symlink(&pty, &link).unwrap();
    printer.set_status(SimStatus::Ok);
    wait_until("the recovery", || health_rows(&journal.settings().path).len() == 2);
    assert_eq!(health_rows(&journal.settings().path), ["device_fault:no_answer", "device_recovered:"]);
    owner.print_document(&page("第三张 third"), &journal).expect("prints again once back");
    wait_until("the third job on paper", || {
        std::fs::read_dir(&out).unwrap().flatten().any(|f| {
            f.path().extension().is_some_and(|e| e == "txt")
                && std::fs::read_to_string(f.path()).unwrap_or_default().contains("third")
        })
    });
    owner.stop();
    journal.close();
}
