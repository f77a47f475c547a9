//! The journal served a page at a time, as the staff API answers the county's pull: read-only connections
//! kept warm between requests, and a page as a JSON-lines export that verifies on its own (its header, the
//! entries, the seals the puller lacks, a signed checkpoint over its last entry).

use crate::export::{Closing, ExportHeader};
use crate::{ExportFilter, ExportFormat, Journal, JournalError};
use serde_json::Value;

/// A pull's default and largest page.
pub const DEFAULT_PAGE: u64 = 500;
pub const MAX_PAGE: u64 = 5000;
/// Read-only connections to the journal kept between requests (a page's read transaction and statement
/// cache stay warm). A connection whose work failed is dropped, not reused.
pub struct Readers {
    path: std::path::PathBuf,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
}

impl Readers {
    /// Most connections kept idle (one per request in hand at most is ever open).
    const KEEP: usize = 8;

    pub fn new(journal: &Journal) -> Readers {
        Readers { path: journal.settings().path.clone(), idle: std::sync::Mutex::default() }
    }

    pub fn with<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> Result<T, JournalError>) -> Result<T, JournalError> {
        let conn = match self.idle.lock().ok().and_then(|mut v| v.pop()) {
            Some(c) => c,
            None => crate::open_reader(&self.path)?,
        };
        let result = f(&conn);
        if result.is_ok()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < Self::KEEP
        {
            idle.push(conn);
        }
        result
    }
}

/// The journal's newest seq (0 when empty).
pub fn head_seq(readers: &Readers) -> Result<u64, JournalError> {
    readers.with(|c| Ok(crate::schema::head(c)?.0))
}

/// Entries after `after_seq`, at most `limit`, as a JSON-lines export: the header, the entries, the seals
/// from epoch `seals_from` on, and a signed checkpoint over the page's last entry (the one stored for it, or a
/// new one). A page with `seals_from` 0 verifies on its own with `kiosk journal verify`; later pages verify
/// with the seals the puller already holds. An empty page is the header alone.
pub fn journal_page(
    journal: &Journal,
    readers: &Readers,
    after_seq: u64,
    limit: u64,
    seals_from: u64,
) -> Result<Vec<u8>, JournalError> {
    readers.with(|conn| page_from(journal, conn, after_seq, limit, seals_from))
}

fn page_from(
    journal: &Journal,
    conn: &rusqlite::Connection,
    after_seq: u64,
    limit: u64,
    seals_from: u64,
) -> Result<Vec<u8>, JournalError> {
    let filter = ExportFilter { after_seq: Some(after_seq), limit: Some(limit), ..ExportFilter::default() };
    let header = ExportHeader::for_journal(journal, true, serde_json::to_value(&filter).unwrap_or(Value::Null));
    let mut out = Vec::with_capacity(limit as usize * 400);
    let closing = Closing {
        checkpoint: &mut |last| match crate::stored_checkpoint(conn, Some(last.seq))? {
            Some(cp) => Ok(cp),
            None => journal.checkpoint_at(last.seq, &last.hash),
        },
        sign: &|text| journal.sign_statement(text),
        seals_from,
    };
    crate::export(conn, &filter, ExportFormat::Jsonl, Some(&header), &mut out, &|_| {}, closing)?;
    Ok(out)
}
