//! The kiosk application as a library: configuration, CLI, UI binding and (later) journal, queue and flows.

pub mod admin;
pub mod app;
pub mod cards;
pub mod catalogue;
pub mod cli;
pub mod demo;
pub mod devices;
pub mod doctor;
pub mod flows;
pub mod fonts;
pub mod licence;
pub mod platform;
pub mod queue;
pub mod secrets;
pub mod ticket;
pub mod ui;
pub mod usb_export;
pub mod voice;
pub mod watchdog;

// Rooms that are crates of their own, under the names the rest of the kiosk knows them by.
pub use ::config;
pub use ::journal;
pub use ::net;
pub use ::vocabulary;
