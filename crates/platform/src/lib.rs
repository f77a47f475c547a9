//! The provincial government-service platform (docs/backend-api.md) as the kiosk calls it: HTTPS only (ID
//! numbers must not cross a network in clear), trusting the platform's CA or its pinned certificate, a
//! bearer token, a deadline on every call, and each failure sorted into what the citizen is told.

pub mod appointments;
pub mod bounds;
pub mod cases;
pub mod offline;
pub mod outbox;

use config::PlatformSection;
use net::{Endpoint, HttpClient, NetError, Trust};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Mutex;
use std::time::Duration;
use zeroize::Zeroizing;

/// Why the platform gave no usable answer. Each says what happened for the technician's log; the
/// citizen is told [`PlatformError::citizen_zh`].
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("The provincial platform cannot be reached: {0}.")]
    Unreachable(String),
    #[error("The provincial platform did not answer in time: {0}.")]
    TimedOut(String),
    #[error(
        "The provincial platform refused the kiosk's token (HTTP {0}); check [platform] token_file with the county office."
    )]
    Refused(u16),
    #[error("The provincial platform has no such record.")]
    NotFound,
    #[error("The provincial platform failed (HTTP {0}).")]
    Server(u16),
    #[error("The provincial platform's answer is not the documented JSON ({0}).")]
    Malformed(String),
}

impl PlatformError {
    /// What the citizen is told, and what to do instead.
    pub fn citizen_zh(&self) -> &'static str {
        match self {
            PlatformError::NotFound => "没有查到相关记录，请核对后重试，或到窗口咨询。",
            _ => "暂时无法连接省政务服务平台，请稍后再试，或到窗口办理。",
        }
    }
}

/// How long a probe waits for the platform (less than a citizen's call may).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

type ReachListener = Box<dyn Fn(bool) + Send>;

/// Whether the provincial platform answered when last asked, and who wants to hear when that changes (the
/// home tiles that need it). Unknown until the first call or probe.
#[derive(Default)]
pub struct Reachability {
    inner: Mutex<(Option<bool>, Vec<ReachListener>)>,
    heard: Mutex<Option<std::time::Instant>>,
}

impl Reachability {
    /// What a call or a probe found: told to the listeners when it differs from the last.
    pub fn observe(&self, up: bool) {
        *self.heard.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.0 == Some(up) {
            return;
        }
        inner.0 = Some(up);
        for l in &inner.1 {
            l(up);
        }
    }

    pub fn get(&self) -> Option<bool> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// How long since anything was heard of the platform (None: never).
    pub fn since_heard(&self) -> Option<Duration> {
        self.heard.lock().unwrap_or_else(|p| p.into_inner()).map(|t| t.elapsed())
    }

    /// Tells `listener` every change from now on, starting with the state now when it is known.
    pub fn subscribe(&self, listener: impl Fn(bool) + Send + 'static) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(up) = inner.0 {
            listener(up);
        }
        inner.1.push(Box::new(listener));
    }
}

impl std::fmt::Debug for Reachability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reachability").field("up", &self.get()).finish()
    }
}

impl From<NetError> for PlatformError {
    fn from(e: NetError) -> Self {
        match e {
            NetError::TimedOut(..) => PlatformError::TimedOut(e.to_string()),
            // Past the answer's bound: the platform answered, but not what the kiosk can take.
            NetError::TooLarge(..) => PlatformError::Malformed(e.to_string()),
            _ => PlatformError::Unreachable(e.to_string()),
        }
    }
}

