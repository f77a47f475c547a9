//! `kiosk-county fleet`: the county's side — schema migrations, pulling every kiosk into PostgreSQL (once or
//! every few minutes as a service), exporting one kiosk back out for `kiosk journal verify`, clearing a
//! break after staff looked, and the HTML report.

use clap::Subcommand;
use cli_common::Exit;
use cli_common::invalid;
use county::fleet::pull::Outcome;
use county::fleet::{FleetFile, store};
use std::path::PathBuf;
use std::time::Duration;

/// Exit code of `pull` when a kiosk's chain broke (now or earlier, not yet cleared).
pub const EXIT_BROKEN: u8 = 1;
/// Exit code of `pull` when some kiosk could not be pulled (unreachable, refused), none broken.
pub const EXIT_UNREACHABLE: u8 = 3;

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Create or bring the fleet schema (tables, views, the hall counters) up to this version.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Pull every kiosk of the fleet file into the database, verified, from where each one's copy ends.
    Pull {
        #[arg(long, value_name = "FILE")]
        fleet: PathBuf,
        #[command(flatten)]
        db: DbArgs,
        /// Pull once and exit: 0 all pulled, 1 a chain broke, 3 a kiosk could not be reached.
        #[arg(long, conflicts_with = "every")]
        once: bool,
        /// Pull again this long after each round began (e.g. 5m, 30s, 1h), until stopped (a systemd service).
        #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
        every: Option<Duration>,
    },
    /// Write one kiosk's journal as the database holds it, as JSON lines that `kiosk journal verify` checks.
    Export {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, value_name = "ID")]
        kiosk: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write the HTML report (figures and charts per town and kiosk) of a period, one self-contained file.
    Report {
        #[command(flatten)]
        db: DbArgs,
        /// First business day (YYYY-MM-DD), inclusive.
        #[arg(long, value_name = "DATE")]
        from: jiff::civil::Date,
        /// Last business day (YYYY-MM-DD), inclusive.
        #[arg(long, value_name = "DATE")]
        to: jiff::civil::Date,
        /// Kiosks not heard from for longer than this many hours are listed.
        #[arg(long, value_name = "HOURS", default_value_t = 24.0)]
        silent_hours: f64,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Pull a kiosk again after its chain broke and staff looked into it (the break stays in the alerts).
    Clear {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, value_name = "ID")]
        kiosk: String,
    },
}

/// The county database: where, and the CA its certificate must come from for TLS.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// The county database: a URL (postgres://fleet@db.county.example/kiosk_fleet) or libpq's words
    /// ("host=/run/postgresql dbname=kiosk_fleet").
    #[arg(long, value_name = "URL")]
    db: String,
    /// Connect with TLS, trusting only certificates this CA (PEM) issued for the database's host name.
    #[arg(long, value_name = "FILE")]
    db_ca: Option<PathBuf>,
}

impl DbArgs {
    fn address(&self) -> store::DbAddress {
        store::DbAddress::new(&self.db, self.db_ca.as_deref())
    }
}

/// "5m", "30s", "2h", or plain seconds.
fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().map_err(|_| format!("\"{s}\" is not an interval; write e.g. 5m, 30s or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("\"{s}\" is not an interval; write e.g. 5m, 30s or 1h")),
    };
    if !(1..=7 * 24 * 3600).contains(&secs) {
        return Err("the interval must be from 1 s to 7 days".into());
    }
    Ok(Duration::from_secs(secs))
}

/// Database errors before anything was written: bad address, unreachable, not migrated.
fn db_error(e: impl Into<store::StoreError>) -> anyhow::Error {
    let e: store::StoreError = e.into();
    invalid(format!("{e}."))
}

