//! `kiosk journal`: export, verify, find, pubkey and purge — the county staff's tools for the journal.

use super::{Exit, load_config};
use crate::journal::{self, EntryKind, ExportFilter, ExportFormat, Journal, JournalSettings, Verdict, chain, keys};
use anyhow::Context;
use clap::Subcommand;
use cli_common::invalid;
use sha2::Digest;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Exit code of `verify` when the journal was altered.
pub const EXIT_TAMPERED: u8 = 1;

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Export entries in seq order as JSON lines (closed by a signed checkpoint) or CSV.
    Export {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// First local date (YYYY-MM-DD, the hall's time zone) to include.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last local date (YYYY-MM-DD) to include.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Only entries of this kind (repeatable), e.g. --kind ticket_issued.
        #[arg(long = "kind", value_name = "KIND")]
        kinds: Vec<String>,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
    /// Verify an export or a journal database: exit 0 intact, 1 tampered, 2 unreadable.
    Verify {
        path: PathBuf,
        /// The kiosk's root public key as the county recorded it (64 hex digits, or a file holding them).
        #[arg(long, value_name = "KEY")]
        pubkey: Option<String>,
        /// Exit 1 when entries after the newest seal are not yet protected.
        #[arg(long)]
        require_sealed: bool,
        /// For a journal database on its kiosk: the current epoch key file ([journal] signing_key_path), to
        /// check that it is the one the seals hand over to (deleted seals and a cut tail show here).
        #[arg(long, value_name = "PATH")]
        key_file: Option<PathBuf>,
        /// An earlier export or pull of the same kiosk: every seal it holds must still be there, unchanged
        /// (the county's copy keeps the kiosk to its history even if the box is later replaced).
        #[arg(long, value_name = "FILE")]
        earlier: Option<PathBuf>,
        /// Also verify a file in an older format (a version 1 or 2 export, a version 1 CSV signature, a CSV
        /// without its .sig), whose range is not signed: deletions from it cannot be seen. Refused without.
        #[arg(long)]
        accept_old_format: bool,
    },
    /// Moved to the county's tool: `kiosk-county journal pull …` (package kiosk-county).
    #[command(hide = true)]
    Pull {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// List one person's entries by ID number (via the keyed hash; nothing is stored). "-" reads it from stdin.
    Find {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_name = "N")]
        id_number: String,
    },
    /// Make the journal and its keys (the subject key and the root signing key) when they do not exist yet,
    /// and print the root public key the county records; an existing journal and its keys are kept as they
    /// are. The package's postinst runs it on every install and upgrade.
    Init {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Print the root public key (installed on day one) from which this kiosk's seals are verified.
    Pubkey {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// The county's statistics for local dates (today when left out), as `GET /api/v1/stats` gives them:
    /// tickets, waits, ratings per level with 好评率 per day, flow and category, licence prints, faults, and
    /// what 事项查询 was asked. One JSON object.
    Stats {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
    /// Clear payloads older than the retention period (never under 180 days); the chain stays verifiable.
    Purge {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

/// The root public key as the journal recorded it on day one (the key file itself evolves every epoch).
fn root_key(path: &Path) -> anyhow::Result<String> {
    let conn = journal::open_read_only(path).map_err(|e| invalid(e.to_string()))?;
    journal::schema::meta(&conn, "public_key")?.ok_or_else(|| {
        invalid(format!("{}: the journal records no root key yet. Run the kiosk once to create it.", path.display()))
    })
}

pub fn run(cmd: JournalCommand) -> anyhow::Result<()> {
    match cmd {
        JournalCommand::Export { config, from, to, kinds, format, out } => {
            export(&config, from, to, kinds, format, &out)
        }
        JournalCommand::Verify { path, pubkey, require_sealed, key_file, earlier, accept_old_format } => {
            if let Some(earlier) = &earlier {
                compare_with_earlier(&path, earlier)?;
            }
            let options = journal::VerifyOptions { accept_old_format };
            verify(&path, pubkey.as_deref(), require_sealed, key_file.as_deref(), options)
        }
        JournalCommand::Pull { args } => Err(invalid(format!(
            "`kiosk journal pull` has moved to the county's tool: run `kiosk-county journal pull {}` (Debian package \
             kiosk-county).",
            args.join(" ")
        ))),
        JournalCommand::Find { config, id_number } => find(&config, &id_number),
        JournalCommand::Init { config } => {
            let config = load_config(&config)?;
            let path = &config.journal.path;
            // An existing journal is only read: opening it for writing could finish a key hand-over or
            // rotate a key, and "kept as it is" must be true byte for byte.
            if path.exists() {
                let root = root_key(path)?;
                println!("{}: the journal exists; it and its keys are kept as they are.", path.display());
                println!("Root public key (the county records it to verify this kiosk's journal):\n{root}");
                return Ok(());
            }
            journal::Journal::open(journal::JournalSettings::from_config(&config))?.close();
            let root = root_key(path)?;
            println!("{}: made the journal and its keys.", path.display());
            println!("Root public key (the county records it to verify this kiosk's journal):\n{root}");
            Ok(())
        }
        JournalCommand::Pubkey { config } => {
            let config = load_config(&config)?;
            if !config.journal.path.exists() {
                return Err(invalid(format!(
                    "{}: the journal does not exist yet. Run `kiosk journal init --config FILE` (or the kiosk) \
                     once to create it and its root key.",
                    config.journal.path.display()
                )));
            }
            println!("{}", root_key(&config.journal.path)?);
            Ok(())
        }
        JournalCommand::Purge { config } => purge(&config),
        JournalCommand::Stats { config, from, to } => {
            let config = load_config(&config)?;
            let date = |d: Option<String>, which: &str| -> anyhow::Result<Option<jiff::civil::Date>> {
                d.map(|d| d.parse().map_err(|_| invalid(format!("--{which} {d}: write the date as YYYY-MM-DD."))))
                    .transpose()
            };
            let (from, to) = (date(from, "from")?, date(to, "to")?);
            let conn = rusqlite::Connection::open_with_flags(
                &config.journal.path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| invalid(format!("{}: cannot open the journal ({e}).", config.journal.path.display())))?;
            let v = crate::admin::reports::stats_with(&config, from, to, |lo, hi| {
                crate::admin::reports::read_seen(&conn, lo, hi)
            })
            .map_err(invalid)?;
            println!("{v}");
            Ok(())
        }
    }
}

/// Reads a key without creating it: staff tools must not invent a kiosk's secrets.
fn read_existing_secret(path: &Path) -> anyhow::Result<zeroize::Zeroizing<[u8; 32]>> {
    if !path.exists() {
        return Err(invalid(format!(
            "{}: the key file does not exist. Run the kiosk once to create it, or check [journal] in the configuration.",
            path.display()
        )));
    }
    keys::load_or_create_secret(path).map_err(|e| invalid(e.to_string()))
}

/// Start of a local date in the hall's time zone, as an entry-format UTC string.
fn local_date_start(date: &str, tz: &jiff::tz::TimeZone, flag: &str) -> anyhow::Result<String> {
    let d: jiff::civil::Date = date
        .parse()
        .map_err(|_| invalid(format!("{flag} {date}: not a date; write it as YYYY-MM-DD, e.g. 2026-11-25.")))?;
    let zoned = d.to_zoned_datetime(tz.clone()).map_err(|e| invalid(format!("{flag} {date}: {e}.")))?;
    Ok(journal::format_utc(zoned.timestamp()))
}

fn export(
    config_path: &Path,
    from: Option<String>,
    to: Option<String>,
    kinds: Vec<String>,
    format: ExportFormat,
    out: &Path,
) -> anyhow::Result<()> {
    let config = load_config(config_path)?;
    let tz = config.tz().clone();
    let mut filter = ExportFilter::default();
    if let Some(f) = &from {
        filter.from_utc = Some(local_date_start(f, &tz, "--from")?);
    }
    if let Some(t) = &to {
        let d: jiff::civil::Date = t
            .parse()
            .map_err(|_| invalid(format!("--to {t}: not a date; write it as YYYY-MM-DD, e.g. 2026-11-25.")))?;
        let next = d.tomorrow().map_err(|e| invalid(format!("--to {t}: {e}.")))?;
        filter.to_utc = Some(local_date_start(&next.to_string(), &tz, "--to")?);
    }
    for k in &kinds {
        let kind = EntryKind::parse(k).ok_or_else(|| {
            let all: Vec<&str> = EntryKind::ALL.iter().map(|k| k.as_str()).collect();
            invalid(format!("--kind {k}: not an entry kind; use one of {}.", all.join(", ")))
        })?;
        filter.kinds.push(kind);
    }
    let journal = Journal::open(JournalSettings::from_config(&config))?;
    let reader = journal::open_read_only(&config.journal.path)?;
    let header = journal::export::ExportHeader::for_journal(
        &journal,
        filter.is_contiguous(),
        serde_json::json!({ "from": from, "to": to, "kinds": kinds }),
    );
    // Write beside the target and rename at the end: a failed export leaves no half file.
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}; check the --out folder exists and is writable", dir.display()))?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message("exporting");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file());
    let summary = journal::export::export_signed(&journal, &reader, &filter, format, &header, &mut w, &|n| {
        bar.set_message(format!("{n} entries"))
    })?;
    w.flush()?;
    drop(w);
    tmp.as_file().sync_all()?;
    bar.finish_and_clear();
    let digest = hex::encode(sha2::Sha256::digest(std::fs::read(tmp.path())?));
    // A CSV carries no checkpoint of its own: its signed companion says what it holds, so that a cut or a
    // missing row is caught. Written first, so that a CSV never stands without it.
    if format == ExportFormat::Csv
        && let (Some(first_seq), Some(last_seq), Some(last_hash)) =
            (summary.first_seq, summary.last_seq, &summary.last_hash)
    {
        let mut sig = journal::export::CsvSignature {
            format: journal::export::CSV_SIGNATURE_FORMAT.into(),
            version: 2,
            kiosk_id: config.kiosk.id.clone(),
            public_key: journal.public_key().to_owned(),
            csv_sha256: digest.clone(),
            entries: summary.entries,
            first_seq,
            last_seq,
            contiguous: filter.is_contiguous(),
            filter: header.filter.clone(),
            checkpoint: journal.checkpoint_at(last_seq, last_hash)?,
            seals: Vec::new(),
            signature: String::new(),
        };
        let signed = journal.sign_statement(&sig.signed_text())?;
        sig.signature = signed.signature;
        sig.seals = journal::schema::seals(&reader, 0, Some(signed.epoch))?;
        let sig_path = journal::export::CsvSignature::path_for(out);
        let sig_tmp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer_pretty(sig_tmp.as_file(), &sig)?;
        sig_tmp.as_file().sync_all()?;
        sig_tmp.persist(&sig_path).with_context(|| format!("cannot write {}", sig_path.display()))?;
    }
    tmp.persist(out).with_context(|| format!("cannot move the export to {}", out.display()))?;
    journal.append(
        crate::journal::payload::JournalExported {
            format: match format {
                ExportFormat::Jsonl => "jsonl",
                ExportFormat::Csv => "csv",
            }
            .into(),
            from: from.clone(),
            to: to.clone(),
            kinds: kinds.clone(),
            entries: summary.entries as u64,
            first_seq: summary.first_seq,
            last_seq: summary.last_seq,
            sha256: digest.clone(),
        }
        .into(),
    )?;
    eprintln!(
        "Exported {} entries{} to {} (sha256 {digest}).",
        summary.entries,
        match (summary.first_seq, summary.last_seq) {
            (Some(a), Some(b)) => format!(" (seq {a}–{b})"),
            _ => String::new(),
        },
        out.display()
    );
    Ok(())
}

fn trusted_key(pubkey: Option<&str>) -> anyhow::Result<Option<ed25519_dalek::VerifyingKey>> {
    pubkey.map(chain::public_key_from_arg).transpose().map_err(|e| invalid(format!("--pubkey: {e}.")))
}

/// The seals a journal database or a JSON-lines export holds.
fn seals_in(path: &Path) -> anyhow::Result<Vec<journal::Seal>> {
    let mut magic = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut magic))
        .map_err(|e| invalid(format!("{}: cannot read it ({e}).", path.display())))?;
    if n == 16 && &magic == b"SQLite format 3\0" {
        let conn = journal::schema::open_for_verify(path).map_err(|e| invalid(e.to_string()))?;
        return Ok(journal::schema::seals(&conn, 0, None)?);
    }
    let file = std::fs::File::open(path).map_err(|e| invalid(format!("{}: cannot open it ({e}).", path.display())))?;
    let mut seals = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| invalid(format!("{}: line {} cannot be read ({e}).", path.display(), i + 1)))?;
        if line.starts_with(journal::seal::SealLine::PREFIX) {
            let l: journal::seal::SealLine = serde_json::from_str(&line)
                .map_err(|e| invalid(format!("{}: line {} is not a well-formed seal ({e}).", path.display(), i + 1)))?;
            seals.push(l.seal);
        }
    }
    Ok(seals)
}

