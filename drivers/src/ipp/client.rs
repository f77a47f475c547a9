//! A blocking IPP client for the licence printer on the `ipp` crate: status before a job, Print-Job, follow the job.

use super::status::{JobState, JobStatus, MEDIA_A4, PrinterFault, PrinterState, PrinterStatus, Reason};
use ipp::prelude::*;
use std::time::{Duration, Instant};

/// One document to print.
#[derive(Debug, Clone)]
pub struct PrintRequest<'a> {
    pub pdf: &'a [u8],
    /// Shown in the printer's queue: a document id, never a citizen's name.
    pub job_name: &'a str,
    pub copies: u32,
    /// Print on both sides (`two-sided-long-edge`) or one.
    pub two_sided: bool,
}

/// The licence printer at one IPP URI (`ipp://host:port/path`, directly or a CUPS queue).
#[derive(Clone)]
pub struct IppPrinter {
    uri: Uri,
    timeout: Duration,
}

impl std::fmt::Debug for IppPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IppPrinter({})", self.uri)
    }
}

/// Why a URI cannot name a printer.
#[derive(Debug, thiserror::Error)]
#[error(
    "\"{uri}\" is not an IPP printer address ({why}); write it as ipp://HOST:PORT/PATH, e.g. ipp://192.0.2.20:631/ipp/print."
)]
pub struct BadUri {
    pub uri: String,
    pub why: String,
}

/// Parses and checks an `ipp://` (or `http://`) printer URI.
pub fn parse_uri(uri: &str) -> Result<Uri, BadUri> {
    let bad = |why: &str| BadUri { uri: uri.to_string(), why: why.to_string() };
    let parsed: Uri = uri.parse().map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    match parsed.scheme_str() {
        Some("ipp" | "http") => {}
        Some("ipps" | "https") => {
            return Err(bad("TLS is not built into this kiosk; use ipp:// on the hall's network"));
        }
        Some(other) => return Err(bad(&format!("the scheme {other}:// is not IPP"))),
        None => return Err(bad("there is no scheme")),
    }
    if parsed.host().is_none_or(str::is_empty) {
        return Err(bad("there is no host"));
    }
    Ok(parsed)
}

fn unreachable(e: impl std::fmt::Display) -> PrinterFault {
    PrinterFault::Unreachable(e.to_string())
}

fn keywords(v: &IppValue) -> Vec<String> {
    match v {
        IppValue::Array(items) => items.iter().flat_map(keywords).collect(),
        IppValue::NoValue => vec![],
        other => vec![other.to_string()],
    }
}

fn int(v: &IppValue) -> Option<i32> {
    match v {
        IppValue::Enum(i) | IppValue::Integer(i) => Some(*i),
        IppValue::Array(items) => items.first().and_then(int),
        _ => None,
    }
}

impl IppPrinter {
    pub fn new(uri: &str, timeout: Duration) -> Result<IppPrinter, BadUri> {
        Ok(IppPrinter { uri: parse_uri(uri)?, timeout })
    }

    pub fn uri(&self) -> String {
        self.uri.to_string()
    }

    fn send(&self, op: impl ipp::operation::IppOperation) -> Result<IppRequestResponse, PrinterFault> {
        let client = IppClient::builder(self.uri.clone()).request_timeout(self.timeout).build();
        let resp = client.send(op).map_err(unreachable)?;
        let status = resp.header().status_code();
        if !status.is_success() {
            let message = resp
                .attributes()
                .first_of(DelimiterTag::OperationAttributes)
                .and_then(|g| g.get("status-message"))
                .map(|a| format!(": {}", a.value()))
                .unwrap_or_default();
            return Err(PrinterFault::Refused(format!("{status:?}{message}")));
        }
        Ok(resp)
    }

    /// Get-Printer-Attributes: state, reasons, message, media-ready, formats.
    pub fn status(&self) -> Result<PrinterStatus, PrinterFault> {
        let op = IppOperationBuilder::get_printer_attributes(self.uri.clone())
            .attributes([
                "printer-state",
                "printer-state-reasons",
                "printer-state-message",
                "media-ready",
                "document-format-supported",
            ])
            .build()
            .map_err(|e| PrinterFault::Refused(e.to_string()))?;
        let resp = self.send(op)?;
        let group = resp
            .attributes()
            .first_of(DelimiterTag::PrinterAttributes)
            .ok_or_else(|| unreachable("the reply has no printer attributes"))?;
        let get = |name: &str| group.get(name).map(|a| a.value().clone());
        let state = get("printer-state")
            .as_ref()
            .and_then(int)
            .and_then(PrinterState::from_enum)
            .ok_or_else(|| unreachable("the reply has no valid printer-state"))?;
        Ok(PrinterStatus {
            state,
            reasons: get("printer-state-reasons")
                .map(|v| keywords(&v))
                .unwrap_or_default()
                .iter()
                .filter_map(|k| Reason::parse(k))
                .collect(),
            message: get("printer-state-message").map(|v| v.to_string()).unwrap_or_default(),
            media_ready: get("media-ready").map(|v| keywords(&v)).unwrap_or_default(),
            formats: get("document-format-supported").map(|v| keywords(&v)).unwrap_or_default(),
        })
    }

