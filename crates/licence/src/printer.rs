//! The A4 licence printer the kiosk prints on: a real IPP printer, or the demo's simulated one that files PDFs.

use drivers::ipp::{IppPrinter, JobState, MEDIA_A4, PrintRequest, PrinterFault, PrinterState, PrinterStatus, Reason};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The simulated printer of `kiosk demo`: each job's PDF lands in a folder; faults are set from the
/// simulator panel and reported exactly as an IPP printer reports them.
#[derive(Debug, Clone)]
pub struct SimulatedA4 {
    dir: PathBuf,
    /// The printer-state-reasons keyword the simulator panel set, if any.
    pub reason: Arc<Mutex<Option<String>>>,
    next_job: Arc<AtomicI32>,
}

impl SimulatedA4 {
    pub fn new(dir: &Path) -> SimulatedA4 {
        SimulatedA4 { dir: dir.to_path_buf(), reason: Arc::default(), next_job: Arc::new(AtomicI32::new(1)) }
    }

    pub fn set_reason(&self, keyword: Option<&str>) {
        if let Ok(mut r) = self.reason.lock() {
            *r = keyword.map(str::to_string);
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Where licences are printed.
#[derive(Debug, Clone)]
pub enum LicencePrinter {
    Ipp(IppPrinter),
    Simulated(SimulatedA4),
}

impl LicencePrinter {
    pub fn describe(&self) -> String {
        match self {
            LicencePrinter::Ipp(p) => p.uri(),
            LicencePrinter::Simulated(s) => format!("simulated (PDFs in {})", s.dir.display()),
        }
    }

    /// The printer's state now (Get-Printer-Attributes).
    pub fn status(&self) -> Result<PrinterStatus, PrinterFault> {
        match self {
            LicencePrinter::Ipp(p) => p.status(),
            LicencePrinter::Simulated(s) => {
                let reason = s.reason.lock().map(|r| r.clone()).unwrap_or_default();
                let state =
                    if reason.as_deref() == Some("stopped") { PrinterState::Stopped } else { PrinterState::Idle };
                Ok(PrinterStatus {
                    state,
                    reasons: reason
                        .as_deref()
                        .and_then(Reason::parse)
                        .filter(|_| state != PrinterState::Stopped)
                        .into_iter()
                        .collect(),
                    message: String::new(),
                    media_ready: vec![MEDIA_A4.into()],
                    formats: vec!["application/pdf".into()],
                })
            }
        }
    }

    /// Sends a job (Print-Job) and returns its id.
    pub fn submit(&self, req: &PrintRequest<'_>) -> Result<i32, PrinterFault> {
        match self {
            LicencePrinter::Ipp(p) => p.print(req),
            LicencePrinter::Simulated(s) => {
                if let Some(f) = self.status()?.fault() {
                    return Err(f);
                }
                let job = s.next_job.fetch_add(1, Ordering::Relaxed);
                std::fs::create_dir_all(&s.dir).map_err(|e| PrinterFault::Refused(e.to_string()))?;
                let name: String =
                    req.job_name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
                let stamp = jiff::Timestamp::now().as_millisecond();
                let path = s.dir.join(format!("{stamp}-job{job}-{name}-x{}.pdf", req.copies));
                let tmp = path.with_extension("pdf.part");
                std::fs::write(&tmp, req.pdf)
                    .and_then(|()| std::fs::rename(&tmp, &path))
                    .map_err(|e| PrinterFault::Refused(format!("cannot write {} ({e})", path.display())))?;
                Ok(job)
            }
        }
    }

    /// Follows a job to its end (Get-Job-Attributes).
    pub fn follow(&self, job_id: i32, deadline: Duration, on_state: impl FnMut(JobState)) -> Result<(), PrinterFault> {
        match self {
            LicencePrinter::Ipp(p) => p.follow(job_id, deadline, Duration::from_millis(500), on_state),
            LicencePrinter::Simulated(_) => {
                let mut on_state = on_state;
                on_state(JobState::Processing);
                on_state(JobState::Completed);
                Ok(())
            }
        }
    }
}

/// What the owner tells a job's caller while it runs.
enum JobNews {
    State(JobState),
    Done(Result<i32, PrinterFault>),
}

enum Request {
    Status(std::sync::mpsc::SyncSender<Result<PrinterStatus, PrinterFault>>),
    Print {
        pdf: Vec<u8>,
        job_name: String,
        copies: u32,
        two_sided: bool,
        deadline: Duration,
        news: std::sync::mpsc::Sender<JobNews>,
    },
}

/// The licence printer's owner: one thread holds the printer (the IPP client, or the demo's folder) and
/// runs status requests and jobs one after another, so a probe never interleaves with a job. Everyone else
/// holds this handle; cheap to clone. The owner stops with [`LicencePrinterOwner::stop`] or the last handle.
#[derive(Clone)]
pub struct LicencePrinterOwner {
    tx: Arc<Mutex<Option<std::sync::mpsc::Sender<Request>>>>,
    thread: Arc<Mutex<Option<owner::Owned>>>,
    describe: String,
    simulated: Option<SimulatedA4>,
    heartbeat: devices::watchdog::Heartbeat,
}

impl std::fmt::Debug for LicencePrinterOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicencePrinterOwner").field("printer", &self.describe).finish()
    }
}

impl LicencePrinterOwner {
    /// Starts the owner thread for `printer`.
    pub fn start(printer: LicencePrinter) -> std::io::Result<LicencePrinterOwner> {
        let describe = printer.describe();
        let simulated = match &printer {
            LicencePrinter::Simulated(s) => Some(s.clone()),
            LicencePrinter::Ipp(_) => None,
        };
        let (tx, rx) = std::sync::mpsc::channel::<Request>();
        let life = owner::Life::default();
        let (heartbeat, beat) = (life.heartbeat.clone(), life.heartbeat.clone());
        let thread = owner::Owned::spawn_with("licence-printer", life, move |_| {
            loop {
                beat.beat();
                devices::watchdog::debug_hang("licence-printer");
                // Wakes every second when idle, so the watchdog hears from it.
                let req = match rx.recv_timeout(Duration::from_secs(1)) {
                    Ok(req) => req,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                };
                match req {
                    Request::Status(reply) => {
                        let _ = reply.send(printer.status());
                    }
                    Request::Print { pdf, job_name, copies, two_sided, deadline, news } => {
                        let req = PrintRequest { pdf: &pdf, job_name: &job_name, copies, two_sided };
                        let outcome = printer.submit(&req).and_then(|job_id| {
                            let _ = news.send(JobNews::State(JobState::Pending));
                            printer
                                .follow(job_id, deadline, |state| {
                                    beat.beat();
                                    let _ = news.send(JobNews::State(state));
                                })
                                .map(|()| job_id)
                        });
                        let _ = news.send(JobNews::Done(outcome));
                    }
                }
            }
        })?;
        Ok(LicencePrinterOwner {
            tx: Arc::new(Mutex::new(Some(tx))),
            thread: Arc::new(Mutex::new(Some(thread))),
            describe,
            simulated,
            heartbeat,
        })
    }

