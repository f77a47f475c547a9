//! Forward-secure seals against an attacker with a shell on the box (issue #13): what they can reach at time T
//! — the database and the current epoch's key — and what `kiosk journal verify` and the kiosk still catch.

use crate::support::{config_in, hex32, kiosk, rehash_from, run};
use kiosk::config::Config;
use kiosk::journal::{EntryKind, Journal, JournalSettings, NewEntry, Seal, schema};
use serde_json::json;
use std::path::{Path, PathBuf};

struct Kiosk {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    config: PathBuf,
    db: PathBuf,
    key: PathBuf,
}

impl Kiosk {
    fn settings(&self) -> JournalSettings {
        JournalSettings::from_config(&Config::load(&self.config).unwrap())
    }
}

/// A kiosk's journal after three sessions: each session end sealed an epoch (seqs 6, 12, 18).
fn three_epochs() -> Kiosk {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let config = config_in(&dir);
    let k = Kiosk { db: dir.join("journal.sqlite3"), key: dir.join("checkpoint.ed25519"), dir, config, _tmp: tmp };
    let journal = Journal::open(k.settings()).unwrap();
    for s in 0..3 {
        for i in 0..5 {
            journal
                .append(
                    NewEntry::new(EntryKind::TicketIssued, json!({ "ticket": format!("A{s}{i}") }))
                        .in_session(format!("s{s}")),
                )
                .unwrap();
        }
        journal
            .append(NewEntry::new(EntryKind::SessionEnd, json!({ "reason": "completed" })).in_session(format!("s{s}")))
            .unwrap();
    }
    drop(journal);
    assert_eq!(seals(&k.db).iter().map(|s| (s.epoch, s.seq)).collect::<Vec<_>>(), vec![(0, 6), (1, 12), (2, 18)]);
    k
}

/// `kiosk journal export --format jsonl` of the kiosk's journal into `name` beside it.
fn export_jsonl(k: &Kiosk, name: &str) -> PathBuf {
    let out = k.dir.join(name);
    let (code, _, err) = run(kiosk()
        .args(["journal", "export", "--config"])
        .arg(&k.config)
        .args(["--format", "jsonl", "--out"])
        .arg(&out));
    assert_eq!(code, Some(0), "{err}");
    out
}

fn seals(db: &Path) -> Vec<Seal> {
    schema::seals(&rusqlite::Connection::open(db).unwrap(), 0, None).unwrap()
}

fn root_key(k: &Kiosk) -> String {
    let (code, out, err) = run(kiosk().args(["journal", "pubkey", "--config"]).arg(&k.config));
    assert_eq!(code, Some(0), "{err}");
    out.trim().to_owned()
}

fn verify(path: &Path, args: &[&str]) -> (Option<i32>, String) {
    let (code, out, err) = run(kiosk().args(["journal", "verify"]).arg(path).args(args));
    (code, out + &err)
}

/// Drops every guard a tamperer with root would drop first.
fn raw_db(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS entries_never_deleted; DROP TRIGGER IF EXISTS entries_only_purged;
         DROP TRIGGER IF EXISTS entries_purged_only_when_due;
         DROP TRIGGER IF EXISTS checkpoints_never_deleted; DROP TRIGGER IF EXISTS checkpoints_never_rewritten;
         DROP TRIGGER IF EXISTS seals_never_deleted; DROP TRIGGER IF EXISTS seals_never_rewritten;",
    )
    .unwrap();
    conn
}

/// The secret of the key file as it is now: what an attacker with root copies.
fn current_key(k: &Kiosk) -> ed25519_dalek::SigningKey {
    let bytes = std::fs::read(&k.key).unwrap();
    ed25519_dalek::SigningKey::from_bytes(&bytes[bytes.len() - 32..].try_into().unwrap())
}

