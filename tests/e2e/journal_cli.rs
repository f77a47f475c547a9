//! `kiosk journal` for county staff: export, verify (every tamper case), find, pubkey, purge — real files, real processes.

use crate::support::{config_in, hex32, kiosk, rehash_from, run};
use kiosk::config::Config;
use kiosk::journal::{EntryKind, Journal, JournalSettings, NewEntry};
use serde_json::json;
use std::path::{Path, PathBuf};

const ID_NUMBER: &str = "37132919800101123X";

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    config: PathBuf,
    db: PathBuf,
}

/// A journal with 30 entries, one person's card reads among them.
fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let config = config_in(&dir);
    let journal = Journal::open(JournalSettings::from_config(&Config::load(&config).unwrap())).unwrap();
    let subject = journal.subject_key().subject(ID_NUMBER);
    for i in 0..30 {
        let e = if i % 10 == 3 {
            NewEntry::new(EntryKind::CardRead, json!({ "subject": subject, "id_masked": "371***********123X" }))
        } else {
            NewEntry::new(EntryKind::TicketIssued, json!({ "ticket": format!("A{i:03}") }))
        };
        journal.append(e.in_session(format!("s{}", i / 5))).unwrap();
    }
    drop(journal);
    Fixture { db: dir.join("journal.sqlite3"), _dir: tmp, dir, config }
}

fn export(f: &Fixture, format: &str, extra: &[&str]) -> PathBuf {
    let out = f.dir.join(format!("export-{}.{format}", extra.join("-").replace("--", "")));
    let (code, _, err) = run(kiosk()
        .args(["journal", "export", "--config"])
        .arg(&f.config)
        .args(["--format", format, "--out"])
        .arg(&out)
        .args(extra));
    assert_eq!(code, Some(0), "export: {err}");
    out
}

fn verify(path: &Path, pubkey: Option<&str>) -> (Option<i32>, String) {
    verify_with(path, pubkey, &[])
}

fn verify_with(path: &Path, pubkey: Option<&str>, extra: &[&str]) -> (Option<i32>, String) {
    let mut cmd = kiosk();
    cmd.args(["journal", "verify"]).arg(path).args(extra);
    if let Some(k) = pubkey {
        cmd.args(["--pubkey", k]);
    }
    let (code, out, err) = run(&mut cmd);
    (code, out + &err)
}

fn pubkey(f: &Fixture) -> String {
    let (code, out, err) = run(kiosk().args(["journal", "pubkey", "--config"]).arg(&f.config));
    assert_eq!(code, Some(0), "{err}");
    out.trim().to_owned()
}

#[track_caller]
fn assert_tampered(path: &Path, seq: u64, says: &str) {
    let (code, text) = verify(path, None);
    assert_eq!(code, Some(1), "tampered → exit 1: {text}");
    assert!(text.contains(&format!("TAMPERED at seq {seq}:")), "names seq {seq}: {text}");
    assert!(text.contains(says), "says {says:?}: {text}");
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect()
}

fn write_lines(path: &Path, lines: &[String]) -> PathBuf {
    let out = path.with_extension("edited.jsonl");
    std::fs::write(&out, lines.join("\n") + "\n").unwrap();
    out
}

/// Drops the guards a tamperer would drop first.
fn raw_db(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER entries_never_deleted; DROP TRIGGER entries_only_purged; DROP TRIGGER entries_purged_only_when_due;",
    )
    .unwrap();
    conn
}

