//! The thin Slint binding: the window (the `ui` crate) and the code that fills its Adapter globals.

pub use ::ui::*;

pub mod appointment;
pub mod case_progress;
pub mod controller;
pub mod find;
pub mod home;
pub mod inbox;
pub mod licence;
pub mod maintenance;
pub mod rating;
pub mod take_number;
