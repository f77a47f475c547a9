//! `kiosk-county`: the county's tool — every kiosk's journal into PostgreSQL (`fleet …`) and one kiosk's
//! journal into a file (`journal pull`). Command-line definition and glue; the work lives in the library.

use clap::{Parser, Subcommand};

mod fleet_cli;
mod journal_cli;

#[derive(Debug, Parser)]
#[command(name = "kiosk-county", version, about = "The county's tool for the service hall kiosks.", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every kiosk's journal in PostgreSQL, verified; the report; the hall queue's schema.
    #[command(subcommand)]
    Fleet(fleet_cli::FleetCommand),
    /// One kiosk's journal, pulled into a file.
    #[command(subcommand)]
    Journal(journal_cli::JournalCommand),
}

fn main() -> std::process::ExitCode {
    cli_common::run_main("kiosk-county", || match Cli::parse().command {
        Command::Fleet(cmd) => fleet_cli::run(cmd),
        Command::Journal(cmd) => journal_cli::run(cmd),
    })
}
