//! The journal against a real SQLite file: durability contract, group commit, rollback, disk full, checkpoints.

use kiosk::journal::{EntryKind, Journal, JournalError, JournalSettings, NewEntry, Verdict, verify_path};
use serde_json::json;
use std::path::Path;

fn settings(dir: &Path) -> JournalSettings {
    JournalSettings {
        kiosk_id: "test-kiosk".into(),
        path: dir.join("journal.sqlite3"),
        secret_path: dir.join("subject.key"),
        signing_key_path: dir.join("checkpoint.ed25519"),
    }
}

fn seqs(path: &Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT seq FROM entries ORDER BY seq").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn assert_intact(path: &Path) -> u64 {
    match verify_path(path, None).unwrap() {
        Verdict::Intact { entries, .. } => entries,
        other => panic!("journal should verify: {other:?}"),
    }
}

#[test]
fn concurrent_appends_get_unique_gap_free_seqs() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(settings(dir.path())).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let j = journal.clone();
            std::thread::spawn(move || {
                (0..200)
                    .map(|i| j.append(NewEntry::new(EntryKind::Evaluation, json!({ "t": t, "i": i }))).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort_unstable();
    assert_eq!(all, (1..=1600).collect::<Vec<u64>>(), "every acknowledged seq is unique and none is skipped");
    drop(journal);
    assert_eq!(seqs(&dir.path().join("journal.sqlite3")).len(), 1600);
    assert_eq!(assert_intact(&dir.path().join("journal.sqlite3")), 1600);
}

#[test]
fn a_refused_unit_of_work_changes_nothing_and_others_commit() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(settings(dir.path())).unwrap();
    journal.append(NewEntry::new(EntryKind::Boot, json!({}))).unwrap();
    let err = journal
        .transact(|conn| {
            conn.execute_batch("CREATE TABLE IF NOT EXISTS scratch (x INTEGER); INSERT INTO scratch VALUES (1);")?;
            Err::<(Vec<NewEntry>, ()), _>(JournalError::Refused("Band exhausted.".into()))
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "Band exhausted.");
    let seq = journal.append(NewEntry::new(EntryKind::Shutdown, json!({}))).unwrap();
    assert_eq!(seq, 2, "the refused work took no seq");
    drop(journal);
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let scratch: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'scratch'", [], |r| r.get(0)).unwrap();
    assert_eq!(scratch, 0, "what the refused work wrote was rolled back");
}

#[test]
fn a_full_disk_reaches_the_caller_and_nothing_is_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(settings(dir.path())).unwrap();
    journal.append(NewEntry::new(EntryKind::Boot, json!({}))).unwrap();
    // Cap the file at its current size: the next large write fails like a full disk.
    journal
        .transact(|conn| {
            let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
            Ok((vec![], ()))
        })
        .unwrap();
    let big = "x".repeat(64 * 1024);
    let err = journal.append(NewEntry::new(EntryKind::DeviceFault, json!({ "detail": big }))).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("nothing of it was saved") && msg.contains("disk"), "{msg}");
    drop(journal);
    assert_eq!(seqs(&dir.path().join("journal.sqlite3")), vec![1]);
    assert_intact(&dir.path().join("journal.sqlite3"));
}

#[test]
fn checkpoints_every_thousand_entries_and_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(settings(dir.path())).unwrap();
    for i in 0..2_100 {
        journal.append(NewEntry::new(EntryKind::Evaluation, json!({ "i": i }))).unwrap();
    }
    let cp = journal.checkpoint().unwrap().unwrap();
    assert_eq!(cp.seq, 2_100);
    drop(journal);
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let cps: Vec<i64> = conn
        .prepare("SELECT seq FROM checkpoints ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(cps.iter().any(|&s| (1_000..1_100).contains(&s)), "a checkpoint near seq 1000: {cps:?}");
    assert!(cps.iter().any(|&s| (2_000..2_100).contains(&s)), "a checkpoint near seq 2000: {cps:?}");
    assert_eq!(cps.last(), Some(&2_100));
}

#[test]
fn entries_cannot_be_deleted_or_rewritten_through_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(settings(dir.path())).unwrap();
    journal.append(NewEntry::new(EntryKind::Boot, json!({ "a": 1 }))).unwrap();
    drop(journal);
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    assert!(conn.execute("DELETE FROM entries", []).is_err());
    assert!(conn.execute("UPDATE entries SET kind = 'x'", []).is_err());
    assert!(conn.execute("UPDATE entries SET payload = '{}'", []).is_err());
    assert_eq!(conn.execute("UPDATE entries SET payload = NULL", []).unwrap(), 1, "purging a payload is allowed");
    drop(conn);
    assert_intact(&dir.path().join("journal.sqlite3"));
}

#[test]
fn a_damaged_file_stops_the_kiosk_and_stays_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite3");
    let journal = Journal::open(settings(dir.path())).unwrap();
    for i in 0..500 {
        journal.append(NewEntry::new(EntryKind::Evaluation, json!({ "i": i, "pad": "p".repeat(200) }))).unwrap();
    }
    drop(journal);
    // Fold the WAL in, then scribble over an interior page.
    rusqlite::Connection::open(&path).unwrap().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096 * 5;
    bytes[page..page + 4096].iter_mut().for_each(|b| *b = 0x5a);
    std::fs::write(&path, &bytes).unwrap();
    let err = Journal::open(settings(dir.path())).unwrap_err().to_string();
    assert!(err.contains("integrity check") && err.contains("left the file untouched"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the damaged file is exactly as it was");
}

#[test]
fn a_journal_of_another_kiosk_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Journal::open(settings(dir.path())).unwrap());
    let mut other = settings(dir.path());
    other.kiosk_id = "other-kiosk".into();
    let err = Journal::open(other).unwrap_err().to_string();
    assert!(err.contains("belongs to kiosk \"test-kiosk\""), "{err}");
}

#[test]
fn purge_clears_old_payloads_from_disk_and_keeps_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite3");
    let journal = Journal::open(settings(dir.path())).unwrap();
    for i in 0..50 {
        journal.append(NewEntry::new(EntryKind::Evaluation, json!({ "marker": format!("PURGEME-{i:04}") }))).unwrap();
    }
    // Two hundred days from now, everything above is past a 180-day retention.
    let later = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(24 * 200)).unwrap();
    let summary = kiosk::journal::purge(&journal, 90, later).unwrap();
    assert_eq!(summary.retention_days, 180, "never under 180 days, whatever is asked");
    assert_eq!(summary.payloads_cleared, 50);
    drop(journal);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let left: i64 = conn.query_row("SELECT count(*) FROM entries WHERE payload IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 1, "only the retention_purge entry itself keeps its payload");
    drop(conn);
    assert_eq!(assert_intact(&path), 51);
    for file in ["journal.sqlite3", "journal.sqlite3-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(file)) {
            assert!(!bytes.windows(8).any(|w| w == b"PURGEME-"), "{file} still holds purged text");
        }
    }
}
