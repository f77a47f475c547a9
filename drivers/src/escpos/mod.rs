//! Thermal ticket printer: documents to ESC/POS bytes (GB18030 Chinese), status bytes, transports, and a virtual printer.

pub mod decode;
pub mod document;
pub mod encode;
pub mod raster;
pub mod status;
pub mod transport;
pub mod virtual_printer;

pub use document::{Align, Block, Document, Size};
pub use encode::{EncodeError, Profile, encode, encode_with};
pub use raster::GlyphRasterizer;
pub use status::{PrinterStatus, StatusFault};
