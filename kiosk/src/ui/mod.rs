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

/// The choices a list shows, numbered as the voice reads them after the page's question ("1，综合业务；2，…。"
/// or " 1: General; 2: …."): names are data, so Rust joins them; the question itself is the page's. At most
/// the first eight, as a person would read a list aloud.
pub fn spoken_choices<S: AsRef<str>>(names: impl IntoIterator<Item = S>, english: bool) -> String {
    let items: Vec<String> = names
        .into_iter()
        .take(8)
        .enumerate()
        .map(|(i, n)| if english { format!("{}: {}", i + 1, n.as_ref()) } else { format!("{}，{}", i + 1, n.as_ref()) })
        .collect();
    match (items.is_empty(), english) {
        (true, _) => String::new(),
        (false, true) => format!(" {}.", items.join("; ")),
        (false, false) => format!("{}。", items.join("；")),
    }
}