#[test]
fn export_and_verify_an_untouched_journal() {
    let f = fixture();
    let key = pubkey(&f);
    let out = export(&f, "jsonl", &[]);
    let l = lines(&out);
    assert_eq!(l.len(), 1 + 30 + 1 + 1, "header, 30 entries, the seal the fixture made at its close, checkpoint");
    assert!(l[0].contains("\"format\":\"kiosk-journal-export\"") && l[0].contains("\"version\":3"));
    assert!(l[1].contains("\"seq\":1,"));
    assert!(l[31].starts_with("{\"seal\":") && l[31].contains("\"epoch\":0,") && l[31].contains("\"seq\":30,"));
    assert!(l[32].starts_with("{\"checkpoint\":") && l[32].contains("\"seq\":30,"));
    let (code, text) = verify(&out, Some(&key));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(
            "intact: 30 entries (seq 1–30), 1 seal(s) walked from the root key, 1 signed checkpoint(s) verified"
        ),
        "{text}"
    );
    assert!(text.contains("sealed through seq 30."), "{text}");
    let (code, text) = verify(&f.db, Some(&key));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("intact: 31 entries"), "the export itself was journaled: {text}");

    let conn = rusqlite::Connection::open(&f.db).unwrap();
    let payload: String =
        conn.query_row("SELECT payload FROM entries WHERE kind = 'journal_exported'", [], |r| r.get(0)).unwrap();
    assert!(payload.contains("\"entries\":30") && payload.contains("\"sha256\""), "{payload}");
}

#[test]
fn csv_export_has_one_row_per_entry() {
    let f = fixture();
    let out = export(&f, "csv", &["--kind", "card_read"]);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut rows = text.lines();
    assert_eq!(
        rows.next().unwrap(),
        "seq,kiosk_id,boot_id,time_utc,mono_ms,session_id,kind,payload,payload_digest,prev_hash,hash"
    );
    let rows: Vec<&str> = rows.collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows.iter().all(|r| r.contains(",card_read,")));
    let (code, text) = verify(&out, None);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("intact: 3 entries"), "{text}");
}

#[test]
fn date_and_kind_filters_select_entries() {
    let f = fixture();
    let out = export(&f, "jsonl", &["--kind", "card_read", "--kind", "ticket_issued", "--from", "2000-01-01"]);
    assert_eq!(lines(&out).len(), 1 + 30 + 1 + 1, "header, 30 entries, a seal, the checkpoint");
    let out = export(&f, "jsonl", &["--to", "2000-01-01"]);
    assert_eq!(lines(&out).len(), 1, "only the header: nothing is that old");
    let (code, _, err) = run(kiosk()
        .args(["journal", "export", "--config"])
        .arg(&f.config)
        .args(["--format", "jsonl", "--out"])
        .arg(f.dir.join("x.jsonl"))
        .args(["--kind", "ticket_eaten"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("--kind ticket_eaten: not an entry kind"), "{err}");
    assert!(!f.dir.join("x.jsonl").exists(), "a refused export writes nothing");
}

#[test]
fn an_edited_field_in_an_export_is_caught() {
    let f = fixture();
    let mut l = lines(&export(&f, "jsonl", &[]));
    l[5] = l[5].replace("\"ticket_issued\"", "\"ticket_voided\"");
    assert_tampered(&write_lines(&f.dir.join("e.jsonl"), &l), 5, "a field of the entry was edited");
}

#[test]
fn an_edited_payload_in_an_export_is_caught() {
    let f = fixture();
    let mut l = lines(&export(&f, "jsonl", &[]));
    assert!(l[2].contains("A001"));
    l[2] = l[2].replace("A001", "A999");
    assert_tampered(&write_lines(&f.dir.join("e.jsonl"), &l), 2, "payload was altered");
}

#[test]
fn a_deleted_entry_in_an_export_is_caught() {
    let f = fixture();
    let mut l = lines(&export(&f, "jsonl", &[]));
    l.remove(10);
    assert_tampered(&write_lines(&f.dir.join("e.jsonl"), &l), 11, "entries 10 to 10 are missing");
}

#[test]
fn a_duplicated_entry_in_an_export_is_caught() {
    let f = fixture();
    let mut l = lines(&export(&f, "jsonl", &[]));
    let dup = l[7].clone();
    l.insert(8, dup);
    assert_tampered(&write_lines(&f.dir.join("e.jsonl"), &l), 7, "duplicated");
}

#[test]
fn swapped_entries_in_an_export_are_caught() {
    let f = fixture();
    let mut l = lines(&export(&f, "jsonl", &[]));
    l.swap(12, 13);
    assert_tampered(&write_lines(&f.dir.join("e.jsonl"), &l), 12, "out of order");
}

#[test]
fn a_cut_tail_in_an_export_is_caught() {
    let f = fixture();
    let mut l = lines(&export(&f, "jsonl", &[]));
    assert!(l[30].contains("\"seq\":30,"), "{}", l[30]);
    l.remove(30);
    assert_tampered(&write_lines(&f.dir.join("e.jsonl"), &l), 30, "the tail was cut");
    l.pop();
    assert_tampered(&write_lines(&f.dir.join("e.jsonl"), &l), 30, "closing signed checkpoint is missing");
}

#[test]
fn a_forged_checkpoint_is_caught() {
    let f = fixture();
    let key = pubkey(&f);
    // A rewritten chain: the tamperer re-signs with a key of their own.
    let edited = resigned_export(&f, &ed25519_dalek_signing(&[9; 32]));
    let (code, text) = verify(&edited, Some(&key));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("TAMPERED at seq 30:") && text.contains("a forged checkpoint"), "{text}");
    // Altering a signed field breaks the signature even against the embedded key.
    let mut l = lines(&export(&f, "jsonl", &[]));
    let cp = l.last_mut().unwrap();
    assert!(cp.contains("\"seq\":31,"), "the second export covers the first one's journal entry: {cp}");
    *cp = cp.replace("\"seq\":31,", "\"seq\":30,");
    assert_tampered(&write_lines(&f.dir.join("e2.jsonl"), &l), 30, "does not verify");
}

/// A full export whose closing checkpoint is replaced by one `key` signs over the same head.
fn resigned_export(f: &Fixture, key: &ed25519_dalek::SigningKey) -> PathBuf {
    let mut l = lines(&export(f, "jsonl", &[]));
    let last: serde_json::Value = serde_json::from_str(&l[30]).unwrap();
    assert!(l[32].starts_with("{\"checkpoint\""), "{}", l[32]);
    let cp = kiosk::journal::Checkpoint::sign(
        key,
        "linshu-county-01",
        30,
        &hex32(last["hash"].as_str().unwrap()),
        "2026-01-01T00:00:00.000Z",
    );
    l[32] = serde_json::json!({ "checkpoint": cp }).to_string();
    write_lines(&f.dir.join("e.jsonl"), &l)
}

fn ed25519_dalek_signing(bytes: &[u8; 32]) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(bytes)
}