    /// Print-Job with the PDF; returns the job id.
    pub fn print(&self, req: &PrintRequest<'_>) -> Result<i32, PrinterFault> {
        let bad = |e: ipp::parser::IppParseError| PrinterFault::Refused(e.to_string());
        let payload = IppPayload::new(std::io::Cursor::new(req.pdf.to_vec()));
        let copies = i32::try_from(req.copies.max(1)).unwrap_or(1);
        let sides = if req.two_sided { "two-sided-long-edge" } else { "one-sided" };
        let op = IppOperationBuilder::print_job(self.uri.clone(), payload)
            .user_name("kiosk")
            .job_title(req.job_name)
            .document_format("application/pdf")
            .attribute(IppAttribute::with_name("copies", IppValue::Integer(copies)).map_err(bad)?)
            .attribute(IppAttribute::with_name("media", IppValue::new_keyword(MEDIA_A4).map_err(bad)?).map_err(bad)?)
            .attribute(IppAttribute::with_name("sides", IppValue::new_keyword(sides).map_err(bad)?).map_err(bad)?)
            .build()
            .map_err(bad)?;
        let resp = self.send(op)?;
        resp.attributes()
            .first_of(DelimiterTag::JobAttributes)
            .and_then(|g| g.get("job-id"))
            .and_then(|a| int(a.value()))
            .ok_or_else(|| PrinterFault::Refused("the printer accepted the job but gave no job-id".into()))
    }

    /// Get-Job-Attributes: the job's state and reasons.
    pub fn job(&self, job_id: i32) -> Result<JobStatus, PrinterFault> {
        let op = IppOperationBuilder::get_job_attributes(self.uri.clone(), job_id)
            .build()
            .map_err(|e| PrinterFault::Refused(e.to_string()))?;
        let resp = self.send(op)?;
        let group = resp
            .attributes()
            .first_of(DelimiterTag::JobAttributes)
            .ok_or_else(|| unreachable("the reply has no job attributes"))?;
        let state = group
            .get("job-state")
            .and_then(|a| int(a.value()))
            .and_then(JobState::from_enum)
            .ok_or_else(|| unreachable("the reply has no valid job-state"))?;
        let reasons = group.get("job-state-reasons").map(|a| keywords(a.value())).unwrap_or_default();
        Ok(JobStatus { state, reasons })
    }

    /// Cancel-Job, best effort (a job the kiosk gave up on must not print at 3 a.m. later).
    pub fn cancel(&self, job_id: i32) -> Result<(), PrinterFault> {
        let op = IppOperationBuilder::cancel_job(self.uri.clone(), job_id)
            .build()
            .map_err(|e| PrinterFault::Refused(e.to_string()))?;
        self.send(op).map(|_| ())
    }

    /// Polls the job until it completes (`Ok`), ends otherwise, or `deadline` passes (cancelled, then
    /// `JobTimeout`). `on_state` hears every change, for the screen. A job that stopped because of the
    /// printer (out of paper mid-job) is reported with the printer's own fault.
    pub fn follow(
        &self,
        job_id: i32,
        deadline: Duration,
        poll: Duration,
        mut on_state: impl FnMut(JobState),
    ) -> Result<(), PrinterFault> {
        let start = Instant::now();
        let mut last = None;
        loop {
            let job = self.job(job_id)?;
            if last != Some(job.state) {
                on_state(job.state);
                last = Some(job.state);
            }
            match job.state {
                JobState::Completed => return Ok(()),
                JobState::Aborted | JobState::Canceled => {
                    let printer = self.status().ok().and_then(|s| s.fault());
                    return Err(printer.unwrap_or_else(|| {
                        PrinterFault::JobAborted(format!(
                            "job {job_id} {}: {}",
                            job.state.keyword(),
                            job.reasons.join(", ")
                        ))
                    }));
                }
                _ => {}
            }
            if start.elapsed() >= deadline {
                let _ = self.cancel(job_id);
                let printer = self.status().ok().and_then(|s| s.fault());
                return Err(printer.unwrap_or(PrinterFault::JobTimeout));
            }
            std::thread::sleep(poll);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert!(parse_uri("ipp://192.0.2.20:631/ipp/print").is_ok());
        assert!(parse_uri("http://localhost:8631/ipp/print").is_ok());
        let e = parse_uri("ipps://printer/ipp/print").unwrap_err().to_string();
        assert!(e.contains("TLS"), "{e}");
        let e = parse_uri("lpd://printer/q").unwrap_err().to_string();
        assert!(e.contains("lpd://") && e.contains("ipp://HOST:PORT/PATH"), "{e}");
        assert!(parse_uri("not a uri").is_err());
        assert!(parse_uri("ipp:///path").is_err());
    }

    #[test]
    fn unreachable_printer_is_a_fault_not_a_panic() {
        // Port 9 on loopback: nothing listens, the connection is refused at once.
        let p = IppPrinter::new("ipp://127.0.0.1:9/ipp/print", Duration::from_secs(2)).unwrap();
        let e = p.status().unwrap_err();
        assert_eq!(e.code(), "unreachable", "{e:?}");
    }
}
