//! The staff API's TLS: the certificate helpers of the `net` crate, and the acceptor made from `[admin]`.

use crate::config::AdminSection;
pub use net::tls::*;

/// The server's TLS acceptor from its configured PEM files.
pub fn acceptor(admin: &AdminSection) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let (Some(cert), Some(key)) = (&admin.tls_cert, &admin.tls_key) else {
        anyhow::bail!("[admin] tls_cert and tls_key are both needed for TLS");
    };
    Ok(acceptor_from(cert, key)?)
}