#[test]
fn a_root_attacker_who_deletes_seals_and_the_tail_after_three_epochs_is_caught() {
    let k = three_epochs();
    let root = root_key(&k);
    // The county took a copy before the attack (an export; a pull holds the same seals).
    let earlier = export_jsonl(&k, "county-copy.jsonl");
    let conn = raw_db(&k.db);
    conn.execute_batch("DELETE FROM seals; DELETE FROM checkpoints; DELETE FROM entries WHERE seq > 4;").unwrap();
    drop(conn);

    // The county's copy: its seals are gone from the kiosk.
    let (code, text) = verify(&k.db, &["--pubkey", &root, "--earlier", earlier.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("TAMPERED at seq 6:")
            && text.contains("the seal of epoch 0 that")
            && text.contains("seals were deleted"),
        "{text}"
    );

    // The file alone reads as a journal never sealed: intact links, an unprotected tail, which
    // --require-sealed refuses.
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("unsealed tail: 4 entries after seq 0, not yet protected"), "{text}");
    let (code, text) = verify(&k.db, &["--pubkey", &root, "--require-sealed"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("NOT SEALED: 4 entries after seq 0"), "{text}");

    // On the box the key is epoch 4's (the export ended epoch 3), and the root key it would need is erased: caught.
    let (code, text) = verify(&k.db, &["--pubkey", &root, "--key-file", k.key.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("TAMPERED")
            && text.contains(&format!("hand epoch 0 to key {root}"))
            && text.contains("the key of epoch 4"),
        "{text}"
    );
    assert!(text.contains("seals were deleted"), "{text}");

    // The kiosk's next start finds the same, journals it and keeps serving.
    let journal = Journal::open(k.settings()).unwrap();
    let problem = journal.key_problem().expect("the kiosk sees the key state").what.clone();
    assert!(problem.contains("seals were deleted"), "{problem}");
    let mut check = kiosk::journal::integrity::start(&journal).unwrap();
    check.stop();
    let seq = journal.append(NewEntry::new(EntryKind::TicketIssued, json!({ "ticket": "B001" }))).unwrap();
    // After the four kept entries and what the checks journaled (the background check may add its own finding).
    assert!(seq > 5, "the kiosk keeps serving: {seq}");
    drop(journal);
    let conn = rusqlite::Connection::open(&k.db).unwrap();
    let found: String = conn
        .query_row(
            "SELECT payload FROM entries WHERE kind = 'journal_integrity_failed' ORDER BY seq LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(found.contains("\"check\":\"keys\"") && found.contains("seals were deleted"), "{found}");
}

/// A root attacker who deletes every seal, drops the guards and cuts the tail used to leave a file that plain
/// `verify --pubkey ROOT` called intact ("0 seal(s) walked"): the kiosk seals every session end and shutdown
/// in the transaction that writes it, so the file itself shows the seals are missing.
#[test]
fn a_file_whose_session_ends_are_unsealed_shows_its_seals_were_removed() {
    let k = three_epochs();
    let root = root_key(&k);
    // Every seal deleted, the tail cut after the second session end (seq 12).
    raw_db(&k.db)
        .execute_batch("DELETE FROM seals; DELETE FROM checkpoints; DELETE FROM entries WHERE seq > 14;")
        .unwrap();
    for args in [&["--pubkey", root.as_str()][..], &[][..]] {
        let (code, text) = verify(&k.db, args);
        assert_eq!(code, Some(1), "{text}");
        assert!(
            text.contains(
                "TAMPERED at seq 6: entry 6 (session_end) is not sealed, but the kiosk seals every session_end in the transaction that writes it: the journal's seals were removed"
            ),
            "{text}"
        );
    }

    // Only the later seals deleted: the first session end is sealed, the second is not.
    let k = three_epochs();
    raw_db(&k.db).execute_batch("DELETE FROM seals WHERE epoch > 0; DELETE FROM entries WHERE seq > 14;").unwrap();
    let (code, text) = verify(&k.db, &["--pubkey", &root_key(&k)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("TAMPERED at seq 12: entry 12 (session_end) is not sealed")
            && text.contains("the seals after seq 6 were removed"),
        "{text}"
    );
}

/// The payloads of recent, sealed entries could be set to NULL with the guards in place, and every verify
/// mode still said intact: now the guard refuses it, and with the guards dropped `verify` names the entry.
#[test]
fn a_young_payload_erased_is_refused_by_the_guard_and_caught_by_verify() {
    let k = three_epochs();
    let root = root_key(&k);
    let conn = rusqlite::Connection::open(&k.db).unwrap();
    let err = conn.execute("UPDATE entries SET payload = NULL WHERE seq = 2", []).unwrap_err().to_string();
    assert!(err.contains("kiosk_purge_cutoff"), "refused outside the kiosk's writer: {err}");
    drop(conn);
    let export = export_jsonl(&k, "export.jsonl");
    raw_db(&k.db).execute_batch("UPDATE entries SET payload = NULL WHERE seq = 2;").unwrap();
    for args in [&["--pubkey", root.as_str()][..], &[][..]] {
        let (code, text) = verify(&k.db, args);
        assert_eq!(code, Some(1), "{text}");
        assert!(
            text.contains("TAMPERED at seq 2: entry 2's payload was purged, but it was written at")
                && text.contains("no retention purge after it records a cut-off: payloads were erased before their retention period ended"),
            "{text}"
        );
    }
    // The same in an export: the payload set to null in its line.
    let lines: Vec<String> = std::fs::read_to_string(&export).unwrap().lines().map(str::to_owned).collect();
    let mut edited = lines.clone();
    let at = edited.iter().position(|l| l.contains("\"seq\":2,")).unwrap();
    let payload =
        serde_json::from_str::<serde_json::Value>(&edited[at]).unwrap()["payload"].as_str().unwrap().to_owned();
    edited[at] = edited[at].replace(&serde_json::to_string(&payload).unwrap(), "null");
    let file = k.dir.join("erased.jsonl");
    std::fs::write(&file, edited.join("\n") + "\n").unwrap();
    let (code, text) = verify(&file, &["--pubkey", &root]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("TAMPERED at seq 2: entry 2's payload was purged"), "{text}");
}

#[test]
fn deleting_later_seals_only_or_the_key_too_is_caught_and_a_rekeyed_journal_is_not_the_recorded_root() {
    // Seals 1 and 2 and everything after seal 0's head deleted: the journal looks sealed through seq 6.
    let k = three_epochs();
    let root = root_key(&k);
    raw_db(&k.db).execute_batch("DELETE FROM seals WHERE epoch > 0; DELETE FROM entries WHERE seq > 6;").unwrap();
    let (code, text) = verify(&k.db, &["--pubkey", &root, "--require-sealed"]);
    assert_eq!(code, Some(0), "a cut at a seal boundary leaves a consistent file: {text}");
    let (code, text) = verify(&k.db, &["--pubkey", &root, "--key-file", k.key.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("TAMPERED at seq 6:") && text.contains("hand epoch 1 to key"), "{text}");

    // The key file removed as well: "no key at all" is no excuse.
    std::fs::remove_file(&k.key).unwrap();
    let (code, text) = verify(&k.db, &["--pubkey", &root, "--key-file", k.key.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("holds no key at all"), "{text}");

    // A whole new history under a new root key the attacker made: not the root the county recorded.
    let k = three_epochs();
    let root = root_key(&k);
    let forged_root = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let conn = raw_db(&k.db);
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'public_key'",
        [hex::encode(forged_root.verifying_key().as_bytes())],
    )
    .unwrap();
    conn.execute("DELETE FROM seals", []).unwrap();
    drop(conn);
    std::fs::write(&k.key, forged_root.as_bytes()).unwrap();
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not the trusted key"), "{text}");
}

#[test]
fn an_attacker_with_the_current_epoch_key_cannot_rewrite_an_earlier_epoch() {
    let k = three_epochs();
    let root = root_key(&k);
    let stolen = current_key(&k);
    let original = seals(&k.db);

    // Entry 2 rewritten and the chain recomputed, the seals left as they were: the first seal shows it.
    let conn = raw_db(&k.db);
    conn.execute("UPDATE entries SET payload = '{\"ticket\":\"Z99\"}' WHERE seq = 2", []).unwrap();
    rehash_from(&conn, 2);
    drop(conn);
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("TAMPERED at seq 6:") && text.contains("entries of a sealed epoch were rewritten"), "{text}");

    // Every seal re-signed with the one key the attacker holds: the walk from the root refuses the first.
    let conn = raw_db(&k.db);
    conn.execute("DELETE FROM seals", []).unwrap();
    for s in &original {
        let head: String =
            conn.query_row("SELECT hash FROM entries WHERE seq = ?1", [s.seq as i64], |r| r.get(0)).unwrap();
        let forged =
            Seal::sign(&stolen, &s.kiosk_id, s.epoch, s.seq, &hex32(&head), &s.time_utc, &stolen.verifying_key());
        schema::insert_seal(&conn, &forged).unwrap();
    }
    drop(conn);
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("TAMPERED at seq 6:")
            && text.contains("the seal of epoch 0 is signed by key")
            && text.contains("a forged seal"),
        "{text}"
    );

    // Without --pubkey the root stored in the journal is used, and the forged seals fail there too.
    let (code, text) = verify(&k.db, &[]);
    assert_eq!(code, Some(1), "{text}");
}

#[test]
fn the_issues_holes_stay_closed_with_seals() {
    // Tail cut after dropping the checkpoints (and their guards): the seal over seq 18 says the tail was cut,
    // and the kiosk writing on over the cut does not make it whole.
    let k = three_epochs();
    let root = root_key(&k);
    raw_db(&k.db).execute_batch("DELETE FROM checkpoints; DELETE FROM entries WHERE seq >= 6;").unwrap();
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("TAMPERED at seq 6:") && text.contains("the tail was cut"), "{text}");
    let journal = Journal::open(k.settings()).unwrap();
    for i in 0..30 {
        journal.append(NewEntry::new(EntryKind::TicketIssued, json!({ "ticket": format!("C{i}") }))).unwrap();
    }
    drop(journal);
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(1), "rewritten history stays caught: {text}");

    // An entry appended after the last seal with a recomputed hash: not protected yet, and said so.
    let k = three_epochs();
    let root = root_key(&k);
    let conn = raw_db(&k.db);
    let last: kiosk::journal::Entry = conn
        .query_row(
            &format!("SELECT {} FROM entries WHERE seq = 18", kiosk::journal::ENTRY_COLUMNS),
            [],
            kiosk::journal::schema_entry_from_row,
        )
        .unwrap();
    let mut forged = last.clone();
    forged.seq = 19;
    forged.kind = "ticket_issued".into();
    forged.payload = Some("{\"ticket\":\"X1\"}".into());
    conn.execute(
        &format!(
            "INSERT INTO entries ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            kiosk::journal::ENTRY_COLUMNS
        ),
        rusqlite::params![
            19,
            forged.kiosk_id,
            forged.boot_id,
            forged.time_utc,
            forged.mono_ms,
            forged.session_id,
            forged.kind,
            forged.payload,
            forged.payload_digest,
            last.hash,
            forged.hash
        ],
    )
    .unwrap();
    rehash_from(&conn, 19);
    drop(conn);
    let (code, text) = verify(&k.db, &["--pubkey", &root, "--require-sealed"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("unsealed tail: 1 entries after seq 18") && text.contains("NOT SEALED"), "{text}");
}

