//! The app: start-up and shutdown (`app`), the UI bindings and the controller every flow runs on (`ui`),
//! `kiosk doctor`, the USB export and the `kiosk` CLI. The rooms below are crates of their own, re-exported
//! here under the names the app and its tests know them by (ARCHITECTURE.md).

pub mod app;
pub mod cli;
pub mod clock;
pub mod doctor;
pub mod hall_sync;
pub mod secrets;
pub mod ui;
pub mod usb_export;

// Rooms that are crates of their own, under the names the rest of the kiosk knows them by.
pub use ::admin;
pub use ::catalogue;
pub use ::config;
#[cfg(feature = "demo")]
pub use ::demo;
pub use ::devices;
pub use ::devices::{cards, fonts, ticket, voice, watchdog};
pub use ::flows;
pub use ::journal;
pub use ::licence;
pub use ::net;
pub use ::platform;
pub use ::queue;
pub use ::vocabulary;
