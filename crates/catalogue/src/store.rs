//! The catalogue a kiosk uses: the installed copy in its state directory (put there by
//! `kiosk catalogue install` or `PUT /api/v1/catalogue`), else the files the configuration names, else the
//! built-in sample. An install is validated first and swapped atomically: both files go into a directory
//! named by their digest, then one rename of the `current` pointer makes them the catalogue. A bad file
//! changes nothing.

use super::{Catalogue, CatalogueError, SAMPLE_CATALOGUE, SAMPLE_PARTNERS};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

const CATALOGUE_FILE: &str = "catalogue.toml";
const PARTNERS_FILE: &str = "partners.toml";
const POINTER: &str = "current";

/// Why an install failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0}")]
    Invalid(#[from] CatalogueError),
    #[error("cannot write the catalogue under {dir} ({source}); nothing was changed. Check that the state directory is writable.", dir = .dir.display())]
    Io { dir: PathBuf, source: std::io::Error },
}

/// Where a catalogue came from, as journaled in `catalogue_loaded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Start,
    Api,
    File,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Start => "start",
            Source::Api => "api",
            Source::File => "file",
        }
    }
}

/// The configured fallback: files named in `[catalogue]`, or none (the built-in sample).
#[derive(Debug, Clone, Default)]
pub struct Fallback {
    pub catalogue: Option<PathBuf>,
    pub partners: Option<PathBuf>,
}

impl Fallback {
    /// The catalogue files the configuration names.
    pub fn of(config: &config::Config) -> Fallback {
        Fallback { catalogue: config.catalogue.file.clone(), partners: config.catalogue.partners.clone() }
    }
}

/// The catalogue in use, shared by the search page and the staff API; replaced whole, never edited.
#[derive(Debug, Clone)]
pub struct CatalogueStore {
    dir: PathBuf,
    fallback: Fallback,
    current: Arc<RwLock<Arc<Catalogue>>>,
}

/// The two texts of a catalogue and where they came from (for messages).
struct Sources {
    catalogue: (String, PathBuf),
    partners: Option<(String, PathBuf)>,
}

fn read(path: &Path) -> Result<String, CatalogueError> {
    config::files::read_text(path, config::files::FileKind::Catalogue)
        .map_err(|source| CatalogueError::Unreadable { file: path.to_owned(), source })
}

impl CatalogueStore {
    /// Opens the catalogue for a kiosk whose state lives in `dir`/catalogue.
    pub fn open(state_dir: &Path, fallback: Fallback) -> Result<CatalogueStore, CatalogueError> {
        let dir = state_dir.join("catalogue");
        let sources = Self::sources(&dir, &fallback)?;
        let catalogue = build(&sources)?;
        Ok(CatalogueStore { dir, fallback, current: Arc::new(RwLock::new(Arc::new(catalogue))) })
    }

    /// A store over the built-in sample only (tests, tools).
    pub fn sample(state_dir: &Path) -> CatalogueStore {
        CatalogueStore {
            dir: state_dir.join("catalogue"),
            fallback: Fallback::default(),
            current: Arc::new(RwLock::new(Arc::new(Catalogue::sample()))),
        }
    }

    /// The installed files if there are any, else the configured ones, else the sample.
    fn sources(dir: &Path, fallback: &Fallback) -> Result<Sources, CatalogueError> {
        if let Some(installed) = installed_dir(dir) {
            let c = installed.join(CATALOGUE_FILE);
            let p = installed.join(PARTNERS_FILE);
            let partners = if p.exists() { Some((read(&p)?, p)) } else { None };
            return Ok(Sources { catalogue: (read(&c)?, c), partners });
        }
        let catalogue = match &fallback.catalogue {
            Some(path) => (read(path)?, path.clone()),
            None => (SAMPLE_CATALOGUE.to_owned(), PathBuf::from("<built-in sample catalogue>")),
        };
        let partners = match (&fallback.partners, &fallback.catalogue) {
            (Some(path), _) => Some((read(path)?, path.clone())),
            (None, Some(_)) => None,
            (None, None) => Some((SAMPLE_PARTNERS.to_owned(), PathBuf::from("<built-in sample partners>"))),
        };
        Ok(Sources { catalogue, partners })
    }

    /// The catalogue in use now.
    pub fn get(&self) -> Arc<Catalogue> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Picks up a catalogue another process installed (`kiosk catalogue install`): the new one if the
    /// installed files changed, None if not. A broken installed copy is logged and the current one kept.
    pub fn refresh(&self) -> Option<Arc<Catalogue>> {
        let installed = installed_dir(&self.dir)?;
        let digest = installed.file_name()?.to_str()?.to_owned();
        if digest == self.get().digest {
            return None;
        }
        match Self::sources(&self.dir, &self.fallback).and_then(|s| build(&s)) {
            Ok(c) => {
                let c = Arc::new(c);
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = c.clone();
                Some(c)
            }
            Err(e) => {
                log::error!("the installed catalogue cannot be used, the current one stays: {e}");
                None
            }
        }
    }

