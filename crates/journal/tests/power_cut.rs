//! Power cuts, not only kills (issue #28 item 9): the journal and its key files on a filesystem that keeps only
//! what was synced (`tests/powercut/lazyfs.py`, FUSE), the power cut at a different operation each cycle —
//! while the journal opens, issues, seals and hands its key over. SIGKILL leaves the page cache intact and so
//! never tests the order of the fsyncs; this does. After each cut: no acknowledged entry lost, the file
//! verifies from the root key, the key file agrees with the seals; at the end, no erased key is readable.
//!
//! `KIOSK_POWER_CUTS` sets the number of cycles (a short run here; `scripts/bench` runs 300).

use journal::{Journal, JournalSettings, Verdict, key_state_problem, verify_path};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The filesystem, from the workspace's `tests/` (Debian's python3-fusepy runs under the system Python).
fn lazyfs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/powercut/lazyfs.py")
}

const PYTHON: &str = "/usr/bin/python3";

/// How long any one step may take before the test says which one hung.
const STEP: Duration = Duration::from_secs(30);

#[test]
fn power_cuts_lose_no_acknowledged_entry_and_leave_no_erased_key_readable() {
    let cycles: u32 = std::env::var("KIOSK_POWER_CUTS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    assert!(
        Path::new("/dev/fuse").exists() && Path::new("/usr/bin/fusermount3").exists(),
        "this test needs FUSE: /dev/fuse and Debian's fuse3 and python3-fusepy (scripts/test installs them)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let backing = tmp.path().join("disk");
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&backing).unwrap();
    std::fs::create_dir(&mnt).unwrap();
    let mut acked: Vec<u64> = Vec::new();
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    let mut root: Option<String> = None;
    // A fixed-seed generator: the cut points vary across cycles, and a failure is reproducible.
    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    let mut cuts = Vec::new();
    for cycle in 0..cycles {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // The first cycles cut inside the first start (creating the file, the root key, the first seal).
        let cut_at = if cycle < 4 { 2 + rng % 60 } else { 40 + rng % 700 };
        let (new, cut) = power_cut_cycle(&backing, &mnt, cut_at, cycle);
        cuts.push(cut);
        acked.extend(new);

        // What the disk holds now, checked on a copy: opening the file itself could fold its WAL in.
        let copy = tmp.path().join(format!("after-{cycle}"));
        std::fs::create_dir(&copy).unwrap();
        for f in std::fs::read_dir(&backing).unwrap().flatten() {
            std::fs::copy(f.path(), copy.join(f.file_name())).unwrap();
        }
        let db = copy.join("journal.sqlite3");
        let present = entries_in(&db);
        let max = present.last().copied().unwrap_or(0);
        assert_eq!(present, (1..=max).collect::<Vec<_>>(), "cycle {cycle} (cut at {cut_at}): seqs are 1..n");
        if let Some(lost) = acked.iter().find(|&&s| s > max) {
            panic!("cycle {cycle} (cut at {cut_at}): acknowledged seq {lost} was lost (the journal ends at {max})");
        }
        if max > 0 {
            let conn = rusqlite::Connection::open(&db).unwrap();
            let key = journal::schema::meta(&conn, "public_key").unwrap();
            if let (Some(first), Some(now)) = (&root, &key) {
                assert_eq!(first, now, "cycle {cycle}: the root key changed");
            }
            root = root.or(key);
            assert_eq!(
                key_state_problem(&conn, &copy.join("checkpoint.ed25519")).unwrap(),
                None,
                "cycle {cycle} (cut at {cut_at}): the key file disagrees with the seals"
            );
            drop(conn);
            let trusted = root.as_deref().map(|r| journal::chain::parse_public_key(r).unwrap());
            match verify_path(&db, trusted.as_ref()).unwrap() {
                Verdict::Intact { .. } => {}
                other => panic!("cycle {cycle} (cut at {cut_at}): {other:?}"),
            }
        }
        std::fs::remove_dir_all(&copy).unwrap();
        if let Ok(bytes) = std::fs::read(backing.join("checkpoint.ed25519"))
            && bytes.len() >= 32
            && bytes.iter().any(|b| *b != 0)
        {
            let secret = bytes[bytes.len() - 32..].to_vec();
            if secrets.last() != Some(&secret) {
                secrets.push(secret);
            }
        }
    }
    assert!(acked.len() as u32 > cycles, "entries were acknowledged: {} in {cycles} cycles", acked.len());
    println!("{cycles} power cuts after {:?} operations; {} acknowledged entries kept", cuts, acked.len());

    // One start on the disk as the cuts left it finishes any interrupted hand-over and seals the tail; then
    // every epoch's key but the current one is gone from every file beside the journal.
    let journal = Journal::open(JournalSettings::in_dir("crash-kiosk", &backing)).unwrap();
    assert_eq!(journal.key_problem(), None);
    journal.close();
    drop(journal);
    let trusted = journal::chain::parse_public_key(root.as_deref().unwrap()).unwrap();
    match verify_path(&backing.join("journal.sqlite3"), Some(&trusted)).unwrap() {
        Verdict::Intact { unsealed: 0, .. } => {}
        other => panic!("after the cuts: {other:?}"),
    }
    let current = std::fs::read(backing.join("checkpoint.ed25519")).unwrap();
    let current = &current[current.len() - 32..];
    assert!(!backing.join("checkpoint.ed25519.next").exists());
    for (i, secret) in secrets.iter().enumerate() {
        if secret.as_slice() == current {
            continue;
        }
        for file in std::fs::read_dir(&backing).unwrap().flatten() {
            let bytes = std::fs::read(file.path()).unwrap();
            assert!(
                !bytes.windows(32).any(|w| w == secret.as_slice()),
                "key {i} survives in {}",
                file.path().display()
            );
        }
    }
}

