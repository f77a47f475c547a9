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
