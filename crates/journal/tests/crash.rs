//! Kill -9 a process that is appending and sealing, many times: every acknowledged entry survives, nothing is
//! torn, and every epoch key but the current one is erased.

use journal::{Journal, JournalSettings, Verdict, key_state_problem, verify_path};
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn sigkill_during_appends_loses_no_acknowledged_entry() {
    let cycles: u32 = std::env::var("KIOSK_CRASH_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.sqlite3");
    let key = dir.path().join("checkpoint.ed25519");
    // Each epoch key seen on disk between cycles.
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    let mut acked: Vec<u64> = Vec::new();
    // A fixed-seed generator: the kill moments vary across cycles but the run is reproducible.
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    for cycle in 0..cycles {
        let child = Command::new(env!("CARGO_BIN_EXE_journal-append-loop"))
            .arg(dir.path())
            .env("RUST_LOG", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        let stdout = child.0.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.parse::<u64>().ok())
                .collect::<Vec<_>>()
        });
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(5 + rng % 60));
        // SIGKILL: no destructor, no flush, no shutdown checkpoint.
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        acked.extend(reader.join().unwrap());

        let conn = rusqlite::Connection::open(&db).unwrap();
        let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(integrity, "ok", "cycle {cycle}: integrity_check");
        let has_table: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'entries'", [], |r| r.get(0)).unwrap();
        if has_table == 0 {
            // Killed before the first start finished creating the journal: nothing can have been acknowledged.
            assert!(acked.is_empty(), "cycle {cycle}: entries were acknowledged but the journal has no table");
            continue;
        }
        let seqs: Vec<i64> = conn
            .prepare("SELECT seq FROM entries ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        drop(conn);
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "cycle {cycle}: seqs are 1..n without gaps");
        let max = *seqs.last().unwrap_or(&0) as u64;
        if let Some(lost) = acked.iter().find(|&&s| s > max) {
            panic!("cycle {cycle}: acknowledged seq {lost} is missing (journal ends at {max})");
        }
        match verify_path(&db, None).unwrap() {
            Verdict::Intact { .. } => {}
            other => panic!("cycle {cycle}: the chain does not verify: {other:?}"),
        }
        // The key on disk is the one the newest seal hands over to, or the next start finishes the hand-over.
        let conn = rusqlite::Connection::open(&db).unwrap();
        assert_eq!(key_state_problem(&conn, &key).unwrap(), None, "cycle {cycle}: key state");
        drop(conn);
        if let Ok(bytes) = std::fs::read(&key)
            && bytes.len() >= 32
            && bytes.iter().any(|b| *b != 0)
        {
            let secret = bytes[bytes.len() - 32..].to_vec();
            if secrets.last() != Some(&secret) {
                secrets.push(secret);
            }
        }
    }
    assert!(acked.len() as u32 > cycles, "the children acknowledged entries ({} in {cycles} cycles)", acked.len());

    // One clean start finishes any interrupted hand-over and seals the tail; then every epoch's key but the
    // current one is gone from every file beside the journal.
    let journal = Journal::open(JournalSettings::in_dir("crash-kiosk", dir.path())).unwrap();
    let root = journal::chain::parse_public_key(journal.public_key()).unwrap();
    assert_eq!(journal.key_problem(), None);
    journal.close();
    drop(journal);
    let seals = match verify_path(&db, Some(&root)).unwrap() {
        Verdict::Intact { seals, unsealed: 0, .. } => seals,
        other => panic!("after the cycles: {other:?}"),
    };
    assert!(seals as usize >= secrets.len(), "{seals} seals, {} keys seen", secrets.len());
    assert!(secrets.len() as u32 >= cycles / 2, "epochs ended in most cycles: {} keys seen", secrets.len());
    let current = std::fs::read(&key).unwrap();
    let current = &current[current.len() - 32..];
    assert!(!dir.path().join("checkpoint.ed25519.next").exists());
    for (i, secret) in secrets.iter().enumerate() {
        if secret.as_slice() == current {
            continue;
        }
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let bytes = std::fs::read(file.path()).unwrap();
            assert!(
                !bytes.windows(32).any(|w| w == secret.as_slice()),
                "key {i} of {} survives in {}",
                secrets.len(),
                file.path().display()
            );
        }
    }
}

/// The child, killed when the test lets go of it (a failed assertion included).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
