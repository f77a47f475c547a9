//! Citizen sessions as pure state machines: events and `now` in, commands out. No IO, no Slint, no clock.

pub mod idle;
pub mod licence;
pub mod lookup;
pub mod rating;
pub mod take_number;

pub use take_number::{Command, Event, Screen, Session};
