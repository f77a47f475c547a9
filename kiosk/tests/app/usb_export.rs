//! 导出日志 onto media that fail the way USB sticks do: a full stick (a 64 KiB tmpfs), a write-protected one
//! (remounted read-only) and one pulled mid-write (the file's writer fails with EIO). Each gives its
//! sentence, leaves no file behind and journals no export; a good export reads back and verifies.

use kiosk::journal::{EntryKind, Journal, JournalSettings, NewEntry, Verdict};
use kiosk::usb_export::{ExportError, export_into, export_to};
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// A tmpfs of `size` mounted at `dir` (the tests run as root, as `scripts/test` does), unmounted on drop.
struct Stick(std::path::PathBuf);

impl Stick {
    fn mount(dir: &Path, size: &str) -> Stick {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(ok.success(), "mount a tmpfs at {} (needs root)", dir.display());
        Stick(dir.to_path_buf())
    }
    fn read_only(&self) {
        let ok = Command::new("mount").args(["-o", "remount,ro"]).arg(&self.0).status().unwrap();
        assert!(ok.success());
    }
}

impl Drop for Stick {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn journal(dir: &Path, entries: usize) -> Journal {
    let j = Journal::open(JournalSettings::in_dir("usb-kiosk", dir)).unwrap();
    j.transact(move |_| {
        let e = (0..entries)
            .map(|i| {
                NewEntry::new(EntryKind::Evaluation, serde_json::json!({ "level": 5, "i": i, "pad": "x".repeat(40) }))
            })
            .collect();
        Ok((e, ()))
    })
    .unwrap();
    j
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

fn exports_journaled(j: &Journal) -> i64 {
    let conn = kiosk::journal::open_read_only(&j.settings().path).unwrap();
    conn.query_row("SELECT count(*) FROM entries WHERE kind = 'journal_exported'", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_good_export_reads_back_verified_and_is_journaled_with_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path(), 3000);
    let usb = dir.path().join("usb");
    let stick = Stick::mount(&usb, "16m");
    let seen = std::cell::RefCell::new(Vec::new());
    let done = export_to(&j, &usb, &|d, t| seen.borrow_mut().push((d, t))).unwrap();
    assert_eq!((done.entries, done.first_seq, done.last_seq), (3000, Some(1), Some(3000)));
    assert_eq!(seen.borrow().first(), Some(&(0, 3000)));
    assert_eq!(seen.borrow().last(), Some(&(3000, 3000)));
    assert_eq!(files_in(&usb), [done.file.file_name().unwrap().to_string_lossy().into_owned()], "no partial left");
    let key = kiosk::journal::chain::parse_public_key(j.public_key()).unwrap();
    assert!(matches!(
        kiosk::journal::verify_path(&done.file, Some(&key)).unwrap(),
        Verdict::Intact { entries: 3000, .. }
    ));
    let conn = kiosk::journal::open_read_only(&j.settings().path).unwrap();
    let (sha, last): (String, i64) = conn
        .query_row(
            "SELECT json_extract(payload, '$.sha256'), json_extract(payload, '$.last_seq') FROM entries WHERE kind = 'journal_exported'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    use sha2::Digest;
    assert_eq!(sha, hex::encode(sha2::Sha256::digest(std::fs::read(&done.file).unwrap())));
    assert_eq!(last, 3000);
    drop(stick);
}

#[test]
fn a_full_stick_says_so_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path(), 3000);
    let usb = dir.path().join("usb");
    let _stick = Stick::mount(&usb, "64k");
    let err = export_to(&j, &usb, &|_, _| {}).unwrap_err();
    assert!(matches!(err, ExportError::Full { .. }), "{err:?}");
    assert!(err.to_string().contains("full") && err.to_string().contains("larger stick"), "{err}");
    assert!(files_in(&usb).is_empty(), "{:?}", files_in(&usb));
    assert_eq!(exports_journaled(&j), 0);
}

#[test]
fn a_write_protected_stick_says_so_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path(), 10);
    let usb = dir.path().join("usb");
    let stick = Stick::mount(&usb, "1m");
    stick.read_only();
    let err = export_to(&j, &usb, &|_, _| {}).unwrap_err();
    assert_eq!(err, ExportError::ReadOnly);
    assert!(err.to_string().contains("write-protected"), "{err}");
    assert_eq!(exports_journaled(&j), 0);
}

/// A stick pulled after `left` bytes: every later write fails as the kernel reports it (EIO).
struct Pulled {
    file: std::fs::File,
    left: usize,
}

impl Write for Pulled {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.left {
            return Err(std::io::Error::from_raw_os_error(5));
        }
        self.left -= buf.len();
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

#[test]
fn a_stick_pulled_mid_write_says_so_and_leaves_no_half_file() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(dir.path(), 3000);
    let usb = dir.path().join("usb");
    std::fs::create_dir_all(&usb).unwrap();
    let err = export_into(&j, &usb, &|_, _| {}, &|file| Box::new(Pulled { file, left: 20_000 })).unwrap_err();
    assert!(matches!(err, ExportError::Removed(_)), "{err:?}");
    assert!(err.to_string().contains("went away") && err.to_string().contains("unfinished file was removed"), "{err}");
    assert!(files_in(&usb).is_empty(), "{:?}", files_in(&usb));
    assert_eq!(exports_journaled(&j), 0);
}
