//! The thermal ticket printer's owner: one thread holds the link and runs jobs, test prints and status probes
//! one after another, so a probe never interleaves with a citizen's ticket. Everyone else holds a
//! [`TicketPrinter`] handle.

use super::DeviceHealth;
use config::{Config, PrinterTransport};
use drivers::escpos::transport::{DeviceFileLink, JobReport, Link, PrintError, SerialLink, TcpLink, print_job};
use drivers::escpos::{Document, GlyphRasterizer, PrinterStatus, Profile, StatusFault, encode_with};
use journal::Journal;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the printer may take to answer a status request or accept bytes.
pub const PRINTER_TIMEOUT: Duration = Duration::from_secs(2);

/// How often an idle owner wakes to beat its heartbeat.
const IDLE_BEAT: Duration = Duration::from_secs(1);
/// How often the owner asks the printer's status while the kiosk runs (and no job has just told it).
pub const PRINTER_PROBE_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
enum Endpoint {
    Tcp(String),
    Serial(String, u32),
    UsbLp(String),
}

enum Request {
    Print { bytes: Vec<u8>, reply: SyncSender<Result<JobReport, PrintError>> },
    Probe { reply: SyncSender<Result<PrinterStatus, StatusFault>> },
    Watch { journal: Journal, every: Duration },
}

/// A handle to the ticket printer's owner thread; cheap to clone. The owner stops when the last handle
/// is dropped or [`TicketPrinter::stop`] is called, closing the link.
#[derive(Clone)]
pub struct TicketPrinter {
    tx: Arc<Mutex<Option<Sender<Request>>>>,
    // Declared after `tx`: the last handle drops the sender first, so the joined owner has stopped.
    owner: Arc<Mutex<Option<owner::Owned>>>,
    profile: Profile,
    /// Draws lines the printer's two-byte font cannot (rare characters in names) with the kiosk's own font;
    /// made on the first such line, not at start.
    raster: Arc<OnceLock<Option<GlyphRasterizer>>>,
    health: Arc<DeviceHealth<StatusFault>>,
    heartbeat: crate::watchdog::Heartbeat,
}

impl std::fmt::Debug for TicketPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketPrinter").field("width_dots", &self.profile.width_dots).finish()
    }
}

impl TicketPrinter {
    /// Starts the owner for `tcp`, `serial` or `usb-lp`; `simulated` needs the address of a running virtual
    /// printer.
    pub fn from_config(config: &Config, simulated_address: Option<String>) -> Result<TicketPrinter, PrinterSetupError> {
        let p = &config.devices.ticket_printer;
        let profile = Profile::named(&p.model, p.paper_width_mm)
            .ok_or_else(|| PrinterSetupError::UnknownModel(p.model.clone()))?;
        let path = || p.path.as_ref().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        let endpoint = match p.transport {
            PrinterTransport::Tcp => Endpoint::Tcp(p.address.clone().unwrap_or_default()),
            PrinterTransport::Simulated => Endpoint::Tcp(simulated_address.ok_or(PrinterSetupError::NoSimulator)?),
            PrinterTransport::Serial => Endpoint::Serial(path(), p.baud),
            PrinterTransport::UsbLp => Endpoint::UsbLp(path()),
        };
        let health = DeviceHealth::new(journal::payload::Device::TicketPrinter, |f: &StatusFault| f.code().to_string());
        let (tx, rx) = channel();
        let life = owner::Life::default();
        let heartbeat = life.heartbeat.clone();
        let mut owner =
            Owner { endpoint, link: None, health: health.clone(), watch: None, heartbeat: heartbeat.clone() };
        let thread = owner::Owned::spawn_with("ticket-printer", life, move |_| owner.run(rx))
            .map_err(PrinterSetupError::Thread)?;
        Ok(TicketPrinter {
            tx: Arc::new(Mutex::new(Some(tx))),
            owner: Arc::new(Mutex::new(Some(thread))),
            profile,
            raster: Arc::default(),
            health,
            heartbeat,
        })
    }

