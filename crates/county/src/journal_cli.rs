//! `kiosk-county journal pull`: one kiosk's journal over its staff API (TLS, pinned certificate) into a
//! JSON-lines file, page by page, each page verified as the kiosk signed it; the file is kept only when the
//! whole of it verifies.

use anyhow::Context;
use clap::Subcommand;
use cli_common::{Exit, invalid};
use journal::Verdict;
use net::Endpoint;
use net::staff::StaffClient;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Exit code when the pulled journal does not verify.
pub const EXIT_TAMPERED: u8 = 1;

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Pull a kiosk's journal over its staff API (TLS, pinned certificate) into a JSON-lines file, page by
    /// page; the file is kept only when it verifies.
    Pull {
        /// The kiosk's staff API, e.g. https://192.0.2.10:8443.
        #[arg(long, value_name = "URL")]
        url: String,
        /// The certificate fingerprint `kiosk admin gen-cert` printed (sha256:…); required for https.
        #[arg(long, value_name = "SHA256")]
        pin: Option<String>,
        /// A file holding a staff token; "-" reads it from stdin.
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
        /// Pull entries after this seq (the last one you already have).
        #[arg(long, value_name = "SEQ", default_value_t = 0)]
        after_seq: u64,
        /// Entries per request (1–5000).
        #[arg(long, value_name = "N", default_value_t = 500)]
        page_size: u64,
        /// The kiosk's checkpoint public key (64 hex digits, or a file holding them) to verify against.
        #[arg(long, value_name = "KEY")]
        pubkey: Option<String>,
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
}

pub fn run(cmd: JournalCommand) -> anyhow::Result<()> {
    match cmd {
        JournalCommand::Pull { url, pin, token_file, after_seq, page_size, pubkey, out } => {
            pull(&url, pin.as_deref(), &token_file, after_seq, page_size, pubkey.as_deref(), &out)
        }
    }
}

pub fn pull(
    url: &str,
    pin: Option<&str>,
    token_file: &Path,
    after_seq: u64,
    page_size: u64,
    pubkey: Option<&str>,
    out: &Path,
) -> anyhow::Result<()> {
    let endpoint = Endpoint::parse(url).map_err(|e| invalid(format!("--url: {e}.")))?;
    endpoint.check_secret_may_travel().map_err(|e| invalid(format!("--url: {e}.")))?;
    let pin = pin.map(net::tls::parse_pin).transpose().map_err(|e| invalid(format!("--pin: {e}.")))?;
    if !(1..=journal::page::MAX_PAGE).contains(&page_size) {
        return Err(invalid(format!("--page-size must be from 1 to {}.", journal::page::MAX_PAGE)));
    }
    let trusted =
        pubkey.map(journal::chain::public_key_from_arg).transpose().map_err(|e| invalid(format!("--pubkey: {e}.")))?;
    let mut token = zeroize::Zeroizing::new(String::new());
    if token_file == Path::new("-") {
        std::io::stdin().lock().read_line(&mut token)?;
    } else {
        *token = config::files::read_text(token_file, config::files::FileKind::Secret)
            .map_err(|e| invalid(format!("--token-file {}: cannot read it ({e}).", token_file.display())))?;
    }
    let token = zeroize::Zeroizing::new(token.trim().to_owned());
    let mut client = StaffClient::new(endpoint, pin, token).map_err(|e| invalid(format!("{e:#}.")))?;
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}; check the --out folder exists and is writable", dir.display()))?;
    let w = std::io::BufWriter::new(tmp.as_file());
    // The file's header is the first page's (version 4, saying what it was pulled from); it carries every
    // page's own proof, which together prove it contiguous from its first entry to its last.
    let mut joiner = journal::export::Joiner::new(w, serde_json::json!({ "after_seq": after_seq, "pulled_from": url }));
    let (mut after, mut entries, mut pages) = (after_seq, 0u64, 0u64);
    let bar = indicatif::ProgressBar::new_spinner();
    loop {
        let body = client.journal_page(after, page_size, joiner.seals().len() as u64)?;
        // Each page is checked as the kiosk signed it (its header, range and checkpoint) before it is kept.
        match journal::verify_jsonl_bytes(&body, trusted.as_ref(), joiner.seals()) {
            Ok(Verdict::Intact { .. }) => {}
            Ok(Verdict::OldFormat { what }) => {
                return Err(Exit {
                    code: EXIT_TAMPERED,
                    message: format!("the kiosk sent a page in an old format: {what}. Nothing was kept."),
                }
                .into());
            }
            Ok(Verdict::Tampered { seq, what }) => {
                return Err(Exit {
                    code: EXIT_TAMPERED,
                    message: format!(
                        "the kiosk sent a page that does not verify at seq {seq}: {what}. Nothing was kept."
                    ),
                }
                .into());
            }
            Err(e) => {
                return Err(invalid(format!("the kiosk sent a page that cannot be read ({}). Nothing was kept.", e.0)));
            }
        }
        let text = std::str::from_utf8(&body).context("the kiosk sent a page that is not UTF-8")?;
        pages += 1;
        let seqs = joiner.page(text).map_err(|e| invalid(format!("{e}. Nothing was kept.")))?;
        // The whole file is verified at the end; here only that the pull moves on.
        if let Some(last) = seqs.last() {
            if *last <= after {
                return Err(invalid("the kiosk sent a page whose last entry is not a later one. Nothing was kept."));
            }
            after = *last;
        }
        entries += seqs.len() as u64;
        bar.set_message(format!("{entries} entries"));
        if seqs.is_empty() {
            break;
        }
    }
    let mut w = joiner.finish().map_err(|e| invalid(format!("{e}. Nothing was kept.")))?;
    w.flush()?;
    drop(w);
    tmp.as_file().sync_all()?;
    bar.finish_and_clear();
    match journal::verify_path(tmp.path(), trusted.as_ref()) {
        Ok(Verdict::Intact { entries, first_seq, last_seq, .. }) => {
            tmp.persist(out).with_context(|| format!("cannot move the pull to {}", out.display()))?;
            let range = match (first_seq, last_seq) {
                (Some(a), Some(b)) => format!("seq {a}–{b}"),
                _ => "no new entries".into(),
            };
            println!("{}: {entries} entries ({range}) in {pages} requests, verified.", out.display());
            Ok(())
        }
        Ok(Verdict::Tampered { seq, what }) => Err(Exit {
            code: EXIT_TAMPERED,
            message: format!("the pulled journal does not verify at seq {seq}: {what}. Nothing was kept."),
        }
        .into()),
        Ok(Verdict::OldFormat { what }) => Err(Exit {
            code: EXIT_TAMPERED,
            message: format!("the pulled journal is not in today's format: {what}. Nothing was kept."),
        }
        .into()),
        Err(e) => Err(invalid(format!("the pulled journal cannot be read back ({e}). Nothing was kept."))),
    }
}
