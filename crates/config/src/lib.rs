//! One TOML file per kiosk: its shape (serde), its meaning (validation) and errors that name file, line, column and field.

pub mod files;
pub mod locate;
mod validate;

pub use locate::{FieldPath, SpanIndex, line_column};
pub use validate::{parse_hhmm, parse_hours};

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The demo configuration, built into the binary so `kiosk demo` runs from any directory.
/// An epoch of the journal ends after this many entries (`[journal] epoch_entries`) …
pub const EPOCH_MAX_ENTRIES: u64 = 200;
/// … or this long after it began, when anything was written (`[journal] epoch_minutes`; also at every
/// session end and at shutdown).
pub const EPOCH_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// The longest epochs a configuration may set: what a verifier holds an epoch to when no seal announced its
/// policy.
pub const MAX_EPOCH_ENTRIES: u64 = 10_000;
pub const MAX_EPOCH_MINUTES: u64 = 60;

pub const DEMO_TOML: &str = include_str!("../../../config/kiosk.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub kiosk: KioskSection,
    pub journal: JournalSection,
    pub devices: Devices,
    pub queue: QueueSection,
    #[serde(default)]
    pub ui: UiSection,
    pub admin: AdminSection,
    #[serde(default)]
    pub licence: LicenceSection,
    #[serde(default)]
    pub voice: VoiceSection,
    #[serde(default)]
    pub catalogue: CatalogueSection,
    #[serde(default)]
    pub platform: PlatformSection,
    #[serde(default)]
    pub appointments: AppointmentsSection,
}

/// `[appointments]`: 预约签到's check-in window around an appointment's time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentsSection {
    /// Minutes before the appointment from which it can be checked in (0–240).
    #[serde(default = "default_early")]
    pub early_minutes: u32,
    /// Minutes after the appointment until which it can be checked in (0–240); later, a normal ticket.
    #[serde(default = "default_late")]
    pub late_minutes: u32,
}

impl Default for AppointmentsSection {
    fn default() -> Self {
        AppointmentsSection { early_minutes: 30, late_minutes: 15 }
    }
}

fn default_early() -> u32 {
    AppointmentsSection::default().early_minutes
}

fn default_late() -> u32 {
    AppointmentsSection::default().late_minutes
}

/// `[platform]`: the provincial government-service platform (docs/backend-api.md). HTTPS only, trusting
/// the platform's CA (`ca_file`) or its one certificate (`pin`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformSection {
    /// Base address, e.g. "https://zwfw.linyi.example:9443/kiosk-api".
    #[serde(default)]
    pub url: Option<String>,
    /// File holding the kiosk's bearer token for the platform.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// PEM file of the CA that issued the platform's certificate (or the certificate itself).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Instead of `ca_file`: the SHA-256 of the platform's certificate, "sha256:…".
    #[serde(default)]
    pub pin: Option<String>,
    /// Seconds a call may take before the citizen is told the platform cannot be reached (1–30).
    #[serde(default = "default_platform_timeout")]
    pub timeout_seconds: u8,
    /// The platform's public page for one case, `{number}` replaced by the case number: printed as a QR on
    /// the case slip so the citizen can follow the case from a phone. None: no QR.
    #[serde(default)]
    pub case_url: Option<String>,
}

impl Default for PlatformSection {
    fn default() -> Self {
        PlatformSection { url: None, token_file: None, ca_file: None, pin: None, timeout_seconds: 4, case_url: None }
    }
}

fn default_platform_timeout() -> u8 {
    PlatformSection::default().timeout_seconds
}

/// `[catalogue]`: the service catalogue 事项查询 searches (docs/catalogue-format.md). One installed with
/// `kiosk catalogue install` or the staff API (kept in the journal's directory) takes precedence; without
/// either the built-in sample is used.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueSection {
    #[serde(default)]
    pub file: Option<PathBuf>,
    #[serde(default)]
    pub partners: Option<PathBuf>,
}

