//! The journal against a real SQLite file: durability contract, group commit, rollback, disk full, seals.

use kiosk::journal::{EntryKind, Journal, JournalError, JournalSettings, NewEntry, Verdict, verify_path};
use serde_json::json;
use std::path::Path;

fn settings(dir: &Path) -> JournalSettings {
    JournalSettings::in_dir("test-kiosk", dir)
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
    // Grouped requests from eight threads: the group's transaction ends where the epoch does, so the seals
    // fall on every 200th entry exactly (before, a group ran past it by up to 511 requests).
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let sealed: Vec<i64> = conn
        .prepare("SELECT seq FROM seals ORDER BY epoch")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(sealed, (1..=8).map(|n| n * 200).collect::<Vec<i64>>());
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

/// The secret bytes of the key file as it is now (epoch files: magic, epoch, secret; the root: the secret).
fn current_secret(dir: &Path) -> Vec<u8> {
    let bytes = std::fs::read(dir.join("checkpoint.ed25519")).unwrap();
    bytes[bytes.len() - 32..].to_vec()
}

/// Whether any file in `dir` holds `needle`.
fn anywhere_in(dir: &Path, needle: &[u8]) -> Option<String> {
    std::fs::read_dir(dir).unwrap().flatten().find_map(|e| {
        let bytes = std::fs::read(e.path()).ok()?;
        bytes.windows(needle.len()).any(|w| w == needle).then(|| e.file_name().to_string_lossy().into_owned())
    })
}

#[test]
fn epochs_end_every_200_entries_at_session_end_and_at_close_and_each_old_key_is_erased() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(settings(dir.path())).unwrap();
    let root = journal.public_key().to_owned();
    let root_secret = current_secret(dir.path());
    assert_eq!(
        hex::encode(
            ed25519_dalek::SigningKey::from_bytes(&root_secret.clone().try_into().unwrap()).verifying_key().as_bytes()
        ),
        root,
        "on day one the key file holds the root key"
    );
    let mut secrets = vec![root_secret];
    for i in 0..450 {
        journal.append(NewEntry::new(EntryKind::Evaluation, json!({ "i": i }))).unwrap();
        let now = current_secret(dir.path());
        if *secrets.last().unwrap() != now {
            secrets.push(now);
        }
    }
    journal.append(NewEntry::new(EntryKind::SessionEnd, json!({ "reason": "completed" }))).unwrap();
    let cp = journal.checkpoint().unwrap().unwrap();
    journal.append(NewEntry::new(EntryKind::Evaluation, json!({ "last": true }))).unwrap();
    drop(journal);

    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let seals = kiosk::journal::schema::seals(&conn, 0, None).unwrap();
    let at: Vec<(u64, u64)> = seals.iter().map(|s| (s.epoch, s.seq)).collect();
    assert_eq!(at, vec![(0, 200), (1, 400), (2, 451), (3, 452)], "200 entries, a session end, and the close");
    assert_eq!(seals[0].public_key, root, "epoch 0 is sealed by the root key");
    assert_eq!(cp.public_key, seals[2].next_public_key, "checkpoints are signed by the current epoch's key");
    assert!(conn.execute("DELETE FROM seals", []).is_err(), "seals cannot be deleted through SQLite");
    assert!(conn.execute("UPDATE seals SET seq = 1", []).is_err(), "nor rewritten");
    drop(conn);

    // Only the current epoch's key is left, and no earlier key's bytes are in any file beside it.
    let bytes = std::fs::read(dir.path().join("checkpoint.ed25519")).unwrap();
    assert_eq!(&bytes[..4], b"KEK2");
    assert_eq!(u64::from_be_bytes(bytes[4..12].try_into().unwrap()), 4);
    assert_eq!(hex::encode(&bytes[12..44]), root, "every epoch's key file names the journal by its root key");
    assert!(!dir.path().join("checkpoint.ed25519.next").exists());
    assert!(secrets.len() >= 3, "the key changed at each seal");
    for (epoch, secret) in secrets.iter().enumerate() {
        assert_eq!(anywhere_in(dir.path(), secret), None, "the key of epoch {epoch} is erased");
    }
    match kiosk::journal::verify_path(
        &dir.path().join("journal.sqlite3"),
        Some(&kiosk::journal::chain::parse_public_key(&root).unwrap()),
    ) {
        Ok(Verdict::Intact { seals: 4, sealed_through: Some(452), unsealed: 0, .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_interrupted_hand_over_is_finished_and_an_uncommitted_next_key_is_erased() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("checkpoint.ed25519");
    let next = dir.path().join("checkpoint.ed25519.next");
    let journal = Journal::open(settings(dir.path())).unwrap();
    let root = kiosk::journal::chain::parse_public_key(journal.public_key()).unwrap();
    journal.append(NewEntry::new(EntryKind::Boot, json!({ "n": 1 }))).unwrap();
    drop(journal);
    let epoch1 = std::fs::read(&key).unwrap();

    // A seal that never committed left its next key beside the current one: erased at the next start.
    let stray = [b"KEK1".as_slice(), &2u64.to_be_bytes(), &[9u8; 32]].concat();
    std::fs::write(&next, &stray).unwrap();
    let journal = Journal::open(settings(dir.path())).unwrap();
    assert_eq!(journal.key_problem(), None);
    assert!(!next.exists(), "the uncommitted key is gone");
    assert_eq!(std::fs::read(&key).unwrap(), epoch1, "the current key stays");
    journal.append(NewEntry::new(EntryKind::Boot, json!({ "n": 2 }))).unwrap();
    drop(journal);
    let epoch2 = std::fs::read(&key).unwrap();
    assert_ne!(epoch2, epoch1);

    // The stop fell between a seal's commit and the hand-over: the old key in place, the next beside it.
    std::fs::rename(&key, &next).unwrap();
    std::fs::write(&key, &epoch1).unwrap();
    let journal = Journal::open(settings(dir.path())).unwrap();
    assert_eq!(journal.key_problem(), None, "the hand-over is finished, not reported");
    drop(journal);
    assert_eq!(std::fs::read(&key).unwrap(), epoch2);
    assert!(!next.exists());
    assert_eq!(anywhere_in(dir.path(), &epoch1[epoch1.len() - 32..]), None, "epoch 1's key is erased");
    match verify_path(&dir.path().join("journal.sqlite3"), Some(&root)) {
        Ok(Verdict::Intact { seals: 2, unsealed: 0, .. }) => {}
        other => panic!("{other:?}"),
    }
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
    // Purging is the writer's alone, and only when due (it used to be open to any entry from any connection).
    let purge = conn.execute("UPDATE entries SET payload = NULL", []).unwrap_err().to_string();
    assert!(purge.contains("kiosk_purge_cutoff"), "{purge}");
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
    // Fifty entries written two hundred days ago (the journal's clock shifted back), then one today.
    kiosk::journal::set_test_clock_offset(-jiff::SignedDuration::from_hours(24 * 200));
    let journal = Journal::open(settings(dir.path())).unwrap();
    for i in 0..50 {
        journal.append(NewEntry::new(EntryKind::Evaluation, json!({ "marker": format!("PURGEME-{i:04}") }))).unwrap();
    }
    kiosk::journal::set_test_clock_offset(jiff::SignedDuration::ZERO);
    let young = journal.append(NewEntry::new(EntryKind::Evaluation, json!({ "marker": "KEEP" }))).unwrap();
    // The guard: a young payload cannot be cleared, not even through the writer's own connection.
    let refused = journal
        .transact(move |conn| {
            conn.execute("UPDATE entries SET payload = NULL WHERE seq = ?1", [young as i64])?;
            Ok((vec![], ()))
        })
        .unwrap_err()
        .to_string();
    assert!(refused.contains("a payload is purged only after the retention period"), "{refused}");
    // Today, everything written two hundred days ago is past a 180-day retention.
    let summary = kiosk::journal::purge(&journal, 90, jiff::Timestamp::now()).unwrap();
    assert_eq!(summary.retention_days, 180, "never under 180 days, whatever is asked");
    assert_eq!(summary.payloads_cleared, 50);
    drop(journal);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let left: i64 = conn.query_row("SELECT count(*) FROM entries WHERE payload IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 2, "only the young entry and the retention_purge entry itself keep their payloads");
    // Another connection (sqlite3, a tool) cannot clear a payload at all: the guard's clock is the writer's.
    let other = conn.execute("UPDATE entries SET payload = NULL WHERE seq = ?1", [young as i64]).unwrap_err();
    assert!(other.to_string().contains("kiosk_purge_cutoff"), "{other}");
    drop(conn);
    assert_eq!(assert_intact(&path), 52);
    match kiosk::journal::verify_database(&path, None, &mut |_| true).unwrap() {
        Verdict::Intact { purged: 50, .. } => {}
        other => panic!("{other:?}"),
    }
    for file in ["journal.sqlite3", "journal.sqlite3-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(file)) {
            assert!(!bytes.windows(8).any(|w| w == b"PURGEME-"), "{file} still holds purged text");
        }
    }
}

/// Two configurations naming the same signing key file: a new journal over another journal's key file
/// (past its first epoch) is refused at start with what to do, and nothing is journaled; it used to start
/// sealing at that key's epoch, unverifiable from its first seal ("the seal of epoch 0 is missing").
#[test]
fn a_new_journal_over_another_journals_key_file_is_refused() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = Journal::open(settings(a.path())).unwrap();
    for n in 0..3 {
        // Each session end seals an epoch and hands the key file on to the next.
        first.append(NewEntry::new(EntryKind::SessionEnd, json!({ "reason": "completed", "n": n }))).unwrap();
    }
    first.close();
    let mut shared = settings(b.path());
    shared.signing_key_path = settings(a.path()).signing_key_path;
    let err = Journal::open(shared).unwrap_err().to_string();
    assert!(err.contains("another journal's keys") && err.contains("signing_key_path"), "{err}");
    let entries = rusqlite::Connection::open(b.path().join("journal.sqlite3"))
        .and_then(|c| c.query_row("SELECT count(*) FROM entries", [], |r| r.get::<_, i64>(0)))
        .unwrap_or(0);
    assert_eq!(entries, 0, "nothing journaled");
    // The first journal still opens with its own key and verifies.
    let again = Journal::open(settings(a.path())).unwrap();
    again.close();
    assert!(assert_intact(&a.path().join("journal.sqlite3")) >= 3);
}

/// Issue #28 item 5: each key file names the journal it belongs to. A journal whose configuration names
/// another journal's key file — sealed or not — refuses to start, writes nothing, and leaves the other's key
/// as it was; doctor and config check say the same. It used to seal with the other's key (this journal
/// unverifiable) and erase it at the next hand-over (the other's sealing broken).
#[test]
fn a_journal_refuses_another_journals_key_file_and_leaves_it_alone() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [a.path(), b.path()] {
        let j = Journal::open(settings(dir)).unwrap();
        j.append(NewEntry::new(EntryKind::SessionEnd, json!({ "reason": "completed" }))).unwrap();
        j.close();
    }
    let a_key = settings(a.path()).signing_key_path;
    let a_bytes = std::fs::read(&a_key).unwrap();
    assert_eq!(&a_bytes[..4], b"KEK2", "the key file names its journal");
    let b_db = b.path().join("journal.sqlite3");
    let before = seqs(&b_db);
    let mut shared = settings(b.path());
    shared.signing_key_path = a_key.clone();
    let err = Journal::open(shared).unwrap_err().to_string();
    assert!(err.contains("belongs to another journal") && err.contains("signing_key_path"), "{err}");
    assert_eq!(seqs(&b_db), before, "nothing written");
    assert_eq!(std::fs::read(&a_key).unwrap(), a_bytes, "the other journal's key is untouched");
    // Read-only, as config check and doctor see it.
    let conn = kiosk::journal::open_read_only(&b_db).unwrap();
    let what = kiosk::journal::foreign_key_file(&conn, &a_key).unwrap().expect("another journal's key");
    assert!(what.contains("belongs to another journal"), "{what}");
    let problem = kiosk::journal::key_state_problem(&conn, &a_key).unwrap().expect("doctor's finding");
    assert!(problem.what.contains("belongs to another journal"), "{problem}");
    assert_eq!(kiosk::journal::foreign_key_file(&conn, &settings(b.path()).signing_key_path).unwrap(), None);
    // Both journals still open with their own keys and verify.
    for dir in [a.path(), b.path()] {
        Journal::open(settings(dir)).unwrap().close();
        assert!(assert_intact(&dir.join("journal.sqlite3")) >= 1);
    }
}
