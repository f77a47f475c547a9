//! Exports for county staff: entries in seq order as JSON lines (with the seals and the covering checkpoint)
//! or CSV (with a signed companion).

use super::schema::{ENTRY_COLUMNS, entry_from_row};
use super::{Checkpoint, Entry, EntryKind, JournalError};
use rusqlite::Connection;
use sha2::Digest;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

/// Which entries to export. Times are UTC strings in the entries' own format, so they compare as text.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExportFilter {
    /// Inclusive lower bound on time_utc.
    pub from_utc: Option<String>,
    /// Exclusive upper bound on time_utc.
    pub to_utc: Option<String>,
    /// Only these kinds; all when empty.
    pub kinds: Vec<EntryKind>,
    /// Only entries after this seq (a pull's page starts here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<u64>,
    /// At most this many entries (a pull's page size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl ExportFilter {
    /// An export without a kind filter is a contiguous stretch of the chain and verifies as one.
    pub fn is_contiguous(&self) -> bool {
        self.kinds.is_empty()
    }

    fn sql(&self) -> (String, Vec<String>) {
        let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE 1 = 1");
        let mut args = Vec::new();
        if let Some(from) = &self.from_utc {
            args.push(from.clone());
            sql.push_str(&format!(" AND time_utc >= ?{}", args.len()));
        }
        if let Some(to) = &self.to_utc {
            args.push(to.clone());
            sql.push_str(&format!(" AND time_utc < ?{}", args.len()));
        }
        if !self.kinds.is_empty() {
            let marks: Vec<String> = self
                .kinds
                .iter()
                .map(|k| {
                    args.push(k.as_str().to_owned());
                    format!("?{}", args.len())
                })
                .collect();
            sql.push_str(&format!(" AND kind IN ({})", marks.join(", ")));
        }
        if let Some(after) = self.after_seq {
            args.push(after.to_string());
            sql.push_str(&format!(" AND seq > CAST(?{} AS INTEGER)", args.len()));
        }
        sql.push_str(" ORDER BY seq");
        if let Some(limit) = self.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        (sql, args)
    }
}

/// What an export wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportSummary {
    pub entries: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub last_hash: Option<String>,
}

/// The first line of a JSON-lines export.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ExportHeader {
    pub format: String,
    pub version: u32,
    pub kiosk_id: String,
    pub public_key: String,
    pub exported_at: String,
    /// True when no kind filter was applied: the entries form one unbroken stretch of the chain.
    pub contiguous: bool,
    pub filter: serde_json::Value,
}

pub const EXPORT_FORMAT_NAME: &str = "kiosk-journal-export";
/// The header version this kiosk writes: 3 carries seals; 2 signed the header; 1 signed only the checkpoint.
pub const EXPORT_VERSION: u32 = 3;
/// The version of a file joined from pages the kiosk signed one by one (`kiosk-county journal pull`,
/// `kiosk-county fleet export`): it carries every page's own proof instead of one statement.
pub const JOINED_VERSION: u32 = 4;

/// One page's proof in a joined (version 4) export, exactly as the kiosk signed it: the page's header line
/// (whose SHA-256 the statement signs: `contiguous`, the page's filter), the checkpoint over its last entry
/// and its statement (entries, first and last seq), both signed by the key of the epoch current then.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageProof {
    pub header: String,
    pub checkpoint: Checkpoint,
    pub export: ExportStatement,
}

/// A joined export's proof line: `{"page": {…}}`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageLine {
    pub page: PageProof,
}

impl PageLine {
    pub const PREFIX: &'static str = "{\"page\"";
}

/// Joins verified version 3 pages (a pull's, in order) into one version 4 file: the first page's header
/// (version 4, the joiner's own filter), every page's entries as they came, every seal gathered, and every
/// page's proof. Entries go straight to the writer; seals and proofs are kept until [`Joiner::finish`].
pub struct Joiner<W: Write> {
    out: W,
    filter: serde_json::Value,
    started: bool,
    seals: Vec<super::Seal>,
    proofs: Vec<PageProof>,
}

/// Why a page cannot be joined.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("the page is not a journal export ({0})")]
    NotAnExport(String),
    #[error("the page has entries but no signed statement")]
    Unsigned,
    #[error("the joined file cannot be written ({0})")]
    Write(#[from] std::io::Error),
}