    /// The owner's sign of life for the watchdog: beaten every second while idle and as a job moves; a job
    /// may take up to its deadline (`[licence_printer] job_timeout_s`).
    pub fn heartbeat(&self) -> devices::watchdog::Heartbeat {
        self.heartbeat.clone()
    }

    fn send(&self, req: Request) -> bool {
        self.tx.lock().ok().and_then(|tx| tx.as_ref().map(|tx| tx.send(req).is_ok())).unwrap_or(false)
    }

    fn stopped() -> PrinterFault {
        PrinterFault::Unreachable("the licence printer's owner has stopped".into())
    }

    pub fn describe(&self) -> String {
        self.describe.clone()
    }

    /// The demo's simulated printer, for the simulator panel.
    pub fn simulated(&self) -> Option<&SimulatedA4> {
        self.simulated.as_ref()
    }

    /// The printer's state now (Get-Printer-Attributes), in the owner's turn.
    pub fn status(&self) -> Result<PrinterStatus, PrinterFault> {
        let (reply, rx) = std::sync::mpsc::sync_channel(1);
        if !self.send(Request::Status(reply)) {
            return Err(Self::stopped());
        }
        rx.recv().unwrap_or_else(|_| Err(Self::stopped()))
    }

    /// Sends a job and follows it to its end (Print-Job, then Get-Job-Attributes until it is done or
    /// `deadline` passes) in the owner's turn; `on_state` hears the job's states. Returns the job id.
    pub fn print(
        &self,
        req: &PrintRequest<'_>,
        deadline: Duration,
        mut on_state: impl FnMut(JobState),
    ) -> Result<i32, PrinterFault> {
        let (news, rx) = std::sync::mpsc::channel();
        let sent = self.send(Request::Print {
            pdf: req.pdf.to_vec(),
            job_name: req.job_name.to_owned(),
            copies: req.copies,
            two_sided: req.two_sided,
            deadline,
            news,
        });
        if !sent {
            return Err(Self::stopped());
        }
        for n in rx {
            match n {
                JobNews::State(s) => on_state(s),
                JobNews::Done(outcome) => return outcome,
            }
        }
        Err(Self::stopped())
    }

    /// Stops the owner after the request it is running.
    pub fn stop(&self) {
        self.tx.lock().map(|mut t| t.take()).ok();
        if let Some(mut owned) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            owned.stop();
        }
    }
}
