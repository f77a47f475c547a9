//! Printer and job state of an IPP printer as plain values: keywords in, faults and citizen sentences out (no IO).

/// `printer-state` (RFC 8011 §5.4.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterState {
    Idle,
    Processing,
    Stopped,
}

impl PrinterState {
    pub fn from_enum(v: i32) -> Option<PrinterState> {
        match v {
            3 => Some(PrinterState::Idle),
            4 => Some(PrinterState::Processing),
            5 => Some(PrinterState::Stopped),
            _ => None,
        }
    }
}

/// One `printer-state-reasons` keyword, without its -error/-warning/-report suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    MediaEmpty,
    MediaNeeded,
    MediaJam,
    MediaLow,
    TonerLow,
    TonerEmpty,
    MarkerSupplyLow,
    MarkerSupplyEmpty,
    CoverOpen,
    DoorOpen,
    Offline,
    Paused,
    Shutdown,
    Other(String),
}

impl Reason {
    /// `None` for "none" (the keyword that means no reasons).
    pub fn parse(keyword: &str) -> Option<Reason> {
        let k = keyword.trim();
        let base = ["-error", "-warning", "-report"].iter().find_map(|s| k.strip_suffix(s)).unwrap_or(k);
        Some(match base {
            "none" | "" => return None,
            "media-empty" => Reason::MediaEmpty,
            "media-needed" => Reason::MediaNeeded,
            "media-jam" => Reason::MediaJam,
            "media-low" => Reason::MediaLow,
            "toner-low" => Reason::TonerLow,
            "toner-empty" => Reason::TonerEmpty,
            "marker-supply-low" => Reason::MarkerSupplyLow,
            "marker-supply-empty" => Reason::MarkerSupplyEmpty,
            "cover-open" => Reason::CoverOpen,
            "door-open" => Reason::DoorOpen,
            "offline" => Reason::Offline,
            "paused" | "moving-to-paused" => Reason::Paused,
            "shutdown" => Reason::Shutdown,
            other => Reason::Other(other.to_string()),
        })
    }

    pub fn keyword(&self) -> &str {
        match self {
            Reason::MediaEmpty => "media-empty",
            Reason::MediaNeeded => "media-needed",
            Reason::MediaJam => "media-jam",
            Reason::MediaLow => "media-low",
            Reason::TonerLow => "toner-low",
            Reason::TonerEmpty => "toner-empty",
            Reason::MarkerSupplyLow => "marker-supply-low",
            Reason::MarkerSupplyEmpty => "marker-supply-empty",
            Reason::CoverOpen => "cover-open",
            Reason::DoorOpen => "door-open",
            Reason::Offline => "offline",
            Reason::Paused => "paused",
            Reason::Shutdown => "shutdown",
            Reason::Other(k) => k,
        }
    }

    /// The fault this reason means for a citizen's job, if it stops printing.
    pub fn fault(&self) -> Option<PrinterFault> {
        match self {
            Reason::MediaEmpty | Reason::MediaNeeded => Some(PrinterFault::MediaEmpty),
            Reason::MediaJam => Some(PrinterFault::MediaJam),
            Reason::TonerEmpty | Reason::MarkerSupplyEmpty => Some(PrinterFault::TonerEmpty),
            Reason::CoverOpen | Reason::DoorOpen => Some(PrinterFault::CoverOpen),
            Reason::Offline | Reason::Paused | Reason::Shutdown => Some(PrinterFault::Stopped),
            // Low supplies are for the technician; unknown reasons do not stop a job by themselves
            // (a stopped printer-state does).
            Reason::MediaLow | Reason::TonerLow | Reason::MarkerSupplyLow | Reason::Other(_) => None,
        }
    }
}

/// The IPP media keyword the kiosk prints on.
pub const MEDIA_A4: &str = "iso_a4_210x297mm";

/// What Get-Printer-Attributes said that matters before a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterStatus {
    pub state: PrinterState,
    pub reasons: Vec<Reason>,
    /// `printer-state-message`, for the technician (the printer's language, not the citizen's).
    pub message: String,
    /// `media-ready`: what is loaded; empty when the printer does not say.
    pub media_ready: Vec<String>,
    /// `document-format-supported`.
    pub formats: Vec<String>,
}