impl<W: Write> Joiner<W> {
    pub fn new(out: W, filter: serde_json::Value) -> Self {
        Joiner { out, filter, started: false, seals: Vec::new(), proofs: Vec::new() }
    }

    /// Seals gathered so far (a pull asks the next page only for later ones).
    pub fn seals(&self) -> &[super::Seal] {
        &self.seals
    }

    /// Adds one page that verified; returns its entries' seqs, in order (none: the end of the journal).
    pub fn page(&mut self, page: &str) -> Result<Vec<u64>, JoinError> {
        let bad = |e: serde_json::Error| JoinError::NotAnExport(e.to_string());
        let mut lines = page.lines().filter(|l| !l.trim().is_empty());
        let header = lines.next().ok_or_else(|| JoinError::NotAnExport("it is empty".into()))?;
        if !self.started {
            let mut h: ExportHeader = serde_json::from_str(header).map_err(bad)?;
            h.version = JOINED_VERSION;
            h.contiguous = true;
            h.filter = self.filter.clone();
            serde_json::to_writer(&mut self.out, &h).map_err(bad)?;
            self.out.write_all(b"\n")?;
            self.started = true;
        }
        let mut seqs = Vec::new();
        for line in lines {
            if line.starts_with(super::seal::SealLine::PREFIX) {
                self.seals.push(serde_json::from_str::<super::seal::SealLine>(line).map_err(bad)?.seal);
            } else if !line.starts_with("{\"checkpoint\"") {
                #[derive(serde::Deserialize)]
                struct Seq {
                    seq: u64,
                }
                seqs.push(serde_json::from_str::<Seq>(line).map_err(bad)?.seq);
                self.out.write_all(line.as_bytes())?;
                self.out.write_all(b"\n")?;
            }
        }
        if !seqs.is_empty() {
            self.proofs.push(page_proof(page).ok_or(JoinError::Unsigned)?);
        }
        Ok(seqs)
    }

    /// Writes the seals and the proofs; hands back the writer.
    pub fn finish(mut self) -> Result<W, JoinError> {
        for seal in std::mem::take(&mut self.seals) {
            serde_json::to_writer(&mut self.out, &super::seal::SealLine { seal })
                .map_err(|e| JoinError::NotAnExport(e.to_string()))?;
            self.out.write_all(b"\n")?;
        }
        for page in std::mem::take(&mut self.proofs) {
            serde_json::to_writer(&mut self.out, &PageLine { page })
                .map_err(|e| JoinError::NotAnExport(e.to_string()))?;
            self.out.write_all(b"\n")?;
        }
        Ok(self.out)
    }
}

/// The closing line of a version 3 export: the checkpoint and the signed statement.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Closed {
    checkpoint: Checkpoint,
    export: ExportStatement,
}

/// The proof a version 3 page carries (its first line and its closing line), for the file it is joined into;
/// None for a page without a closing statement (a page with no entries has none).
pub fn page_proof(page: &str) -> Option<PageProof> {
    let header = page.lines().next()?;
    let closing = page.lines().rev().find(|l| !l.trim().is_empty())?;
    let closed: Closed = serde_json::from_str(closing).ok()?;
    Some(PageProof { header: header.to_owned(), checkpoint: closed.checkpoint, export: closed.export })
}

impl ExportHeader {
    /// The header of an export of `journal` made now.
    pub fn for_journal(journal: &super::Journal, contiguous: bool, filter: serde_json::Value) -> Self {
        ExportHeader {
            format: EXPORT_FORMAT_NAME.into(),
            version: EXPORT_VERSION,
            kiosk_id: journal.settings().kiosk_id.clone(),
            public_key: journal.public_key().to_owned(),
            exported_at: super::utc_now(),
            contiguous,
            filter,
        }
    }
}

