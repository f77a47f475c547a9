//! `kiosk outbox status|send`: what the outbox to the platform holds, and one delivery pass by hand (the
//! kiosk sends on its own every second; this is for a technician checking a link).

use super::load_config;
use crate::journal::{Journal, JournalSettings};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// How many ratings wait for the platform, the oldest, and the last error (one JSON object).
    Status {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Submit every message that is due now, once; exit 1 when some are still waiting.
    Send {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

pub fn run(cmd: OutboxCommand) -> anyhow::Result<()> {
    match cmd {
        OutboxCommand::Status { config } => {
            let config = load_config(&config)?;
            let journal = Journal::open(JournalSettings::from_config(&config))?;
            println!("{}", serde_json::to_string(&crate::platform::outbox::status(&journal)?)?);
            Ok(())
        }
        OutboxCommand::Send { config } => {
            let config = load_config(&config)?;
            if config.platform.url.is_none() {
                anyhow::bail!("[platform] url is not set: there is nowhere to send to.");
            }
            let platform = crate::platform::Platform::from_config(&config.platform, &config.kiosk.id)?;
            let journal = Journal::open(JournalSettings::from_config(&config))?;
            let (delivered, pending) = crate::platform::outbox::send_due(&journal, &platform, jiff::Timestamp::now())?;
            println!("delivered {delivered}; {pending} still waiting");
            if pending > 0 {
                return Err(super::Exit {
                    code: 1,
                    message: format!(
                        "{pending} messages are still waiting for the platform; see `kiosk outbox status`."
                    ),
                }
                .into());
            }
            Ok(())
        }
    }
}
