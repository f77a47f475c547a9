//! A blocking client for the staff API, for `kiosk-county journal pull` and the tests: HTTPS that trusts only the
//! pinned certificate (or plain HTTP to a kiosk on loopback), one kept-alive connection, a bearer token.

use crate::{Endpoint, HttpClient, NetError, Trust};
use zeroize::Zeroizing;

/// Why a staff-API request got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("an https address needs --pin with the certificate fingerprint `kiosk admin gen-cert` printed")]
    NoPin,
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("the kiosk answered {status}: {why}")]
    Refused { status: u16, why: String },
}

/// The largest answer read (a page of journal entries with their seals).
const MAX_ANSWER: usize = 64 << 20;

/// One connection to a kiosk's staff API.
pub struct StaffClient {
    http: HttpClient,
    token: Zeroizing<String>,
}

impl std::fmt::Debug for StaffClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffClient").field("endpoint", self.http.endpoint()).finish()
    }
}

impl StaffClient {
    /// A client for `endpoint`; with TLS, `pin` (the certificate's SHA-256) is required.
    pub fn new(endpoint: Endpoint, pin: Option<[u8; 32]>, token: Zeroizing<String>) -> Result<StaffClient, StaffError> {
        let trust = match (endpoint.tls, pin) {
            (true, Some(pin)) => Trust::Pinned(pin),
            (true, None) => return Err(StaffError::NoPin),
            (false, _) => Trust::Plain,
        };
        // A page of a large journal can take a while on a slow link: generous, but not forever.
        let http = HttpClient::new(endpoint, trust, std::time::Duration::from_secs(120))?;
        Ok(StaffClient { http, token })
    }

    /// Sends one request and returns the status and body.
    pub fn request(&mut self, method: &str, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), StaffError> {
        let bearer = Zeroizing::new(format!("Bearer {}", self.token.as_str()));
        Ok(self.http.request(method, path, &[("Authorization", bearer.as_str())], body, MAX_ANSWER)?)
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
