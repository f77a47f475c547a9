//! `kiosk admin`: make the token and PIN hashes that go into the [admin] section.

use clap::Subcommand;
use std::io::BufRead;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Read a staff bearer token from stdin and print its `sha256:` hash for `admin.token_hashes`.
    HashToken,
    /// Read a maintenance PIN (4–12 digits) from stdin and print its hash for `admin.maintenance_pin_hash`.
    HashPin,
    /// Serve the staff HTTP API (counter calls) without the UI.
    Serve {
        #[arg(long, value_name = "FILE")]
        config: std::path::PathBuf,
    },
}

pub fn run(cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::Serve { config } => {
            let config = super::load_config(&config)?;
            let journal = crate::journal::Journal::open(crate::journal::JournalSettings::from_config(&config))?;
            let queue = crate::queue::Queue::new(&config, journal)?;
            crate::admin::serve(&config, queue)
        }
        AdminCommand::HashToken => {
            let secret = read_secret()?;
            if secret.len() < 16 {
                return Err(super::Exit {
                    code: super::EXIT_INVALID,
                    message: "The token is shorter than 16 characters; use a long random token.".into(),
                }
                .into());
            }
            println!("{}", crate::secrets::token_hash(&secret));
            Ok(())
        }
        AdminCommand::HashPin => {
            let secret = read_secret()?;
            if !(4..=12).contains(&secret.len()) || !secret.chars().all(|c| c.is_ascii_digit()) {
                return Err(super::Exit {
                    code: super::EXIT_INVALID,
                    message: "A maintenance PIN is 4 to 12 digits; nothing was hashed.".into(),
                }
                .into());
            }
            println!("{}", crate::secrets::pin_hash(&secret, &crate::secrets::random_bytes::<16>()?));
            Ok(())
        }
    }
}

/// One line from stdin, without its line ending.
fn read_secret() -> anyhow::Result<zeroize::Zeroizing<String>> {
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line)?;
    let trimmed = line.trim_end_matches(['\r', '\n']).to_owned();
    Ok(zeroize::Zeroizing::new(trimmed))
}