impl Config {
    /// Where the kiosk keeps its state (the journal's directory).
    pub fn state_dir(&self) -> PathBuf {
        match self.journal.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskSection {
    /// Stable identifier of this box in the county's fleet (journal key with seq).
    pub id: String,
    pub hall_name: String,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// `timezone` parsed, once, when the file is loaded (use [`Config::tz`]).
    #[serde(skip, default = "placeholder_tz")]
    tz: jiff::tz::TimeZone,
    /// `business_day_rollover` parsed, once, when the file is loaded (use [`Config::rollover_minutes`]).
    #[serde(skip)]
    rollover_minutes: u32,
    /// Local time at which the business day (and queue numbering) rolls over, "HH:MM".
    #[serde(default = "default_rollover")]
    pub business_day_rollover: String,
    /// UI languages, the first is the default: "zh-CN" and/or "en".
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalSection {
    pub path: PathBuf,
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// Per-kiosk HMAC secret for subject identifiers; created on first start when missing.
    #[serde(default)]
    pub secret_path: Option<PathBuf>,
    /// The current epoch's ed25519 key (on day one the root key); created on first start when missing,
    /// replaced at every seal.
    #[serde(default)]
    pub signing_key_path: Option<PathBuf>,
    /// An epoch ends (its seal is signed and its key erased) after this many entries …
    #[serde(default = "default_epoch_entries")]
    pub epoch_entries: u64,
    /// … or this many minutes, whichever comes first; also at every session end and at shutdown.
    #[serde(default = "default_epoch_minutes")]
    pub epoch_minutes: u64,
    /// How many leading and trailing characters of an ID number stay visible.
    #[serde(default = "default_mask_keep")]
    pub id_mask_keep: (u8, u8),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Devices {
    pub id_reader: IdReaderConfig,
    pub ticket_printer: TicketPrinterConfig,
    pub licence_printer: LicencePrinterConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdReaderConfig {
    /// "simulated" or a serial device path such as /dev/ttyUSB0.
    pub port: String,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrinterTransport {
    Simulated,
    Tcp,
    Serial,
    UsbLp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketPrinterConfig {
    pub transport: PrinterTransport,
    /// host:port for `tcp`.
    #[serde(default)]
    pub address: Option<String>,
    /// Device path for `serial` and `usb-lp`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default = "default_paper_width")]
    pub paper_width_mm: u32,
    #[serde(default = "default_printer_model")]
    pub model: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicencePrinterConfig {
    /// "simulated" or ipp://host:port/path.
    pub uri: String,
    /// How long a job may take from Print-Job to completed before it is cancelled and reported.
    #[serde(default = "default_job_timeout")]
    pub job_timeout_s: u32,
    /// Print on both sides of the sheet.
    #[serde(default)]
    pub two_sided: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentSourceKind {
    /// The local store that `kiosk documents import` fills.
    #[default]
    Local,
    /// The provincial platform's HTTP API (docs/backend-api.md).
    Platform,
}

/// Licence self-printing: where documents come from and how they are drawn.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceSection {
    #[serde(default)]
    pub source: DocumentSourceKind,
    /// The local document store (SQLite; holds personal data, mode 0600).
    #[serde(default = "default_store_path")]
    pub store_path: PathBuf,
    /// Moved to `[platform] url`; present only so that an old file gets a message saying how to move.
    #[serde(default)]
    pub platform_url: Option<String>,
    /// Moved to `[platform] token_file`; likewise.
    #[serde(default)]
    pub platform_token_file: Option<PathBuf>,
    /// Address printed as the QR code for online verification; `{document_id}` is replaced.
    #[serde(default = "default_verify_url")]
    pub verify_url: String,
    /// CJK font for licences; by default the first of Noto Serif CJK, Noto Sans CJK, WenQuanYi found.
    #[serde(default)]
    pub font: Option<PathBuf>,
    /// Face index in a font collection (.ttc).
    #[serde(default)]
    pub font_index: Option<u32>,
}

impl Default for LicenceSection {
    fn default() -> Self {
        Self {
            source: DocumentSourceKind::Local,
            store_path: default_store_path(),
            platform_url: None,
            platform_token_file: None,
            verify_url: default_verify_url(),
            font: None,
            font_index: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSection {
    /// Age (from the ID card) from which a ticket is a priority ticket.
    #[serde(default = "default_priority_age")]
    pub priority_age: u32,
    /// Where the ticket's QR leads to rate that ticket online; `{ticket_id}` is replaced. Empty: no QR.
    #[serde(default)]
    pub rating_url: String,
    /// One queue across the hall's kiosks (docs/fleet.md): numbers from the hall's PostgreSQL, this kiosk's
    /// own offline band while it cannot be reached. None: this kiosk numbers on its own.
    #[serde(default)]
    pub shared: Option<SharedQueue>,
    pub categories: Vec<CategoryConfig>,
}

/// `[queue] shared = { db = "postgres://…", hall = "linshu-county", offline_band = [900, 999] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedQueue {
    /// The hall database (a URL or libpq key=value words); its `hall_counters` table comes from `kiosk-county fleet migrate`.
    pub db: String,
    /// The hall's name: every kiosk of the hall uses the same one.
    pub hall: String,
    /// The CA (PEM) that issued the hall database's certificate: with it the connection is TLS, checked
    /// against it. Without it the connection is plain (the hall's private network).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The numbers this kiosk gives while the database cannot be reached, the same in every category (the
    /// category's prefix in front): no other kiosk's band and no category's own numbers.
    pub offline_band: [u32; 2],
    /// After a failed attempt, how long tickets come from the offline band before the database is tried again.
    #[serde(default = "default_shared_retry")]
    pub retry_seconds: u32,
}

fn default_shared_retry() -> u32 {
    10
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryConfig {
    pub prefix: String,
    pub name_zh: String,
    pub name_en: String,
    pub first: u32,
    pub last: u32,
    #[serde(default)]
    pub requires_id: bool,
    /// Opening hours as "HH:MM-HH:MM" ranges in the hall's time zone; "00:00-24:00" is round the clock.
    #[serde(default = "default_hours")]
    pub hours: Vec<String>,
    /// `hours` parsed, once, when the file is loaded: half-open minute ranges (use [`CategoryConfig::open_ranges`]).
    #[serde(skip)]
    open_ranges: Vec<(u32, u32)>,
    /// Days the hours apply to ("mon" … "sun"); all days when empty.
    #[serde(default)]
    pub days: Vec<String>,
    /// Tickets one person (by subject HMAC) may take per business day; 0 = no limit.
    #[serde(default)]
    pub daily_limit_per_person: u32,
    /// Where the citizen waits and is served ("1–3 号窗口", "Windows 1–3"), on the ticket and the screen.
    #[serde(default)]
    pub window_zh: String,
    #[serde(default)]
    pub window_en: String,
    /// Minutes one ticket usually takes, for the estimated wait until today's calls show the real pace.
    #[serde(default = "default_service_minutes")]
    pub service_minutes: u32,
    /// When the ticket printer cannot print (paper out, cover open, unreachable), take-a-number shows the
    /// number on screen with a QR code and a verification code instead (issue #32); false: the category
    /// waits for the printer.
    #[serde(default = "yes")]
    pub show_when_unprinted: bool,
}

fn yes() -> bool {
    true
}

fn default_service_minutes() -> u32 {
    5
}

impl CategoryConfig {
    /// The opening hours as half-open minute ranges of the local day, parsed when the file was loaded.
    pub fn open_ranges(&self) -> &[(u32, u32)] {
        &self.open_ranges
    }

    /// Opens the category every day round the clock (`kiosk demo --all-hours`, tests): the hours, the days
    /// and the ranges parsed from them, together.
    pub fn open_round_the_clock(&mut self) {
        self.hours = vec!["00:00-24:00".into()];
        self.days = vec![];
        self.open_ranges = vec![(0, 24 * 60)];
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Orientation {
    #[default]
    Landscape,
    Portrait,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiSection {
    #[serde(default)]
    pub orientation: Orientation,
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_s: u32,
    /// Start in elder mode (larger type and targets); citizens can still switch.
    #[serde(default)]
    pub elder_mode: bool,
    /// The hall's telephone line, shown on the home screen ("" shows none).
    #[serde(default)]
    pub hotline: String,
    /// A PNG or SVG logo for the home screen; none shows the hall's name alone.
    #[serde(default)]
    pub logo: Option<std::path::PathBuf>,
    /// Where the ID-card reader sits, for the card prompt's picture.
    #[serde(default)]
    pub reader_position: ReaderPosition,
    /// How long staff usually take to come when a citizen calls for assistance.
    #[serde(default = "default_assistance_minutes")]
    pub assistance_minutes: u32,
}

/// Where the ID-card reader sits relative to the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ReaderPosition {
    Left,
    #[default]
    Right,
    Below,
}

fn default_assistance_minutes() -> u32 {
    3
}

/// When the kiosk speaks on its own (再听一遍 always speaks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum VoiceMode {
    /// In elder mode only.
    #[default]
    Elder,
    /// In every session.
    Always,
    /// Never on its own; a citizen who asks (语音播报 on the home screen, 再听一遍 on a page) has it for the visit.
    Off,
}

/// Which speech engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum VoiceEngine {
    /// speech-dispatcher (the Linux accessibility convention): the county picks the synthesiser.
    #[default]
    SpeechDispatcher,
    /// espeak-ng run directly, for a box without speech-dispatcher.
    EspeakNg,
    /// Silent (the texts are still recorded for the maintenance screen and tests).
    None,
}

/// `[voice]`: spoken guidance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceSection {
    #[serde(default)]
    pub mode: VoiceMode,
    #[serde(default)]
    pub engine: VoiceEngine,
    /// 0–100.
    #[serde(default = "default_volume")]
    pub volume: u32,
    /// The synthesiser's voice for Chinese (espeak-ng's Mandarin that reads Hanzi as pinyin).
    #[serde(default = "default_voice_zh")]
    pub voice_zh: String,
    #[serde(default = "default_voice_en")]
    pub voice_en: String,
    /// speech-dispatcher's socket; by default `$XDG_RUNTIME_DIR/speech-dispatcher/speechd.sock`.
    #[serde(default)]
    pub socket: Option<std::path::PathBuf>,
}

fn default_volume() -> u32 {
    80
}
fn default_voice_zh() -> String {
    "cmn-latn-pinyin".into()
}
fn default_voice_en() -> String {
    "en".into()
}

impl Default for VoiceSection {
    fn default() -> Self {
        Self {
            mode: VoiceMode::default(),
            engine: VoiceEngine::default(),
            volume: default_volume(),
            voice_zh: default_voice_zh(),
            voice_en: default_voice_en(),
            socket: None,
        }
    }
}

impl UiSection {
    /// The idle time before the "continue?" prompt in standard mode; elder mode doubles it when a
    /// session opens (`ui::home::idle_timeout_ms`).
    pub fn idle_timeout_ms(&self) -> u64 {
        u64::from(self.idle_timeout_s) * 1000
    }
}

impl Default for UiSection {
    fn default() -> Self {
        Self {
            orientation: Orientation::default(),
            idle_timeout_s: default_idle_timeout(),
            elder_mode: false,
            hotline: String::new(),
            logo: None,
            reader_position: ReaderPosition::default(),
            assistance_minutes: default_assistance_minutes(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    pub listen: String,
    /// PEM certificate chain for the staff API's TLS (`kiosk admin gen-cert` makes a self-signed one).
    /// Without it the API speaks plain HTTP, which is allowed on loopback only.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// The staff tools' bearer tokens, stored hashed, each with the one role it may act in.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// Replaced by `tokens`; present only so that an old file gets a message saying how to move.
    #[serde(default)]
    pub token_hashes: Option<Vec<String>>,
    /// PBKDF2 hash of the maintenance PIN: "pbkdf2-sha256:<iterations>:<salt hex>:<hash hex>". Empty in
    /// the file when `credentials_file` holds it.
    #[serde(default)]
    pub maintenance_pin_hash: String,
    /// A separate file with the PIN hash and the tokens (the package's postinst makes one per box with
    /// `kiosk admin init-credentials`), so the configuration itself carries no credential and can be
    /// shipped as it is.
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
    /// Where the maintenance screen's 导出日志 writes when no removable medium is mounted under /media or
    /// /run/media (a folder for tests and for boxes with a fixed export disk).
    #[serde(default)]
    pub export_dir: Option<PathBuf>,
}

impl AdminSection {
    /// True when the staff API speaks TLS (both halves configured; validation refuses one alone).
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
    }
}

/// A validation problem of `src` as a located sentence: the file, the line and column of its field.
fn located_problem(src: &str, file: &Path, problem: validate::Problem) -> ConfigError {
    ConfigError::Invalid(Box::new(locate_field(src, file, &problem.path, problem.message)))
}

/// `message` about the field at `path` of the TOML text `src` read from `file`, with its line and column
/// (any TOML file of ours: the configuration, the credentials, the fleet file).
pub fn locate_field(src: &str, file: &Path, path: &locate::FieldPath, message: String) -> Located {
    let span = locate::SpanIndex::new(src).span_of(path).unwrap_or(0..0);
    let (line, column) = line_column(src, span.start);
    Located { file: file.to_owned(), line, column, field: path.to_string(), message }
}

/// The credentials file (`[admin] credentials_file`): the maintenance PIN's hash and the staff tokens'.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub maintenance_pin_hash: String,
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

impl Credentials {
    /// Reads and checks a credentials file; an error names the file, line and field.
    pub fn load(file: &Path) -> Result<Credentials, ConfigError> {
        match files::check_private(file) {
            Err(source) => return Err(ConfigError::NotPrivate { file: file.to_owned(), source }),
            Ok(Some(warning)) => log::warn!("{warning}"),
            Ok(None) => {}
        }
        let src = files::read_text(file, files::FileKind::Configuration)
            .map_err(|source| ConfigError::Unreadable { file: file.to_owned(), source })?;
        let creds: Credentials = toml::from_str(&src).map_err(|e| {
            ConfigError::Invalid(Box::new(locate_serde_error(&src, file, &e, "`kiosk admin init-credentials`")))
        })?;
        if let Some((path, c)) = locate::unprintable_field(&src) {
            return Err(ConfigError::Invalid(Box::new(locate_field(
                &src,
                file,
                &path,
                locate::unprintable_message(c),
            ))));
        }
        validate::check_credentials(&creds.tokens, &creds.maintenance_pin_hash, &FieldPath::default())
            .map_err(|problem| located_problem(&src, file, problem))?;
        Ok(creds)
    }
}

/// One staff token: its hash and the role it acts in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it, for the journal and the logs (e.g. "counter-3", "county-pull").
    pub name: String,
    pub role: Role,
    /// "sha256:<hex>" of the token, from `kiosk admin hash-token`.
    pub hash: String,
}

/// What a staff token may do. Each endpoint names the one role it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Counter terminals: call-next, recall, complete, no-show, the waiting counts.
    Counter,
    /// County staff: the journal, checkpoints, statistics and metrics.
    Staff,
    /// Technicians: health, doctor and test print.
    Technician,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Counter => "counter",
            Role::Staff => "staff",
            Role::Technician => "technician",
        }
    }
}

/// The example configuration's well-known demo tokens ("demo-counter-token", "demo-staff-token",
/// "demo-technician-token"), by hash.
pub const DEMO_TOKEN_HASHES: [&str; 3] = [
    "sha256:910daca443c8ea600ee309be94c77bfca52449e2209894c6551ea672e383ce5b",
    "sha256:014519f70727c7a3c69e8a1e41b396ceb2f9df7059eff690703bed0858ee014f",
    "sha256:32ff96d506aec6d87b0c6f92b2c65c19ab4f077e00372846415797671a5963ad",
];
/// The example configuration's demo PIN: published, so refused wherever it is hashed, whatever the salt.
pub const DEMO_PIN: &str = "246813";
/// The example configuration's demo PIN (246813), by its hash.
pub const DEMO_PIN_HASH: &str = "pbkdf2-sha256:100000:6b696f736b2d64656d6f2d73616c7421:cbce33d5bd10dfcbe5ad4b05873f681aa7287feef8e27ca034385823c9c13568";

/// Only until [`Config::parse`] sets the configured zone.
fn placeholder_tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::UTC
}

fn default_timezone() -> String {
    "Asia/Shanghai".into()
}
fn default_rollover() -> String {
    "04:00".into()
}
fn default_languages() -> Vec<String> {
    vec!["zh-CN".into(), "en".into()]
}
fn default_retention_days() -> u32 {
    180
}
fn default_epoch_entries() -> u64 {
    EPOCH_MAX_ENTRIES
}
fn default_epoch_minutes() -> u64 {
    EPOCH_MAX_AGE.as_secs() / 60
}
fn default_mask_keep() -> (u8, u8) {
    (3, 4)
}
fn default_baud() -> u32 {
    115_200
}
fn default_poll_ms() -> u32 {
    250
}
fn default_paper_width() -> u32 {
    80
}
fn default_printer_model() -> String {
    "generic-80".into()
}
fn default_priority_age() -> u32 {
    65
}
fn default_hours() -> Vec<String> {
    vec!["00:00-24:00".into()]
}
fn default_job_timeout() -> u32 {
    180
}
fn default_store_path() -> PathBuf {
    "/var/lib/kiosk/documents.sqlite3".into()
}
fn default_verify_url() -> String {
    "https://zwfw.example.invalid/verify/{document_id}".into()
}
fn default_idle_timeout() -> u32 {
    60
}

/// Why a configuration was refused. Display gives one full sentence a technician can act on.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the configuration file ({source}). Check that the path is right and the kiosk user may read it.", file = .file.display())]
    Unreadable { file: PathBuf, source: std::io::Error },
    /// A file of secrets (hashes of the PIN and the tokens) that other users may read.
    #[error("{file}: refused, it holds the staff tokens' and the PIN's hashes and {source}.", file = .file.display())]
    NotPrivate { file: PathBuf, source: std::io::Error },
    #[error("{}", .0)]
    Invalid(Box<Located>),
}

/// A problem at a place in the file.
#[derive(Debug)]
pub struct Located {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, e.g. `queue.categories[1].prefix`; empty for syntax errors outside any field.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        write!(f, "{}", self.message)
    }
}

impl ConfigError {
    /// The located error, when there is one (everything but an unreadable file).
    pub fn located(&self) -> Option<&Located> {
        match self {
            ConfigError::Invalid(l) => Some(l),
            ConfigError::Unreadable { .. } | ConfigError::NotPrivate { .. } => None,
        }
    }
}

impl Config {
    /// Reads, parses and validates a configuration file, and its `[admin] credentials_file` when it names
    /// one.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let src = files::read_text(path, files::FileKind::Configuration)
            .map_err(|source| ConfigError::Unreadable { file: path.to_owned(), source })?;
        let mut config = Self::parse(&src, path)?;
        if let Some(file) = config.admin.credentials_file.clone() {
            let creds = Credentials::load(&file)?;
            config.admin.maintenance_pin_hash = creds.maintenance_pin_hash;
            config.admin.tokens = creds.tokens;
        }
        Ok(config)
    }

    /// Parses and validates `src`; `file` is used only in messages.
    pub fn parse(src: &str, file: &Path) -> Result<Config, ConfigError> {
        let index = locate::SpanIndex::new(src);
        let at = |offset: usize, field: String, message: String| {
            let (line, column) = line_column(src, offset);
            ConfigError::Invalid(Box::new(Located { file: file.to_owned(), line, column, field, message }))
        };
        let config: Config = toml::from_str(src)
            .map_err(|e| ConfigError::Invalid(Box::new(locate_serde_error(src, file, &e, "config/kiosk.toml"))))?;
        if let Some((path, c)) = locate::unprintable_field(src) {
            return Err(ConfigError::Invalid(Box::new(locate_field(src, file, &path, locate::unprintable_message(c)))));
        }
        validate::check(&config).map_err(|problem| located_problem(src, file, problem))?;
        let mut config = config;
        // Validated above: the name is a known zone.
        config.kiosk.tz = jiff::tz::TimeZone::get(&config.kiosk.timezone).map_err(|e| {
            let span = index.span_of(&FieldPath::default().key("kiosk").key("timezone")).unwrap_or(0..0);
            at(span.start, "kiosk.timezone".into(), format!("The time zone cannot be loaded ({e})."))
        })?;
        // Validated above: every range parses.
        for cat in &mut config.queue.categories {
            cat.open_ranges = cat.hours.iter().filter_map(|h| parse_hours(h)).collect();
        }
        // Validated above: "HH:MM" within the day.
        config.kiosk.rollover_minutes = parse_hhmm(&config.kiosk.business_day_rollover).ok_or_else(|| {
            let span = index.span_of(&FieldPath::default().key("kiosk").key("business_day_rollover")).unwrap_or(0..0);
            at(span.start, "kiosk.business_day_rollover".into(), "Write the time as HH:MM, e.g. \"00:00\".".into())
        })?;
        Ok(config)
    }

    /// Minutes after local midnight at which the business day rolls over, parsed when the file was loaded.
    pub fn rollover_minutes(&self) -> u32 {
        self.kiosk.rollover_minutes
    }

    /// The kiosk's time zone (`[kiosk] timezone`), parsed when the file was loaded.
    pub fn tz(&self) -> &jiff::tz::TimeZone {
        &self.kiosk.tz
    }

    /// Sentences naming each demo credential still in this configuration: anyone who read the example
    /// file knows them. `kiosk run` refuses to start with any; `config check` warns; `kiosk demo` keeps them.
    pub fn demo_credentials(&self) -> Vec<String> {
        let mut found = Vec::new();
        for t in &self.admin.tokens {
            if DEMO_TOKEN_HASHES.iter().any(|d| d.eq_ignore_ascii_case(&t.hash)) {
                found.push(format!(
                    "admin token \"{}\" is a demo token: replace the demo credentials: make a long random token, hash it with `kiosk admin hash-token` and put the hash in its place.",
                    t.name
                ));
            }
        }
        // The same PIN hashed again with another salt is still the demo PIN: the hash is checked against it.
        if self.admin.maintenance_pin_hash == DEMO_PIN_HASH
            || vocabulary::secrets::pin_matches(DEMO_PIN, &self.admin.maintenance_pin_hash)
        {
            found.push("admin.maintenance_pin_hash is the demo PIN: replace the demo credentials: choose a PIN of at least 6 digits and hash it with `kiosk admin hash-pin`.".into());
        }
        found
    }

    /// Why `pin` may not be a maintenance PIN, if it may not: not 6–12 digits, one digit repeated
    /// (111111), a run up or down (123456, 987654), or the published demo PIN — the ones anyone tries first.
    pub fn weak_pin(pin: &str) -> Option<&'static str> {
        if !(6..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Some("A maintenance PIN is 6 to 12 digits");
        }
        let b = pin.as_bytes();
        if b.iter().all(|&d| d == b[0]) {
            return Some("A maintenance PIN may not be one digit repeated (such as 111111): anyone tries it first");
        }
        let run = |step: i8| b.windows(2).all(|w| (w[1] as i8 - w[0] as i8).rem_euclid(10) == step.rem_euclid(10));
        if run(1) || run(-1) {
            return Some(
                "A maintenance PIN may not be a run of digits (such as 123456 or 987654): anyone tries it first",
            );
        }
        if pin == DEMO_PIN {
            return Some("This is the example configuration's published demo PIN");
        }
        None
    }

    /// The built-in demo configuration with its journal moved into `state_dir`.
    pub fn demo(state_dir: &Path) -> Config {
        let mut config = Self::parse(DEMO_TOML, Path::new("<built-in demo configuration>"))
            .expect("the built-in demo configuration is valid");
        config.journal.path = state_dir.join("journal.sqlite3");
        config.journal.secret_path = Some(state_dir.join("subject.key"));
        config.journal.signing_key_path = Some(state_dir.join("checkpoint.ed25519"));
        config.licence.store_path = state_dir.join("documents.sqlite3");
        config
    }
}

/// Where a TOML file failed to parse or deserialize, as a located sentence; `example` names the shipped
/// file that shows every key.
pub fn locate_serde_error(src: &str, file: &Path, e: &toml::de::Error, example: &str) -> Located {
    let index = locate::SpanIndex::new(src);
    let span = e.span().unwrap_or(0..0);
    let raw = e.message().trim().to_owned();
    let mut field = index.path_at(span.start).to_string();
    // serde reports a missing field at the table that lacks it; name the field itself.
    if let Some(missing) = raw.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
        field = if field.is_empty() { missing.to_owned() } else { format!("{field}.{missing}") };
    }
    let (line, column) = line_column(src, span.start);
    Located { file: file.to_owned(), line, column, field, message: humanize_serde_message(&raw, example) }
}

/// Turns serde/toml wording into a sentence that also says what to do.
fn humanize_serde_message(raw: &str, example: &str) -> String {
    let mut msg = raw.to_owned();
    if let Some(first) = msg.get(..1) {
        msg.replace_range(..1, &first.to_uppercase());
    }
    if !msg.ends_with('.') {
        msg.push('.');
    }
    let hint = if raw.starts_with("unknown field") {
        format!("Remove the key or correct its spelling (see {example} for every key).")
    } else if raw.starts_with("missing field") {
        format!("Add it; {example} shows an example.")
    } else if raw.starts_with("invalid type") {
        format!("Write the value with the type shown in {example}.")
    } else if raw.starts_with("unknown variant") {
        "Use one of the values listed.".into()
    } else {
        "Fix the TOML syntax at this place.".into()
    };
    format!("{msg} {hint}")
}
