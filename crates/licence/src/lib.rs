//! Licence and certificate self-printing: templates, PDF rendering, where documents come from, the A4 printer.

pub mod render;
pub mod template;

pub use render::{PdfFont, RenderError, RenderInput, render};
pub use template::{Template, TemplateError, Templates};
/// The fictional documents of the demo's fixture card holders (config/sample-documents.jsonl).
pub const SAMPLE_DOCUMENTS: &str = include_str!("../../../config/sample-documents.jsonl");

pub mod platform;
pub mod store;

pub use store::{DocumentSource, Holder, LicenceDocument, LocalStore, SourceError};
pub mod printer;
pub mod service;

pub use printer::{LicencePrinter, LicencePrinterOwner, SimulatedA4};
pub use service::{DocumentChoice, LicenceError, Licences, Printed};
