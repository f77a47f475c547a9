//! One blocking HTTP/1 client over TLS for every service the kiosk calls or is called through: the staff
//! API's (`kiosk-county journal pull`, tests) that trusts one pinned certificate, and the provincial platform's that
//! trusts the platform's CA (or its pinned certificate). Each request has a deadline; one kept-alive
//! connection is reused and opened again when the server closed it.

pub mod staff;
pub mod tls;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rustls::pki_types::CertificateDer;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// Where a service is: `https://host:port[/base]` or `http://host:port[/base]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// A path every request's path goes under ("" or "/kiosk-api").
    pub base: String,
}

impl Endpoint {
    /// Whether the host is this machine (127.0.0.0/8, ::1, localhost): plain HTTP there never crosses a
    /// network.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Refuses a plain `http://` address to another machine for a request that carries a secret (a staff
    /// token would cross the network in clear).
    pub fn check_secret_may_travel(&self) -> Result<(), AddressError> {
        if self.tls || self.is_loopback() {
            return Ok(());
        }
        Err(AddressError::SecretInClear { host: self.host.clone(), port: self.port })
    }

    pub fn parse(url: &str) -> Result<Endpoint, AddressError> {
        let bad = || AddressError::NotAnAddress(url.to_owned());
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let (authority, base) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            // [::1]:8443
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            match after.strip_prefix(':') {
                Some(p) => (h, p.parse::<u16>().map_err(|_| bad())?),
                None if after.is_empty() => (h, default_port),
                None => return Err(bad()),
            }
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
                None => (authority, default_port),
            }
        };
        if host.is_empty() || base.contains(['?', '#', ' ']) {
            return Err(bad());
        }
        Ok(Endpoint { tls, host: host.to_owned(), port, base: base.to_owned() })
    }
}

/// Why a service address cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("\"{0}\" is not a service address; write https://HOST:PORT, e.g. https://192.0.2.10:8443")]
    NotAnAddress(String),
    #[error(
        "http://{host}:{port} is plain HTTP to another machine, and the staff token would cross the network in clear; write https:// and the certificate's --pin (plain http is for 127.0.0.1 only)"
    )]
    SecretInClear { host: String, port: u16 },
}

/// Whom a TLS connection trusts.
#[derive(Clone)]
pub enum Trust {
    /// Plain HTTP (a kiosk on loopback in tests; never the platform).
    Plain,
    /// Only the certificate with this SHA-256.
    Pinned([u8; 32]),
    /// Certificates these roots issued for the host's name (the platform's CA, or its own certificate).
    Roots(Arc<rustls::RootCertStore>),
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Trust::Plain => "Plain",
            Trust::Pinned(_) => "Pinned",
            Trust::Roots(_) => "Roots",
        })
    }
}

impl Trust {
    /// Trusts the certificates in a PEM file as roots.
    pub fn roots(certs: Vec<CertificateDer<'static>>) -> Result<Trust, tls::TlsError> {
        let mut store = rustls::RootCertStore::empty();
        for c in certs {
            store.add(c).map_err(|e| tls::TlsError::NotARoot(e.to_string()))?;
        }
        Ok(Trust::Roots(Arc::new(store)))
    }
}