impl PrinterStatus {
    /// Why a job sent now would not print, or `None` when the printer is ready.
    pub fn fault(&self) -> Option<PrinterFault> {
        if let Some(f) = self.reasons.iter().find_map(Reason::fault) {
            return Some(f);
        }
        if self.state == PrinterState::Stopped {
            return Some(PrinterFault::Stopped);
        }
        // A printer that reports its trays but has no A4 loaded would print on the wrong paper.
        if !self.media_ready.is_empty() && !self.media_ready.iter().any(|m| m.starts_with("iso_a4_")) {
            return Some(PrinterFault::NoA4);
        }
        if !self.formats.is_empty() && !self.formats.iter().any(|f| f == "application/pdf") {
            return Some(PrinterFault::NoPdf);
        }
        None
    }

    /// Reasons a technician should hear about although printing goes on (toner low, paper low).
    pub fn warnings(&self) -> Vec<&Reason> {
        self.reasons.iter().filter(|r| r.fault().is_none()).collect()
    }
}

/// `job-state` (RFC 8011 §5.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    PendingHeld,
    Processing,
    ProcessingStopped,
    Canceled,
    Aborted,
    Completed,
}

impl JobState {
    pub fn from_enum(v: i32) -> Option<JobState> {
        Some(match v {
            3 => JobState::Pending,
            4 => JobState::PendingHeld,
            5 => JobState::Processing,
            6 => JobState::ProcessingStopped,
            7 => JobState::Canceled,
            8 => JobState::Aborted,
            9 => JobState::Completed,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::Canceled | JobState::Aborted | JobState::Completed)
    }

    pub fn keyword(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::PendingHeld => "pending-held",
            JobState::Processing => "processing",
            JobState::ProcessingStopped => "processing-stopped",
            JobState::Canceled => "canceled",
            JobState::Aborted => "aborted",
            JobState::Completed => "completed",
        }
    }
}

/// What Get-Job-Attributes said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub state: JobState,
    /// `job-state-reasons`, as keywords.
    pub reasons: Vec<String>,
}

/// Why a licence could not be printed: what the journal records (`code`) and what the citizen reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterFault {
    MediaEmpty,
    MediaJam,
    TonerEmpty,
    CoverOpen,
    /// printer-state stopped, paused or offline.
    Stopped,
    /// The printer reports its trays and none holds A4.
    NoA4,
    /// The printer does not take PDF.
    NoPdf,
    /// No answer over the network (connection refused, timeout, bad reply).
    Unreachable(String),
    /// The printer answered an operation with an error status.
    Refused(String),
    /// The job ended aborted or canceled at the printer.
    JobAborted(String),
    /// The job did not finish within the time allowed.
    JobTimeout,
}

