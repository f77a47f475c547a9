//! The transaction journal: one SQLite writer thread, a hash chain over every entry, forward-secure seals, no plaintext personal data.
//!
//! Callers hand entries (or a unit of work that yields entries) to [`Journal`];
//! the writer thread commits them durably — WAL, `synchronous=FULL` — and only
//! then returns their seqs. Requests that arrive while a commit runs are
//! grouped into the next transaction. Every epoch (200 entries, 5 minutes, a
//! session's end or a shutdown) ends with a seal by that epoch's key, which is
//! then erased. The exact bytes of the chain and the seals are in
//! docs/journal-format.md.

pub mod chain;
pub mod epoch_key;
pub mod export;
pub mod integrity;
pub mod keys;
pub mod page;
pub mod payload;
pub mod schema;
pub mod seal;
mod verify;
mod writer;

pub use chain::Checkpoint;
pub use export::{ExportFilter, ExportFormat, ExportSummary, export};
pub use keys::{SubjectKey, mask_id_number, mask_name};
pub use payload::TicketState;
pub use schema::{
    ENTRY_COLUMNS, entry_from_row as schema_entry_from_row, open_read_only, open_reader, stored_checkpoint,
};
pub use seal::Seal;
pub use verify::{
    Verdict, VerifyOptions, verify_database, verify_jsonl_bytes, verify_jsonl_bytes_keeping, verify_path,
    verify_path_with, verify_tail,
};
pub use writer::{
    EpochRule, ExpectedKey, Journal, JournalSettings, KeyProblem, Signed, expected_key, foreign_key_file,
    key_state_problem, set_test_commit_delay,
};

use std::path::PathBuf;

/// What happened. The journal's vocabulary; stored as the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Boot,
    Shutdown,
    ConfigLoaded,
    SessionStart,
    SessionEnd,
    CardRead,
    CardReadFailed,
    TicketIssued,
    TicketPrinted,
    TicketShown,
    TicketPrintFailed,
    TicketReprinted,
    TicketVoided,
    TicketCalled,
    TicketCompleted,
    TicketNoShow,
    TicketTransferred,
    ReceiptPrinted,
    LicencePrintRequested,
    LicencePrinted,
    LicencePrintFailed,
    Evaluation,
    AssistanceCalled,
    DeviceFault,
    DeviceRecovered,
    MaintenanceLogin,
    MaintenanceLoginFailed,
    MaintenanceAction,
    JournalExported,
    RetentionPurge,
    AuthFailed,
    JournalIntegrityFailed,
    CatalogueLoaded,
    CatalogueSearch,
    CatalogueItemViewed,
    GuidePrinted,
    AppointmentCheckedIn,
    DeliveryRequested,
    DeliveryIntent,
    DeliveryFailed,
    SealFailed,
}

