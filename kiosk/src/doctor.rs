//! `kiosk doctor`: what a technician runs on site. Each device and the journal, clock, configuration and
//! certificate get OK / WARN / FAIL with a sentence and what to do; the exit code is the worst.
//! Devices are opened directly, so run it with the kiosk stopped (the kiosk holds the serial ports).

use crate::config::{Config, PrinterTransport};
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        }
    }

    /// The process exit code for this as the worst finding.
    pub fn exit_code(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Warn => 1,
            Level::Fail => 2,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub item: &'static str,
    pub level: Level,
    /// What was found, as a sentence.
    pub found: String,
    /// What to do about it; empty when nothing.
    pub todo: String,
}

fn check(item: &'static str, level: Level, found: impl Into<String>, todo: impl Into<String>) -> Check {
    Check { item, level, found: found.into(), todo: todo.into() }
}

/// Free bytes below which the journal's disk is a warning, and a failure.
const DISK_WARN: u64 = 1 << 30;
const DISK_FAIL: u64 = 100 << 20;
/// Entries left unsealed for longer than this are a warning: a running kiosk seals every few minutes.
const SEAL_WARN_S: i64 = 24 * 3600;
/// A certificate expiring within this many days is a warning.
const CERT_WARN_DAYS: i64 = 30;

/// Every check, in the order a technician reads them.
pub fn run(config: &Config, test_print: bool) -> Vec<Check> {
    let now = jiff::Timestamp::now();
    let mut out = vec![config_check(config)];
    out.push(reader(config));
    out.push(ticket_printer(config, test_print));
    out.push(licence_printer(config));
    if let Some(c) = hall_queue(config) {
        out.push(c);
    }
    out.extend(journal(config, now));
    if let Some(c) = certificate(config, now) {
        out.push(c);
    }
    out
}

/// With `[queue] shared`: whether the hall database answers (tickets would come from the offline band).
fn hall_queue(config: &Config) -> Option<Check> {
    use hall::counter::{Probe, probe};
    let shared = config.queue.shared.as_ref()?;
    let [first, last] = shared.offline_band;
    Some(match probe(shared) {
        Probe::Answers { counters_today } => check(
            "hall_queue",
            Level::Ok,
            format!(
                "The hall database answers; hall \"{}\" has {counters_today} category counter(s) since yesterday.",
                shared.hall
            ),
            "",
        ),
        Probe::Unreachable(why) => check(
            "hall_queue",
            Level::Warn,
            format!(
                "The hall database cannot be reached ({why}); tickets come from this kiosk's offline band {first}–{last}."
            ),
            "Check [queue] shared.db and the network to the hall database; the kiosk goes back to the hall's numbers by itself.",
        ),
        Probe::NoSchema(why) => check(
            "hall_queue",
            Level::Fail,
            format!("The hall database answers but has no hall counters ({why})."),
            "Run `kiosk-county fleet migrate --db …` against it once.",
        ),
    })
}

fn config_check(config: &Config) -> Check {
    let mut demo: Vec<String> = config
        .admin
        .tokens
        .iter()
        .filter(|t| crate::config::DEMO_TOKEN_HASHES.iter().any(|d| d.eq_ignore_ascii_case(&t.hash)))
        .map(|t| format!("token \"{}\"", t.name))
        .collect();
    if config.admin.maintenance_pin_hash == crate::config::DEMO_PIN_HASH {
        demo.push("the maintenance PIN".into());
    }
    if demo.is_empty() {
        check("config", Level::Ok, format!("The configuration is valid (kiosk {}).", config.kiosk.id), "")
    } else {
        check(
            "config",
            Level::Warn,
            format!("The configuration still has the example's demo credentials: {}.", demo.join(", ")),
            "Make new ones with `kiosk admin hash-token` and `kiosk admin hash-pin`; `kiosk run` refuses to start with the demo ones.",
        )
    }
}