/// Every seal of the earlier copy must be in `path`, byte for byte: a missing one was deleted, a different
/// one means history was rewritten under a key that should have been erased.
fn compare_with_earlier(path: &Path, earlier: &Path) -> anyhow::Result<()> {
    let before = seals_in(earlier)?;
    let now: std::collections::HashMap<u64, journal::Seal> =
        seals_in(path)?.into_iter().map(|s| (s.epoch, s)).collect();
    for seal in &before {
        let what = match now.get(&seal.epoch) {
            Some(s) if s == seal => continue,
            Some(_) => format!(
                "the seal of epoch {} differs from the one in {}: history sealed then was rewritten",
                seal.epoch,
                earlier.display()
            ),
            None => format!(
                "the seal of epoch {} that {} holds is missing: seals were deleted",
                seal.epoch,
                earlier.display()
            ),
        };
        return Err(Exit {
            code: EXIT_TAMPERED,
            message: format!("{}: TAMPERED at seq {}: {what}.", path.display(), seal.seq),
        }
        .into());
    }
    println!("{}: all {} seal(s) of {} are still there.", path.display(), before.len(), earlier.display());
    Ok(())
}

fn verify(
    path: &Path,
    pubkey: Option<&str>,
    require_sealed: bool,
    key_file: Option<&Path>,
    options: journal::VerifyOptions,
) -> anyhow::Result<()> {
    let trusted = trusted_key(pubkey)?;
    if let Some(key_file) = key_file {
        let problem = journal::schema::open_for_verify(path)
            .and_then(|conn| journal::key_state_problem(&conn, key_file))
            .map_err(|e| invalid(format!("--key-file: {e} Nothing was verified.")))?;
        if let Some(p) = problem {
            return Err(Exit {
                code: EXIT_TAMPERED,
                message: format!("{}: TAMPERED at seq {}: {}.", path.display(), p.seq, p.what),
            }
            .into());
        }
    }
    match journal::verify_path_with(path, trusted.as_ref(), options) {
        Err(e) => Err(invalid(format!("{e} Nothing was verified."))),
        Ok(Verdict::Tampered { seq, what }) => {
            Err(Exit { code: EXIT_TAMPERED, message: format!("{}: TAMPERED at seq {seq}: {what}.", path.display()) }
                .into())
        }
        Ok(Verdict::OldFormat { what }) => {
            Err(Exit { code: EXIT_TAMPERED, message: format!("{}: NOT VERIFIED: {what}.", path.display()) }.into())
        }
        Ok(Verdict::Intact {
            entries,
            first_seq,
            last_seq,
            checkpoints,
            seals,
            sealed_through,
            unsealed,
            purged,
            notes,
        }) => {
            let range = match (first_seq, last_seq) {
                (Some(a), Some(b)) => format!("seq {a}–{b}"),
                _ => "no entries".into(),
            };
            println!(
                "{}: intact: {entries} entries ({range}), {seals} seal(s) walked from the root key, {checkpoints} signed checkpoint(s) verified.",
                path.display()
            );
            let after = sealed_through.unwrap_or(0);
            if unsealed > 0 {
                println!("unsealed tail: {unsealed} entries after seq {after}, not yet protected.");
            } else if let Some(s) = sealed_through {
                println!("sealed through seq {s}.");
            }
            if purged > 0 {
                println!("purged payloads: {purged} (entries past their retention period; their hashes still chain).");
            }
            for n in notes {
                println!("note: {n}.");
            }
            if require_sealed && unsealed > 0 {
                return Err(Exit {
                    code: EXIT_TAMPERED,
                    message: format!(
                        "{}: NOT SEALED: {unsealed} entries after seq {after} are not yet protected by a seal (--require-sealed).",
                        path.display()
                    ),
                }
                .into());
            }
            Ok(())
        }
    }
}