/// Why a request got no answer. The message says what happened; the caller says what to do.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot connect to {0} ({1})")]
    Connect(String, std::io::Error),
    #[error("the TLS handshake with {0} failed ({1})")]
    Tls(String, String),
    #[error("{0} did not answer within {1} s")]
    TimedOut(String, u64),
    #[error("{0} broke off the exchange ({1})")]
    Protocol(String, String),
    /// The answer was longer than the caller reads (its bound for this kind of answer).
    #[error("{0} sent an answer larger than the {1} bytes read for it")]
    TooLarge(String, usize),
    #[error("an https address needs a certificate to trust (a pin or a CA)")]
    NoTrust,
    /// The owner stopped the client (the kiosk is stopping): the request in flight was abandoned.
    #[error("the request to {0} was abandoned: the kiosk is stopping")]
    Stopped(String),
    #[error(transparent)]
    Setup(#[from] tls::TlsError),
    #[error("the client's runtime cannot start ({0})")]
    Runtime(std::io::Error),
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// One connection to one service.
pub struct HttpClient {
    runtime: tokio::runtime::Runtime,
    endpoint: Endpoint,
    tls: Option<tokio_rustls::TlsConnector>,
    timeout: Duration,
    /// Connecting, TLS and the answer's head must come within this (a peer that accepts and says nothing
    /// costs this, not the whole request's deadline); the body then has what is left of `timeout`.
    first_byte: Option<Duration>,
    sender: Option<Sender>,
    /// Set by [`Stopper::stop`] from another thread: the request in flight ends at once, and every later
    /// one before it starts (a stopping kiosk does not wait out a peer's deadline).
    stop: Arc<tokio::sync::watch::Sender<bool>>,
}

/// Stops an [`HttpClient`] from another thread (the client itself is busy in its request).
#[derive(Debug, Clone)]
pub struct Stopper(Arc<tokio::sync::watch::Sender<bool>>);

impl Stopper {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("endpoint", &self.endpoint).finish()
    }
}

impl HttpClient {
    /// A client for `endpoint` trusting `trust`; every request (connecting included) ends within `timeout`.
    pub fn new(endpoint: Endpoint, trust: Trust, timeout: Duration) -> Result<HttpClient, NetError> {
        let tls = match (endpoint.tls, trust) {
            (false, _) => None,
            (true, Trust::Pinned(pin)) => Some(tls::pinned_client(pin)?),
            (true, Trust::Roots(roots)) => Some(
                rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .map_err(tls::TlsError::from)?
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            ),
            (true, Trust::Plain) => return Err(NetError::NoTrust),
        };
        let tls = tls.map(|c| tokio_rustls::TlsConnector::from(Arc::new(c)));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(NetError::Runtime)?;
        let stop = Arc::new(tokio::sync::watch::channel(false).0);
        Ok(HttpClient { runtime, endpoint, tls, timeout, first_byte: None, sender: None, stop })
    }