/// Mounts the filesystem over `backing`, runs the appending child on it until the power goes at operation
/// `cut_at`, kills the child and unmounts. Returns the seqs the child acknowledged, and after how many
/// operations the power went.
fn power_cut_cycle(backing: &Path, mnt: &Path, cut_at: u64, cycle: u32) -> (Vec<u64>, u64) {
    let mut fs = Owned(
        Command::new(PYTHON)
            .arg(lazyfs())
            .arg(backing)
            .arg(mnt)
            .arg(cut_at.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/powercut/lazyfs.py"),
    );
    let (said, hear) = mpsc::channel();
    let out = fs.0.stdout.take().unwrap();
    let listener = std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = said.send(line);
        }
    });
    wait_for(|| mounted(mnt), &format!("cycle {cycle}: the filesystem to mount"));
    let _unmount = Unmount(mnt);
    let mut child = Owned(
        Command::new(env!("CARGO_BIN_EXE_journal-append-loop"))
            .arg(mnt)
            .env("RUST_LOG", "off")
            .env("RUST_BACKTRACE", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout).lines().map_while(Result::ok).filter_map(|l| l.parse::<u64>().ok()).collect::<Vec<_>>()
    });
    let line =
        hear.recv_timeout(STEP).unwrap_or_else(|_| panic!("cycle {cycle}: the power never went (cut at {cut_at})"));
    let done: u64 = line
        .strip_prefix("cut after ")
        .and_then(|l| l.strip_suffix(" operations"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cycle {cycle}: the filesystem said {line:?}"));
    // The power is gone: the child is killed as it stands (a real box would stop mid-instruction too).
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let acked = reader.join().unwrap();
    wait_for(
        || Command::new("fusermount3").arg("-u").arg(mnt).stderr(Stdio::null()).status().is_ok_and(|s| s.success()),
        &format!("cycle {cycle}: the filesystem to unmount"),
    );
    let deadline = Instant::now() + STEP;
    while fs.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "cycle {cycle}: the filesystem did not stop after unmounting");
        std::thread::sleep(Duration::from_millis(20));
    }
    listener.join().unwrap();
    (acked, done)
}

fn mounted(mnt: &Path) -> bool {
    let target = mnt.to_string_lossy();
    std::fs::read_to_string("/proc/self/mounts").is_ok_and(|m| m.lines().any(|l| l.split(' ').nth(1) == Some(&target)))
}

fn wait_for(mut ready: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + STEP;
    while !ready() {
        assert!(Instant::now() < deadline, "waited {STEP:?} for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The seqs in the journal at `db` (none when the cut came before its table).
fn entries_in(db: &Path) -> Vec<u64> {
    if !db.exists() {
        return Vec::new();
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let has: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'entries'", [], |r| r.get(0)).unwrap();
    if has == 0 {
        return Vec::new();
    }
    conn.prepare("SELECT seq FROM entries ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|s| s.unwrap() as u64)
        .collect()
}

/// A process killed when the test lets go of it (a failed assertion included).
struct Owned(Child);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lazily unmounts when the test lets go of the mount, so that a failed cycle leaves no dead mount behind.
struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        if mounted(self.0) {
            let _ = Command::new("fusermount3").arg("-uz").arg(self.0).stderr(Stdio::null()).status();
        }
    }
}
