//! `kiosk ticket` and `kiosk sim printer`: issue a ticket without the UI, and run the virtual thermal printer.

use super::{EXIT_INVALID, Exit, load_config};
use crate::config::{Config, PrinterTransport};
use crate::journal::{Journal, JournalSettings};
use crate::queue::Queue;
use crate::ticket::{TicketError, TicketPrinter, issue_and_print, reprint, void};
use clap::Subcommand;
use drivers::escpos::virtual_printer::{SimStatus, VirtualPrinter, spawn};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// Issue and print one ticket; prints its number and id, or exits non-zero with the cause.
    Issue {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_name = "PREFIX")]
        category: String,
    },
    /// Print again, with the same number, a ticket whose print failed.
    Reprint {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_name = "ID")]
        ticket: String,
    },
    /// Void a ticket that was never handed out, so it never waits in the queue.
    Void {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_name = "ID")]
        ticket: String,
        #[arg(long, default_value = "voided by staff")]
        reason: String,
    },
}

/// Starts the in-process virtual printer a `simulated` configuration uses; returns its address.
pub fn simulated_printer(config: &Config) -> anyhow::Result<Option<String>> {
    if config.devices.ticket_printer.transport != PrinterTransport::Simulated {
        return Ok(None);
    }
    let dir = config.journal.path.parent().map(|p| p.join("printed")).unwrap_or_else(|| "printed".into());
    let width = if config.devices.ticket_printer.paper_width_mm == 58 { 384 } else { 576 };
    let addr = spawn("127.0.0.1:0", VirtualPrinter::new(&dir, width, SimStatus::Ok)?)?;
    log::info!("simulated ticket printer on {addr}, jobs in {}", dir.display());
    Ok(Some(addr.to_string()))
}

pub fn run_ticket(cmd: TicketCommand) -> anyhow::Result<()> {
    let path = match &cmd {
        TicketCommand::Issue { config, .. }
        | TicketCommand::Reprint { config, .. }
        | TicketCommand::Void { config, .. } => config.clone(),
    };
    let config = load_config(&path)?;
    let journal = Journal::open(JournalSettings::from_config(&config))?;
    let queue = Queue::new(&config, journal)?;
    let printer = || -> anyhow::Result<TicketPrinter> {
        TicketPrinter::from_config(&config, simulated_printer(&config)?)
            .map_err(|m| Exit { code: EXIT_INVALID, message: m }.into())
    };
    let result = match cmd {
        TicketCommand::Issue { category, .. } => {
            issue_and_print(&queue, &printer()?, &config.kiosk.hall_name, &category, jiff::Timestamp::now(), "")
        }
        TicketCommand::Reprint { ticket, .. } => reprint(&queue, &printer()?, &config.kiosk.hall_name, &ticket),
        TicketCommand::Void { ticket, reason, .. } => void(&queue, &ticket, &reason),
    };
    match result {
        Ok(t) => {
            println!("{} {}", t.display, t.id);
            Ok(())
        }
        Err(
            e @ (TicketError::Queue(
                crate::queue::QueueError::UnknownCategory(..) | crate::queue::QueueError::UnknownTicket(_),
            )
            | TicketError::WrongState { .. }),
        ) => Err(Exit { code: EXIT_INVALID, message: e.to_string() }.into()),
        Err(e) => Err(Exit { code: 1, message: e.to_string() }.into()),
    }
}
