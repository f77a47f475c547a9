//! The subject HMAC key and how a person is named without their data (the journal's signing keys are in `epoch_key`).

use super::JournalError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use zeroize::Zeroizing;

/// The per-kiosk secret behind subject identifiers: HMAC-SHA256(secret, ID number).
#[derive(Clone)]
pub struct SubjectKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

impl SubjectKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The subject identifier of an ID number: lowercase hex of HMAC-SHA256.
    pub fn subject(&self, id_number: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.as_ref()).expect("HMAC takes any key length");
        mac.update(id_number.trim().to_ascii_uppercase().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// An ID number with only the first `head` and last `tail` characters visible: 371***********123X.
pub fn mask_id_number(id: &str, (head, tail): (u8, u8)) -> String {
    vocabulary::mask::keep(id, usize::from(head), usize::from(tail))
}

/// A name with only the surname visible: 张三 → 张*, 欧阳娜娜 → 欧***.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// Reads a 32-byte secret from `path`, creating it (mode 0600) with fresh random bytes on first start.
pub fn load_or_create_secret(path: &Path) -> Result<Zeroizing<[u8; 32]>, JournalError> {
    load_or_create(path, true)
}

/// `may_retry`: another process may create the file between our read and our link, once; after that an
/// existing-but-unreadable path (a dangling symlink) is an error, never a loop.
fn load_or_create(path: &Path, may_retry: bool) -> Result<Zeroizing<[u8; 32]>, JournalError> {
    let key_err = |what: String| JournalError::Key { path: path.to_owned(), what };
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0);
            if mode & 0o077 != 0 {
                log::warn!(
                    "{} is readable by other users (mode {:o}); run chmod 600 on it.",
                    path.display(),
                    mode & 0o777
                );
            }
            let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                key_err(format!(
                    "it holds {} bytes, not 32; restore it from backup (a new key would break continuity)",
                    bytes.len()
                ))
            })?;
            Ok(Zeroizing::new(arr))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(key_err(
                    "it is a symbolic link to a file that does not exist; point it at the key or remove it".into(),
                ));
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| key_err(format!("cannot create its folder ({e})")))?;
            }
            let mut bytes = Zeroizing::new([0u8; 32]);
            getrandom::fill(bytes.as_mut()).map_err(|e| key_err(format!("no randomness from the OS ({e})")))?;
            // Written aside, then linked into place: a power cut never leaves a short key file,
            // and an existing key is never overwritten (the link fails instead).
            let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(|e| key_err(format!("cannot create it ({e})")))?;
            file.write_all(bytes.as_ref())
                .and_then(|()| file.sync_all())
                .map_err(|e| key_err(format!("cannot write it ({e})")))?;
            let linked = std::fs::hard_link(&tmp, path);
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => {}
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && may_retry => {
                    return load_or_create(path, false);
                }
                Err(e) => return Err(key_err(format!("cannot put it in place ({e})"))),
            }
            if let Some(dir) = path.parent().and_then(|d| std::fs::File::open(d).ok()) {
                let _ = dir.sync_all();
            }
            log::info!("created {}", path.display());
            Ok(bytes)
        }
        Err(e) => Err(key_err(format!("cannot read it ({e})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dangling_symlink_is_an_error_not_a_stack_overflow() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("subject.key");
        std::os::unix::fs::symlink(dir.path().join("gone/subject.key"), &key).unwrap();
        let err = load_or_create_secret(&key).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert!(!dir.path().join("gone").exists(), "nothing created");
    }

    #[test]
    fn masks() {
        assert_eq!(mask_id_number("37132919800101123X", (3, 4)), "371***********123X");
        assert_eq!(mask_id_number("123", (3, 4)), "***");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
    }

    #[test]
    fn subject_is_keyed_and_stable() {
        let a = SubjectKey::from_bytes([1; 32]);
        let b = SubjectKey::from_bytes([2; 32]);
        assert_eq!(a.subject("37132919800101123x"), a.subject("37132919800101123X"));
        assert_ne!(a.subject("37132919800101123X"), b.subject("37132919800101123X"));
        assert!(!a.subject("37132919800101123X").contains("1980"));
    }

    #[test]
    fn secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/subject.key");
        let first = load_or_create_secret(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(*load_or_create_secret(&path).unwrap(), *first);
        std::fs::write(&path, b"short").unwrap();
        let err = load_or_create_secret(&path).unwrap_err().to_string();
        assert!(err.contains("5 bytes, not 32"), "{err}");
    }
}