#[test]
fn an_export_carries_its_seals_and_a_removed_seal_is_caught() {
    let k = three_epochs();
    let root = root_key(&k);
    let out = export_jsonl(&k, "export.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&out).unwrap().lines().map(str::to_owned).collect();
    let seal_lines: Vec<usize> = (0..lines.len()).filter(|i| lines[*i].starts_with("{\"seal\":")).collect();
    assert_eq!(seal_lines.len(), 3, "the three epochs' seals travel with the export");
    let (code, text) = verify(&out, &["--pubkey", &root, "--require-sealed"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("3 seal(s) walked from the root key") && text.contains("sealed through seq 18"), "{text}");

    // The middle seal removed: the walk names the missing epoch.
    let mut cut = lines.clone();
    cut.remove(seal_lines[1]);
    let edited = k.dir.join("cut.jsonl");
    std::fs::write(&edited, cut.join("\n") + "\n").unwrap();
    let (code, text) = verify(&edited, &["--pubkey", &root]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("the seal of epoch 1 is missing"), "{text}");

    // All seals removed: the statement's key is not the root's, so nothing vouches for it.
    let bare: Vec<String> = lines.iter().filter(|l| !l.starts_with("{\"seal\":")).cloned().collect();
    std::fs::write(&edited, bare.join("\n") + "\n").unwrap();
    let (code, text) = verify(&edited, &["--pubkey", &root]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("does not vouch for"), "{text}");
}

/// tests/independent/verify_export.py's verdict on an export, from the root key the county recorded.
fn independent(path: &Path, root: &str) -> std::process::Output {
    std::process::Command::new("/usr/bin/python3")
        .arg(crate::support::workspace_root().join("tests/independent/verify_export.py"))
        .arg(path)
        .arg(root)
        .output()
        .unwrap()
}

/// docs/journal-format.md is enough to write a verifier: tests/independent/verify_export.py, written from it
/// with Debian's python3-cryptography, agrees with `kiosk journal verify` on an export and on each tampering.
#[test]
fn an_independent_verifier_written_from_the_format_document_agrees() {
    let k = three_epochs();
    let root = root_key(&k);
    let out = export_jsonl(&k, "export.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&out).unwrap().lines().map(str::to_owned).collect();
    let seal_at: Vec<usize> = (0..lines.len()).filter(|i| lines[*i].starts_with("{\"seal\":")).collect();
    let stolen = current_key(&k);
    let forged_seal = {
        let s: serde_json::Value = serde_json::from_str(&lines[seal_at[0]]).unwrap();
        let s: Seal = serde_json::from_value(s["seal"].clone()).unwrap();
        let f = Seal::sign(&stolen, &s.kiosk_id, 0, s.seq, &hex32(&s.head_hash), &s.time_utc, &stolen.verifying_key());
        serde_json::json!({ "seal": f }).to_string()
    };
    let last = lines.len() - 1;
    let (seal0, seal1) = (seal_at[0], seal_at[1]);
    type Edit = Box<dyn Fn(&mut Vec<String>)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("untouched", Box::new(|_| {})),
        ("a payload edited", Box::new(|l| l[3] = l[3].replace("A02", "A99"))),
        ("an entry deleted", Box::new(|l| drop(l.remove(7)))),
        ("two entries swapped", Box::new(|l| l.swap(4, 5))),
        ("the middle seal removed", Box::new(move |l| drop(l.remove(seal1)))),
        ("every seal removed", Box::new(|l| l.retain(|x| !x.starts_with("{\"seal\":")))),
        ("epoch 0 re-sealed with the stolen key", Box::new(move |l| l[seal0] = forged_seal.clone())),
        (
            "contiguous flipped and an entry deleted",
            Box::new(|l| {
                l[0] = l[0].replace("\"contiguous\":true", "\"contiguous\":false");
                l.remove(9);
            }),
        ),
        (
            "the statement's count edited",
            Box::new(move |l| l[last] = l[last].replace("\"entries\":18", "\"entries\":17")),
        ),
        ("the tail cut", Box::new(|l| drop(l.remove(18)))),
        ("a line after the closing one", Box::new(|l| l.push(l[2].clone()))),
        (
            "a young payload erased",
            Box::new(|l| {
                let v: serde_json::Value = serde_json::from_str(&l[2]).unwrap();
                let payload = serde_json::to_string(v["payload"].as_str().unwrap()).unwrap();
                l[2] = l[2].replace(&payload, "null");
            }),
        ),
    ];
    let edited = k.dir.join("edited.jsonl");
    for (name, edit) in cases {
        let mut l = lines.clone();
        edit(&mut l);
        std::fs::write(&edited, l.join("\n") + "\n").unwrap();
        let (ours, text) = verify(&edited, &["--pubkey", &root]);
        let theirs = independent(&edited, &root);
        let their_text =
            String::from_utf8_lossy(&theirs.stdout).into_owned() + &String::from_utf8_lossy(&theirs.stderr);
        let expected = if name == "untouched" { Some(0) } else { Some(1) };
        assert_eq!(ours, expected, "{name}: kiosk: {text}");
        assert_eq!(theirs.status.code(), expected, "{name}: independent: {their_text}");
    }
}

/// Issue #28 item 8: a generated corpus of tamperings of one export — every line deleted, duplicated, moved
/// one down; in every entry a payload character, a hash digit and the payload itself (erased); in every seal
/// and the closing line a signature digit — and the independent verifier agrees with `kiosk journal verify`
/// on each: both accept the untouched file, both refuse every tampering.
#[test]
fn the_independent_verifier_agrees_on_a_generated_corpus_of_tamperings() {
    let k = three_epochs();
    let root = root_key(&k);
    let out = export_jsonl(&k, "export.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&out).unwrap().lines().map(str::to_owned).collect();
    corpus_agrees(&k, &root, &lines, 100);
}

/// Issue #28 item 1: a file joined from pages the kiosk signed one by one (as `kiosk-county journal pull`
/// writes it, here with pages of 5 entries) verifies in both verifiers, and every tampering of it — a range
/// deleted with its page proof, a proof edited or dropped, the file relabelled as any other version — is
/// refused by both.
#[test]
fn the_independent_verifier_agrees_on_tamperings_of_a_file_joined_from_pages() {
    let k = three_epochs();
    let root = root_key(&k);
    let journal = Journal::open(k.settings()).unwrap();
    let readers = kiosk::journal::page::Readers::new(&journal);
    let mut joiner = kiosk::journal::export::Joiner::new(Vec::new(), json!({ "after_seq": 0 }));
    let mut after = 0;
    loop {
        let page =
            kiosk::journal::page::journal_page(&journal, &readers, after, 5, joiner.seals().len() as u64).unwrap();
        let seqs = joiner.page(std::str::from_utf8(&page).unwrap()).unwrap();
        match seqs.last() {
            Some(last) => after = *last,
            None => break,
        }
    }
    drop(journal);
    let text = String::from_utf8(joiner.finish().unwrap()).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(lines.iter().filter(|l| l.starts_with("{\"page\":")).count(), 4, "18 entries in pages of 5");
    let joined = k.dir.join("joined.jsonl");
    std::fs::write(&joined, &text).unwrap();
    let (code, out) = verify(&joined, &["--pubkey", &root]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("joined from 4 page(s), each signed by the kiosk: seq 1–18 is proven contiguous"), "{out}");
    // The second page (seq 6-10) cut out with its proof.
    let cut: Vec<String> = lines
        .iter()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            !(v["seq"].as_u64().is_some_and(|s| (6..=10).contains(&s)) || v["page"]["export"]["first_seq"] == 6)
        })
        .cloned()
        .collect();
    let mut extra = vec![("the second page and its proof cut out".to_owned(), cut.clone())];
    let mut cut_not_contiguous = cut;
    cut_not_contiguous[0] = cut_not_contiguous[0].replace("\"contiguous\":true", "\"contiguous\":false");
    extra.push(("that, and contiguous set false".into(), cut_not_contiguous));
    corpus_agrees_with(&k, &root, &lines, 100, extra);
}

/// Generates tamperings of `lines` (an export) — every line deleted, duplicated, moved one down; in every
/// entry a payload character, a hash digit and the payload itself (erased); in every seal, proof and closing
/// line a signature digit; the file relabelled as every other version with `contiguous` false and an entry
/// deleted — and checks that both verifiers accept the untouched file and refuse every tampering.
fn corpus_agrees(k: &Kiosk, root: &str, lines: &[String], at_least: usize) {
    corpus_agrees_with(k, root, lines, at_least, vec![]);
}

/// How a seal's line in an export begins.
const SEAL_LINE: &str = "{\"seal\":";

fn corpus_agrees_with(k: &Kiosk, root: &str, lines: &[String], at_least: usize, extra: Vec<(String, Vec<String>)>) {
    let lines = lines.to_vec();
    // A hex digit changed to another: the first one after `"key":"`.
    let flip = |line: &str, key: &str| -> Option<String> {
        let at = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
        let c = line[at..].chars().next()?;
        let to = if c == '0' { '1' } else { '0' };
        Some(format!("{}{to}{}", &line[..at], &line[at + 1..]))
    };
    let mut cases: Vec<(String, Vec<String>)> = vec![("untouched".into(), lines.clone())];
    cases.extend(extra);
    let version = serde_json::from_str::<serde_json::Value>(&lines[0]).unwrap()["version"].as_u64().unwrap();
    for other in (1..=4).filter(|v| *v != version) {
        let mut l = lines.clone();
        l[0] = l[0]
            .replace(&format!("\"version\":{version}"), &format!("\"version\":{other}"))
            .replace("\"contiguous\":true", "\"contiguous\":false");
        l.remove(5);
        cases.push((format!("relabelled version {other}, not contiguous, an entry deleted"), l));
    }
    for i in 0..lines.len() {
        let mut l = lines.clone();
        l.remove(i);
        cases.push((format!("line {} deleted", i + 1), l));
        let mut l = lines.clone();
        l.insert(i, lines[i].clone());
        cases.push((format!("line {} duplicated", i + 1), l));
        if i + 1 < lines.len() {
            let mut l = lines.clone();
            l.swap(i, i + 1);
            cases.push((format!("lines {} and {} swapped", i + 1, i + 2), l));
        }
        let is_entry = lines[i].starts_with("{\"seq\":");
        let keys: &[&str] = if is_entry {
            &["hash", "prev_hash", "payload_digest"]
        } else {
            &["signature", "head_hash", "header_sha256"]
        };
        for key in keys {
            if let Some(edited) = flip(&lines[i], key) {
                let mut l = lines.clone();
                l[i] = edited;
                cases.push((format!("line {}: a digit of {key} changed", i + 1), l));
            }
        }
        if lines[i].starts_with(SEAL_LINE) {
            // The policy a seal announces is signed with it: loosened, or removed to pass as a version 1 seal.
            let mut v: serde_json::Value = serde_json::from_str(&lines[i]).unwrap();
            assert!(v["seal"]["policy"].is_object(), "seals announce a policy: {}", lines[i]);
            v["seal"]["policy"]["epoch_entries"] = json!(10_000);
            let mut l = lines.clone();
            l[i] = v.to_string();
            cases.push((format!("line {}: the seal's policy loosened", i + 1), l));
            v["seal"].as_object_mut().unwrap().remove("policy");
            let mut l = lines.clone();
            l[i] = v.to_string();
            cases.push((format!("line {}: the seal's policy removed", i + 1), l));
        }
        if is_entry {
            let v: serde_json::Value = serde_json::from_str(&lines[i]).unwrap();
            if let Some(payload) = v["payload"].as_str() {
                let quoted = serde_json::to_string(payload).unwrap();
                let mut l = lines.clone();
                l[i] = lines[i].replace(&quoted, &serde_json::to_string(&payload.replacen('A', "B", 1)).unwrap());
                if l[i] != lines[i] {
                    cases.push((format!("line {}: its payload edited", i + 1), l));
                }
                let mut l = lines.clone();
                l[i] = lines[i].replace(&quoted, "null");
                cases.push((format!("line {}: its young payload erased", i + 1), l));
            }
        }
    }
    assert!(cases.len() >= at_least, "{} cases", cases.len());
    let edited = k.dir.join("edited.jsonl");
    let mut disagreements = vec![];
    for (name, l) in &cases {
        std::fs::write(&edited, l.join("\n") + "\n").unwrap();
        let (ours, text) = verify(&edited, &["--pubkey", root]);
        let theirs = independent(&edited, root);
        let accepted = (ours == Some(0), theirs.status.code() == Some(0));
        let expected = name == "untouched";
        if accepted != (expected, expected) {
            let their_text =
                String::from_utf8_lossy(&theirs.stdout).into_owned() + &String::from_utf8_lossy(&theirs.stderr);
            disagreements.push(format!(
                "{name}: kiosk {ours:?} {}; independent {:?} {}",
                text.trim(),
                theirs.status.code(),
                their_text.trim()
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}

/// `[journal] epoch_entries` sets how many entries an epoch holds.
#[test]
fn the_configured_epoch_length_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config_in(tmp.path());
    let text = std::fs::read_to_string(&config).unwrap().replacen("epoch_entries = 200", "epoch_entries = 4", 1);
    std::fs::write(&config, text).unwrap();
    let journal = Journal::open(JournalSettings::from_config(&Config::load(&config).unwrap())).unwrap();
    for i in 0..9 {
        journal.append(NewEntry::new(EntryKind::Evaluation, json!({ "level": 5, "i": i }))).unwrap();
    }
    drop(journal);
    let at: Vec<u64> = seals(&tmp.path().join("journal.sqlite3")).iter().map(|s| s.seq).collect();
    assert_eq!(at, vec![4, 8, 9], "every 4 entries, and the rest at close");
}

/// Only the process holding the sealing lock signs: an export run beside a running kiosk says where to export
/// instead, and writes nothing; the kiosk's own journal is untouched by the attempt.
#[test]
fn an_export_beside_the_running_kiosk_is_refused_with_where_to_export_instead() {
    let k = three_epochs();
    let running = Journal::open(k.settings()).unwrap();
    let out = k.dir.join("beside.jsonl");
    let (code, _, err) = run(kiosk()
        .args(["journal", "export", "--config"])
        .arg(&k.config)
        .args(["--format", "jsonl", "--out"])
        .arg(&out));
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("holds the journal's signing key") && err.contains("maintenance screen"), "{err}");
    assert!(!out.exists(), "no half export");
    running.append(NewEntry::new(EntryKind::TicketIssued, json!({ "ticket": "D1" }))).unwrap();
    drop(running);
    let (code, text) = verify(&k.db, &["--pubkey", &root_key(&k), "--require-sealed"]);
    assert_eq!(code, Some(0), "{text}");
}

/// A kiosk whose configuration seals every `epoch_entries` entries (the rest of its configuration as shipped).
fn kiosk_with_epochs(epoch_entries: u64) -> Kiosk {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let config = config_in(&dir);
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "epoch_entries = 200",
        &format!("epoch_entries = {epoch_entries}"),
        1,
    );
    std::fs::write(&config, text).unwrap();
    Kiosk { db: dir.join("journal.sqlite3"), key: dir.join("checkpoint.ed25519"), dir, config, _tmp: tmp }
}

/// A kiosk sealing every `epoch_entries` entries whose journal holds `tickets` issued, one commit each.
fn journal_of(epoch_entries: u64, tickets: u32) -> Kiosk {
    let k = kiosk_with_epochs(epoch_entries);
    let journal = Journal::open(k.settings()).unwrap();
    append_tickets(&journal, tickets);
    drop(journal);
    k
}

fn append_tickets(journal: &Journal, n: u32) {
    for i in 0..n {
        journal.append(NewEntry::new(EntryKind::TicketIssued, json!({ "ticket": format!("A{i:03}") }))).unwrap();
    }
}

/// Issue #28: the file proves what it must contain. Each seal announces the next epoch's policy under its
/// signature (seal 0 under the root key's); a tail longer than the announced policy shows the seals after it
/// were removed, although no session end lies in it.
#[test]
fn seals_announce_the_policy_and_a_tail_longer_than_it_shows_later_seals_were_removed() {
    let k = journal_of(20, 100);
    let all = seals(&k.db);
    assert_eq!(all.iter().map(|s| s.seq).collect::<Vec<_>>(), vec![20, 40, 60, 80, 100]);
    let announced = all[0].policy.expect("a version 2 seal");
    assert_eq!((announced.epoch_entries, announced.epoch_minutes, announced.retention_days), (20, 5, 180));
    assert!(all[0].signed_text().starts_with("kiosk-journal-seal-v2\n"));
    assert!(all[0].signed_text().ends_with("\n20\n5\n180\n"), "{}", all[0].signed_text());
    let root = root_key(&k);
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(0), "{text}");

    // The seals after epoch 1 deleted (and the checkpoints with them): before, this verified intact with an
    // unsealed tail of 60 entries.
    raw_db(&k.db).execute_batch("DELETE FROM seals WHERE epoch > 1; DELETE FROM checkpoints WHERE seq > 40;").unwrap();
    for args in [&["--pubkey", root.as_str()][..], &[][..]] {
        let (code, text) = verify(&k.db, args);
        assert_eq!(code, Some(1), "{text}");
        assert!(
            text.contains(
                "TAMPERED at seq 41: entries 41 to 100 are unsealed, with 59 entries before its last transaction, but the seal of epoch 1 announced epochs of at most 20 entries or 5 minutes: the seals after it were removed"
            ),
            "{text}"
        );
    }
    // Cut back to what the policy allows, the tail is what any running kiosk has: only the key shows it.
    raw_db(&k.db).execute_batch("DELETE FROM entries WHERE seq > 50;").unwrap();
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = verify(&k.db, &["--pubkey", &root, "--key-file", k.key.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
}

/// The announced policy is signed: changing it in a seal, or removing it to pass the seal off as a version 1
/// seal, breaks the seal's signature.
#[test]
fn an_edited_or_removed_policy_breaks_its_seal() {
    let k = journal_of(20, 45);
    let root = root_key(&k);
    for (edit, what) in [
        (
            r#"UPDATE seals SET policy = '{"epoch_entries":10000,"epoch_minutes":60,"retention_days":180}' WHERE epoch = 0"#,
            "loosened",
        ),
        ("UPDATE seals SET policy = NULL WHERE epoch = 0", "removed"),
    ] {
        let copy = k.dir.join(format!("{what}.sqlite3"));
        std::fs::copy(&k.db, &copy).unwrap();
        raw_db(&copy).execute_batch(edit).unwrap();
        let (code, text) = verify(&copy, &["--pubkey", &root]);
        assert_eq!(code, Some(1), "{what}: {text}");
        assert!(
            text.contains("TAMPERED at seq 20: the seal of epoch 0 has a signature that does not verify"),
            "{what}: {text}"
        );
    }
}

/// A journal whose every seal was deleted has no announced policy left; it is held to the longest epoch any
/// configuration allows. A kiosk that ran for more than an hour without a seal is not one that kept to it.
#[test]
fn a_journal_without_seals_that_ran_for_over_an_hour_shows_its_seals_were_removed() {
    let k = journal_of(200, 30);
    let root = root_key(&k);
    // What a kiosk that ran 70 minutes (one entry every 2 min 25 s) looks like once its seals and
    // checkpoints are deleted; the chain is rebuilt as the attacker would.
    let conn = raw_db(&k.db);
    conn.execute_batch(
        "DELETE FROM seals; DELETE FROM checkpoints;
         UPDATE entries SET mono_ms = (SELECT mono_ms FROM entries WHERE seq = 1) + (seq - 1) * 145000 WHERE seq > 1;",
    )
    .unwrap();
    rehash_from(&conn, 2);
    drop(conn);
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "TAMPERED at seq 1: entries 1 to 30 are unsealed, with one process writing for 70 min 5 s, but no configuration allows an epoch of more than 10000 entries or 60 minutes: the journal's seals were removed"
        ),
        "{text}"
    );
    // The same within the hour: indistinguishable from a young journal's first epoch.
    let conn = raw_db(&k.db);
    conn.execute_batch(
        "UPDATE entries SET mono_ms = (SELECT mono_ms FROM entries WHERE seq = 1) + (seq - 1) * 1000 WHERE seq > 1;",
    )
    .unwrap();
    rehash_from(&conn, 2);
    drop(conn);
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(0), "{text}");
}

