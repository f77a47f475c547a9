//! The thin Slint binding: the generated window and the code that fills its Adapter globals.

// Generated code is Slint's, not ours: our lints do not apply to it.
#[allow(clippy::all, clippy::pedantic, clippy::todo, missing_docs, unused)]
mod generated {
    slint::include_modules!();
}

pub use generated::*;

pub mod appointment;
pub mod case_progress;
pub mod controller;
pub mod find;
pub mod home;
pub mod inbox;
pub mod licence;
pub mod maintenance;
pub mod rating;
pub mod reasons;
pub mod session;
pub mod take_number;