fn reader(config: &Config) -> Check {
    let r = &config.devices.id_reader;
    if r.port == "simulated" {
        return check("id_reader", Level::Ok, "The ID-card reader is simulated (demo configuration).", "");
    }
    let link = match serialport::new(&r.port, r.baud).timeout(Duration::from_millis(50)).open_native() {
        Ok(l) => l,
        Err(e) => {
            return check(
                "id_reader",
                Level::Fail,
                format!("The ID-card reader's port {} cannot be opened ({e}).", r.port),
                "Check the cable and the device path in [devices.id_reader]; stop the kiosk first (it holds the port).",
            );
        }
    };
    let mut sam = drivers::idcard::reader::Sam::new(link);
    match sam.init() {
        Ok(info) => check("id_reader", Level::Ok, format!("The SAM answers: {} ready.", info.sam_id), ""),
        Err(drivers::idcard::reader::ReaderError::Timeout(_)) => check(
            "id_reader",
            Level::Fail,
            format!("Nothing answers on {} at {} baud.", r.port, r.baud),
            "Check the reader's power and cable, and that [devices.id_reader] baud matches the reader (usually 115200).",
        ),
        Err(e) => check(
            "id_reader",
            Level::Fail,
            format!("The reader on {} answers, but not as a working SAM: {e}.", r.port),
            "Power the reader off and on; if it persists, the reader or its SAM module needs replacing.",
        ),
    }
}

fn ticket_printer(config: &Config, test_print: bool) -> Check {
    let p = &config.devices.ticket_printer;
    if p.transport == PrinterTransport::Simulated {
        return check("ticket_printer", Level::Ok, "The ticket printer is simulated (demo configuration).", "");
    }
    let printer = match crate::devices::TicketPrinter::from_config(config, None) {
        Ok(p) => p,
        Err(e) => return check("ticket_printer", Level::Fail, e.to_string(), "Correct [devices.ticket_printer]."),
    };
    let result = match printer.probe() {
        Err(f) => check(
            "ticket_printer",
            Level::Fail,
            format!("The ticket printer reports a fault: {} ({}).", f.technician(), f.code()),
            "Clear the fault at the printer, then run `kiosk doctor` again.",
        ),
        Ok(status) => {
            let printed = test_print.then(|| {
                crate::ticket::test_page(&config.kiosk.hall_name, &config.kiosk.id, config.tz())
                    .map_err(|e| e.to_string())
                    .and_then(|doc| {
                        let bytes = drivers::escpos::encode_with(&doc, printer.profile(), printer.raster())
                            .map_err(|e| e.to_string())?;
                        printer.print(bytes).map(|_| ()).map_err(|e| e.to_string())
                    })
            });
            match (printed, status.paper_near_end) {
                (Some(Err(e)), _) => check(
                    "ticket_printer",
                    Level::Fail,
                    format!("The ticket printer answers, but the test page failed: {e}."),
                    "Check the paper path and the cutter, then print again with --test-print.",
                ),
                (_, true) => check(
                    "ticket_printer",
                    Level::Warn,
                    "The ticket printer works, but its paper roll is nearly out.",
                    "Load a new roll soon.",
                ),
                (Some(Ok(())), false) => {
                    check("ticket_printer", Level::Ok, "The ticket printer is ready and printed the test page.", "")
                }
                (None, false) => {
                    check("ticket_printer", Level::Ok, "The ticket printer is ready (status bytes all clear).", "")
                }
            }
        }
    };
    printer.stop();
    result
}

fn licence_printer(config: &Config) -> Check {
    let uri = &config.devices.licence_printer.uri;
    if uri == "simulated" {
        return check("licence_printer", Level::Ok, "The licence printer is simulated (demo configuration).", "");
    }
    let printer = match drivers::ipp::IppPrinter::new(uri, Duration::from_secs(10)) {
        Ok(p) => p,
        Err(e) => {
            return check(
                "licence_printer",
                Level::Fail,
                format!("{uri}: {e}."),
                "Correct [devices.licence_printer] uri.",
            );
        }
    };
    match printer.status() {
        Err(f) => check(
            "licence_printer",
            Level::Fail,
            format!("The licence printer at {uri}: {}.", f.technician()),
            "Check the printer's power and network, and the uri in [devices.licence_printer].",
        ),
        Ok(status) => match status.fault() {
            Some(f) => check(
                "licence_printer",
                Level::Fail,
                format!("The licence printer reports: {}.", f.technician()),
                "Clear it at the printer (paper, toner, cover, A4 tray), then run `kiosk doctor` again.",
            ),
            None => {
                let warnings: Vec<String> = status.warnings().iter().map(|r| format!("{r:?}")).collect();
                if warnings.is_empty() {
                    check("licence_printer", Level::Ok, format!("The licence printer is ready with A4 ({uri})."), "")
                } else {
                    check(
                        "licence_printer",
                        Level::Warn,
                        format!("The licence printer prints, but reports {}.", warnings.join(", ")),
                        "Replace what runs low before it runs out.",
                    )
                }
            }
        },
    }
}

