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
    /// Whether a card lies on the reader now (the card itself may already be taken by a flow).
    pub present: Arc<std::sync::atomic::AtomicBool>,
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
                    h.present.store(true, std::sync::atomic::Ordering::SeqCst);
                    if let Ok(mut slot) = h.card.lock() {
                        *slot = Some(card);
                    }
                }
                ReaderEvent::CardRemoved => {
                    h.present.store(false, std::sync::atomic::Ordering::SeqCst);
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

/// Watches a device by probing it every `every`: a fault (the probe's `Some`) disables the service that
/// needs it, with the reason, and is journaled with `source: probe`; recovery re-enables it and is
/// journaled. `on_change` gets the fault, or None when healthy.
pub fn watch_device<F: PartialEq + Clone + Send + 'static>(
    device: &'static str,
    every: Duration,
    probe: impl Fn() -> Option<F> + Send + 'static,
    code: impl Fn(&F) -> String + Send + 'static,
    journal: Journal,
    on_change: impl Fn(Option<F>) + Send + 'static,
) -> anyhow::Result<()> {
    std::thread::Builder::new().name(format!("{device}-health")).spawn(move || {
        let mut last: Option<Option<F>> = None;
        loop {
            let now = probe();
            if last.as_ref() != Some(&now) {
                let payload = match &now {
                    Some(f) => (
                        EntryKind::DeviceFault,
                        json!({ "device": device, "severity": "error", "fault": code(f), "source": "probe" }),
                    ),
                    None => (EntryKind::DeviceRecovered, json!({ "device": device })),
                };
                // The first probe of a healthy device is no recovery.
                if !(last.is_none() && now.is_none())
                    && let Err(e) = journal.append(NewEntry::new(payload.0, payload.1))
                {
                    log::error!("{device} health not journaled: {e}");
                }
                on_change(now.clone());
                last = Some(now);
            }
            std::thread::sleep(every);
        }
    })?;
    Ok(())
}

/// How often the ticket printer's status is asked while the kiosk runs.
pub const PRINTER_PROBE_EVERY: Duration = Duration::from_secs(5);
/// The licence printer is asked less often: an IPP round trip costs the printer more than DLE EOT.
pub const LICENCE_PROBE_EVERY: Duration = Duration::from_secs(10);

/// Watches the ticket printer (see [`watch_device`]).
pub fn watch_ticket_printer(
    printer: crate::ticket::TicketPrinter,
    journal: Journal,
    on_change: impl Fn(Option<drivers::escpos::StatusFault>) + Send + 'static,
) -> anyhow::Result<()> {
    watch_device(
        "ticket_printer",
        PRINTER_PROBE_EVERY,
        move || printer.probe().err(),
        |f| f.code().to_string(),
        journal,
        on_change,
    )
}

/// Watches the licence printer (see [`watch_device`]).
pub fn watch_licence_printer(
    printer: crate::licence::LicencePrinter,
    journal: Journal,
    on_change: impl Fn(Option<drivers::ipp::PrinterFault>) + Send + 'static,
) -> anyhow::Result<()> {
    watch_device(
        "licence_printer",
        LICENCE_PROBE_EVERY,
        move || printer.status().and_then(|s| s.fault().map_or(Ok(()), Err)).err(),
        |f| f.code().to_string(),
        journal,
        on_change,
    )
}