#[test]
fn tampering_with_the_database_is_caught() {
    let f = fixture();
    let conn = raw_db(&f.db);
    conn.execute("UPDATE entries SET session_id = 's9' WHERE seq = 6", []).unwrap();
    drop(conn);
    assert_tampered(&f.db, 6, "a field of the entry was edited");

    let f = fixture();
    raw_db(&f.db).execute("DELETE FROM entries WHERE seq = 17", []).unwrap();
    assert_tampered(&f.db, 18, "entries 17 to 17 are missing");

    let f = fixture();
    // Swap two entries' contents under their seqs.
    let conn = raw_db(&f.db);
    conn.execute_batch(
        "UPDATE entries SET seq = -1 WHERE seq = 8; UPDATE entries SET seq = 8 WHERE seq = 9; UPDATE entries SET seq = 9 WHERE seq = -1;",
    )
    .unwrap();
    drop(conn);
    assert_tampered(&f.db, 8, "edited");

    let f = fixture();
    raw_db(&f.db).execute("UPDATE entries SET payload = '{\"ticket\":\"A999\"}' WHERE seq = 1", []).unwrap();
    assert_tampered(&f.db, 1, "payload was altered");
}

#[test]
fn a_cut_tail_and_a_rewritten_chain_in_the_database_are_caught() {
    let f = fixture();
    let journal = Journal::open(JournalSettings::from_config(&Config::load(&f.config).unwrap())).unwrap();
    journal.checkpoint().unwrap();
    drop(journal);
    raw_db(&f.db).execute("DELETE FROM entries WHERE seq > 27", []).unwrap();
    assert_tampered(&f.db, 28, "the tail was cut");

    // Rewrite everything after an edit, recomputing every hash: only the signature stands in the way.
    let f = fixture();
    let journal = Journal::open(JournalSettings::from_config(&Config::load(&f.config).unwrap())).unwrap();
    journal.checkpoint().unwrap();
    drop(journal);
    let conn = raw_db(&f.db);
    conn.execute("UPDATE entries SET payload = '{\"ticket\":\"A777\"}' WHERE seq = 3", []).unwrap();
    rehash_from(&conn, 3);
    drop(conn);
    assert_tampered(&f.db, 30, "entries of a sealed epoch were rewritten");
}

