//! The kiosk's screens: the Slint UI compiled from ui/ (pages, components, the translation catalogues),
//! typed reasons turned into the UI's `Reason`, the rating step's rows, and the headless software renderer.
//! Nothing here knows a flow, a device or the journal: the app fills the Adapter globals.

// Generated code is Slint's, not ours: our lints do not apply to it.
#[allow(clippy::all, clippy::pedantic, clippy::todo, missing_docs, unused)]
mod generated {
    slint::include_modules!();
}

pub use generated::*;

pub mod font;
pub mod headless;
pub mod reasons;
pub mod session;

/// The model to show `rows` in: the current one when it holds exactly these rows, a new one otherwise. A
/// page is drawn again on every tick; a new model each time would rebuild its list's elements every second
/// (and a screen reader's or the test robot's handle on a row could then point at another row).
pub fn keep_or_new<T: Clone + PartialEq + 'static>(current: slint::ModelRc<T>, rows: Vec<T>) -> slint::ModelRc<T> {
    keep_or_replace(current, rows).0
}

/// [`keep_or_new`], and whether the rows changed (a paged list then goes back to its first page).
pub fn keep_or_replace<T: Clone + PartialEq + 'static>(
    current: slint::ModelRc<T>,
    rows: Vec<T>,
) -> (slint::ModelRc<T>, bool) {
    use slint::Model;
    let same = current.row_count() == rows.len()
        && rows.iter().enumerate().all(|(i, r)| current.row_data(i).as_ref() == Some(r));
    if same { (current, false) } else { (slint::ModelRc::new(slint::VecModel::from(rows)), true) }
}
