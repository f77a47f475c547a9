//! 导出日志 on site, without a network (village stations): the whole journal as a sealed JSON-lines export on a
//! USB stick (a removable medium mounted under /media or /run/media, or `[admin] export_dir`), read back and
//! verified before it is called done. A full, write-protected or pulled stick gives a sentence saying so and
//! leaves no file that looks complete: the export is written as a hidden `.partial` and renamed at the end.

use crate::journal::export::ExportHeader;
use crate::journal::{ExportFilter, ExportFormat, Journal, Verdict, payload};
use sha2::Digest;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where desktop-style automounters put removable media.
pub const MEDIA_ROOTS: [&str; 2] = ["/media/", "/run/media/"];

/// Why an export did not finish; each says what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    #[error("No USB stick is mounted. Insert one, wait until it appears, and export again.")]
    NoMedium,
    #[error(
        "The USB stick is full ({written_kib} KiB were written). Free space on it or use a larger stick; the unfinished file was removed."
    )]
    Full { written_kib: u64 },
    #[error("The USB stick is write-protected. Slide its lock switch off or use another stick; nothing was written.")]
    ReadOnly,
    #[error(
        "The USB stick went away before the export finished ({0}). Insert it again and export again; the unfinished file was removed."
    )]
    Removed(String),
    #[error("The file on the USB stick does not read back intact ({0}); it was removed. Use another stick.")]
    ReadBack(String),
    #[error("The journal cannot be read ({0}). Call the county's support.")]
    Journal(String),
    #[error("Writing to the USB stick failed ({0}). Try another stick.")]
    Io(String),
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub file: PathBuf,
    pub entries: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub sha256: String,
}

/// Mount points under [`MEDIA_ROOTS`] in a `/proc/self/mounts` text, newest last (octal escapes decoded).
pub fn removable_mounts(mounts: &str) -> Vec<PathBuf> {
    mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(unescape_mount)
        .filter(|p| MEDIA_ROOTS.iter().any(|r| p.starts_with(r)))
        .map(PathBuf::from)
        .collect()
}

/// `/proc/mounts` writes a space as `\040` (and tab, newline, backslash likewise).
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The newest removable medium, else the configured export folder.
pub fn pick_target(export_dir: Option<&Path>) -> Result<PathBuf, ExportError> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    if let Some(m) = removable_mounts(&mounts).pop() {
        return Ok(m);
    }
    match export_dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| classify(&e, 0))?;
            Ok(d.to_path_buf())
        }
        None => Err(ExportError::NoMedium),
    }
}

/// An I/O error as the technician hears it.
fn classify(e: &io::Error, written: u64) -> ExportError {
    const EIO: i32 = 5;
    const ENXIO: i32 = 6;
    const ENODEV: i32 = 19;
    match (e.kind(), e.raw_os_error()) {
        (io::ErrorKind::StorageFull | io::ErrorKind::FileTooLarge | io::ErrorKind::QuotaExceeded, _) => {
            ExportError::Full { written_kib: written / 1024 }
        }
        (io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::PermissionDenied, _) => ExportError::ReadOnly,
        (io::ErrorKind::NotFound, _) | (_, Some(EIO | ENXIO | ENODEV)) => ExportError::Removed(e.to_string()),
        _ => ExportError::Io(e.to_string()),
    }
}

/// A writer that remembers the first error and counts bytes, so a failed export can say why.
struct Recording<W> {
    inner: W,
    written: u64,
    error: Option<io::Error>,
}

/// The same error again (io::Error is not Clone): the OS code when there is one, so it classifies alike.
fn copy(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

impl<W: Write> Write for Recording<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        match &r {
            Ok(n) => self.written += *n as u64,
            Err(e) => {
                self.error.get_or_insert_with(|| copy(e));
            }
        }
        r
    }
    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        if let Err(e) = &r {
            self.error.get_or_insert_with(|| copy(e));
        }
        r
    }
}

/// Exports the whole journal into `dir`, reporting (entries done, entries in all) as it goes; journals
/// `journal_exported` with the range and the file's SHA-256 once the file reads back intact.
pub fn export_to(journal: &Journal, dir: &Path, progress: &dyn Fn(u64, u64)) -> Result<Exported, ExportError> {
    export_into(journal, dir, progress, &|f| Box::new(io::BufWriter::with_capacity(1 << 20, f)))
}

