//! Licence and certificate self-printing: templates, PDF rendering, where documents come from, the A4 printer.

pub mod render;
pub mod template;

pub use render::{PdfFont, RenderError, RenderInput, render};
pub use template::{Template, TemplateError, Templates};