/// A seal that fails leaves a longer epoch: the kiosk journals why (`seal_failed`, once), the seal that finally
/// covers it makes that genuine, and verify says so instead of calling it tampered. While nothing has sealed
/// since, the unprotected tail is reported, with the failure named.
#[test]
fn a_failed_seal_is_journaled_and_explains_the_longer_epoch_it_leaves() {
    let k = kiosk_with_epochs(10);
    let journal = Journal::open(k.settings()).unwrap();
    append_tickets(&journal, 15);
    // The next key cannot be written: a folder stands where it goes.
    let next = k.dir.join("checkpoint.ed25519.next");
    std::fs::create_dir(&next).unwrap();
    append_tickets(&journal, 40);
    let root = root_key(&k);
    let conn = rusqlite::Connection::open(&k.db).unwrap();
    let failed: Vec<(i64, String)> = conn
        .prepare("SELECT seq, payload FROM entries WHERE kind = 'seal_failed'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(failed.len(), 1, "once per epoch: {failed:?}");
    assert_eq!(failed[0].0, 21, "in the transaction whose seal failed");
    assert!(failed[0].1.contains("\"epoch\":1") && failed[0].1.contains("\"seq\":20"), "{failed:?}");
    assert_eq!(seals(&k.db).len(), 1);
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(1), "an unsealed tail past the policy: {text}");
    assert!(
        text.contains("TAMPERED at seq 11: entries 11 to 56 are unsealed, with 45 entries before its last transaction, but the seal of epoch 0 announced epochs of at most 10 entries or 5 minutes: the kiosk journaled at seq 21 that a seal failed, and nothing has sealed since"),
        "{text}"
    );

    std::fs::remove_dir(&next).unwrap();
    append_tickets(&journal, 1);
    drop(journal);
    assert_eq!(seals(&k.db).get(1).map(|s| s.seq), Some(56), "the next write first seals what waited");
    let (code, text) = verify(&k.db, &["--pubkey", &root]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("entries 11 to 56 were sealed later than their policy says: the kiosk journaled at seq 21 that a seal failed"),
        "{text}"
    );
}

