//! `kiosk appointments import`: the day's appointments from a file, for when the platform cannot be reached.

use super::{EXIT_INVALID, Exit, load_config};
use crate::journal::{Journal, JournalSettings};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum AppointmentsCommand {
    /// Import one day's appointments (JSON: {"date", "appointments": [{code, id_number, item_name, category,
    /// start}]}) to stand in for the platform when it cannot be reached. All or nothing: a bad appointment is
    /// named and nothing changes; the day's earlier import is replaced. ID numbers are kept only as the
    /// journal's subject HMAC.
    Import {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(value_name = "FILE.json")]
        file: PathBuf,
    },
}

pub fn run(cmd: AppointmentsCommand) -> anyhow::Result<()> {
    match cmd {
        AppointmentsCommand::Import { config, file } => {
            let config = load_config(&config)?;
            let text = config::files::read_text(&file, config::files::FileKind::Appointments).map_err(|e| Exit {
                code: EXIT_INVALID,
                message: format!("{}: cannot read the appointments ({e}).", file.display()),
            })?;
            let journal = Journal::open(JournalSettings::from_config(&config))?;
            let categories: Vec<String> = config.queue.categories.iter().map(|c| c.prefix.clone()).collect();
            match crate::platform::offline::import(&journal, &text, &categories, config.tz()) {
                Ok((day, n)) => {
                    println!("{}: imported {n} appointments for {day}.", file.display());
                    Ok(())
                }
                Err(crate::platform::offline::ImportError::Invalid(why)) => Err(Exit {
                    code: EXIT_INVALID,
                    message: format!("{}: {why} Nothing was imported.", file.display()),
                }
                .into()),
                Err(e) => Err(e.into()),
            }
        }
    }
}