fn journal(config: &Config, now: jiff::Timestamp) -> Vec<Check> {
    let path = &config.journal.path;
    let mut out = Vec::new();
    if !path.exists() {
        out.push(check(
            "journal",
            Level::Warn,
            format!("There is no journal at {} yet.", path.display()),
            "Start the kiosk once; it creates the journal.",
        ));
        return out;
    }
    let conn = match crate::journal::schema::open_for_verify(path) {
        Ok(c) => c,
        Err(e) => {
            out.push(check(
                "journal",
                Level::Fail,
                format!("The journal cannot be opened: {e}"),
                "Run `kiosk journal verify` on it and call the county's support.",
            ));
            return out;
        }
    };
    let quick: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).unwrap_or_else(|e| e.to_string());
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let head = crate::journal::schema::head(&conn).map(|h| h.0).unwrap_or(0);
    if quick == "ok" {
        out.push(check(
            "journal",
            Level::Ok,
            format!("The journal passes SQLite's quick check: {head} entries, {:.1} MiB.", size as f64 / 1048576.0),
            "",
        ));
    } else {
        out.push(check(
            "journal",
            Level::Fail,
            format!("The journal fails SQLite's quick check: {quick}."),
            "Stop the kiosk, copy the journal off the box, run `kiosk journal verify` on the copy and call the county's support.",
        ));
    }
    // The whole chain and every checkpoint, as the county would check them.
    drop(conn);
    match crate::journal::verify_path(path, None) {
        Ok(crate::journal::Verdict::Intact { entries, checkpoints, seals, unsealed, .. }) => out.push(check(
            "journal_chain",
            Level::Ok,
            format!(
                "The hash chain of {entries} entries, {seals} seal(s) from the root key and {checkpoints} signed checkpoint(s) verify; {unsealed} entries are after the newest seal."
            ),
            "",
        )),
        // A database is never in an older export format.
        Ok(crate::journal::Verdict::OldFormat { what }) => out.push(check(
            "journal_chain",
            Level::Fail,
            format!("The journal could not be verified: {what}."),
            "Copy the journal off the box, run `kiosk journal verify` on the copy and call the county's support.",
        )),
        Ok(crate::journal::Verdict::Tampered { seq, what }) => out.push(check(
            "journal_chain",
            Level::Fail,
            format!("The journal was altered at seq {seq}: {what}."),
            "Do not repair it: copy the journal off the box, keep the copy as evidence and call the county's support.",
        )),
        Err(e) => out.push(check("journal_chain", Level::Fail, format!("The journal cannot be verified: {e}"), "")),
    }
    let conn = match crate::journal::schema::open_for_verify(path) {
        Ok(c) => c,
        Err(e) => {
            out.push(check("journal", Level::Fail, format!("The journal cannot be opened: {e}"), ""));
            return out;
        }
    };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    match rustix::fs::statvfs(dir) {
        Ok(s) => {
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            let gib = free as f64 / (1u64 << 30) as f64;
            let (level, todo) = match free {
                f if f < DISK_FAIL => {
                    (Level::Fail, "Free space now: the kiosk stops taking numbers when it cannot journal.")
                }
                f if f < DISK_WARN => {
                    (Level::Warn, "Free space soon (old exports, logs); the journal needs room to grow.")
                }
                _ => (Level::Ok, ""),
            };
            out.push(check("disk", level, format!("{gib:.2} GiB free beside the journal ({}).", dir.display()), todo));
        }
        Err(e) => out.push(check("disk", Level::Warn, format!("The free space cannot be read ({e})."), "")),
    }
    let last_entry: Option<String> =
        conn.query_row("SELECT time_utc FROM entries ORDER BY seq DESC LIMIT 1", [], |r| r.get(0)).ok();
    if let Some(t) = last_entry.as_deref().and_then(|t| t.parse::<jiff::Timestamp>().ok()) {
        let ahead = (t - now).as_secs();
        if ahead > 60 {
            out.push(check(
                "clock",
                Level::Fail,
                format!("The clock reads {now}, {ahead} s before the journal's last entry ({t}): the clock went back."),
                "Set the time (timedatectl set-ntp true, or timedatectl set-time) before the kiosk serves again.",
            ));
        } else {
            out.push(check("clock", Level::Ok, format!("The clock ({now}) is after the journal's last entry."), ""));
        }
    }
    let settings = crate::journal::JournalSettings::from_config(config);
    match crate::journal::key_state_problem(&conn, &settings.signing_key_path) {
        Ok(None) => out.push(check(
            "journal_keys",
            Level::Ok,
            "The epoch key on disk is the one the newest seal hands over to.",
            "",
        )),
        Ok(Some(p)) => out.push(check(
            "journal_keys",
            Level::Fail,
            format!("{p}."),
            "Do not repair it: copy the journal off the box, keep the copy as evidence and call the county's support.",
        )),
        Err(e) => out.push(check("journal_keys", Level::Fail, format!("The epoch key cannot be read: {e}"), "")),
    }
    match crate::journal::schema::last_seal(&conn) {
        Ok(Some(seal)) => {
            let age = seal.time_utc.parse::<jiff::Timestamp>().map(|t| (now - t).as_secs()).unwrap_or(i64::MAX);
            let unsealed = head.saturating_sub(seal.seq);
            let level = if unsealed > 0 && age > SEAL_WARN_S { Level::Warn } else { Level::Ok };
            out.push(check(
                "seal",
                level,
                format!(
                    "The newest seal (epoch {}) covers seq {} and is {} old; {unsealed} entries come after it.",
                    seal.epoch,
                    seal.seq,
                    human_age(age)
                ),
                if level == Level::Warn { "Start the kiosk: it seals what is written as it runs." } else { "" },
            ));
        }
        Ok(None) if head > 0 => out.push(check(
            "seal",
            Level::Warn,
            "The journal has entries but no seal yet.",
            "Start the kiosk: it seals what is written as it runs.",
        )),
        Ok(None) => {}
        Err(e) => out.push(check("seal", Level::Fail, format!("The seals cannot be read ({e})."), "")),
    }
    out
}

