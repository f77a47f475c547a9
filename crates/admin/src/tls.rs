//! The staff API's TLS: the certificate helpers of the `net` crate, and the acceptor made from `[admin]`.

pub use ::net::tls::*;
use config::AdminSection;

/// The server's TLS acceptor from its configured PEM files.
pub fn acceptor(admin: &AdminSection) -> Result<tokio_rustls::TlsAcceptor, super::StartError> {
    let (Some(cert), Some(key)) = (&admin.tls_cert, &admin.tls_key) else {
        return Err(super::StartError::TlsFiles);
    };
    // The key must be the kiosk's: one any user can read is refused.
    match config::files::check_private(key) {
        Err(why) => return Err(super::StartError::PrivateKey { path: key.clone(), why }),
        Ok(Some(warning)) => log::warn!("{warning}"),
        Ok(None) => {}
    }
    Ok(acceptor_from(cert, key)?)
}
