//! The current epoch's signing key on disk: the one process allowed to seal (a lock), the next epoch's key
//! written beside it before a seal commits, the hand-over after, and erasure (overwrite, fsync, unlink).

use super::JournalError;
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// An epoch key file: magic `KEK2`, the epoch (u64 BE), the root public key of the journal it belongs to (32
/// bytes), the 32-byte ed25519 secret. Older files: `KEK1`, the epoch and the secret (no journal named); 32
/// bytes, the root key as written before sealing existed (epoch 0).
const MAGIC: &[u8; 4] = b"KEK2";
const FILE_LEN: usize = 4 + 8 + 32 + 32;
const MAGIC_V1: &[u8; 4] = b"KEK1";
const FILE_LEN_V1: usize = 4 + 8 + 32;

/// One epoch's signing key. The secret is wiped from memory when dropped (ed25519-dalek's zeroize).
pub struct EpochKey {
    pub epoch: u64,
    pub key: SigningKey,
    /// The root public key of the journal this key seals (None in a file from before keys named it): a key
    /// file another journal's configuration names by mistake is refused, not used.
    pub journal: Option<[u8; 32]>,
}

impl std::fmt::Debug for EpochKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EpochKey(epoch {}, {})", self.epoch, hex::encode(self.key.verifying_key().as_bytes()))
    }
}

impl EpochKey {
    /// A fresh key for `epoch` from the OS's randomness.
    pub fn generate(epoch: u64, path: &Path) -> Result<EpochKey, JournalError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| key_err(path, format!("no randomness from the OS ({e})")))?;
        Ok(EpochKey { epoch, key: SigningKey::from_bytes(&bytes), journal: None })
    }

    /// This key, naming the journal (its root public key) it belongs to.
    pub fn of_journal(mut self, root: [u8; 32]) -> EpochKey {
        self.journal = Some(root);
        self
    }

    pub fn public(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(FILE_LEN));
        match &self.journal {
            Some(root) => {
                out.extend_from_slice(MAGIC);
                out.extend_from_slice(&self.epoch.to_be_bytes());
                out.extend_from_slice(root);
            }
            None => {
                out.extend_from_slice(MAGIC_V1);
                out.extend_from_slice(&self.epoch.to_be_bytes());
            }
        }
        out.extend_from_slice(self.key.as_bytes());
        out
    }
}

fn key_err(path: &Path, what: String) -> JournalError {
    JournalError::Key { path: path.to_owned(), what }
}

/// Where the next epoch's key waits while its seal commits.
pub fn next_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".next");
    p.into()
}

fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    p.into()
}

/// The key file's state: absent, erased (zeros: the crash fell between erasing and the hand-over), or a key.
#[derive(Debug)]
pub enum OnDisk {
    Absent,
    Erased,
    Key(Box<EpochKey>),
}

/// Reads a key file without changing anything.
pub fn read(path: &Path) -> Result<OnDisk, JournalError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => Zeroizing::new(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(key_err(
                    path,
                    "it is a symbolic link to a file that does not exist; point it at the key or remove it".into(),
                ));
            }
            return Ok(OnDisk::Absent);
        }
        Err(e) => return Err(key_err(path, format!("cannot read it ({e})"))),
    };
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        log::warn!(
            "{} is readable by other users (mode {:o}); run chmod 600 on it.",
            path.display(),
            meta.permissions().mode() & 0o777
        );
    }
    if !bytes.is_empty() && bytes.iter().all(|b| *b == 0) {
        return Ok(OnDisk::Erased);
    }
    match bytes.len() {
        32 => {
            let secret: [u8; 32] = bytes.as_slice().try_into().expect("32 bytes");
            let key = SigningKey::from_bytes(&Zeroizing::new(secret));
            Ok(OnDisk::Key(Box::new(EpochKey { epoch: 0, key, journal: None })))
        }
        FILE_LEN_V1 if &bytes[..4] == MAGIC_V1 => {
            let epoch = u64::from_be_bytes(bytes[4..12].try_into().expect("8 bytes"));
            let secret: [u8; 32] = bytes[12..].try_into().expect("32 bytes");
            let key = SigningKey::from_bytes(&Zeroizing::new(secret));
            Ok(OnDisk::Key(Box::new(EpochKey { epoch, key, journal: None })))
        }
        FILE_LEN if &bytes[..4] == MAGIC => {
            let epoch = u64::from_be_bytes(bytes[4..12].try_into().expect("8 bytes"));
            let journal: [u8; 32] = bytes[12..44].try_into().expect("32 bytes");
            let secret: [u8; 32] = bytes[44..].try_into().expect("32 bytes");
            let key = SigningKey::from_bytes(&Zeroizing::new(secret));
            Ok(OnDisk::Key(Box::new(EpochKey { epoch, key, journal: Some(journal) })))
        }
        n => Err(key_err(
            path,
            format!("it holds {n} bytes, which is not a journal signing key; restore it from backup"),
        )),
    }
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().map(|d| if d.as_os_str().is_empty() { Path::new(".") } else { d })
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