    /// What stops this client's requests from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// The same client with a deadline for connecting and the answer's head (see the field).
    pub fn with_first_byte(mut self, first_byte: Duration) -> HttpClient {
        self.first_byte = Some(first_byte.min(self.timeout));
        self
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn name(endpoint: &Endpoint) -> String {
        format!("{}:{}", endpoint.host, endpoint.port)
    }

    async fn connect(endpoint: &Endpoint, tls: Option<&tokio_rustls::TlsConnector>) -> Result<Sender, NetError> {
        let name = Self::name(endpoint);
        let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
            .await
            .map_err(|e| NetError::Connect(name.clone(), e))?;
        let _ = tcp.set_nodelay(true);
        let protocol = |e: hyper::Error| NetError::Protocol(name.clone(), e.to_string());
        match tls {
            None => {
                let (sender, conn) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await.map_err(protocol)?;
                tokio::spawn(conn);
                Ok(sender)
            }
            Some(connector) => {
                let server = rustls::pki_types::ServerName::try_from(endpoint.host.clone())
                    .map_err(|e| NetError::Tls(name.clone(), e.to_string()))?;
                let stream =
                    connector.connect(server, tcp).await.map_err(|e| NetError::Tls(name.clone(), e.to_string()))?;
                let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .map_err(protocol)?;
                tokio::spawn(conn);
                Ok(sender)
            }
        }
    }

    /// Sends one request (`path` under the endpoint's base) with these headers and returns the status and
    /// body (at most `limit` bytes). A connection the server closed while idle is opened again once.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        limit: usize,
    ) -> Result<(u16, Vec<u8>), NetError> {
        let HttpClient { runtime, endpoint, tls, timeout, first_byte, sender, stop } = self;
        let name = Self::name(endpoint);
        let mut stopped = stop.subscribe();
        if *stopped.borrow() {
            return Err(NetError::Stopped(name));
        }
        let deadline = *timeout;
        let first_byte = *first_byte;
        let exchange = async {
            let head_by = tokio::time::Instant::now() + first_byte.unwrap_or(deadline);
            let no_head = || NetError::TimedOut(name.clone(), first_byte.unwrap_or(deadline).as_secs().max(1));
            for attempt in 0..2 {
                if sender.as_ref().is_none_or(|s| s.is_closed()) {
                    let connected = tokio::time::timeout_at(head_by, Self::connect(endpoint, tls.as_ref()))
                        .await
                        .map_err(|_| no_head())?;
                    *sender = Some(connected?);
                }
                let Some(s) = sender.as_mut() else { continue };
                if s.ready().await.is_err() {
                    *sender = None;
                    continue;
                }
                let mut req = hyper::Request::builder()
                    .method(method)
                    .uri(format!("{}{path}", endpoint.base))
                    .header(hyper::header::HOST, name.clone())
                    .header(hyper::header::CONTENT_TYPE, "application/json");
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                let req = req
                    .body(Full::new(Bytes::copy_from_slice(body)))
                    .map_err(|e| NetError::Protocol(name.clone(), e.to_string()))?;
                let answered = tokio::time::timeout_at(head_by, s.send_request(req)).await.map_err(|_| no_head())?;
                match answered {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let body = http_body_util::Limited::new(resp.into_body(), limit);
                        let bytes = body
                            .collect()
                            .await
                            .map_err(|e| {
                                if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                                    NetError::TooLarge(name.clone(), limit)
                                } else {
                                    NetError::Protocol(name.clone(), format!("the answer: {e}"))
                                }
                            })?
                            .to_bytes();
                        return Ok((status, bytes.to_vec()));
                    }
                    Err(e) if attempt == 0 && e.is_canceled() => *sender = None,
                    Err(e) => return Err(NetError::Protocol(name.clone(), e.to_string())),
                }
            }
            Err(NetError::Protocol(name.clone(), "the connection was closed twice".into()))
        };
        let result = runtime.block_on(async {
            tokio::select! {
                r = tokio::time::timeout(deadline, exchange) => Some(r),
                _ = stopped.wait_for(|s| *s) => None,
            }
        });
        let Some(result) = result else {
            self.sender = None;
            return Err(NetError::Stopped(name));
        };
        match result {
            Ok(r) => {
                if r.is_err() {
                    // Whatever state the connection is in, the next request starts afresh.
                    self.sender = None;
                }
                r
            }
            Err(_) => {
                self.sender = None;
                Err(NetError::TimedOut(name, deadline.as_secs()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            Endpoint::parse("https://192.0.2.10:8443/").unwrap(),
            Endpoint { tls: true, host: "192.0.2.10".into(), port: 8443, base: String::new() }
        );
        assert_eq!(Endpoint::parse("http://[::1]:80").unwrap().host, "::1");
        assert_eq!(Endpoint::parse("https://[::1]").unwrap().port, 443);
        assert_eq!(
            Endpoint::parse("https://zwfw.example:9443/kiosk-api/").unwrap(),
            Endpoint { tls: true, host: "zwfw.example".into(), port: 9443, base: "/kiosk-api".into() }
        );
        assert_eq!(Endpoint::parse("https://zwfw.example/api").unwrap().port, 443);
        assert!(Endpoint::parse("ftp://x:1").is_err());
        // A secret travels over TLS, or in clear only to this machine.
        for ok in ["https://192.0.2.10:8443", "http://127.0.0.1:8080", "http://[::1]:80", "http://localhost:1"] {
            assert_eq!(Endpoint::parse(ok).unwrap().check_secret_may_travel(), Ok(()), "{ok}");
        }
        let e = Endpoint::parse("http://192.0.2.10:8080").unwrap().check_secret_may_travel().unwrap_err().to_string();
        assert!(e.contains("would cross the network in clear") && e.contains("https://"), "{e}");
        assert!(Endpoint::parse("https://x:port").is_err());
        assert!(Endpoint::parse("https://:1").is_err());
        assert!(Endpoint::parse("https://x:1/a?b").is_err());
    }
}