/// [`export`] closed by `journal`: a new checkpoint over the last entry, the statement signed by the current
/// epoch's key, and every seal from epoch 0, so that the file verifies on its own from the root key.
pub fn export_signed(
    journal: &super::Journal,
    conn: &Connection,
    filter: &ExportFilter,
    format: ExportFormat,
    header: &ExportHeader,
    out: &mut dyn Write,
    progress: &dyn Fn(u64),
) -> Result<ExportSummary, JournalError> {
    let closing = Closing {
        checkpoint: &mut |last| journal.checkpoint_at(last.seq, &last.hash),
        sign: &|text| journal.sign_statement(text),
        seals_from: 0,
    };
    export(conn, filter, format, Some(header), out, progress, closing)
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 11] = [
    "seq",
    "kiosk_id",
    "boot_id",
    "time_utc",
    "mono_ms",
    "session_id",
    "kind",
    "payload",
    "payload_digest",
    "prev_hash",
    "hash",
];

/// The export's signed statement in its closing line (header version 2): the header's exact bytes, what the
/// export holds, and the checkpoint it ends with — so `contiguous`, the filter and the first entries cannot
/// be changed or cut without the signature failing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportStatement {
    /// Hex SHA-256 of line 1 exactly as written (without its line end).
    pub header_sha256: String,
    pub entries: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    /// Hex ed25519 signature by the checkpoint's key over [`ExportStatement::signed_text`].
    pub signature: String,
}

pub const EXPORT_STATEMENT_NAME: &str = "kiosk-journal-export-statement";

impl ExportStatement {
    pub fn signed_text(&self, kiosk_id: &str, checkpoint: &Checkpoint) -> String {
        format!(
            "{EXPORT_STATEMENT_NAME} v1\n{kiosk_id}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.header_sha256, self.entries, self.first_seq, self.last_seq, checkpoint.seq, checkpoint.head_hash
        )
    }
}

/// How an export is closed: the checkpoint over its last entry, the signer of its statement (the current
/// epoch's key), and the first epoch whose seal it carries (0 for a file that stands alone; a pull's later
/// pages ask only for seals the puller does not have yet).
pub struct Closing<'a> {
    pub checkpoint: &'a mut dyn FnMut(&Entry) -> Result<Checkpoint, JournalError>,
    pub sign: &'a dyn Fn(&str) -> Result<super::Signed, JournalError>,
    pub seals_from: u64,
}

/// Writes the selected entries to `out`. For JSON lines, `header` (version 3) goes first; after the entries
/// come the seals of epochs `seals_from` up to the one whose key signs, then the closing line: the checkpoint
/// over the last exported entry and the [`ExportStatement`].
pub fn export(
    conn: &Connection,
    filter: &ExportFilter,
    format: ExportFormat,
    header: Option<&ExportHeader>,
    out: &mut dyn Write,
    progress: &dyn Fn(u64),
    closing: Closing<'_>,
) -> Result<ExportSummary, JournalError> {
    let Closing { checkpoint: seal, sign, seals_from } = closing;
    let io = |e: std::io::Error| {
        JournalError::Refused(format!("Cannot write the export ({e}); check the output path and free space."))
    };
    let mut summary = ExportSummary { entries: 0, first_seq: None, last_seq: None, last_hash: None };
    let mut last: Option<Entry> = None;
    let mut header_sha256: Option<String> = None;
    // Takes the entry: the last one is kept for the closing checkpoint without a copy of every entry.
    let mut count = |e: Entry, last: &mut Option<Entry>| {
        summary.entries += 1;
        summary.first_seq.get_or_insert(e.seq);
        if summary.entries.is_multiple_of(10_000) {
            progress(summary.entries);
        }
        *last = Some(e);
    };
    match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(CSV_HEADER).map_err(|e| io(e.into()))?;
            for_each_entry(conn, filter, |e| {
                let (seq, mono) = (e.seq.to_string(), e.mono_ms.to_string());
                w.write_record([
                    seq.as_str(),
                    &e.kiosk_id,
                    &e.boot_id,
                    &e.time_utc,
                    &mono,
                    &e.session_id,
                    &e.kind,
                    e.payload.as_deref().unwrap_or(""),
                    &e.payload_digest,
                    &e.prev_hash,
                    &e.hash,
                ])
                .map_err(|e| io(e.into()))?;
                count(e, &mut last);
                Ok(())
            })?;
            w.flush().map_err(io)?;
        }
        ExportFormat::Jsonl => {
            if let Some(h) = header {
                let line = serde_json::to_vec(h).map_err(|e| io(e.into()))?;
                header_sha256 = Some(hex::encode(sha2::Sha256::digest(&line)));
                out.write_all(&line).map_err(io)?;
                out.write_all(b"\n").map_err(io)?;
            }
            for_each_entry(conn, filter, |e| {
                serde_json::to_writer(&mut *out, &e).map_err(|e| io(e.into()))?;
                out.write_all(b"\n").map_err(io)?;
                count(e, &mut last);
                Ok(())
            })?;
        }
    }
    if let Some(e) = &last {
        summary.last_seq = Some(e.seq);
        summary.last_hash = Some(e.hash.clone());
        if format == ExportFormat::Jsonl {
            let cp = seal(e)?;
            let (closing, epoch) = match (header, &header_sha256, summary.first_seq) {
                (Some(h), Some(header_sha256), Some(first_seq)) => {
                    let mut st = ExportStatement {
                        header_sha256: header_sha256.clone(),
                        entries: summary.entries,
                        first_seq,
                        last_seq: e.seq,
                        signature: String::new(),
                    };
                    let signed = sign(&st.signed_text(&h.kiosk_id, &cp))?;
                    st.signature = signed.signature;
                    (serde_json::json!({ "checkpoint": cp, "export": st }), Some(signed.epoch))
                }
                _ => (serde_json::json!({ "checkpoint": cp }), None),
            };
            // The seals up to the signing epoch, read after signing: each of them committed before the key
            // that follows it signed anything.
            for seal in super::schema::seals(conn, seals_from, epoch)? {
                serde_json::to_writer(&mut *out, &super::seal::SealLine { seal }).map_err(|e| io(e.into()))?;
                out.write_all(b"\n").map_err(io)?;
            }
            serde_json::to_writer(&mut *out, &closing).map_err(|e| io(e.into()))?;
            out.write_all(b"\n").map_err(io)?;
        }
    }
    out.flush().map_err(io)?;
    progress(summary.entries);
    Ok(summary)
}