#[test]
fn unreadable_inputs_exit_2() {
    let f = fixture();
    let (code, text) = verify(&f.dir.join("missing.jsonl"), None);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("cannot open it"), "{text}");
    let junk = f.dir.join("junk.bin");
    std::fs::write(&junk, b"\x00\x01 not a journal").unwrap();
    let (code, text) = verify(&junk, None);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("neither a journal database nor"), "{text}");
    let (code, text) = verify(&f.db, Some("abc"));
    assert_eq!(code, Some(2), "{text}");
}

#[test]
fn find_lists_one_persons_entries_by_keyed_hash() {
    let f = fixture();
    let (code, out, err) =
        run(kiosk().args(["journal", "find", "--config"]).arg(&f.config).args(["--id-number", ID_NUMBER]));
    assert_eq!(code, Some(0), "{err}");
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(rows.iter().all(|r| r.contains("\tcard_read\t")));
    assert!(err.contains("3 entries for 371***********123X"), "{err}");
    let (_, out, _) =
        run(kiosk().args(["journal", "find", "--config"]).arg(&f.config).args(["--id-number", "110101199003077777"]));
    assert!(out.is_empty());
}

#[test]
fn purge_from_the_cli_keeps_young_entries_and_is_journaled() {
    let f = fixture();
    let (code, out, err) = run(kiosk().args(["journal", "purge", "--config"]).arg(&f.config));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("Cleared the payloads of 0 entries"), "nothing is 180 days old yet: {out}");
    let conn = rusqlite::Connection::open(&f.db).unwrap();
    let purge: String =
        conn.query_row("SELECT payload FROM entries WHERE kind = 'retention_purge'", [], |r| r.get(0)).unwrap();
    assert!(purge.contains("\"retention_days\":180"), "{purge}");
    let (code, text) = verify(&f.db, None);
    assert_eq!(code, Some(0), "{text}");
}

