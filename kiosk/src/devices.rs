//! Device tasks the running kiosk owns: the ID-card reader (real, or the simulator on a pty in demo mode),
//! with its faults and recoveries journaled.

use crate::config::Config;
use crate::journal::{EntryKind, Journal, NewEntry};
use drivers::idcard::sim::{SamSim, serve};
use drivers::idcard::{IdCard, ReaderEvent, fixtures, run_reader};
use serde_json::json;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// The fixture cards built into the binary for the demo's simulated reader.
pub const DEMO_CARDS: &str = include_str!("../../config/cards.toml");

/// What the rest of the kiosk sees of the ID-card reader.
#[derive(Clone, Default)]
pub struct IdReaderHandle {
    /// The card on the reader now, in memory only; taken (and so dropped and zeroed) by the flow that uses it.
    pub card: Arc<Mutex<Option<Box<IdCard>>>>,
    /// Whether the reader answers.
    pub healthy: Arc<Mutex<bool>>,
    /// The simulated SAM in demo mode, so the simulator panel can place and remove cards.
    pub simulator: Option<Arc<Mutex<SamSim>>>,
}

impl std::fmt::Debug for IdReaderHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdReaderHandle").field("simulated", &self.simulator.is_some()).finish()
    }
}

/// Starts the reader task and the thread that journals its faults.
pub fn start_id_reader(config: &Config, journal: Journal) -> anyhow::Result<IdReaderHandle> {
    let r = &config.devices.id_reader;
    let mut handle = IdReaderHandle::default();
    let path = if r.port == "simulated" {
        let cards = fixtures::load(DEMO_CARDS).map_err(anyhow::Error::msg)?;
        let sim = Arc::new(Mutex::new(SamSim::new(cards)));
        let (mut master, slave) = serialport::TTYPort::pair()?;
        serialport::SerialPort::set_timeout(&mut master, Duration::from_secs(3600))?;
        let path = serialport::SerialPort::name(&slave).unwrap_or_default();
        let served = sim.clone();
        std::thread::Builder::new().name("id-reader-sim".into()).spawn(move || {
            let _keep_open = slave;
            let _ = serve(served, master, false);
        })?;
        handle.simulator = Some(sim);
        path
    } else {
        r.port.clone()
    };
    let (tx, rx) = mpsc::channel();
    let (baud, poll) = (r.baud, Duration::from_millis(u64::from(r.poll_interval_ms)));
    std::thread::Builder::new().name("id-reader".into()).spawn(move || run_reader(&path, baud, poll, tx))?;
    let h = handle.clone();
    std::thread::Builder::new().name("id-reader-events".into()).spawn(move || {
        for event in rx {
            let record = |kind, payload| {
                if let Err(e) = journal.append(NewEntry::new(kind, payload)) {
                    log::error!("cannot journal an ID-card reader event: {e}");
                }
            };
            match event {
                ReaderEvent::Ready(info) => {
                    log::info!("ID-card reader ready, SAM {}", info.sam_id);
                    if let Ok(mut ok) = h.healthy.lock() {
                        *ok = true;
                    }
                }
                ReaderEvent::Fault(detail) => {
                    log::warn!("ID-card reader fault: {detail}");
                    if let Ok(mut ok) = h.healthy.lock() {
                        *ok = false;
                    }
                    record(
                        EntryKind::DeviceFault,
                        json!({ "device": "id_reader", "severity": "error", "detail": detail }),
                    );
                }
                ReaderEvent::Recovered => {
                    log::info!("ID-card reader recovered");
                    record(EntryKind::DeviceRecovered, json!({ "device": "id_reader" }));
                }
                ReaderEvent::CardInserted(card) => {
                    log::info!("card on the reader: {}", card.masked_id());
                    if let Ok(mut slot) = h.card.lock() {
                        *slot = Some(card);
                    }
                }
                ReaderEvent::CardRemoved => {
                    if let Ok(mut slot) = h.card.lock() {
                        *slot = None;
                    }
                }
                ReaderEvent::CardReadFailed(why) => {
                    log::warn!("a card could not be read: {why}");
                    record(EntryKind::CardReadFailed, json!({ "reason": why }));
                }
            }
        }
    })?;
    Ok(handle)
}

/// How often the ticket printer's status is asked while the kiosk runs.
pub const PRINTER_PROBE_EVERY: Duration = Duration::from_secs(5);

/// Watches the ticket printer: a fault disables taking numbers (with the reason) and is journaled;
/// recovery re-enables it and is journaled. `on_change` gets the citizen's sentence, or None when healthy.
pub fn watch_ticket_printer(
    printer: crate::ticket::TicketPrinter,
    journal: Journal,
    on_change: impl Fn(Option<drivers::escpos::StatusFault>) + Send + 'static,
) -> anyhow::Result<()> {
    std::thread::Builder::new().name("printer-health".into()).spawn(move || {
        let mut last: Option<Option<drivers::escpos::StatusFault>> = None;
        loop {
            let now = printer.probe().err();
            if last != Some(now) {
                let payload = match now {
                    Some(f) => (EntryKind::DeviceFault, json!({ "device": "ticket_printer", "severity": "error", "fault": f.code(), "source": "probe" })),
                    None => (EntryKind::DeviceRecovered, json!({ "device": "ticket_printer" })),
                };
                // The first probe of a healthy printer is no recovery.
                if !(last.is_none() && now.is_none())
                    && let Err(e) = journal.append(NewEntry::new(payload.0, payload.1))
                {
                    log::error!("printer health not journaled: {e}");
                }
                on_change(now);
                last = Some(now);
            }
            std::thread::sleep(PRINTER_PROBE_EVERY);
        }
    })?;
    Ok(())
}
