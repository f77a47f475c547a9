//! A blocking client for the staff API, for `kiosk-county journal pull` and the tests: HTTPS that trusts only the
//! pinned certificate (or plain HTTP to a kiosk on loopback), one kept-alive connection, a bearer token.

use crate::{Endpoint, HttpClient, NetError, Trust};
use zeroize::Zeroizing;

/// Why a staff-API request got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("an https address needs --pin with the certificate fingerprint `kiosk admin gen-cert` printed")]
    NoPin,
    /// Plain HTTP to another machine: the token would travel in clear.
    #[error(transparent)]
    InClear(#[from] crate::AddressError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("the kiosk answered {status}: {why}")]
    Refused { status: u16, why: String },
}

/// The largest answer read (a page of journal entries with their seals), unless the caller reads less.
pub const MAX_ANSWER: usize = 64 << 20;
/// Connecting, TLS and the answer's head: a kiosk that accepts and says nothing costs this.
pub const FIRST_BYTE: std::time::Duration = std::time::Duration::from_secs(10);
/// One whole request, the page's body included: a kiosk that drips its answer costs this.
pub const PAGE: std::time::Duration = std::time::Duration::from_secs(30);

/// One connection to a kiosk's staff API.
pub struct StaffClient {
    http: HttpClient,
    token: Zeroizing<String>,
    max_answer: usize,
}

impl std::fmt::Debug for StaffClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffClient").field("endpoint", self.http.endpoint()).finish()
    }
}

impl StaffClient {
    /// A client for `endpoint`; with TLS, `pin` (the certificate's SHA-256) is required.
    pub fn new(endpoint: Endpoint, pin: Option<[u8; 32]>, token: Zeroizing<String>) -> Result<StaffClient, StaffError> {
        Self::with_bounds(endpoint, pin, token, FIRST_BYTE, PAGE, MAX_ANSWER)
    }

    /// [`StaffClient::new`] with other deadlines (connect to the answer's head; the whole request) and a
    /// smaller largest answer (the fleet pull divides its memory among its workers).
    pub fn with_bounds(
        endpoint: Endpoint,
        pin: Option<[u8; 32]>,
        token: Zeroizing<String>,
        first_byte: std::time::Duration,
        page: std::time::Duration,
        max_answer: usize,
    ) -> Result<StaffClient, StaffError> {
        endpoint.check_secret_may_travel().map_err(StaffError::InClear)?;
        let trust = match (endpoint.tls, pin) {
            (true, Some(pin)) => Trust::Pinned(pin),
            (true, None) => return Err(StaffError::NoPin),
            (false, _) => Trust::Plain,
        };
        let http = HttpClient::new(endpoint, trust, page)?.with_first_byte(first_byte);
        Ok(StaffClient { http, token, max_answer: max_answer.min(MAX_ANSWER) })
    }

    /// Sends one request and returns the status and body.
    pub fn request(&mut self, method: &str, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), StaffError> {
        let bearer = Zeroizing::new(format!("Bearer {}", self.token.as_str()));
        Ok(self.http.request(method, path, &[("Authorization", bearer.as_str())], body, self.max_answer)?)
    }

    pub fn get(&mut self, path: &str) -> Result<(u16, Vec<u8>), StaffError> {
        self.request("GET", path, b"")
    }

    /// One page of the journal: at most `limit` entries after `after_seq`, with the seals from epoch
    /// `seals_from` on (the puller holds the earlier ones). A refusal is an error with the kiosk's reason.
    pub fn journal_page(&mut self, after_seq: u64, limit: u64, seals_from: u64) -> Result<Vec<u8>, StaffError> {
        let (status, body) =
            self.get(&format!("/api/v1/journal?after_seq={after_seq}&limit={limit}&seals_from={seals_from}"))?;
        if status != 200 {
            let why = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
            return Err(StaffError::Refused { status, why });
        }
        Ok(body)
    }
}