impl PrinterFault {
    pub fn code(&self) -> &'static str {
        match self {
            PrinterFault::MediaEmpty => "media_empty",
            PrinterFault::MediaJam => "media_jam",
            PrinterFault::TonerEmpty => "toner_empty",
            PrinterFault::CoverOpen => "cover_open",
            PrinterFault::Stopped => "stopped",
            PrinterFault::NoA4 => "no_a4_loaded",
            PrinterFault::NoPdf => "no_pdf_support",
            PrinterFault::Unreachable(_) => "unreachable",
            PrinterFault::Refused(_) => "refused",
            PrinterFault::JobAborted(_) => "job_aborted",
            PrinterFault::JobTimeout => "job_timeout",
        }
    }

    /// Technical detail for the journal and the technician, when there is more than the code.
    pub fn detail(&self) -> Option<&str> {
        match self {
            PrinterFault::Unreachable(d) | PrinterFault::Refused(d) | PrinterFault::JobAborted(d) => Some(d),
            _ => None,
        }
    }

    /// What a technician reads (CLI, maintenance screen): the cause and what to do.
    pub fn technician(&self) -> String {
        match self {
            PrinterFault::MediaEmpty => "The licence printer reports media-empty: load A4 paper.".into(),
            PrinterFault::MediaJam => "The licence printer reports media-jam: clear the paper path.".into(),
            PrinterFault::TonerEmpty => "The licence printer reports toner-empty: replace the toner cartridge.".into(),
            PrinterFault::CoverOpen => "The licence printer reports cover-open: close every cover and door.".into(),
            PrinterFault::Stopped => {
                "The licence printer is stopped (printer-state stopped, paused or offline): resume it on its panel or in CUPS.".into()
            }
            PrinterFault::NoA4 => "The licence printer has no A4 paper loaded (media-ready lists none): load A4 in a tray.".into(),
            PrinterFault::NoPdf => {
                "The licence printer does not accept application/pdf: print through a CUPS queue that converts PDF.".into()
            }
            PrinterFault::Unreachable(d) => {
                format!("The licence printer cannot be reached ({d}): check its power, network cable and [devices.licence_printer] uri.")
            }
            PrinterFault::Refused(d) => format!("The licence printer refused the request ({d}): check the printer's queue."),
            PrinterFault::JobAborted(d) => format!("The licence printer ended the job without printing it ({d})."),
            PrinterFault::JobTimeout => {
                "The licence printer did not finish the job in time: check the printer and its queue.".into()
            }
        }
    }
}

impl std::fmt::Display for PrinterFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.technician())
    }
}

impl std::error::Error for PrinterFault {}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: PrinterState, reasons: &[&str]) -> PrinterStatus {
        PrinterStatus {
            state,
            reasons: reasons.iter().filter_map(|r| Reason::parse(r)).collect(),
            message: String::new(),
            media_ready: vec![MEDIA_A4.into()],
            formats: vec!["application/pdf".into()],
        }
    }

    #[test]
    fn suffixes_are_ignored() {
        assert_eq!(Reason::parse("media-empty-error"), Some(Reason::MediaEmpty));
        assert_eq!(Reason::parse("toner-low-warning"), Some(Reason::TonerLow));
        assert_eq!(Reason::parse("cover-open-report"), Some(Reason::CoverOpen));
        assert_eq!(Reason::parse("none"), None);
        assert_eq!(Reason::parse("spool-area-full"), Some(Reason::Other("spool-area-full".into())));
    }

    #[test]
    fn faults_from_reasons_and_state() {
        assert_eq!(status(PrinterState::Idle, &["none"]).fault(), None);
        assert_eq!(status(PrinterState::Idle, &["toner-low-warning"]).fault(), None);
        assert_eq!(status(PrinterState::Idle, &["media-empty-error"]).fault(), Some(PrinterFault::MediaEmpty));
        assert_eq!(status(PrinterState::Processing, &["media-jam"]).fault(), Some(PrinterFault::MediaJam));
        assert_eq!(status(PrinterState::Stopped, &["none"]).fault(), Some(PrinterFault::Stopped));
        assert_eq!(status(PrinterState::Idle, &["cover-open"]).fault(), Some(PrinterFault::CoverOpen));
        let mut letter = status(PrinterState::Idle, &[]);
        letter.media_ready = vec!["na_letter_8.5x11in".into()];
        assert_eq!(letter.fault(), Some(PrinterFault::NoA4));
        letter.media_ready.clear();
        assert_eq!(letter.fault(), None, "a printer that does not report trays is trusted");
    }

    #[test]
    fn every_fault_has_both_sentences() {
        for f in [
            PrinterFault::MediaEmpty,
            PrinterFault::MediaJam,
            PrinterFault::TonerEmpty,
            PrinterFault::CoverOpen,
            PrinterFault::Stopped,
            PrinterFault::NoA4,
            PrinterFault::NoPdf,
            PrinterFault::Unreachable("x".into()),
            PrinterFault::Refused("x".into()),
            PrinterFault::JobAborted("x".into()),
            PrinterFault::JobTimeout,
        ] {
            assert!(f.technician().ends_with('.') || f.technician().ends_with(')'), "{f:?}");
        }
    }
}