pub fn run(cmd: FleetCommand) -> anyhow::Result<()> {
    match cmd {
        FleetCommand::Migrate { db } => {
            let mut client = db.address().open().map_err(db_error)?;
            let applied = store::migrate(&mut client).map_err(db_error)?;
            if applied.is_empty() {
                println!("The fleet schema is up to date (version {}).", store::latest_version());
            } else {
                let list: Vec<String> = applied.iter().map(|v| format!("V{v}")).collect();
                println!("Applied {}; the fleet schema is at version {}.", list.join(", "), store::latest_version());
            }
            // Entries stored before the county checked payloads (migration 3) are checked now, once.
            let (checked, marked) = store::check_stored_payloads(&mut client).map_err(db_error)?;
            if checked > 0 {
                println!(
                    "Checked the payloads of {checked} stored entries: {marked} left out of the figures (see the alerts)."
                );
            }
            Ok(())
        }
        FleetCommand::Pull { fleet, db, once, every } => {
            let (file, kiosks) = FleetFile::load(&fleet).map_err(invalid)?;
            if kiosks.is_empty() {
                return Err(invalid(format!(
                    "{} names no [[kiosk]]; add one per kiosk (docs/fleet.md).",
                    fleet.display()
                )));
            }
            let bars = indicatif::MultiProgress::new();
            let Some(interval) = every.filter(|_| !once) else {
                let outcomes =
                    county::fleet::pull::pull_all(&db.address(), &kiosks, &file.pull, &bars).map_err(db_error)?;
                return summarize(&outcomes);
            };
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_hook::flag::register(signal, stop.clone())?;
            }
            log::info!("pulling {} kiosks every {} s", kiosks.len(), interval.as_secs());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let began = std::time::Instant::now();
                // A round that cannot reach the database is logged and tried again at the next round.
                match county::fleet::pull::pull_all(&db.address(), &kiosks, &file.pull, &bars) {
                    Ok(outcomes) => {
                        if let Err(e) = summarize(&outcomes) {
                            log::warn!("{e:#}");
                        }
                    }
                    Err(e) => log::error!("ALERT the fleet pull cannot use the database: {e}"),
                }
                while began.elapsed() < interval && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
            log::info!("fleet pull stopped");
            Ok(())
        }
        FleetCommand::Export { db, kiosk, out } => {
            let mut client = db.address().open().map_err(db_error)?;
            store::check_schema(&mut client).map_err(db_error)?;
            let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let tmp = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| invalid(format!("Cannot write in {} ({e}).", dir.display())))?;
            let mut w = std::io::BufWriter::new(tmp.as_file());
            let Some((n, old_format)) = store::export(&mut client, &kiosk, &mut w)? else {
                return Err(invalid(format!("The database holds no kiosk \"{kiosk}\".")));
            };
            std::io::Write::flush(&mut w)?;
            drop(w);
            tmp.persist(&out).map_err(|e| invalid(format!("Cannot write {} ({e}).", out.display())))?;
            if old_format {
                println!(
                    "{}: {n} entries of kiosk {kiosk}, as a version 1 file: some of its pages were pulled before the county kept the kiosk's page proofs, so nothing signed proves the file is complete. `kiosk journal verify {} --pubkey ROOT_KEY --accept-old-format` checks the rest.",
                    out.display(),
                    out.display()
                );
            } else {
                println!(
                    "{}: {n} entries of kiosk {kiosk}, each page proven by the kiosk's signature; check it with `kiosk journal verify {} --pubkey ROOT_KEY`.",
                    out.display(),
                    out.display()
                );
            }
            Ok(())
        }
        FleetCommand::Report { db, from, to, silent_hours, out } => {
            if to < from {
                return Err(invalid(format!("--to {to} is before --from {from}.")));
            }
            if !(silent_hours.is_finite() && silent_hours > 0.0) {
                return Err(invalid("--silent-hours must be a positive number of hours."));
            }
            let mut client = db.address().open().map_err(db_error)?;
            store::check_schema(&mut client).map_err(db_error)?;
            let data = county::fleet::report::gather(&mut client, &from.to_string(), &to.to_string(), silent_hours)
                .map_err(|e| anyhow::anyhow!("the report's figures could not be read: {}", store::pg_message(&e)))?;
            std::fs::write(&out, county::fleet::report::render(&data))
                .map_err(|e| invalid(format!("Cannot write {} ({e}).", out.display())))?;
            println!("{}: {} kiosks, {from} – {to}.", out.display(), data.kiosks.len());
            Ok(())
        }
        FleetCommand::Clear { db, kiosk } => {
            let mut client = db.address().open().map_err(db_error)?;
            store::check_schema(&mut client).map_err(db_error)?;
            if store::clear(&mut client, &kiosk)? {
                println!("Kiosk {kiosk} will be pulled again from where the county's copy ends.");
                Ok(())
            } else {
                Err(invalid(format!("Kiosk \"{kiosk}\" is not stopped by a break (or not in the database).")))
            }
        }
    }
}

/// One line per kiosk, and the exit code of the worst.
fn summarize(outcomes: &[county::fleet::pull::KioskOutcome]) -> anyhow::Result<()> {
    let (mut broken, mut failed, mut entries) = (0, 0, 0u64);
    for o in outcomes {
        match &o.outcome {
            Outcome::Pulled { entries: n, head } => {
                entries += n;
                println!("{}: {n} new entries, stored through seq {head}.", o.id);
            }
            Outcome::Broken { seq, what, earlier } => {
                broken += 1;
                let when = if *earlier { " (at an earlier pull; not pulled until cleared)" } else { "" };
                println!("{}: BROKEN at seq {seq}{when}: {what}.", o.id);
            }
            Outcome::Failed(what) => {
                failed += 1;
                println!("{}: not pulled: {what}.", o.id);
            }
        }
    }
    println!(
        "{} kiosks: {} pulled ({entries} new entries), {broken} broken, {failed} not reached.",
        outcomes.len(),
        outcomes.len() - broken - failed
    );
    if broken > 0 {
        return Err(Exit {
            code: EXIT_BROKEN,
            message: format!("{broken} kiosk(s) broke their chain; see the alerts table and docs/fleet.md."),
        }
        .into());
    }
    if failed > 0 {
        return Err(Exit {
            code: EXIT_UNREACHABLE,
            message: format!("{failed} kiosk(s) could not be pulled; they are tried again next time."),
        }
        .into());
    }
    Ok(())
}
