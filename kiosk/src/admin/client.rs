//! A blocking client for the staff API, for `kiosk journal pull` and the tests: HTTP/1 over TLS that trusts
//! only the pinned certificate (or plain HTTP to a kiosk on loopback), one kept-alive connection, a bearer
//! token.

use anyhow::{Context, bail};
use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use std::sync::Arc;
use tokio::net::TcpStream;
use zeroize::Zeroizing;

/// Where the kiosk's API is: `https://host:port` or `http://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let bad = || format!("\"{url}\" is not a kiosk address; write https://HOST:PORT, e.g. https://192.0.2.10:8443");
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('/') {
            return Err(bad());
        }
        Ok(Endpoint { tls, host: host.to_owned(), port })
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// One connection to a kiosk's staff API.
pub struct StaffClient {
    runtime: tokio::runtime::Runtime,
    endpoint: Endpoint,
    tls: Option<tokio_rustls::TlsConnector>,
    token: Zeroizing<String>,
    sender: Option<Sender>,
}

impl std::fmt::Debug for StaffClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffClient").field("endpoint", &self.endpoint).finish()
    }
}

impl StaffClient {
    /// A client for `endpoint`; with TLS, `pin` (the certificate's SHA-256) is required.
    pub fn new(endpoint: Endpoint, pin: Option<[u8; 32]>, token: Zeroizing<String>) -> anyhow::Result<StaffClient> {
        let tls = match (endpoint.tls, pin) {
            (true, Some(pin)) => Some(tokio_rustls::TlsConnector::from(Arc::new(super::tls::pinned_client(pin)?))),
            (true, None) => {
                bail!("an https address needs --pin with the certificate fingerprint `kiosk admin gen-cert` printed")
            }
            (false, _) => None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(StaffClient { runtime, endpoint, tls, token, sender: None })
    }

    async fn connect(endpoint: &Endpoint, tls: Option<&tokio_rustls::TlsConnector>) -> anyhow::Result<Sender> {
        let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
            .await
            .with_context(|| format!("cannot reach the kiosk at {}:{}", endpoint.host, endpoint.port))?;
        let _ = tcp.set_nodelay(true);
        match tls {
            None => {
                let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await?;
                tokio::spawn(conn);
                Ok(sender)
            }
            Some(connector) => {
                let name = rustls::pki_types::ServerName::try_from(endpoint.host.clone())
                    .context("the host is not a valid name or address")?;
                let stream = connector.connect(name, tcp).await.context("the TLS handshake with the kiosk failed")?;
                let (sender, conn) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
                tokio::spawn(conn);
                Ok(sender)
            }
        }
    }

    /// Sends one request and returns the status and body. A connection the kiosk closed while idle is
    /// opened again once.
    pub fn request(&mut self, method: &str, path: &str, body: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
        let StaffClient { runtime, endpoint, tls, token, sender } = self;
        runtime.block_on(async {
            for attempt in 0..2 {
                if sender.as_ref().is_none_or(|s| s.is_closed()) {
                    *sender = Some(Self::connect(endpoint, tls.as_ref()).await?);
                }
                let Some(s) = sender.as_mut() else { continue };
                if s.ready().await.is_err() {
                    *sender = None;
                    continue;
                }
                let req = hyper::Request::builder()
                    .method(method)
                    .uri(path)
                    .header(hyper::header::HOST, format!("{}:{}", endpoint.host, endpoint.port))
                    .header(hyper::header::AUTHORIZATION, format!("Bearer {}", token.as_str()))
                    .header(hyper::header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::copy_from_slice(body)))?;
                match s.send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let bytes = resp.into_body().collect().await?.to_bytes();
                        return Ok((status, bytes.to_vec()));
                    }
                    Err(e) if attempt == 0 && e.is_canceled() => *sender = None,
                    Err(e) => return Err(e).context("the kiosk did not answer"),
                }
            }
            bail!("the kiosk closed the connection twice; try again")
        })
    }

    pub fn get(&mut self, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        self.request("GET", path, b"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            Endpoint::parse("https://192.0.2.10:8443/").unwrap(),
            Endpoint { tls: true, host: "192.0.2.10".into(), port: 8443 }
        );
        assert_eq!(Endpoint::parse("http://[::1]:80").unwrap().host, "::1");
        assert!(Endpoint::parse("ftp://x:1").is_err());
        assert!(Endpoint::parse("https://x").is_err());
    }
}