impl EntryKind {
    pub const ALL: [EntryKind; 41] = [
        EntryKind::Boot,
        EntryKind::Shutdown,
        EntryKind::ConfigLoaded,
        EntryKind::SessionStart,
        EntryKind::SessionEnd,
        EntryKind::CardRead,
        EntryKind::CardReadFailed,
        EntryKind::TicketIssued,
        EntryKind::TicketPrinted,
        EntryKind::TicketShown,
        EntryKind::TicketPrintFailed,
        EntryKind::TicketReprinted,
        EntryKind::TicketVoided,
        EntryKind::TicketCalled,
        EntryKind::TicketCompleted,
        EntryKind::TicketNoShow,
        EntryKind::TicketTransferred,
        EntryKind::ReceiptPrinted,
        EntryKind::LicencePrintRequested,
        EntryKind::LicencePrinted,
        EntryKind::LicencePrintFailed,
        EntryKind::Evaluation,
        EntryKind::AssistanceCalled,
        EntryKind::DeviceFault,
        EntryKind::DeviceRecovered,
        EntryKind::MaintenanceLogin,
        EntryKind::MaintenanceLoginFailed,
        EntryKind::MaintenanceAction,
        EntryKind::JournalExported,
        EntryKind::RetentionPurge,
        EntryKind::AuthFailed,
        EntryKind::JournalIntegrityFailed,
        EntryKind::CatalogueLoaded,
        EntryKind::CatalogueSearch,
        EntryKind::CatalogueItemViewed,
        EntryKind::GuidePrinted,
        EntryKind::AppointmentCheckedIn,
        EntryKind::DeliveryRequested,
        EntryKind::DeliveryIntent,
        EntryKind::DeliveryFailed,
        EntryKind::SealFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Boot => "boot",
            EntryKind::Shutdown => "shutdown",
            EntryKind::ConfigLoaded => "config_loaded",
            EntryKind::SessionStart => "session_start",
            EntryKind::SessionEnd => "session_end",
            EntryKind::CardRead => "card_read",
            EntryKind::CardReadFailed => "card_read_failed",
            EntryKind::TicketIssued => "ticket_issued",
            EntryKind::TicketPrinted => "ticket_printed",
            EntryKind::TicketShown => "ticket_shown",
            EntryKind::TicketPrintFailed => "ticket_print_failed",
            EntryKind::TicketReprinted => "ticket_reprinted",
            EntryKind::TicketVoided => "ticket_voided",
            EntryKind::TicketCalled => "ticket_called",
            EntryKind::TicketCompleted => "ticket_completed",
            EntryKind::TicketNoShow => "ticket_no_show",
            EntryKind::TicketTransferred => "ticket_transferred",
            EntryKind::ReceiptPrinted => "receipt_printed",
            EntryKind::LicencePrintRequested => "licence_print_requested",
            EntryKind::LicencePrinted => "licence_printed",
            EntryKind::LicencePrintFailed => "licence_print_failed",
            EntryKind::Evaluation => "evaluation",
            EntryKind::AssistanceCalled => "assistance_called",
            EntryKind::DeviceFault => "device_fault",
            EntryKind::DeviceRecovered => "device_recovered",
            EntryKind::MaintenanceLogin => "maintenance_login",
            EntryKind::MaintenanceLoginFailed => "maintenance_login_failed",
            EntryKind::MaintenanceAction => "maintenance_action",
            EntryKind::JournalExported => "journal_exported",
            EntryKind::AuthFailed => "auth_failed",
            EntryKind::JournalIntegrityFailed => "journal_integrity_failed",
            EntryKind::RetentionPurge => "retention_purge",
            EntryKind::CatalogueLoaded => "catalogue_loaded",
            EntryKind::CatalogueSearch => "catalogue_search",
            EntryKind::CatalogueItemViewed => "catalogue_item_viewed",
            EntryKind::GuidePrinted => "guide_printed",
            EntryKind::AppointmentCheckedIn => "appointment_checked_in",
            EntryKind::DeliveryRequested => "delivery_requested",
            EntryKind::DeliveryIntent => "delivery_intent",
            EntryKind::DeliveryFailed => "delivery_failed",
            EntryKind::SealFailed => "seal_failed",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An entry before the journal gives it a seq, times and hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub kind: EntryKind,
    /// The citizen session it belongs to; empty when none.
    pub session_id: String,
    /// Facts about the event. Never an ID number, name, address or photo: use
    /// `subject` (HMAC) and `id_masked` for people.
    pub payload: serde_json::Value,
}

impl NewEntry {
    pub fn new(kind: EntryKind, payload: serde_json::Value) -> Self {
        Self { kind, session_id: String::new(), payload }
    }