/// Writes `key` to `path` durably, mode 0600, replacing nothing: an existing file is an error.
pub fn create(path: &Path, key: &EpochKey) -> Result<(), JournalError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| key_err(path, format!("cannot create its folder ({e})")))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| key_err(path, format!("cannot create it ({e})")))?;
    file.write_all(&key.to_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| key_err(path, format!("cannot write it ({e})")))?;
    sync_dir(path);
    Ok(())
}

/// Overwrites the file's bytes with zeros and syncs them, so the old secret is gone from the medium's
/// current blocks before the name goes.
fn overwrite(path: &Path) -> Result<(), JournalError> {
    let len = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return Err(key_err(path, "it is not a regular file".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(key_err(path, format!("cannot look at it ({e})"))),
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| key_err(path, format!("cannot open it to erase it ({e})")))?;
    file.write_all(&vec![0u8; len as usize])
        .and_then(|()| file.sync_all())
        .map_err(|e| key_err(path, format!("cannot erase it ({e})")))
}

/// Erases a key file: overwrite with zeros, fsync, unlink, fsync the folder.
pub fn erase(path: &Path) -> Result<(), JournalError> {
    overwrite(path)?;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(key_err(path, format!("cannot remove it ({e})"))),
    }
    sync_dir(path);
    Ok(())
}

/// After a seal committed: erase the old epoch's key in place, then move the next key over it.
pub fn hand_over(path: &Path) -> Result<(), JournalError> {
    overwrite(path)?;
    std::fs::rename(next_path(path), path)
        .map_err(|e| key_err(path, format!("cannot put the next key in place ({e})")))?;
    sync_dir(path);
    Ok(())
}

/// Takes the sealing lock for `path` without waiting: Some when this process may seal, None when another
/// process (the running kiosk) holds it. Released when the file is dropped or the process dies.
pub fn try_lock(path: &Path) -> Result<Option<std::fs::File>, JournalError> {
    let lock = lock_path(path);
    if let Some(dir) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| key_err(path, format!("cannot create its folder ({e})")))?;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock)
        .map_err(|e| key_err(&lock, format!("cannot open the sealing lock ({e})")))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(key_err(&lock, format!("cannot take the sealing lock ({e})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_written_private_read_back_and_erased() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint.ed25519");
        let key = EpochKey::generate(7, &path).unwrap();
        create(&path, &key).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let OnDisk::Key(back) = read(&path).unwrap() else { panic!("no key read back") };
        assert_eq!((back.epoch, back.public(), back.journal), (7, key.public(), None));
        let named = dir.path().join("named");
        create(&named, &EpochKey::generate(3, &named).unwrap().of_journal([9; 32])).unwrap();
        let OnDisk::Key(back) = read(&named).unwrap() else { panic!("no key read back") };
        assert_eq!((back.epoch, back.journal), (3, Some([9; 32])), "the key file names its journal");
        assert!(create(&path, &key).is_err(), "an existing key is never overwritten");

        let next = EpochKey::generate(8, &path).unwrap();
        create(&next_path(&path), &next).unwrap();
        hand_over(&path).unwrap();
        let OnDisk::Key(now) = read(&path).unwrap() else { panic!("no key after the hand-over") };
        assert_eq!((now.epoch, now.public()), (8, next.public()));
        assert!(!next_path(&path).exists());
        erase(&path).unwrap();
        assert!(matches!(read(&path).unwrap(), OnDisk::Absent));
    }

    #[test]
    fn a_legacy_root_key_is_epoch_zero_and_zeros_are_erased() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, [5u8; 32]).unwrap();
        let OnDisk::Key(k) = read(&path).unwrap() else { panic!() };
        assert_eq!(k.epoch, 0);
        std::fs::write(&path, [0u8; 44]).unwrap();
        assert!(matches!(read(&path).unwrap(), OnDisk::Erased));
        std::fs::write(&path, b"short").unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("5 bytes"));
    }

    #[test]
    fn only_one_holder_of_the_sealing_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let first = try_lock(&path).unwrap();
        assert!(first.is_some());
        assert!(try_lock(&path).unwrap().is_none());
        drop(first);
        assert!(try_lock(&path).unwrap().is_some());
    }
}