/// [`export_to`] with the file's writer made by `wrap` (tests put a failing medium there).
pub fn export_into(
    journal: &Journal,
    dir: &Path,
    progress: &dyn Fn(u64, u64),
    wrap: &dyn Fn(File) -> Box<dyn Write>,
) -> Result<Exported, ExportError> {
    let kiosk_id = &journal.settings().kiosk_id;
    let conn =
        crate::journal::open_read_only(&journal.settings().path).map_err(|e| ExportError::Journal(e.to_string()))?;
    let total: u64 = conn
        .query_row("SELECT count(*) FROM entries", [], |r| r.get::<_, i64>(0))
        .map_err(|e| ExportError::Journal(e.to_string()))? as u64;
    let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%SZ").to_string();
    let name = format!("journal-{kiosk_id}-{stamp}.jsonl");
    let (partial, done) = (dir.join(format!(".{name}.partial")), dir.join(&name));
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&partial).map_err(|e| classify(&e, 0))?;
    let sync_handle = file.try_clone().map_err(|e| classify(&e, 0))?;
    let remove_partial = || {
        let _ = std::fs::remove_file(&partial);
    };
    let mut out = Recording { inner: wrap(file), written: 0, error: None };
    let header = ExportHeader::for_journal(journal, true, serde_json::json!({ "medium": "usb" }));
    progress(0, total);
    let written = crate::journal::export::export_signed(
        journal,
        &conn,
        &ExportFilter::default(),
        ExportFormat::Jsonl,
        &header,
        &mut out,
        &|n| progress(n, total),
    );
    let summary = match written {
        Ok(s) => s,
        Err(e) => {
            let why = match out.error.take() {
                Some(io) => classify(&io, out.written),
                None => ExportError::Journal(e.to_string()),
            };
            drop(out);
            remove_partial();
            return Err(why);
        }
    };
    let finished = out.flush().and_then(|()| {
        drop(out);
        sync_handle.sync_all()
    });
    if let Err(e) = finished {
        remove_partial();
        return Err(classify(&e, 0));
    }
    if let Err(e) = std::fs::rename(&partial, &done) {
        remove_partial();
        return Err(classify(&e, 0));
    }
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    // Read back from the stick, not from a buffer: what the county will get is what was verified.
    let trusted = crate::journal::chain::parse_public_key(journal.public_key()).ok();
    let verdict = crate::journal::verify_path(&done, trusted.as_ref());
    let sha256 = std::fs::read(&done).map(|b| hex::encode(sha2::Sha256::digest(&b)));
    let (verdict, sha256) = match (verdict, sha256) {
        (Ok(v), Ok(h)) => (v, h),
        (Err(e), _) => {
            let _ = std::fs::remove_file(&done);
            return Err(ExportError::ReadBack(e.to_string()));
        }
        (_, Err(e)) => {
            let _ = std::fs::remove_file(&done);
            return Err(classify(&e, 0));
        }
    };
    if let Verdict::Tampered { seq, what } = verdict {
        let _ = std::fs::remove_file(&done);
        return Err(ExportError::ReadBack(format!("at seq {seq}: {what}")));
    }
    let exported = Exported {
        file: done,
        entries: summary.entries,
        first_seq: summary.first_seq,
        last_seq: summary.last_seq,
        sha256,
    };
    journal
        .append(
            payload::JournalExported {
                format: "jsonl".into(),
                from: None,
                to: None,
                kinds: vec![],
                entries: exported.entries,
                first_seq: exported.first_seq,
                last_seq: exported.last_seq,
                sha256: exported.sha256.clone(),
            }
            .into(),
        )
        .map_err(|e| ExportError::Journal(e.to_string()))?;
    Ok(exported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removable_media_are_found_in_the_mount_table() {
        let mounts = "sysfs /sys sysfs rw 0 0\n/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /media/kiosk/USB\\040DISK vfat rw 0 0\n/dev/sdc1 /run/media/tech/2A3F vfat rw 0 0\n/dev/sdd1 /mediaX vfat rw 0 0\n";
        assert_eq!(
            removable_mounts(mounts),
            [PathBuf::from("/media/kiosk/USB DISK"), PathBuf::from("/run/media/tech/2A3F")]
        );
    }

    #[test]
    fn io_errors_say_what_happened_to_the_stick() {
        assert_eq!(classify(&io::Error::from_raw_os_error(28), 4096), ExportError::Full { written_kib: 4 });
        assert_eq!(classify(&io::Error::from_raw_os_error(30), 0), ExportError::ReadOnly);
        assert!(matches!(classify(&io::Error::from_raw_os_error(5), 0), ExportError::Removed(_)));
        assert!(matches!(classify(&io::Error::from_raw_os_error(19), 0), ExportError::Removed(_)));
    }
}
