//! The journal's SQLite file: pragmas, tables, the guards against edits, and opening it for reading.

use super::chain::Checkpoint;
use super::{Entry, JournalError};
use rusqlite::{Connection, OpenFlags, Row};
use std::path::Path;

pub const FORMAT_VERSION: &str = "1";

/// Column list in the order `Entry` is read from a row.
pub const ENTRY_COLUMNS: &str =
    "seq, kiosk_id, boot_id, time_utc, mono_ms, session_id, kind, payload, payload_digest, prev_hash, hash";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS entries (
    seq            INTEGER PRIMARY KEY,
    kiosk_id       TEXT NOT NULL,
    boot_id        TEXT NOT NULL,
    time_utc       TEXT NOT NULL,
    mono_ms        INTEGER NOT NULL,
    session_id     TEXT NOT NULL,
    kind           TEXT NOT NULL,
    payload        TEXT,
    payload_digest TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS entries_time ON entries(time_utc);
CREATE INDEX IF NOT EXISTS entries_kind ON entries(kind);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq        INTEGER PRIMARY KEY,
    kiosk_id   TEXT NOT NULL,
    head_hash  TEXT NOT NULL,
    time_utc   TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL
) STRICT;
-- Audit records are never deleted or rewritten (GB/T 22239 level 3); only a
-- payload may be cleared after its retention period. The chain catches anyone
-- who drops these guards.
CREATE TRIGGER IF NOT EXISTS entries_never_deleted BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'journal entries are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS entries_only_purged BEFORE UPDATE ON entries
WHEN NEW.seq IS NOT OLD.seq OR NEW.kiosk_id IS NOT OLD.kiosk_id OR NEW.boot_id IS NOT OLD.boot_id
  OR NEW.time_utc IS NOT OLD.time_utc OR NEW.mono_ms IS NOT OLD.mono_ms OR NEW.session_id IS NOT OLD.session_id
  OR NEW.kind IS NOT OLD.kind OR NEW.payload_digest IS NOT OLD.payload_digest
  OR NEW.prev_hash IS NOT OLD.prev_hash OR NEW.hash IS NOT OLD.hash
  OR (NEW.payload IS NOT NULL AND NEW.payload IS NOT OLD.payload)
