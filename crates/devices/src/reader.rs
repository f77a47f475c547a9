//! The ID-card reader's owner: one thread holds the serial link (real, or the simulator on a pty in demo
//! mode) and reads cards; a second publishes what it saw — the card into the in-memory slot, faults and
//! recoveries into the journal, news to subscribers (the UI, through its inbox). No one polls.

use config::Config;
use drivers::idcard::sim::{SamSim, serve_until};
use drivers::idcard::{IdCard, ReaderEvent, fixtures, run_reader_until};
use journal::payload::{CardReadFailed, Device, DeviceFault, DeviceRecovered, HealthSource, Severity};
use journal::{Journal, NewEntry};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// The fixture cards built into the binary for the demo's simulated reader.
pub const DEMO_CARDS: &str = include_str!("../../../config/cards.toml");

/// What subscribers hear from the reader. The card itself stays in the slot until a flow takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderNews {
    CardPlaced,
    /// A card lies on the reader but could not be read in a few tries: lift it and put it back.
    CardUnreadable,
    CardRemoved,
    Fault,
    Recovered,
}

type Subscriber = Box<dyn Fn(ReaderNews) + Send>;

/// What the rest of the kiosk holds of the ID-card reader; cheap to clone.
#[derive(Clone, Default)]
pub struct IdReaderHandle {
    /// The card on the reader now, in memory only; taken (and so dropped and zeroed) by the flow that uses it.
    pub card: Arc<Mutex<Option<Box<IdCard>>>>,
    /// Whether the reader answers.
    pub healthy: Arc<Mutex<bool>>,
    /// Whether a card lies on the reader now (the card itself may already be taken by a flow).
    pub present: Arc<AtomicBool>,
    /// Whether the reader's last news was a fault (not yet followed by its recovery).
    pub faulted: Arc<AtomicBool>,
    /// Set to have the reader read the card lying on it afresh (cleared by the reader when seen).
    read_again: Arc<AtomicBool>,
    /// The simulated SAM in demo mode, so the simulator panel can place and remove cards.
    pub simulator: Option<Arc<Mutex<SamSim>>>,
    subscribers: Arc<Mutex<Vec<Subscriber>>>,
    /// One stop for the reader's threads: set, the owner closes the port, its sender goes, and the publisher
    /// ends after the last news.
    stop: owner::Stop,
    threads: Arc<Mutex<owner::Owners>>,
    /// The owner's sign of life for the watchdog: beaten on every poll and every backoff nap.
    pub heartbeat: crate::watchdog::Heartbeat,
}

impl std::fmt::Debug for IdReaderHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdReaderHandle").field("simulated", &self.simulator.is_some()).finish()
    }
}

impl IdReaderHandle {
    /// Tells `subscriber` everything the reader sees from now on.
    pub fn subscribe(&self, subscriber: impl Fn(ReaderNews) + Send + 'static) {
        if let Ok(mut s) = self.subscribers.lock() {
            s.push(Box::new(subscriber));
        }
    }

    /// Whether a read card waits in the slot for a flow to take it.
    pub fn card_waiting(&self) -> bool {
        self.card.lock().map(|c| c.is_some()).unwrap_or(false)
    }

    /// Takes the card out of the slot (the caller owns it now; dropping it zeroes it).
    pub fn take_card(&self) -> Option<Box<IdCard>> {
        self.card.lock().ok().and_then(|mut c| c.take())
    }

    /// Has the card lying on the reader read again (its data goes to the slot, with `CardPlaced`): a step that
    /// wants a card opened after the card's data was taken by an earlier session, or after it failed to read.
    pub fn read_again(&self) {
        self.read_again.store(true, Ordering::SeqCst);
    }

    /// Whether the reader's last news was a fault.
    pub fn is_faulted(&self) -> bool {
        self.faulted.load(Ordering::SeqCst)
    }

    /// Stops the reader's threads and closes the serial link; returns when they have ended.
    pub fn stop(&self) {
        self.stop.set();
        let mut threads = self.threads.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default();
        // The publisher first (it ends once the owner has), then the owner, then the simulator.
        threads.stop();
        self.take_card();
    }

    fn publish(&self, news: ReaderNews) {
        if let Ok(subs) = self.subscribers.lock() {
            for s in subs.iter() {
                s(news);
            }
        }
    }
}