    /// The owner's sign of life for the watchdog: it beats at least every second while idle and between
    /// the steps of a job, each of which is bounded by [`PRINTER_TIMEOUT`].
    pub fn heartbeat(&self) -> crate::watchdog::Heartbeat {
        self.heartbeat.clone()
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The printer's one state: subscribe to it, or report what a job saw.
    pub fn health(&self) -> &Arc<DeviceHealth<StatusFault>> {
        &self.health
    }

    pub fn raster(&self) -> Option<&GlyphRasterizer> {
        self.raster
            .get_or_init(|| {
                let r = GlyphRasterizer::new(crate::fonts::kiosk_font(), crate::fonts::KIOSK_FONT_FACE);
                if r.is_none() {
                    log::error!("the kiosk's own font cannot be read: lines with rare characters cannot be printed");
                }
                r
            })
            .as_ref()
    }

    fn send(&self, req: Request) -> bool {
        self.tx.lock().ok().and_then(|tx| tx.as_ref().map(|tx| tx.send(req).is_ok())).unwrap_or(false)
    }

    /// Has the owner probe every `every` and journal the printer's state changes; the first probe runs now.
    pub fn watch(&self, journal: Journal, every: Duration) {
        self.send(Request::Watch { journal, every });
    }

    /// Sends a job (status before, the bytes, status after) in the owner's turn. The caller journals the
    /// outcome, then reports it to [`TicketPrinter::health`].
    pub fn print(&self, bytes: Vec<u8>) -> Result<JobReport, PrintError> {
        let (reply, rx) = sync_channel(1);
        if !self.send(Request::Print { bytes, reply }) {
            return Err(PrintError::Fault(StatusFault::NoAnswer));
        }
        rx.recv().unwrap_or(Err(PrintError::Fault(StatusFault::NoAnswer)))
    }

    /// Prints any document (a test page, a receipt) and reports whether it came out; the outcome updates
    /// the printer's state.
    pub fn print_document(&self, doc: &Document, journal: &Journal) -> Result<(), DocumentError> {
        let bytes = encode_with(doc, &self.profile, self.raster())?;
        let result = self.print(bytes);
        self.health.observe(journal, result.as_ref().err().map(PrintError::fault), journal::payload::HealthSource::Job);
        result.map(|_| ()).map_err(DocumentError::Print)
    }

    /// Asks the printer for its status now, in the owner's turn.
    pub fn probe(&self) -> Result<PrinterStatus, StatusFault> {
        let (reply, rx) = sync_channel(1);
        if !self.send(Request::Probe { reply }) {
            return Err(StatusFault::NoAnswer);
        }
        rx.recv().unwrap_or(Err(StatusFault::NoAnswer))
    }

    /// Stops the owner after the request it is running, closing the link. Later requests fail as no answer.
    pub fn stop(&self) {
        self.tx.lock().map(|mut t| t.take()).ok();
        if let Some(mut owned) = self.owner.lock().ok().and_then(|mut h| h.take()) {
            owned.stop();
        }
    }
}

/// Why the ticket printer's owner could not start from `[devices.ticket_printer]`.
#[derive(Debug, thiserror::Error)]
pub enum PrinterSetupError {
    #[error("The printer model \"{0}\" is unknown; use generic-80, generic-58, raster-qr or raster-only.")]
    UnknownModel(String),
    #[error("The simulated printer is not running.")]
    NoSimulator,
    #[error("Cannot start the ticket printer's thread ({0}).")]
    Thread(std::io::Error),
}

/// Why a document (a test page, a guide, a slip) did not come out of the ticket printer.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Encode(#[from] drivers::escpos::EncodeError),
    #[error(transparent)]
    Print(PrintError),
}

struct Owner {
    endpoint: Endpoint,
    /// Serial and usblp links stay open between requests (both are exclusive); a TCP printer takes one job
    /// per connection, so its link is opened per request.
    link: Option<Box<dyn Link>>,
    health: Arc<DeviceHealth<StatusFault>>,
    watch: Option<(Journal, Duration)>,
    heartbeat: crate::watchdog::Heartbeat,
}