/// Issue #13: a verifier with no blind spots in what it reads. Each of these verified, or said the wrong
/// thing, before.
#[test]
fn strict_parsing_refuses_what_a_lenient_reader_would_let_through() {
    let f = fixture();
    let exported = export(&f, "jsonl", &[]);
    let l = lines(&exported);
    let edited = |i: usize, from: &str, to: &str| {
        let mut l = l.clone();
        assert!(l[i].contains(from), "{}", l[i]);
        l[i] = l[i].replacen(from, to, 1);
        write_lines(&f.dir.join("e.jsonl"), &l)
    };
    // A duplicate key: a reader that keeps the first sees a tampered payload, one that keeps the last sees
    // the original.
    let dup = edited(3, "{", r#"{"payload":"{\"ticket\":\"A999\"}","#);
    assert_tampered(&dup, 3, "duplicate field `payload`");
    // Upper-case hex and seq 0 are not what the format says.
    let hash = serde_json::from_str::<serde_json::Value>(&l[4]).unwrap()["hash"].as_str().unwrap().to_owned();
    assert_tampered(&edited(4, &hash, &hash.to_uppercase()), 4, "64 lower-case hex digits");
    assert_tampered(&edited(1, r#""seq":1,"#, r#""seq":0,"#), 0, "seq 0");
    // A line after the closing checkpoint names where it is, not seq 0.
    let mut extra = l.clone();
    extra.push(l[5].clone());
    let (code, text) = verify(&write_lines(&f.dir.join("e.jsonl"), &extra), None);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("TAMPERED at seq 31:") && text.contains("line 34 follows the closing checkpoint"), "{text}");
    // Bytes that are not text after `{`: said as such, not "the file is empty".
    let garbage = f.dir.join("garbage.jsonl");
    std::fs::write(&garbage, b"{\xff\xfe\x00\x01garbage\n").unwrap();
    let (code, text) = verify(&garbage, None);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("line 1 is not UTF-8 text") && !text.contains("empty"), "{text}");
    // A byte-order mark before the header.
    let bom = f.dir.join("bom.jsonl");
    std::fs::write(&bom, [b"\xef\xbb\xbf".as_slice(), std::fs::read(&exported).unwrap().as_slice()].concat()).unwrap();
    let (code, text) = verify(&bom, None);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("byte-order mark"), "{text}");
    // A negative seq in a CSV row is named as written, not as 18446744073709551615.
    let csv = export(&f, "csv", &[]);
    let text_csv = std::fs::read_to_string(&csv).unwrap();
    let row: Vec<&str> = text_csv.lines().collect();
    let mut rows: Vec<String> = row.iter().map(|s| s.to_string()).collect();
    rows[2] = rows[2].replacen("2,", "-2,", 1);
    let negative = f.dir.join("negative.csv");
    std::fs::write(&negative, rows.join("\n") + "\n").unwrap();
    let (code, text) = verify_with(&negative, None, &["--accept-old-format"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("\"-2\"") && !text.contains("18446744073709551615"), "{text}");
}

#[test]
fn verifying_a_database_writes_nothing_beside_it_and_names_a_dropped_table() {
    let f = fixture();
    // A copy as staff would carry it on a USB stick: no -wal beside it, a folder that must stay untouched.
    let stick = f.dir.join("stick");
    std::fs::create_dir(&stick).unwrap();
    let copy = stick.join("journal.sqlite3");
    let conn = rusqlite::Connection::open(&f.db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    drop(conn);
    // The main file alone, still marked as a WAL database, as copying it off the box gives.
    std::fs::copy(&f.db, &copy).unwrap();
    let before: Vec<_> = std::fs::read_dir(&stick).unwrap().flatten().map(|e| e.file_name()).collect();
    let (code, text) = verify(&copy, None);
    assert_eq!(code, Some(0), "{text}");
    let after: Vec<_> = std::fs::read_dir(&stick).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(after, before, "verify wrote beside the file it checked");
    // The checkpoints table dropped: said plainly, not "check free disk space".
    let raw = raw_db(&copy);
    raw.execute_batch("DROP TABLE checkpoints;").unwrap();
    drop(raw);
    let (code, text) = verify(&copy, None);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("checkpoints") && !text.contains("disk space"), "{text}");
}

/// Issue #13: `meta` is checked, and without `--pubkey` every checkpoint must be signed by the journal's
/// own key (the one in `meta`, or the export header): one signed by another key is not "intact".
#[test]
fn a_checkpoint_signed_by_another_key_and_a_foreign_meta_are_caught_without_pubkey() {
    let f = fixture();
    let other = ed25519_dalek_signing(&[7; 32]);
    let conn = raw_db(&f.db);
    let (seq, hash): (i64, String) =
        conn.query_row("SELECT seq, hash FROM entries WHERE seq = 20", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    let cp = kiosk::journal::Checkpoint::sign(
        &other,
        "linshu-county-01",
        seq as u64,
        &hex32(&hash),
        "2026-01-01T00:00:00.000Z",
    );
    conn.execute(
        "INSERT INTO checkpoints (seq, kiosk_id, head_hash, time_utc, public_key, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![seq, cp.kiosk_id, cp.head_hash, cp.time_utc, cp.public_key, cp.signature],
    )
    .unwrap();
    drop(conn);
    assert_tampered(&f.db, 20, "which the chain of seals from the root key does not vouch for");

    // The same in an export: the closing checkpoint signed by a key the header's root does not lead to.
    let f = fixture();
    assert_tampered(&resigned_export(&f, &other), 30, "does not vouch for");

    // meta names another kiosk or format than the entries.
    let f = fixture();
    raw_db(&f.db).execute("UPDATE meta SET value = 'another-kiosk' WHERE key = 'kiosk_id'", []).unwrap();
    assert_tampered(&f.db, 30, "not \"another-kiosk\"");
    let f = fixture();
    raw_db(&f.db).execute("UPDATE meta SET value = '9' WHERE key = 'format_version'", []).unwrap();
    let (code, text) = verify(&f.db, None);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("format version 9"), "{text}");
}

/// Issue #13: the checkpoints and seals tables have guards like the entries table.
#[test]
fn checkpoints_and_seals_cannot_be_deleted_or_rewritten_through_sqlite() {
    let f = fixture();
    let journal = Journal::open(JournalSettings::from_config(&Config::load(&f.config).unwrap())).unwrap();
    journal.checkpoint().unwrap();
    drop(journal);
    let conn = rusqlite::Connection::open(&f.db).unwrap();
    for table in ["checkpoints", "seals"] {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap();
        assert!(n >= 1, "the fixture's journal has {table}");
        let deleted = conn.execute(&format!("DELETE FROM {table}"), []).unwrap_err().to_string();
        assert!(deleted.contains("never deleted"), "{deleted}");
        let rewritten = conn.execute(&format!("UPDATE {table} SET head_hash = 'x'"), []).unwrap_err().to_string();
        assert!(rewritten.contains("never rewritten"), "{rewritten}");
    }
}

/// Issue #13: what the kiosk writes about people is readable by the kiosk's user only, from creation: the
/// journal and its WAL files, the documents store, the keys and the exports are 0600 (the process umask).
#[test]
fn files_the_kiosk_creates_are_its_users_alone() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = config_in(dir);
    let sample = crate::support::workspace_root().join("config/sample-documents.jsonl");
    let (code, _, err) = run(kiosk().args(["documents", "import", "--config"]).arg(&config).arg(&sample));
    assert_eq!(code, Some(0), "{err}");
    let out = dir.join("export.jsonl");
    let (code, _, err) = run(kiosk()
        .args(["journal", "export", "--config"])
        .arg(&config)
        .args(["--format", "jsonl", "--out"])
        .arg(&out));
    assert_eq!(code, Some(0), "{err}");
    let mut checked = vec![];
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "kiosk.toml" {
            continue;
        }
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{name} is mode {mode:o}");
        checked.push(name);
    }
    checked.sort();
    for must in ["journal.sqlite3", "documents.sqlite3", "subject.key", "checkpoint.ed25519", "export.jsonl"] {
        assert!(checked.iter().any(|n| n == must), "{must} was made: {checked:?}");
    }
}

