//! The end-to-end tests, in one binary of the `kiosk` package so that they run the `kiosk` binary cargo
//! just built (`CARGO_BIN_EXE_kiosk`): real processes, ptys, sockets, SQLite files, an X server, CUPS,
//! PostgreSQL, TLS, the AT-SPI robot. The county's tool is run from beside it (scripts/test builds it
//! first; the support refuses one older than its sources). scripts/test runs them with nextest.

// The support is also the fleet benchmark's library; what only the benchmark uses is not dead code there.
#[allow(dead_code)]
#[path = "../src/lib.rs"]
mod support;

mod admin_attacks;
mod admin_tls;
mod appointments_cli;
mod atspi_demo;
mod bounded_inputs;
mod box_setup_cli;
mod config_check;
mod counter_api;
mod demo_window;
mod doctor;
mod fleet_pull;
mod fleet_tls;
mod hall_one_queue;
mod hall_pages;
mod hall_queue;
mod idcard_cli;
mod journal_cli;
mod journal_seals;
mod journal_stats;
mod licence_ipp;
mod platform_outbox;
mod reader_faults;
mod systemd_notify;
mod ticket_pty;
mod ticket_tcp;
mod voice;
