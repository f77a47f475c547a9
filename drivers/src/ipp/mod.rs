//! The A4 licence printer over IPP: printer and job state as values (sans-IO) and a blocking client.

pub mod client;
pub mod status;

pub use client::{BadUri, IppPrinter, PrintRequest, parse_uri};
pub use status::{JobState, JobStatus, MEDIA_A4, PrinterFault, PrinterState, PrinterStatus, Reason};