BEGIN SELECT RAISE(ABORT, 'journal entries are never rewritten; only payloads are purged'); END;
-- A payload is cleared only once its entry is past the legal retention floor (180 days), by the journal's
-- clock: kiosk_purge_cutoff() exists only on the writer's connection, so any other connection's attempt to
-- clear a payload fails (issue #28: the purge's path was open to any entry).
CREATE TRIGGER IF NOT EXISTS entries_purged_only_when_due BEFORE UPDATE OF payload ON entries
WHEN NEW.payload IS NULL AND OLD.payload IS NOT NULL AND OLD.time_utc >= kiosk_purge_cutoff()
BEGIN SELECT RAISE(ABORT, 'a payload is purged only after the retention period (180 days at least)'); END;
-- Signed checkpoints are evidence too: a second signature over the same seq is ignored, never swapped in.
CREATE TRIGGER IF NOT EXISTS checkpoints_never_deleted BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'signed checkpoints are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_never_rewritten BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'signed checkpoints are never rewritten'); END;
-- Forward-secure seals: epoch n's key signs the head and epoch n+1's public key, then is erased.
CREATE TABLE IF NOT EXISTS seals (
    epoch           INTEGER PRIMARY KEY,
    kiosk_id        TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    head_hash       TEXT NOT NULL,
    time_utc        TEXT NOT NULL,
    public_key      TEXT NOT NULL,
    next_public_key TEXT NOT NULL,
    signature       TEXT NOT NULL,
    policy          TEXT
) STRICT;
CREATE TRIGGER IF NOT EXISTS seals_never_deleted BEFORE DELETE ON seals
BEGIN SELECT RAISE(ABORT, 'seals are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS seals_never_rewritten BEFORE UPDATE ON seals
BEGIN SELECT RAISE(ABORT, 'seals are never rewritten'); END;
";

/// Opens (creating if needed) the journal for writing: pragmas, quick_check, schema, owner check.
pub fn open_for_writing(path: &Path, kiosk_id: &str) -> Result<Connection, JournalError> {
    // Switching to WAL and recovering the WAL index can meet another process's close (which checkpoints
    // and removes the WAL under an exclusive lock) and answer SQLITE_BUSY at once, without the busy
    // handler: try again for as long as the busy timeout would have waited.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match try_open_for_writing(path, kiosk_id) {
            Err(JournalError::Open { source, .. })
                if std::time::Instant::now() < deadline
                    && matches!(
                        source.sqlite_error_code(),
                        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                    ) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

fn try_open_for_writing(path: &Path, kiosk_id: &str) -> Result<Connection, JournalError> {
    let open_err = |source| JournalError::Open { path: path.to_owned(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| open_err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
    }
    let existed = path.exists();
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(open_err)?;
    if existed {
        // Check before changing anything, so a damaged file stays as it was for staff.
        quick_check(&conn, path)?;
    }
    register_purge_cutoff(&conn).map_err(open_err)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA cell_size_check = ON;",
    )
    .map_err(open_err)?;
    // All of the schema or none of it, even if the power goes during the first start.
    conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;")).map_err(open_err)?;
    // A journal from before seals announced policies gets the column (its old seals keep NULL).
    if !has_column(&conn, "seals", "policy").map_err(open_err)? {
        conn.execute_batch("ALTER TABLE seals ADD COLUMN policy TEXT").map_err(open_err)?;
    }
    conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('kiosk_id', ?1)", [kiosk_id]).map_err(open_err)?;
    conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('format_version', ?1)", [FORMAT_VERSION])
        .map_err(open_err)?;
    let owner: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'kiosk_id'", [], |r| r.get(0)).map_err(open_err)?;
    if owner != kiosk_id {
        return Err(JournalError::ForeignKiosk { path: path.to_owned(), found: owner, expected: kiosk_id.to_owned() });
    }
    Ok(conn)
}

/// The purge guard's clock (see the `entries_purged_only_when_due` trigger): the time before which an entry
/// is past the legal retention floor.
fn register_purge_cutoff(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function("kiosk_purge_cutoff", 0, rusqlite::functions::FunctionFlags::SQLITE_UTF8, |_| {
        let floor = jiff::SignedDuration::from_hours(24 * i64::from(super::MIN_RETENTION_DAYS));
        Ok(super::now().checked_sub(floor).map(super::format_utc).unwrap_or_default())
    })
}

fn quick_check(conn: &Connection, path: &Path) -> Result<(), JournalError> {
    let corrupt = |detail: String| JournalError::Corrupt { path: path.to_owned(), detail };
    // A file another process holds locked is busy, not damaged.
    let failed = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            JournalError::Open { path: path.to_owned(), source: e }
        }
        _ => corrupt(e.to_string()),
    };
    let mut stmt = conn.prepare("PRAGMA quick_check").map_err(failed)?;
    let rows: Vec<String> = stmt.query_map([], |r| r.get(0)).and_then(|rows| rows.collect()).map_err(failed)?;
    match rows.as_slice() {
        [ok] if ok == "ok" => Ok(()),
        other => Err(corrupt(other.join("; "))),
    }
}

/// Opens an existing journal read-only (export, verify, find), checking it first.
pub fn open_read_only(path: &Path) -> Result<Connection, JournalError> {
    let open_err = |source| JournalError::Open { path: path.to_owned(), source };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(open_err)?;
    checked(conn, path)
}

/// Opens the running kiosk's own journal for reading (waiting counts, ticket look-ups, the staff API).
/// No quick check: the writer ran one when it opened the file, and a check reads the whole file, which a
/// 180-day journal makes tens of milliseconds on every call-next. Tools that open a journal cold use
/// [`open_read_only`].
pub fn open_reader(path: &Path) -> Result<Connection, JournalError> {
    let open_err = |source| JournalError::Open { path: path.to_owned(), source };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(open_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(open_err)?;
    Ok(conn)
}

/// Opens a journal to verify it, writing nothing anywhere: a file with no -wal beside it (a copy carried
/// off the box, a read-only stick) is opened immutable, so SQLite creates no -wal or -shm; a live journal
/// (its -wal present) is opened read-only as the kiosk's own readers are. No quick check: verifying reads
/// every row anyway (damage shows there), and the check alone took as long as the hashing.
pub fn open_for_verify(path: &Path) -> Result<Connection, JournalError> {
    let open_err = |source| JournalError::Open { path: path.to_owned(), source };
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if Path::new(&wal).exists() {
        let conn = open_reader(path)?;
        return journal_tables(conn, path);
    }
    let absolute =
        std::path::absolute(path).map_err(|e| open_err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
    // A URI names the file: characters that mean something in a URI are escaped.
    let mut uri = String::from("file:");
    for b in absolute.as_os_str().as_encoded_bytes() {
        match b {
            b'/' | b'-' | b'_' | b'.' | b'~' => uri.push(*b as char),
            b if b.is_ascii_alphanumeric() => uri.push(*b as char),
            b => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri.push_str("?immutable=1");
    let conn = Connection::open_with_flags(
        &uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(open_err)?;
    journal_tables(conn, path)
}

/// Refuses a database that is not a journal, and maps it into memory for a fast read.
fn journal_tables(conn: Connection, path: &Path) -> Result<Connection, JournalError> {
    let corrupt = |e: rusqlite::Error| JournalError::Corrupt { path: path.to_owned(), detail: e.to_string() };
    // Reading through a mapping spares a copy of every page; a failure just leaves ordinary reads.
    let _ = conn.query_row("PRAGMA mmap_size = 1073741824", [], |_| Ok(()));
    if !has_table(&conn, "entries").map_err(corrupt)? {
        return Err(JournalError::Corrupt {
            path: path.to_owned(),
            detail: "it has no entries table: not a kiosk journal".into(),
        });
    }
    Ok(conn)
}

fn checked(conn: Connection, path: &Path) -> Result<Connection, JournalError> {
    let open_err = |source| JournalError::Open { path: path.to_owned(), source };
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(open_err)?;
    quick_check(&conn, path)?;
    let has_entries: bool = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'entries'", [], |r| {
            r.get::<_, i64>(0).map(|n| n == 1)
        })
        .map_err(|e| JournalError::Corrupt { path: path.to_owned(), detail: e.to_string() })?;
    if !has_entries {
        return Err(JournalError::Corrupt {
            path: path.to_owned(),
            detail: "it has no entries table: not a kiosk journal".into(),
        });
    }
    Ok(conn)
}

pub fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        seq: r.get::<_, i64>(0)? as u64,
        kiosk_id: r.get(1)?,
        boot_id: r.get(2)?,
        time_utc: r.get(3)?,
        mono_ms: r.get(4)?,
        session_id: r.get(5)?,
        kind: r.get(6)?,
        payload: r.get(7)?,
        payload_digest: r.get(8)?,
        prev_hash: r.get(9)?,
        hash: r.get(10)?,
    })
}

/// The columns [`seal_from_row`] reads, in its order (a file from before policies has no `policy`).
fn seal_columns(conn: &Connection) -> rusqlite::Result<&'static str> {
    Ok(if has_column(conn, "seals", "policy")? {
        "kiosk_id, epoch, seq, head_hash, time_utc, public_key, next_public_key, signature, policy"
    } else {
        "kiosk_id, epoch, seq, head_hash, time_utc, public_key, next_public_key, signature, NULL"
    })
}

fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) = 1 FROM pragma_table_info(?1) WHERE name = ?2", [table, column], |r| r.get(0))
}

pub fn seal_from_row(r: &Row<'_>) -> rusqlite::Result<super::seal::Seal> {
    Ok(super::seal::Seal {
        kiosk_id: r.get(0)?,
        epoch: r.get::<_, i64>(1)? as u64,
        seq: r.get::<_, i64>(2)? as u64,
        head_hash: r.get(3)?,
        time_utc: r.get(4)?,
        public_key: r.get(5)?,
        next_public_key: r.get(6)?,
        signature: r.get(7)?,
        policy: match r.get::<_, Option<String>>(8)? {
            None => None,
            Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    8,
                    rusqlite::types::Type::Text,
                    format!(
                        "the seal of epoch {}'s policy {text:?} is not a policy ({e})",
                        r.get::<_, i64>(1).unwrap_or(-1)
                    )
                    .into(),
                )
            })?),
        },
    })
}

/// Seals of epochs `from..to` (to: None for all), in epoch order. An old journal without the table has none.
pub fn seals(conn: &Connection, from: u64, to: Option<u64>) -> rusqlite::Result<Vec<super::seal::Seal>> {
    if !has_table(conn, "seals")? {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM seals WHERE epoch >= ?1 AND (?2 IS NULL OR epoch < ?2) ORDER BY epoch",
        seal_columns(conn)?
    );
    conn.prepare_cached(&sql)?.query_map(rusqlite::params![from as i64, to.map(|t| t as i64)], seal_from_row)?.collect()
}

