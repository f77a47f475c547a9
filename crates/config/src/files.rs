//! Files read by name, bounded: a regular file within the size its kind can reasonably have, else an error
//! that says which and why, before anything waits on it (a FIFO blocks an `open`; `/dev/zero` never ends).

use std::io::Read;
use std::path::Path;

/// What a file is, with the largest size one can reasonably have. The limits are far above any real file
/// and far below what would exhaust the box's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The kiosk's configuration, the credentials file, the fleet file: 1 MiB.
    Configuration,
    /// A service catalogue or partner file: 16 MiB.
    Catalogue,
    /// A day's appointments exported by the platform: 64 MiB.
    Appointments,
    /// A licence documents import (JSON lines) or a document's data: 256 MiB.
    Documents,
    /// A licence template: 4 MiB.
    Template,
    /// A hex frame or reply (`kiosk idcard decode`): 64 KiB.
    Frames,
    /// A token, key or digest file: 64 KiB.
    Secret,
}

impl FileKind {
    pub fn limit(self) -> u64 {
        match self {
            FileKind::Configuration => 1 << 20,
            FileKind::Catalogue => 16 << 20,
            FileKind::Appointments => 64 << 20,
            FileKind::Documents => 256 << 20,
            FileKind::Template => 4 << 20,
            FileKind::Frames | FileKind::Secret => 64 << 10,
        }
    }

    fn what(self) -> &'static str {
        match self {
            FileKind::Configuration => "a configuration file",
            FileKind::Catalogue => "a catalogue file",
            FileKind::Appointments => "an appointments file",
            FileKind::Documents => "a documents file",
            FileKind::Template => "a template",
            FileKind::Frames => "a frame",
            FileKind::Secret => "a key or token file",
        }
    }
}

fn size_words(bytes: u64) -> String {
    if bytes >= 1 << 20 { format!("{} MiB", bytes >> 20) } else { format!("{} KiB", bytes >> 10) }
}

/// The file at `path` as bytes, if it is a regular file within `kind`'s limit. The error is an
/// `io::Error` whose text says why (callers put the file's name and what to do around it).
pub fn read_bounded(path: &Path, kind: FileKind) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind};
    // Judged before opening: opening a FIFO for reading waits for a writer.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let is = if meta.is_dir() {
            "a folder"
        } else {
            use std::os::unix::fs::FileTypeExt;
            let t = meta.file_type();
            if t.is_fifo() {
                "a named pipe (FIFO)"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else if t.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            }
        };
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("it is {is}, not a file; give the path of {}", kind.what()),
        ));
    }
    let limit = kind.limit();
    let too_big = || {
        Error::new(
            ErrorKind::InvalidData,
            format!("it is larger than the {} {} can be; is it the right file?", size_words(limit), kind.what()),
        )
    };
    if meta.len() > limit {
        return Err(too_big());
    }
    let file = std::fs::File::open(path)?;
    // The file may have been swapped or grown since: the read is bounded whatever it is now.
    if !file.metadata()?.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "it changed into something that is not a file while being opened",
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

/// A secret file (a TLS key, the credentials' hashes) that others may read is refused: `Err` says why and
/// what to do. One its group may read is allowed when the group is this process's (the box gives the kiosk
/// user's group read access); for another group `Ok(Some(warning))`.
pub fn check_private(path: &Path) -> std::io::Result<Option<String>> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    let mode = meta.mode() & 0o777;
    if mode & 0o007 != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "any user of this machine can read it (mode {mode:03o}); run: chmod o-rwx {} (the box's files are 0640 root:kiosk)",
                path.display()
            ),
        ));
    }
    if mode & 0o070 != 0 && meta.gid() != rustix::process::getegid().as_raw() {
        return Ok(Some(format!(
            "{}: group {} may read it (mode {mode:03o}); only the kiosk's own group should",
            path.display(),
            meta.gid()
        )));
    }
    Ok(None)
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_text(path: &Path, kind: FileKind) -> std::io::Result<String> {
    String::from_utf8(read_bounded(path, kind)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("it is not UTF-8 text ({e})")))
}

/// Reads at most `kind`'s limit from `input` (standard input), as text.
pub fn read_text_from(input: impl Read, kind: FileKind) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    input.take(kind.limit() + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > kind.limit() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the input is larger than the {} {} can be", size_words(kind.limit()), kind.what()),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("it is not UTF-8 text ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_their_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("kiosk.toml");
        std::fs::write(&ok, "[kiosk]\n").unwrap();
        assert_eq!(read_text(&ok, FileKind::Configuration).unwrap(), "[kiosk]\n");
        let big = dir.path().join("big.toml");
        std::fs::File::create(&big).unwrap().set_len((1 << 20) + 1).unwrap();
        let e = read_text(&big, FileKind::Configuration).unwrap_err().to_string();
        assert!(e.contains("larger than the 1 MiB a configuration file can be"), "{e}");
        let e = read_text(Path::new("/dev/zero"), FileKind::Configuration).unwrap_err().to_string();
        assert!(e.contains("it is a device, not a file"), "{e}");
        let e = read_text(dir.path(), FileKind::Catalogue).unwrap_err().to_string();
        assert!(e.contains("it is a folder"), "{e}");
        let e = read_text_from(std::io::repeat(b'0').take(70_000), FileKind::Frames).unwrap_err().to_string();
        assert!(e.contains("larger than the 64 KiB"), "{e}");
    }
}
