//! `kiosk ticket` and `kiosk sim printer`: issue a ticket without the UI, and run the virtual thermal printer.

use super::{EXIT_INVALID, Exit, load_config};
use crate::config::Config;
use crate::journal::{Journal, JournalSettings};
use crate::queue::Queue;
use crate::ticket::{TicketError, TicketPrinter, issue_and_print, reprint, void};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// Issue and print one ticket; prints its number and id, or exits non-zero with the cause.
    Issue {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_name = "PREFIX")]
        category: String,
        /// Issue this many, one after another, a line each (a technician's check of a hall's shared queue);
        /// stops at the first refusal.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10000))]
        count: u32,
        /// Wait this long between two tickets of --count.
        #[arg(long, value_name = "MS", default_value_t = 0)]
        pause_ms: u64,
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

pub use crate::devices::ticket_printer::simulated as simulated_printer;

/// Waits for a card on the configured reader (a category that requires ID).
fn read_card_for_ticket(config: &Config) -> anyhow::Result<drivers::idcard::IdCard> {
    let r = &config.devices.id_reader;
    if r.port == "simulated" {
        return Err(Exit {
            code: EXIT_INVALID,
            message: "This category needs an ID card, and the configured reader is simulated; run `kiosk sim idreader --pty` and set [devices.id_reader] port to its path.".into(),
        }
        .into());
    }
    let link = serialport::new(&r.port, r.baud)
        .timeout(std::time::Duration::from_millis(50))
        .open_native()
        .map_err(|e| Exit { code: 1, message: format!("The ID-card reader at {} cannot be opened ({e}).", r.port) })?;
    let mut sam = drivers::idcard::Sam::new(link);
    sam.init().map_err(|e| Exit { code: 1, message: format!("The ID-card reader does not answer ({e}).") })?;
    eprintln!("请将身份证放在读卡器上 Please place your ID card on the reader.");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match sam.read_card() {
            Ok(Some(card)) => return Ok(card),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(u64::from(r.poll_interval_ms)))
            }
            Ok(None) => {
                return Err(Exit { code: 1, message: "No ID card was placed on the reader within 30 s.".into() }.into());
            }
            Err(e) => {
                return Err(Exit {
                    code: 1,
                    message: format!(
                        "读卡失败，请重新放置证件。 The card could not be read ({e}); please place it again."
                    ),
                }
                .into());
            }
        }
    }
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
    // The simulated printer (its server thread) lives as long as the command: it is returned beside the
    // owner that prints to it.
    let printer = || -> anyhow::Result<(TicketPrinter, Option<crate::devices::ticket_printer::SimulatedPrinter>)> {
        let simulated = simulated_printer(&config)?;
        let printer = TicketPrinter::from_config(&config, simulated.as_ref().map(|s| s.address.clone()))
            .map_err(|m| Exit { code: EXIT_INVALID, message: m.to_string() })?;
        Ok((printer, simulated))
    };
    if let TicketCommand::Issue { category, count, pause_ms, .. } = &cmd {
        let needs_card = config.queue.categories.iter().any(|c| c.prefix == *category && c.requires_id);
        let (printer, _simulated) = printer()?;
        for i in 0..*count {
            if i > 0 && *pause_ms > 0 {
                std::thread::sleep(std::time::Duration::from_millis(*pause_ms));
            }
            let result = if needs_card {
                let card = read_card_for_ticket(&config)?;
                let session = hex::encode(crate::secrets::random_bytes::<8>()?);
                let tz = config.tz().clone();
                crate::ticket::issue_with_card(
                    &queue,
                    &printer,
                    &config,
                    &tz,
                    category,
                    &card,
                    jiff::Timestamp::now(),
                    &session,
                )
            } else {
                issue_and_print(&queue, &printer, &config.kiosk.hall_name, category, jiff::Timestamp::now(), "")
            };
            outcome(result)?;
        }
        return Ok(());
    }
    let result = match cmd {
        TicketCommand::Issue { .. } => return Ok(()),
        TicketCommand::Reprint { ticket, .. } => reprint(&queue, &printer()?.0, &config.kiosk.hall_name, &ticket),
        TicketCommand::Void { ticket, reason, .. } => void(&queue, &ticket, &reason),
    };
    outcome(result)
}

/// Prints a ticket's number and id, or turns the refusal into an exit code.
fn outcome(result: Result<crate::queue::Ticket, TicketError>) -> anyhow::Result<()> {
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