/// Calls `f` for each selected entry in seq order, inside one read transaction:
/// a consistent snapshot even while the kiosk keeps writing.
fn for_each_entry(
    conn: &Connection,
    filter: &ExportFilter,
    mut f: impl FnMut(Entry) -> Result<(), JournalError>,
) -> Result<(), JournalError> {
    conn.execute_batch("BEGIN")?;
    let result = (|| {
        let (sql, args) = filter.sql();
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
        while let Some(row) = rows.next()? {
            f(entry_from_row(row)?)?;
        }
        Ok(())
    })();
    conn.execute_batch("COMMIT")?;
    result
}

/// The companion of a CSV export (`FILE.csv.sig`): the CSV's SHA-256, what it holds, and a checkpoint over
/// its last entry, all signed by the current epoch's key, with the seals that lead to that key from the root.
/// Without it a CSV proves its links, not its completeness.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSignature {
    pub format: String,
    pub version: u32,
    pub kiosk_id: String,
    pub public_key: String,
    pub csv_sha256: String,
    pub entries: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    /// True when no kind filter was applied: no seq may be missing between first and last.
    pub contiguous: bool,
    pub filter: serde_json::Value,
    pub checkpoint: Checkpoint,
    /// Version 2: the seals from epoch 0 up to the one whose key made `signature` (the current one then).
    #[serde(default)]
    pub seals: Vec<super::Seal>,
    /// Hex of the ed25519 signature over [`CsvSignature::signed_text`].
    pub signature: String,
}

pub const CSV_SIGNATURE_FORMAT: &str = "kiosk-journal-csv-signature";

impl CsvSignature {
    /// The exact bytes signed: the format line, then one field per line, each ending in "\n"; `filter` as
    /// compact JSON.
    pub fn signed_text(&self) -> String {
        format!(
            "{CSV_SIGNATURE_FORMAT} v{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.version,
            self.kiosk_id,
            self.csv_sha256,
            self.entries,
            self.first_seq,
            self.last_seq,
            self.contiguous,
            self.filter,
            self.checkpoint.seq,
            self.checkpoint.head_hash
        )
    }

    /// The path of the companion of `csv`.
    pub fn path_for(csv: &std::path::Path) -> std::path::PathBuf {
        let mut p = csv.as_os_str().to_owned();
        p.push(".sig");
        p.into()
    }
}
