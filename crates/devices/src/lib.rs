//! The devices the running kiosk owns. Each device has exactly one owner thread that holds its link and runs
//! every request in order (the journal's writer is the model); everything else holds a cloneable handle.
//! Each device has one [`DeviceHealth`]: an outage gives one `device_fault` and one `device_recovered`,
//! whoever noticed it (a probe or a job).

pub mod cards;
pub mod fonts;
pub mod reader;
pub mod ticket;
pub mod ticket_printer;
pub mod voice;
pub mod watchdog;

pub use reader::{DEMO_CARDS, IdReaderHandle, ReaderNews, start_id_reader};
pub use ticket_printer::TicketPrinter;

use journal::payload::{DeviceFault, DeviceRecovered};
use journal::{Journal, NewEntry};
use std::sync::{Arc, Mutex};
use vocabulary::{A4Trouble, PrinterTrouble};

type Listener<F> = Box<dyn Fn(Option<F>) + Send>;

/// One device's state as the kiosk knows it: healthy or the fault it has. Shared by everyone who can
/// notice a change (the owner's probe, a job's outcome); transitions are journaled once and told to the
/// listeners (the home screen's tiles).
pub struct DeviceHealth<F> {
    device: journal::payload::Device,
    code: fn(&F) -> String,
    inner: Mutex<HealthState<F>>,
}

struct HealthState<F> {
    /// None until the first observation.
    current: Option<Option<F>>,
    listeners: Vec<Listener<F>>,
}

impl<F> std::fmt::Debug for DeviceHealth<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceHealth").field("device", &self.device).finish()
    }
}

impl<F: Clone + PartialEq + Send + 'static> DeviceHealth<F> {
    pub fn new(device: journal::payload::Device, code: fn(&F) -> String) -> Arc<DeviceHealth<F>> {
        Arc::new(DeviceHealth { device, code, inner: Mutex::new(HealthState { current: None, listeners: vec![] }) })
    }

    /// Tells `listener` every change from now on, starting with the current state when it is known.
    pub fn subscribe(&self, listener: impl Fn(Option<F>) + Send + 'static) {
        if let Ok(mut st) = self.inner.lock() {
            if let Some(now) = &st.current {
                listener(now.clone());
            }
            st.listeners.push(Box::new(listener));
        }
    }

    /// The fault the device has now (None when healthy or not yet known).
    pub fn fault(&self) -> Option<F> {
        self.inner.lock().ok().and_then(|st| st.current.clone().flatten())
    }

    /// What someone just saw of the device: journals a change (`source` says who noticed) and tells the
    /// listeners. The first observation of a healthy device is no recovery. Serialised by the lock, so two
    /// observers of one outage journal it once.
    pub fn observe(&self, journal: &Journal, now: Option<F>, source: journal::payload::HealthSource) {
        let Ok(mut st) = self.inner.lock() else { return };
        if st.current.as_ref() == Some(&now) {
            return;
        }
        let entry: Option<NewEntry> = match &now {
            Some(f) => Some(
                DeviceFault {
                    device: self.device,
                    severity: journal::payload::Severity::Error,
                    fault: Some((self.code)(f)),
                    source: Some(source),
                    detail: None,
                    message: None,
                }
                .into(),
            ),
            None if st.current.is_some() => Some(DeviceRecovered { device: self.device, source: Some(source) }.into()),
            None => None,
        };
        if let Some(e) = entry
            && let Err(e) = journal.append(e)
        {
            log::error!("{} health not journaled: {e}", self.device);
        }
        for l in &st.listeners {
            l(now.clone());
        }
        st.current = Some(now);
    }
}

/// What a citizen is told about a ticket printer fault.
pub fn printer_trouble(f: drivers::escpos::StatusFault) -> PrinterTrouble {
    use drivers::escpos::StatusFault as F;
    match f {
        F::PaperOut => PrinterTrouble::PaperOut,
        F::CoverOpen => PrinterTrouble::CoverOpen,
        F::CutterError => PrinterTrouble::Cutter,
        F::Offline | F::NoAnswer | F::Garbled => PrinterTrouble::Unavailable,
        F::Unrecoverable => PrinterTrouble::Broken,
    }
}

/// What a citizen is told about a licence printer fault.
pub fn a4_trouble(f: &drivers::ipp::PrinterFault) -> A4Trouble {
    use drivers::ipp::PrinterFault as F;
    match f {
        F::MediaEmpty | F::NoA4 => A4Trouble::PaperOut,
        F::MediaJam => A4Trouble::Jam,
        F::TonerEmpty => A4Trouble::Toner,
        F::CoverOpen => A4Trouble::CoverOpen,
        F::Stopped | F::NoPdf | F::Unreachable(_) | F::Refused(_) => A4Trouble::Unavailable,
        F::JobAborted(_) | F::JobTimeout => A4Trouble::JobFailed,
    }
}
