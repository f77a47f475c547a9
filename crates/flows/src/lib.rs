//! Citizen sessions as pure state machines: inputs and `now` in, commands out. No IO, no Slint, no clock.
//! `core` holds what every session shares; each other module is one flow's own steps.

pub mod appointment;
pub mod case_progress;
pub mod core;
pub mod find;
pub mod idle;
pub mod licence;
pub mod rating;
pub mod take_number;