    /// Validates and installs a new catalogue and/or partner file (the other stays as it is), then makes it
    /// the one in use. Nothing changes when either is refused.
    pub fn install(&self, catalogue: Option<&str>, partners: Option<&str>) -> Result<Arc<Catalogue>, InstallError> {
        let c = install_into(&self.dir, &self.fallback, catalogue, partners)?;
        let c = Arc::new(c);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = c.clone();
        Ok(c)
    }
}

/// Installs into a state directory without a running store (the CLI). Returns the catalogue installed.
pub fn install_into(
    dir: &Path,
    fallback: &Fallback,
    catalogue: Option<&str>,
    partners: Option<&str>,
) -> Result<Catalogue, InstallError> {
    let now = CatalogueStore::sources(dir, fallback)?;
    let c_text = catalogue.map_or(now.catalogue.0.clone(), str::to_owned);
    let c_path = if catalogue.is_some() { PathBuf::from("<new catalogue>") } else { now.catalogue.1.clone() };
    let p = match partners {
        Some(p) => Some((p.to_owned(), PathBuf::from("<new partner points>"))),
        None => now.partners.clone(),
    };
    let new = build(&Sources { catalogue: (c_text.clone(), c_path), partners: p.clone() })?;
    let io = |source| InstallError::Io { dir: dir.to_owned(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let target = dir.join(&new.digest);
    let staging = dir.join(format!(".{}.tmp", new.digest));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io)?;
    write_synced(&staging.join(CATALOGUE_FILE), c_text.as_bytes()).map_err(io)?;
    if let Some((text, _)) = &p {
        write_synced(&staging.join(PARTNERS_FILE), text.as_bytes()).map_err(io)?;
    }
    if !target.exists() {
        std::fs::rename(&staging, &target).map_err(io)?;
    } else {
        let _ = std::fs::remove_dir_all(&staging);
    }
    // The switch: one rename of the pointer.
    let pointer_tmp = dir.join(".current.tmp");
    write_synced(&pointer_tmp, new.digest.as_bytes()).map_err(io)?;
    std::fs::rename(&pointer_tmp, dir.join(POINTER)).map_err(io)?;
    sync_dir(dir).map_err(io)?;
    // Older versions are no longer pointed at.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.len() == 64 && name != new.digest && e.path().is_dir() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(new)
}

fn installed_dir(dir: &Path) -> Option<PathBuf> {
    let digest = std::fs::read_to_string(dir.join(POINTER)).ok()?;
    let digest = digest.trim();
    (digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| dir.join(digest))
        .filter(|d| d.join(CATALOGUE_FILE).is_file())
}

fn build(s: &Sources) -> Result<Catalogue, CatalogueError> {
    Catalogue::from_sources(&s.catalogue.0, &s.catalogue.1, s.partners.as_ref().map(|(t, p)| (t.as_str(), p.as_path())))
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Journals the catalogue in use (at start, and each time another one is picked up or installed).
pub fn journal_loaded(journal: &journal::Journal, c: &Catalogue, source: Source) {
    let entry = journal::payload::CatalogueLoaded {
        digest: c.digest.clone(),
        updated: c.header.updated.clone(),
        items: c.items.len() as u64,
        points: c.partners.points.len() as u64,
        source: source.as_str().into(),
    };
    if let Err(e) = journal.append(entry.into()) {
        log::error!("catalogue_loaded not journaled: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_install_swaps_and_a_bad_one_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CatalogueStore::open(tmp.path(), Fallback::default()).unwrap();
        let sample = store.get();
        assert!(sample.item("371329-ZR-001").is_some());
        let smaller = SAMPLE_CATALOGUE.replace("name = \"不动产登记\"", "name = \"不动产登记（综合）\"");
        let new = store.install(Some(&smaller), None).unwrap();
        assert_ne!(new.digest, sample.digest);
        assert_eq!(store.get().item("371329-ZR-001").unwrap().name, "不动产登记（综合）");
        assert_eq!(new.partners.points.len(), sample.partners.points.len(), "the partner points stay");
        let before: Vec<_> = walk(tmp.path());
        let bad = smaller.replacen("count = 1", "count = 99", 1);
        assert!(matches!(store.install(Some(&bad), None), Err(InstallError::Invalid(_))));
        let bad_partners = SAMPLE_PARTNERS.replacen("371329-RS-003", "GONE", 1);
        assert!(store.install(None, Some(&bad_partners)).is_err());
        assert_eq!(walk(tmp.path()), before, "nothing on disk changed");
        assert_eq!(store.get().digest, new.digest, "nothing in use changed");
        // Another process (the CLI) installs; the store picks it up once.
        let other = SAMPLE_CATALOGUE.replace("title = \"临沭县政务服务事项目录（样例）\"", "title = \"新目录\"");
        install_into(&tmp.path().join("catalogue"), &Fallback::default(), Some(&other), None).unwrap();
        assert_eq!(store.refresh().unwrap().header.title, "新目录");
        assert!(store.refresh().is_none());
        // And a restart uses the installed copy.
        let again = CatalogueStore::open(tmp.path(), Fallback::default()).unwrap();
        assert_eq!(again.get().digest, store.get().digest);
    }

    fn walk(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = vec![];
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
        out.sort();
        out
    }
}