fn find(config_path: &Path, id_number: &str) -> anyhow::Result<()> {
    let config = load_config(config_path)?;
    let mut id = zeroize::Zeroizing::new(id_number.to_owned());
    if id_number == "-" {
        id.clear();
        std::io::stdin().lock().read_line(&mut id)?;
    }
    let settings = JournalSettings::from_config(&config);
    let subject = keys::SubjectKey::from_bytes(*read_existing_secret(&settings.secret_path)?).subject(&id);
    let conn = journal::open_read_only(&config.journal.path)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM entries WHERE json_extract(payload, '$.subject') = ?1 ORDER BY seq",
        journal::ENTRY_COLUMNS
    ))?;
    let rows = stmt.query_map([&subject], journal::schema_entry_from_row)?;
    let mut n = 0;
    let out = std::io::stdout();
    let mut out = out.lock();
    for e in rows {
        let e = e?;
        n += 1;
        writeln!(out, "{}\t{}\t{}\t{}\t{}", e.seq, e.time_utc, e.kind, e.session_id, e.payload.unwrap_or_default())?;
    }
    eprintln!("{n} entries for {}.", keys::mask_id_number(&id, config.journal.id_mask_keep));
    Ok(())
}

fn purge(config_path: &Path) -> anyhow::Result<()> {
    let config = load_config(config_path)?;
    let journal = Journal::open(JournalSettings::from_config(&config))?;
    let summary = journal::purge(&journal, config.journal.retention_days, jiff::Timestamp::now())?;
    println!(
        "Cleared the payloads of {} entries older than {} ({} days); every entry and the chain remain.",
        summary.payloads_cleared, summary.before, summary.retention_days
    );
    Ok(())
}