/// The newest seal, if any.
pub fn last_seal(conn: &Connection) -> rusqlite::Result<Option<super::seal::Seal>> {
    if !has_table(conn, "seals")? {
        return Ok(None);
    }
    let sql = format!("SELECT {} FROM seals ORDER BY epoch DESC LIMIT 1", seal_columns(conn)?);
    match conn.query_row(&sql, [], seal_from_row) {
        Ok(s) => Ok(Some(s)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn insert_seal(conn: &Connection, s: &super::seal::Seal) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO seals (epoch, kiosk_id, seq, head_hash, time_utc, public_key, next_public_key, signature, policy)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(rusqlite::params![
        s.epoch as i64,
        s.kiosk_id,
        s.seq as i64,
        s.head_hash,
        s.time_utc,
        s.public_key,
        s.next_public_key,
        s.signature,
        s.policy.map(|p| serde_json::to_string(&p).unwrap_or_default()),
    ])?;
    Ok(())
}

pub fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) = 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |r| r.get(0))
}

/// A `meta` value, if set.
pub fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    match conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get::<_, String>(0)) {
        Ok(v) => Ok(Some(v)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The last entry's seq and hash, or (0, genesis) for an empty journal.
pub fn head(conn: &Connection) -> rusqlite::Result<(u64, [u8; 32])> {
    let row: Option<(i64, String)> = conn
        .query_row("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
    Ok(match row {
        None => (0, super::chain::GENESIS),
        Some((seq, hash)) => {
            let mut h = [0u8; 32];
            hex::decode_to_slice(&hash, &mut h)
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e)))?;
            (seq as u64, h)
        }
    })
}

/// The columns [`checkpoint_from_row`] reads, in its order.
pub(crate) const CHECKPOINT_COLUMNS: &str = "kiosk_id, seq, head_hash, time_utc, public_key, signature";

pub(crate) fn checkpoint_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Checkpoint> {
    Ok(Checkpoint {
        kiosk_id: r.get(0)?,
        seq: r.get::<_, i64>(1)? as u64,
        head_hash: r.get(2)?,
        time_utc: r.get(3)?,
        public_key: r.get(4)?,
        signature: r.get(5)?,
    })
}

/// The newest signed checkpoint, or the one at `seq` when given.
pub fn stored_checkpoint(conn: &Connection, seq: Option<u64>) -> rusqlite::Result<Option<Checkpoint>> {
    let sql =
        format!("SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE ?1 IS NULL OR seq = ?1 ORDER BY seq DESC LIMIT 1");
    let row = conn.query_row(&sql, [seq.map(|s| s as i64)], checkpoint_from_row);
    match row {
        Ok(cp) => Ok(Some(cp)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) fn insert_checkpoint(conn: &Connection, cp: &Checkpoint) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO checkpoints (seq, kiosk_id, head_hash, time_utc, public_key, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![cp.seq as i64, cp.kiosk_id, cp.head_hash, cp.time_utc, cp.public_key, cp.signature],
    )?;
    Ok(())
}