    pub fn in_session(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = session_id.into();
        self
    }
}

/// An entry as stored and exported. Read back strictly: an unknown or repeated key is an error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub seq: u64,
    pub kiosk_id: String,
    pub boot_id: String,
    pub time_utc: String,
    pub mono_ms: i64,
    pub session_id: String,
    pub kind: String,
    /// The payload's JSON text; None once purged after the retention period.
    pub payload: Option<String>,
    pub payload_digest: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(
        "Cannot open the journal {path} ({source}). Check that the disk is mounted and writable and that [journal] path is right.",
        path = .path.display()
    )]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "The journal {path} failed SQLite's integrity check ({detail}). The kiosk will not start and has left the file untouched: copy it off the box for county staff, then set a new [journal] path.",
        path = .path.display()
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "The journal {path} belongs to kiosk \"{found}\", not \"{expected}\". Each kiosk keeps its own journal: check [kiosk] id and [journal] path.",
        path = .path.display()
    )]
    ForeignKiosk { path: PathBuf, found: String, expected: String },
    #[error("The key file {path} is unusable: {what}.", path = .path.display())]
    Key { path: PathBuf, what: String },
    #[error(
        "The journal could not record this ({0}); nothing of it was saved. Check free disk space; the transaction was refused."
    )]
    Write(#[from] rusqlite::Error),
    #[error(
        "The journal could not commit ({0}); nothing of it was saved. Check free disk space; the transaction was refused."
    )]
    CommitFailed(String),
    #[error("{0}")]
    Refused(String),
    #[error("The journal writer has stopped, so nothing can be recorded; restart the kiosk.")]
    Stopped,
}

/// The current UTC time as stored in entries: RFC 3339 with milliseconds and `Z`.
pub fn utc_now() -> String {
    format_utc(now())
}

/// A test hook: this process's journals read the clock shifted by this many milliseconds (entries written
/// "200 days ago" for the retention tests). Zero in the kiosk.
static TEST_CLOCK_OFFSET_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Shifts the journal's clock by `offset` in this process (tests only).
#[doc(hidden)]
pub fn set_test_clock_offset(offset: jiff::SignedDuration) {
    TEST_CLOCK_OFFSET_MS.store(offset.as_millis() as i64, std::sync::atomic::Ordering::Relaxed);
}

/// The journal's clock: what entries are stamped with, and what the purge guard measures age against.
pub fn now() -> jiff::Timestamp {
    let offset = TEST_CLOCK_OFFSET_MS.load(std::sync::atomic::Ordering::Relaxed);
    let t = jiff::Timestamp::now();
    if offset == 0 { t } else { t.checked_add(jiff::SignedDuration::from_millis(offset)).unwrap_or(t) }
}

pub fn format_utc(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// What a retention purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeSummary {
    pub before: String,
    pub retention_days: u32,
    pub payloads_cleared: usize,
}

/// Clears the payloads of entries older than `retention_days` (never fewer than 180) before `now`,
/// journals a retention_purge entry in the same transaction, and folds the WAL in so the
/// cleared text is gone from disk (secure_delete overwrites the freed cells).
pub fn purge(journal: &Journal, retention_days: u32, now: jiff::Timestamp) -> Result<PurgeSummary, JournalError> {
    let (_, (before, days, payloads_cleared)) = journal.transact(move |conn| {
        // Never shorter than the newest seal announced for this epoch: the verifier holds the purge to it.
        let announced = schema::last_seal(conn)?.and_then(|s| s.policy).map_or(0, |p| p.retention_days);
        let days = retention_days.max(MIN_RETENTION_DAYS).max(announced);
        let cutoff = now
            .checked_sub(jiff::SignedDuration::from_hours(24 * i64::from(days)))
            .map_err(|e| JournalError::Refused(format!("The retention cutoff is out of range ({e}).")))?;
        let before = format_utc(cutoff);
        let n =
            conn.execute("UPDATE entries SET payload = NULL WHERE time_utc < ?1 AND payload IS NOT NULL", [&before])?;
        let entry =
            payload::RetentionPurge { before: before.clone(), retention_days: days, payloads_cleared: n }.into();
        Ok((vec![entry], (before, days, n)))
    })?;
    let conn = rusqlite::Connection::open(&journal.settings().path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(PurgeSummary { before, retention_days: days, payloads_cleared })
}

/// Logs are kept at least six months (Cybersecurity Law art. 21).
pub const MIN_RETENTION_DAYS: u32 = 180;
