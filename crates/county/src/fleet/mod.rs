//! The county fleet (issue #18): every kiosk's journal pulled into PostgreSQL and verified, the views staff
//! read, the HTML report, and one queue per hall. The fleet file says which kiosks the county pulls.

pub mod page;
pub mod pull;
pub mod report;
pub mod store;

use config::locate::FieldPath;
use config::{Located, locate_field, locate_serde_error};
use ed25519_dalek::VerifyingKey;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The fleet file (`fleet.toml`): how to pull, and one `[[kiosk]]` table per kiosk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    #[serde(default)]
    pub pull: PullSettings,
    #[serde(default, rename = "kiosk")]
    pub kiosks: Vec<KioskEntry>,
}

/// `[pull]`: how many kiosks are pulled at once, and how many entries a request asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullSettings {
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_page_size")]
    pub page_size: u64,
    /// Connecting to a kiosk and its answer's head: a kiosk that accepts and says nothing costs a worker
    /// this long at most.
    #[serde(default = "default_first_byte_seconds")]
    pub first_byte_seconds: u32,
    /// One page, its body included: a kiosk that drips its answer costs a worker this long at most.
    #[serde(default = "default_page_seconds")]
    pub page_seconds: u32,
}

/// The memory all workers' pages may take at once: each worker reads at most this divided by
/// `concurrency` (and never more than the staff API's 64 MiB page).
pub const PULL_MEMORY: usize = 512 << 20;

impl PullSettings {
    /// The largest page answer one worker reads.
    pub fn max_answer(&self) -> usize {
        (PULL_MEMORY / self.concurrency.max(1)).min(net::staff::MAX_ANSWER)
    }
}

fn default_first_byte_seconds() -> u32 {
    10
}

fn default_page_seconds() -> u32 {
    30
}

fn default_concurrency() -> usize {
    8
}

fn default_page_size() -> u64 {
    1000
}

impl Default for PullSettings {
    fn default() -> Self {
        PullSettings {
            concurrency: default_concurrency(),
            page_size: default_page_size(),
            first_byte_seconds: default_first_byte_seconds(),
            page_seconds: default_page_seconds(),
        }
    }
}

/// One kiosk as the county recorded it at installation (docs/deploy.md's sheet).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskEntry {
    /// The kiosk's `[kiosk] id`: the entries must name it.
    pub id: String,
    /// Town, street or village the kiosk serves: the report groups by it.
    #[serde(default)]
    pub town: String,
    /// The staff API, e.g. `https://10.20.0.11:8443`.
    pub url: String,
    /// The certificate fingerprint (`sha256:…`) printed at installation; required for https.
    #[serde(default)]
    pub pin: Option<String>,
    /// A file holding one staff token for this kiosk (relative to the fleet file).
    pub token_file: PathBuf,
    /// The journal's root public key printed at installation (64 hex digits).
    pub root_key: String,
}

/// A kiosk ready to pull: the fleet file's entry with its key, pin and token read.
pub struct Kiosk {
    pub id: String,
    pub town: String,
    pub url: String,
    pub endpoint: net::Endpoint,
    pub pin: Option<[u8; 32]>,
    pub token: Zeroizing<String>,
    pub root_key: VerifyingKey,
}

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk").field("id", &self.id).field("url", &self.url).finish()
    }
}

/// Why the fleet file cannot be used; nothing was pulled.
#[derive(Debug, thiserror::Error)]
pub enum FleetFileError {
    #[error("{file}: cannot read it ({source}). Check the --fleet path.")]
    Unreadable { file: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(Box<Located>),
}

/// The largest page the staff API serves.
pub const MAX_PAGE: u64 = journal::page::MAX_PAGE;

impl FleetFile {
    /// Reads and checks a fleet file, token files included; an error names the file, line and field.
    pub fn load(file: &Path) -> Result<(FleetFile, Vec<Kiosk>), FleetFileError> {
        let src = config::files::read_text(file, config::files::FileKind::Configuration)
            .map_err(|source| FleetFileError::Unreadable { file: file.to_owned(), source })?;
        let fleet: FleetFile = toml::from_str(&src).map_err(|e| {
            FleetFileError::Invalid(Box::new(locate_serde_error(&src, file, &e, "docs/fleet.md's example")))
        })?;
        let at = |path: FieldPath, message: String| {
            FleetFileError::Invalid(Box::new(locate_field(&src, file, &path, message)))
        };
        let pull = FieldPath::default().key("pull");
        if !(1..=256).contains(&fleet.pull.concurrency) {
            return Err(at(pull.key("concurrency"), "Pull from 1 to 256 kiosks at once.".into()));
        }
        if !(1..=MAX_PAGE).contains(&fleet.pull.page_size) {
            return Err(at(pull.key("page_size"), format!("A page holds from 1 to {MAX_PAGE} entries.")));
        }
        if !(1..=60).contains(&fleet.pull.first_byte_seconds) {
            return Err(at(
                pull.clone().key("first_byte_seconds"),
                "Wait from 1 to 60 s for a kiosk to answer.".into(),
            ));
        }
        if !(fleet.pull.first_byte_seconds..=600).contains(&fleet.pull.page_seconds) {
            return Err(at(pull.clone().key("page_seconds"), "Give a page from first_byte_seconds to 600 s.".into()));
        }
        let dir = file.parent().unwrap_or(Path::new("."));
        let mut kiosks: Vec<Kiosk> = Vec::with_capacity(fleet.kiosks.len());
        for (i, k) in fleet.kiosks.iter().enumerate() {
            let here = FieldPath::default().key("kiosk").index(i);
            if k.id.is_empty()
                || k.id.len() > 64
                || !k.id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(at(
                    here.key("id"),
                    "Write the kiosk's [kiosk] id: 1 to 64 letters, digits, '-', '_' or '.'.".into(),
                ));
            }
            if kiosks.iter().any(|o| o.id == k.id) {
                return Err(at(here.key("id"), format!("Kiosk \"{}\" is named twice; each kiosk once.", k.id)));
            }
            let endpoint = net::Endpoint::parse(&k.url)
                .map_err(|e| at(here.clone().key("url"), format!("{e}; write e.g. https://10.20.0.11:8443.")))?;
            endpoint.check_secret_may_travel().map_err(|e| at(here.clone().key("url"), format!("{e}.")))?;
            let pin = match &k.pin {
                Some(p) => Some(net::tls::parse_pin(p).map_err(|e| at(here.clone().key("pin"), format!("{e}.")))?),
                None if endpoint.tls => {
                    return Err(at(
                        here.key("url"),
                        "An https kiosk needs `pin`, the certificate fingerprint printed at its installation.".into(),
                    ));
                }
                None => None,
            };
            let root_key = journal::chain::parse_public_key(&k.root_key).map_err(|e| {
                at(here.clone().key("root_key"), format!("{e}; copy the root key from the kiosk's installation sheet."))
            })?;
            let token_path = dir.join(&k.token_file);
            let token = config::files::read_text(&token_path, config::files::FileKind::Secret).map_err(|e| {
                at(here.clone().key("token_file"), format!("Cannot read {} ({e}).", token_path.display()))
            })?;
            let token = Zeroizing::new(token.trim().to_owned());
            if token.is_empty() {
                return Err(at(here.key("token_file"), format!("{} holds no token.", token_path.display())));
            }
            kiosks.push(Kiosk {
                id: k.id.clone(),
                town: k.town.clone(),
                url: k.url.clone(),
                endpoint,
                pin,
                token,
                root_key,
            });
        }
        Ok((fleet, kiosks))
    }
}