/// Why the platform client could not be made from `[platform]`: each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("[platform] url is not set")]
    NoUrl,
    #[error("[platform] {0}")]
    Address(#[from] net::AddressError),
    #[error("[platform] pin: {0}")]
    Pin(net::tls::TlsError),
    #[error("[platform] ca_file: {0}")]
    Trust(net::tls::TlsError),
    #[error(transparent)]
    Certificate(#[from] net::tls::TlsError),
    #[error("cannot read the platform token {} ({why})", path.display())]
    Token { path: std::path::PathBuf, why: std::io::Error },
    #[error(transparent)]
    Client(#[from] NetError),
}

/// The platform client: one kept-alive HTTPS connection, used by one call at a time.
pub struct Platform {
    client: Mutex<HttpClient>,
    /// A second connection for [`Platform::probe`], so a probe of a silent platform never holds up a citizen's
    /// call (each connection is used by one caller at a time).
    probe_client: Mutex<HttpClient>,
    probe_stopper: net::Stopper,
    /// Whether the platform answered the last time it was asked (a citizen's call, the outbox, a probe).
    pub reach: std::sync::Arc<Reachability>,
    /// Ends the call in flight when the kiosk stops (the client's lock is held by the caller meanwhile).
    stopper: net::Stopper,
    token: Option<Zeroizing<String>>,
    kiosk_id: String,
    url: String,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Platform({})", self.url)
    }
}

impl Platform {
    /// The client `[platform]` describes (validated when the configuration was loaded; the files are read
    /// here, so a missing one is an error that names it).
    pub fn from_config(p: &PlatformSection, kiosk_id: &str) -> Result<Platform, SetupError> {
        let url = p.url.as_deref().ok_or(SetupError::NoUrl)?;
        let endpoint = Endpoint::parse(url).map_err(SetupError::Address)?;
        let trust = match (&p.pin, &p.ca_file) {
            (Some(pin), _) => Trust::Pinned(net::tls::parse_pin(pin).map_err(SetupError::Pin)?),
            (None, Some(ca)) => Trust::roots(net::tls::load_certs(ca)?).map_err(SetupError::Trust)?,
            // Allowed only by the demo's own configuration (see `config::validate`).
            (None, None) => Trust::Plain,
        };
        let token = match &p.token_file {
            Some(f) => Some(Zeroizing::new(
                config::files::read_text(f, config::files::FileKind::Secret)
                    .map_err(|why| SetupError::Token { path: f.clone(), why })?
                    .trim()
                    .to_owned(),
            )),
            None => None,
        };
        let timeout = Duration::from_secs(p.timeout_seconds.into());
        let probe_client = HttpClient::new(endpoint.clone(), trust.clone(), timeout.min(PROBE_TIMEOUT))?;
        let client = HttpClient::new(endpoint, trust, timeout)?;
        let (stopper, probe_stopper) = (client.stopper(), probe_client.stopper());
        Ok(Platform {
            client: Mutex::new(client),
            probe_client: Mutex::new(probe_client),
            probe_stopper,
            reach: std::sync::Arc::default(),
            stopper,
            token,
            kiosk_id: kiosk_id.to_owned(),
            url: url.to_owned(),
        })
    }

    /// Ends the call in flight at once and refuses later ones (the kiosk is stopping: a worker waiting on a
    /// silent platform must not hold the stop for the platform's deadline).
    pub fn stop_calls(&self) {
        self.stopper.stop();
        self.probe_stopper.stop();
    }

    /// Asks whether the platform answers at all (`GET /v1/ping`: any HTTP answer below 500 counts, as
    /// docs/backend-api.md says), on the probe's own connection within [`PROBE_TIMEOUT`]; the outcome goes to
    /// [`Platform::reach`].
    pub fn probe(&self) -> bool {
        let answered = {
            let mut client = self.probe_client.lock().unwrap_or_else(|p| p.into_inner());
            client.request("GET", "/v1/ping", &[], &[], 4096)
        };
        let up = match answered {
            Ok((status, _)) => status < 500,
            Err(NetError::Stopped(_)) => return self.reach.get().unwrap_or(true),
            Err(_) => false,
        };
        self.reach.observe(up);
        up
    }

    pub fn kiosk_id(&self) -> &str {
        &self.kiosk_id
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// One call: `body` as JSON (GET when `None`), the answer (at most `max_answer` bytes, see
    /// [`bounds`]) parsed as `T` when the status is 200.
    pub fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
        max_answer: usize,
    ) -> Result<T, PlatformError> {
        let bytes = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| PlatformError::Malformed(e.to_string()))?,
            None => vec![],
        };
        let bearer = self.token.as_ref().map(|t| Zeroizing::new(format!("Bearer {}", t.as_str())));
        let mut headers = vec![];
        if let Some(b) = &bearer {
            headers.push(("Authorization", b.as_str()));
        }
        let answered = {
            let mut client = self.client.lock().unwrap_or_else(|p| p.into_inner());
            client.request(method, path, &headers, &bytes, max_answer)
        };
        match &answered {
            Ok((status, _)) => self.reach.observe(*status < 500),
            Err(NetError::Stopped(_)) => {}
            Err(_) => self.reach.observe(false),
        }
        let (status, answer) = answered?;
        match status {
            200 | 201 => serde_json::from_slice(&answer).map_err(|e| PlatformError::Malformed(e.to_string())),
            401 | 403 => Err(PlatformError::Refused(status)),
            404 => Err(PlatformError::NotFound),
            s => Err(PlatformError::Server(s)),
        }
    }
}