/// Why the reader's threads (or the demo's simulated reader) could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the demo's ID cards do not load ({0})")]
    Fixtures(String),
    #[error("the simulated reader's pseudo-terminal cannot be opened ({0})")]
    Pty(#[from] serialport::Error),
    #[error("a reader thread cannot start ({0})")]
    Thread(#[from] std::io::Error),
}

/// Starts the reader's owner and the thread that publishes and journals what it sees.
pub fn start_id_reader(config: &Config, journal: Journal) -> Result<IdReaderHandle, StartError> {
    let r = &config.devices.id_reader;
    let mut handle = IdReaderHandle::default();
    let path = if r.port == "simulated" {
        let cards = fixtures::load(DEMO_CARDS).map_err(StartError::Fixtures)?;
        let sim = Arc::new(Mutex::new(SamSim::new(cards)));
        let (mut master, slave) = serialport::TTYPort::pair()?;
        // Short reads so the simulator sees the stop signal soon after the reader's.
        serialport::SerialPort::set_timeout(&mut master, Duration::from_millis(100))?;
        let path = serialport::SerialPort::name(&slave).unwrap_or_default();
        let served = sim.clone();
        let life = owner::Life { stop: handle.stop.clone(), ..Default::default() };
        let thread = owner::Owned::spawn_with("id-reader-sim", life, move |life| {
            let _keep_open = slave;
            let _ = serve_until(served, master, false, &life.stop);
        })?;
        if let Ok(mut t) = handle.threads.lock() {
            t.push(thread);
        }
        handle.simulator = Some(sim);
        path
    } else {
        r.port.clone()
    };
    let (tx, rx) = mpsc::channel();
    let (baud, poll) = (r.baud, Duration::from_millis(u64::from(r.poll_interval_ms)));
    let read_again = handle.read_again.clone();
    let life = owner::Life { stop: handle.stop.clone(), heartbeat: handle.heartbeat.clone() };
    let owner = owner::Owned::spawn_with("id-reader", life, move |life| {
        run_reader_until(&path, baud, poll, tx, &life.stop, &read_again, &|| {
            life.heartbeat.beat();
            crate::watchdog::debug_hang("id-reader");
        })
    })?;
    let h = handle.clone();
    // Ends when the owner has returned and dropped its sender.
    let life = owner::Life { stop: handle.stop.clone(), ..Default::default() };
    let publisher = owner::Owned::spawn_with("id-reader-events", life, move |_| {
        for event in rx {
            let record = |entry: NewEntry| {
                if let Err(e) = journal.append(entry) {
                    log::error!("cannot journal an ID-card reader event: {e}");
                }
            };
            match event {
                ReaderEvent::Ready(info) => {
                    log::info!("ID-card reader ready, SAM {}", info.sam_id);
                    if let Ok(mut ok) = h.healthy.lock() {
                        *ok = true;
                    }
                    if h.faulted.swap(false, Ordering::SeqCst) {
                        h.publish(ReaderNews::Recovered);
                    }
                }
                ReaderEvent::Fault(detail) => {
                    log::warn!("ID-card reader fault: {detail}");
                    if let Ok(mut ok) = h.healthy.lock() {
                        *ok = false;
                    }
                    h.faulted.store(true, Ordering::SeqCst);
                    record(
                        DeviceFault {
                            device: Device::IdReader,
                            severity: Severity::Error,
                            fault: None,
                            source: Some(HealthSource::Reader),
                            detail: Some(detail),
                            message: None,
                        }
                        .into(),
                    );
                    h.publish(ReaderNews::Fault);
                }
                ReaderEvent::Recovered => {
                    log::info!("ID-card reader recovered");
                    record(DeviceRecovered { device: Device::IdReader, source: Some(HealthSource::Reader) }.into());
                    // Told once the reader is ready again (its Ready follows).
                }
                ReaderEvent::CardInserted(card) => {
                    log::info!("card on the reader: {}", card.masked_id());
                    h.present.store(true, Ordering::SeqCst);
                    if let Ok(mut slot) = h.card.lock() {
                        *slot = Some(card);
                    }
                    h.publish(ReaderNews::CardPlaced);
                }
                ReaderEvent::CardRemoved => {
                    h.present.store(false, Ordering::SeqCst);
                    h.take_card();
                    h.publish(ReaderNews::CardRemoved);
                }
                ReaderEvent::CardReadFailed(why) => {
                    log::warn!("a card could not be read: {why}");
                    h.present.store(true, Ordering::SeqCst);
                    record(
                        CardReadFailed { subject: None, id_masked: None, card_kind: None, purpose: None, reason: why }
                            .into(),
                    );
                    h.publish(ReaderNews::CardUnreadable);
                }
            }
        }
    })?;
    if let Ok(mut t) = handle.threads.lock() {
        t.push(owner);
        t.push(publisher);
    }
    Ok(handle)
}