#[test]
fn a_csv_export_is_signed_beside_it_and_a_deleted_row_is_caught() {
    let f = fixture();
    let key = pubkey(&f);
    let csv = export(&f, "csv", &[]);
    let sig = kiosk::journal::export::CsvSignature::path_for(&csv);
    assert!(sig.exists(), "the export writes its .sig");
    let (code, text) = verify(&csv, Some(&key));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("intact: 30 entries (seq 1–30), 1 seal(s) walked from the root key, 1 signed checkpoint"),
        "{text}"
    );

    // One row deleted from the middle: with the .sig, caught.
    let rows: Vec<String> = std::fs::read_to_string(&csv).unwrap().lines().map(str::to_owned).collect();
    let mut cut = rows.clone();
    cut.remove(11);
    std::fs::write(&csv, cut.join("\n") + "\n").unwrap();
    let (code, text) = verify(&csv, Some(&key));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("TAMPERED") && text.contains("not the file that was signed"), "{text}");

    // The attacker rewrites the .sig's hash to match: the signature no longer verifies.
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(&csv).unwrap()))
    };
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    v["csv_sha256"] = serde_json::json!(digest);
    v["entries"] = serde_json::json!(29);
    std::fs::write(&sig, serde_json::to_vec(&v).unwrap()).unwrap();
    let (code, text) = verify(&csv, Some(&key));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("signature does not verify"), "{text}");

    // Issue #28 item 1: without the .sig nothing proves which rows the CSV must hold, so it is not verified
    // unless asked; asked, the links still check, the gap is named, and completeness is said to be unknown.
    std::fs::remove_file(&sig).unwrap();
    let (code, text) = verify(&csv, None);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("NOT VERIFIED: no .sig file beside this CSV") && text.contains("--accept-old-format"),
        "{text}"
    );
    let (code, text) = verify_with(&csv, None, &["--accept-old-format"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("seq 11 is absent") && text.contains("completeness is unknown"), "{text}");

    // A filtered CSV with its .sig verifies: gaps between kinds are what the filter asked for.
    let cards = export(&f, "csv", &["--kind", "card_read"]);
    let (code, text) = verify(&cards, Some(&key));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("intact: 3 entries"), "{text}");
}