/// A configuration that lengthens the epochs takes effect from the next seal: the epoch already announced
/// keeps to its policy, so every epoch verifies against what its seal announced.
#[test]
fn a_changed_policy_is_announced_by_the_next_seal_and_the_running_epoch_keeps_the_old_one() {
    let k = journal_of(10, 25);
    let before = seals(&k.db);
    assert_eq!(before.iter().map(|s| s.seq).collect::<Vec<_>>(), vec![10, 20, 25]);
    let text = std::fs::read_to_string(&k.config).unwrap().replacen("epoch_entries = 10", "epoch_entries = 30", 1);
    std::fs::write(&k.config, text).unwrap();
    let journal = Journal::open(k.settings()).unwrap();
    append_tickets(&journal, 70);
    drop(journal);
    let after = seals(&k.db);
    assert_eq!(after.iter().map(|s| s.seq).collect::<Vec<_>>(), vec![10, 20, 25, 35, 65, 95]);
    assert_eq!(after[3].policy.map(|p| p.epoch_entries), Some(30), "the first seal after the change announces it");
    let (code, text) = verify(&k.db, &["--pubkey", &root_key(&k)]);
    assert_eq!(code, Some(0), "{text}");
}

/// Issue #28 item 8, the CSV rules: a CSV export and its `.sig`, verified by both verifiers; every tampering
/// of a row (deleted, duplicated, swapped, a hash digit, its payload edited or erased — with the `.sig`'s
/// SHA-256 brought up to date, as a tamperer would) and of the signature (its digits, a seal removed or its
/// policy loosened, the counts, `contiguous`, the filter, the checkpoint; the `.sig` removed; relabelled as
/// version 1) is refused by both.
#[test]
fn the_independent_verifier_agrees_on_tamperings_of_a_csv_export() {
    let k = three_epochs();
    let root = root_key(&k);
    let csv = k.dir.join("export.csv");
    let (code, _, err) = run(kiosk()
        .args(["journal", "export", "--config"])
        .arg(&k.config)
        .args(["--format", "csv", "--out"])
        .arg(&csv));
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let sig: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(k.dir.join("export.csv.sig")).unwrap()).unwrap();
    let rows: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(rows.len(), 19, "a header and 18 rows");

    // (name, rows, the .sig or None for none)
    let mut cases: Vec<(String, Vec<String>, Option<serde_json::Value>)> =
        vec![("untouched".into(), rows.clone(), Some(sig.clone()))];
    let rehashed = |rows: &[String]| -> serde_json::Value {
        let mut s = sig.clone();
        s["csv_sha256"] =
            json!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest((rows.join("\n") + "\n").as_bytes())));
        s
    };
    for i in 1..rows.len() {
        let mut edits: Vec<(String, Vec<String>)> = Vec::new();
        let mut l = rows.clone();
        l.remove(i);
        edits.push((format!("row {i} deleted"), l));
        let mut l = rows.clone();
        l.insert(i, rows[i].clone());
        edits.push((format!("row {i} duplicated"), l));
        if i + 1 < rows.len() {
            let mut l = rows.clone();
            l.swap(i, i + 1);
            edits.push((format!("rows {i} and {} swapped", i + 1), l));
        }
        let cells: Vec<&str> = rows[i].rsplitn(2, ',').collect();
        let hash = cells[0];
        let flipped = format!("{}{}", if hash.starts_with('0') { '1' } else { '0' }, &hash[1..]);
        let mut l = rows.clone();
        l[i] = rows[i].replacen(hash, &flipped, 1);
        edits.push((format!("row {i}: a digit of its hash changed"), l));
        if rows[i].contains("A0") || rows[i].contains("A1") || rows[i].contains("A2") {
            let mut l = rows.clone();
            l[i] = rows[i].replacen("\"\"A", "\"\"B", 1);
            if l[i] != rows[i] {
                edits.push((format!("row {i}: its payload edited"), l));
            }
        }
        for (name, l) in edits {
            let s = rehashed(&l);
            cases.push((name, l, Some(s)));
        }
    }
    let mut sig_edit = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut s = sig.clone();
        edit(&mut s);
        cases.push((name.to_owned(), rows.clone(), Some(s)));
    };
    let flip = |v: &mut serde_json::Value| {
        let t = v.as_str().unwrap().to_owned();
        *v = json!(format!("{}{}", if t.starts_with('0') { '1' } else { '0' }, &t[1..]));
    };
    sig_edit("a digit of the signature changed", &|s| flip(&mut s["signature"]));
    sig_edit("a digit of the first seal's signature changed", &|s| flip(&mut s["seals"][0]["signature"]));
    sig_edit("a digit of the checkpoint's signature changed", &|s| flip(&mut s["checkpoint"]["signature"]));
    sig_edit("the last seal removed", &|s| {
        s["seals"].as_array_mut().unwrap().pop();
    });
    sig_edit("the first seal's policy loosened", &|s| s["seals"][0]["policy"]["epoch_entries"] = json!(10_000));
    sig_edit("the first seal's policy removed", &|s| {
        s["seals"][0].as_object_mut().unwrap().remove("policy");
    });
    sig_edit("one entry fewer", &|s| s["entries"] = json!(17));
    sig_edit("contiguous set false", &|s| s["contiguous"] = json!(false));
    sig_edit("the filter changed", &|s| s["filter"] = json!({ "kinds": ["evaluation"] }));
    sig_edit("the checkpoint moved back", &|s| s["checkpoint"]["seq"] = json!(17));
    sig_edit("relabelled version 1", &|s| {
        s["version"] = json!(1);
        s.as_object_mut().unwrap().remove("seals");
    });
    sig_edit("an unknown key added", &|s| s["note"] = json!("fine"));
    cases.push(("the .sig removed".into(), rows.clone(), None));
    assert!(cases.len() >= 100, "{} cases", cases.len());

    let edited = k.dir.join("edited.csv");
    let edited_sig = k.dir.join("edited.csv.sig");
    let mut disagreements = vec![];
    for (name, l, s) in &cases {
        std::fs::write(&edited, l.join("\n") + "\n").unwrap();
        match s {
            Some(s) => std::fs::write(&edited_sig, s.to_string()).unwrap(),
            None => std::fs::remove_file(&edited_sig).unwrap(),
        }
        let (ours, text) = verify(&edited, &["--pubkey", &root]);
        let theirs = independent(&edited, &root);
        let expected = name == "untouched";
        if (ours == Some(0), theirs.status.code() == Some(0)) != (expected, expected) {
            disagreements.push(format!(
                "{name}: kiosk {ours:?} {}; independent {:?} {}",
                text.trim(),
                theirs.status.code(),
                (String::from_utf8_lossy(&theirs.stdout) + String::from_utf8_lossy(&theirs.stderr)).trim()
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}