fn human_age(s: i64) -> String {
    match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

fn certificate(config: &Config, now: jiff::Timestamp) -> Option<Check> {
    let path = config.admin.tls_cert.as_ref()?;
    let certs = match crate::admin::tls::load_certs(path) {
        Ok(c) => c,
        Err(e) => {
            return Some(check(
                "certificate",
                Level::Fail,
                format!("{e:#}."),
                "Make one with `kiosk admin gen-cert --config <file>`.",
            ));
        }
    };
    let Some(expiry) = crate::admin::tls::not_after(certs[0].as_ref()) else {
        return Some(check(
            "certificate",
            Level::Warn,
            format!("{}: the expiry date cannot be read.", path.display()),
            "",
        ));
    };
    let days = (expiry - now).as_secs() / 86_400;
    let fp = crate::admin::tls::fingerprint(certs[0].as_ref());
    Some(if expiry <= now {
        check(
            "certificate",
            Level::Fail,
            format!("The staff API's certificate expired on {expiry}."),
            "Make a new one with `kiosk admin gen-cert --force` and give the county its fingerprint.",
        )
    } else if days < CERT_WARN_DAYS {
        check(
            "certificate",
            Level::Warn,
            format!("The staff API's certificate expires in {days} days ({expiry})."),
            "Make a new one with `kiosk admin gen-cert --force` and give the county its fingerprint.",
        )
    } else {
        check(
            "certificate",
            Level::Ok,
            format!("The staff API's certificate is valid for {days} more days ({fp})."),
            "",
        )
    })
}

/// The worst level among `checks`.
pub fn worst(checks: &[Check]) -> Level {
    checks.iter().map(|c| c.level).max().unwrap_or(Level::Ok)
}

/// The checks as a technician reads them on a terminal.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        out.push_str(&format!("{:<4}  {:<16} {}\n", c.level.as_str(), c.item, c.found));
        if !c.todo.is_empty() {
            out.push_str(&format!("{:<4}  {:<16} → {}\n", "", "", c.todo));
        }
    }
    out
}
