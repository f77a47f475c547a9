//! The staff API's TLS: the certificate helpers of the `net` crate, and the acceptor made from `[admin]`.

pub use ::net::tls::*;
use config::AdminSection;

/// The server's TLS acceptor from its configured PEM files.
pub fn acceptor(admin: &AdminSection) -> Result<tokio_rustls::TlsAcceptor, super::StartError> {
    let (Some(cert), Some(key)) = (&admin.tls_cert, &admin.tls_key) else {
        return Err(super::StartError::TlsFiles);
    };
    Ok(acceptor_from(cert, key)?)
}
