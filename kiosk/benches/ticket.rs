//! Tap-to-bytes: from the issue call until the virtual printer has the ticket (durable journal commits
//! and printer status round trips included), against printing the same bytes without the journal.

use drivers::escpos::transport::{TcpLink, print_job};
use drivers::escpos::virtual_printer::{Server, SimStatus, VirtualPrinter};
use kiosk::config::{Config, PrinterTransport};
use kiosk::journal::{Journal, JournalSettings};
use kiosk::queue::Queue;
use kiosk::ticket::{PRINTER_TIMEOUT, TICKET_TEMPLATE, TicketPrinter, issue_and_print, render_ticket};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let n: usize = std::env::var("KIOSK_BENCH_TICKETS").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let printer = VirtualPrinter::new(&dir.path().join("printed"), 576, SimStatus::Ok).unwrap();
    let server = Server::start("127.0.0.1:0", printer).unwrap();
    let addr = server.addr.to_string();
    let mut config = Config::demo(dir.path());
    config.devices.ticket_printer.transport = PrinterTransport::Tcp;
    config.devices.ticket_printer.address = Some(addr.clone());
    let journal = Journal::open(JournalSettings::from_config(&config)).unwrap();
    let queue = Queue::new(&config, journal).unwrap();
    let tp = TicketPrinter::from_config(&config, None).unwrap();

    let mut ours = Vec::with_capacity(n);
    for i in 0..n {
        // Numbers restart each business day; spread the run over days to stay inside the band.
        let now = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * (i / 900) as i64);
        let t = Instant::now();
        issue_and_print(&queue, &tp, &config.kiosk.hall_name, "A", now, "").unwrap();
        ours.push(t.elapsed());
    }

    let (ticket, _) =
        queue.issue("A", jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 400), None, false, "").unwrap();
    let doc = render_ticket(TICKET_TEMPLATE, &config.kiosk.hall_name, &ticket).unwrap();
    let bytes = drivers::escpos::encode(&doc, tp.profile()).unwrap();
    let mut base = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let mut link = TcpLink::connect(&addr, PRINTER_TIMEOUT).unwrap();
        print_job(&mut link, &bytes, PRINTER_TIMEOUT).unwrap();
        base.push(t.elapsed());
    }
    ours.sort();
    base.sort();
    let (m, p99) = (percentile(&ours, 0.5), percentile(&ours, 0.99));
    let (bm, bp99) = (percentile(&base, 0.5), percentile(&base, 0.99));
    println!(
        "bench ticket_tap_to_bytes_median: {m:.2} ms (baseline print only, no journal: {bm:.2} ms, ratio {:.2}, goal report)",
        m / bm
    );
    println!(
        "bench ticket_tap_to_bytes_p99: {p99:.2} ms (baseline print only, no journal: {bp99:.2} ms, ratio {:.2}, goal p99 <= 20 ms)",
        p99 / bp99
    );
}
