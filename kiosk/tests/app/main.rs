//! The app's tests in one binary (one link instead of one per file): the UI under Slint's testing
//! backend, page by page, the screenshots and geometry of every page, the journal, the queue and the
//! devices through the library. scripts/test runs them with nextest, each test in a process of its own.

mod accessible_actions;
mod admin_openapi;
mod appointment_offline_ui;
mod appointment_ui;
mod card_edges;
mod case_progress_ui;
mod catalogue_api;
mod common;
// The end-to-end tests' support: here for its stand-in speech-dispatcher (every_page_speaks).
mod contrast;
mod dead_ends;
mod english_content;
mod every_page_speaks;
mod find_service_ui;
mod geometry;
mod home_idle_ui;
mod home_tiles;
mod home_ui;
mod journal_integrity;
mod journal_writer;
mod licence_ui;
mod maintenance_export_ui;
mod maintenance_lockout_ui;
mod maintenance_ui;
mod masking;
mod paged_lists;
mod platform_faults;
mod printed_slips;
mod printer_owner;
mod pseudo_locale;
mod queue_numbers;
mod rating_ticket_ui;
mod rating_ui;
mod screenshots;
mod shutdown;
#[allow(dead_code)]
#[path = "../../../tests/src/lib.rs"]
mod support;
mod take_number_ui;
mod touch_to_hear;
mod translations;
mod usb_export;