/// Issue #28 item 1: a signed export relabelled as version 1 (its statement removed) verified "intact" after
/// entries were deleted from its start or its middle (with `contiguous` set false), the v1 note the only sign.
/// An older format is now refused unless asked for, and says why.
#[test]
fn an_export_relabelled_as_an_older_version_is_not_verified_unless_asked() {
    let f = fixture();
    let key = pubkey(&f);
    let out = export(&f, "jsonl", &[]);
    let lines = lines(&out);
    let relabel = |lines: &[String], version: u32, drop: &[usize], name: &str| {
        let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        header["version"] = version.into();
        header["contiguous"] = false.into();
        let mut edited = vec![header.to_string()];
        for (i, l) in lines.iter().enumerate().skip(1) {
            if drop.contains(&i) {
                continue;
            }
            if l.starts_with("{\"checkpoint\"") {
                // The statement removed, as a version 1 file has none.
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                edited.push(serde_json::json!({ "checkpoint": v["checkpoint"] }).to_string());
            } else {
                edited.push(l.clone());
            }
        }
        let path = f.dir.join(name);
        std::fs::write(&path, edited.join("\n") + "\n").unwrap();
        path
    };
    for (version, drop, name) in
        [(1, vec![1, 2, 3], "start.jsonl"), (1, vec![10, 11], "middle.jsonl"), (2, vec![10], "v2.jsonl")]
    {
        let path = relabel(&lines, version, &drop, name);
        let (code, text) = verify(&path, Some(&key));
        assert_eq!(code, Some(1), "{name}: {text}");
        assert!(
            text.contains(&format!("NOT VERIFIED: this is a version {version} export, older than today's version 3"))
                && text.contains("--accept-old-format"),
            "{name}: {text}"
        );
    }
    // Asked for, a genuine old file still verifies, saying what cannot be seen in it.
    let path = relabel(&lines, 1, &[], "whole-v1.jsonl");
    let (code, text) = verify_with(&path, Some(&key), &["--accept-old-format"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("accepted as asked") && text.contains("entries cut from it cannot be seen"), "{text}");
}

#[test]
fn the_export_header_and_range_are_signed() {
    let f = fixture();
    let key = pubkey(&f);
    let out = export(&f, "jsonl", &[]);
    let (code, text) = verify(&out, Some(&key));
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("version 1"), "a new export is version 2, signed: {text}");
    let lines = lines(&out);

    // `contiguous` set to false and an entry deleted: the header is not the one signed.
    let mut edited = lines.clone();
    edited[0] = edited[0].replace("\"contiguous\":true", "\"contiguous\":false");
    edited.remove(7);
    let path = f.dir.join("not-contiguous.jsonl");
    std::fs::write(&path, edited.join("\n") + "\n").unwrap();
    let (code, text) = verify(&path, Some(&key));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("line 1 is not the header that was signed"), "{text}");

    // The first entries cut from an unfiltered export: the signed range says otherwise.
    let mut cut = lines.clone();
    cut.drain(1..6);
    let path = f.dir.join("cut-head.jsonl");
    std::fs::write(&path, cut.join("\n") + "\n").unwrap();
    let (code, text) = verify(&path, Some(&key));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("was signed with 30 (seq 1–30)"), "{text}");

    // The statement removed to pass as an unsigned export: version 2 requires it.
    let mut bare = lines.clone();
    let last = bare.len() - 1;
    let closing: serde_json::Value = serde_json::from_str(&bare[last]).unwrap();
    bare[last] = serde_json::json!({ "checkpoint": closing["checkpoint"] }).to_string();
    let path = f.dir.join("no-statement.jsonl");
    std::fs::write(&path, bare.join("\n") + "\n").unwrap();
    let (code, text) = verify(&path, Some(&key));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("lacks the export's signed statement"), "{text}");
}