impl Owner {
    fn run(&mut self, rx: Receiver<Request>) {
        let mut next_probe: Option<Instant> = None;
        loop {
            self.heartbeat.beat();
            crate::watchdog::debug_hang("ticket-printer");
            // Wakes at least every second, so an idle owner still beats its heartbeat.
            let wait = next_probe.map_or(IDLE_BEAT, |t| t.saturating_duration_since(Instant::now()).min(IDLE_BEAT));
            match rx.recv_timeout(wait) {
                Err(RecvTimeoutError::Timeout) if next_probe.is_none_or(|t| Instant::now() < t) => {}
                Ok(Request::Print { bytes, reply }) => {
                    let result = self.with_link(|link| print_job(link, &bytes, PRINTER_TIMEOUT));
                    let _ = reply.send(result);
                    // A job just told the caller the printer's state; the next probe can wait.
                    next_probe = self.watch.as_ref().map(|(_, every)| Instant::now() + *every);
                }
                Ok(Request::Probe { reply }) => {
                    let _ = reply.send(self.probe());
                }
                Ok(Request::Watch { journal, every }) => {
                    self.watch = Some((journal, every));
                    next_probe = Some(Instant::now());
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some((journal, every)) = self.watch.clone() {
                        let fault = self.probe().err();
                        self.health.observe(&journal, fault, journal::payload::HealthSource::Probe);
                        next_probe = Some(Instant::now() + every);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.link = None;
    }

    fn probe(&mut self) -> Result<PrinterStatus, StatusFault> {
        let st = self
            .with_link(|link| {
                drivers::escpos::transport::query_status(link, PRINTER_TIMEOUT).map_err(PrintError::Fault)
            })
            .map_err(|e| e.fault())?;
        match st.fault() {
            Some(f) => Err(f),
            None => Ok(st),
        }
    }

    /// Runs `f` on the link, opening it first when needed; an I/O failure drops the link so the next
    /// request opens it afresh (the printer may have been unplugged and plugged back).
    fn with_link<T>(&mut self, f: impl FnOnce(&mut dyn Link) -> Result<T, PrintError>) -> Result<T, PrintError> {
        let mut link = match self.link.take() {
            Some(l) => l,
            None => self.connect()?,
        };
        let result = f(link.as_mut());
        let keep = !matches!(self.endpoint, Endpoint::Tcp(_))
            && !matches!(result, Err(PrintError::Io(_)) | Err(PrintError::Fault(StatusFault::NoAnswer)));
        if keep {
            self.link = Some(link);
        }
        result
    }

    fn connect(&self) -> Result<Box<dyn Link>, PrintError> {
        Ok(match &self.endpoint {
            Endpoint::Tcp(address) => Box::new(TcpLink::connect(address, PRINTER_TIMEOUT)?),
            Endpoint::Serial(path, baud) => Box::new(SerialLink::open(path, *baud, PRINTER_TIMEOUT)?),
            Endpoint::UsbLp(path) => Box::new(DeviceFileLink::open(path, PRINTER_TIMEOUT)?),
        })
    }
}

/// The in-process virtual printer of a `simulated` configuration (the demo's).
pub struct SimulatedPrinter {
    pub address: String,
    /// Its status, for the demo's simulator panel.
    pub printer: drivers::escpos::virtual_printer::VirtualPrinter,
    pub server: drivers::escpos::virtual_printer::Server,
}

/// Starts the in-process virtual printer a `simulated` configuration uses, filing jobs next to the journal.
pub fn simulated(config: &Config) -> std::io::Result<Option<SimulatedPrinter>> {
    use drivers::escpos::virtual_printer::{Server, SimStatus, VirtualPrinter};
    if config.devices.ticket_printer.transport != PrinterTransport::Simulated {
        return Ok(None);
    }
    let dir = config.journal.path.parent().map(|p| p.join("printed")).unwrap_or_else(|| "printed".into());
    let width = if config.devices.ticket_printer.paper_width_mm == 58 { 384 } else { 576 };
    let printer = VirtualPrinter::new(&dir, width, SimStatus::Ok)?;
    let server = Server::start("127.0.0.1:0", printer.clone())?;
    log::info!("simulated ticket printer on {}, jobs in {}", server.addr, dir.display());
    Ok(Some(SimulatedPrinter { address: server.addr.to_string(), printer, server }))
}
