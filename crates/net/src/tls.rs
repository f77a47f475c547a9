//! TLS for the staff API and the county's clients: loading `[admin] tls_cert` / `tls_key`, making a self-signed certificate with
//! `kiosk admin gen-cert`, its SHA-256 fingerprint for the county to pin, and the pinning client side.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a certificate, a key or a TLS configuration could not be made: each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{}: not a readable PEM certificate ({detail}); make one with `kiosk admin gen-cert`", path.display())]
    UnreadableCertificate { path: PathBuf, detail: String },
    #[error("{}: holds no certificate; make one with `kiosk admin gen-cert`", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{}: not a readable PEM private key ({detail}); make one with `kiosk admin gen-cert`", path.display())]
    UnreadableKey { path: PathBuf, detail: String },
    #[error(
        "the staff API's certificate and key do not belong together ({0}); make a new pair with `kiosk admin gen-cert`"
    )]
    KeyMismatch(rustls::Error),
    #[error("a --name is not a valid host name ({0})")]
    BadName(rcgen::Error),
    #[error("the certificate could not be made ({0})")]
    Generate(#[from] rcgen::Error),
    #[error("TLS cannot be set up ({0})")]
    Rustls(#[from] rustls::Error),
    #[error("a certificate cannot be used as a trust root ({0})")]
    NotARoot(String),
    #[error("\"{0}\" is not a certificate fingerprint; give the sha256:… that `kiosk admin gen-cert` printed")]
    NotAPin(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificate chain in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::UnreadableCertificate { path: path.to_owned(), detail: e.to_string() })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.to_owned() });
    }
    Ok(certs)
}

/// A TLS acceptor for the certificate chain and key in these PEM files.
pub fn acceptor_from(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    let certs = load_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError::UnreadableKey { path: key.to_owned(), detail: e.to_string() })?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(TlsError::KeyMismatch)?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// `sha256:<64 hex>` of a certificate's DER bytes: what `--pin` takes.
pub fn fingerprint(der: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(der)))
}

/// The same fingerprint as browsers and `openssl x509 -fingerprint -sha256` print it.
pub fn fingerprint_colons(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// What `gen-cert` made.
#[derive(Debug)]
pub struct Generated {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

/// A self-signed certificate for the kiosk, valid from yesterday for `years`, naming `names` (host names
/// and IP addresses) as its subject alternative names.
pub fn generate(kiosk_id: &str, names: &[String], years: i16) -> Result<Generated, TlsError> {
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(TlsError::BadName)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, format!("kiosk {kiosk_id}"));
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "24-hour government service hall");
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let from = today.yesterday().unwrap_or(today);
    params.not_before = rcgen::date_time_ymd(i32::from(from.year()), from.month() as u8, from.day() as u8);
    params.not_after =
        rcgen::date_time_ymd(i32::from(from.year() + years), from.month() as u8, from.day().min(28) as u8);
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let cert = params.self_signed(&key)?;
    Ok(Generated { cert_pem: cert.pem(), key_pem: key.serialize_pem(), der: cert.der().to_vec() })
}

/// The certificate's notAfter, read straight from its DER (Certificate → TBSCertificate → validity).
pub fn not_after(der: &[u8]) -> Option<jiff::Timestamp> {
    /// One DER element at the front of `b`: (tag, contents, rest).
    fn element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, b) = b.split_first()?;
        let (&first, mut b) = b.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || b.len() < n {
                return None;
            }
            let len = b[..n].iter().fold(0usize, |acc, x| (acc << 8) | usize::from(*x));
            b = &b[n..];
            len
        };
        (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
    }
    let (_, cert, _) = element(der)?;
    let (_, tbs, _) = element(cert)?;
    let mut rest = tbs;
    let (tag, _, r) = element(rest)?;
    if tag == 0xa0 {
        rest = r; // explicit version
    }
    let (_, _, r) = element(rest)?; // serial
    let (_, _, r) = element(r)?; // signature algorithm
    let (_, _, r) = element(r)?; // issuer
    let (_, validity, _) = element(r)?;
    let (_, _, r) = element(validity)?; // notBefore
    let (tag, time, _) = element(r)?;
    let s = std::str::from_utf8(time).ok()?.strip_suffix('Z')?;
    let full = match tag {
        // UTCTime: YYMMDDHHMMSS, years 1950–2049.
        0x17 if s.len() == 12 => {
            let yy: u32 = s[..2].parse().ok()?;
            format!("{}{}", if yy >= 50 { 19 } else { 20 }, s)
        }
        0x18 if s.len() == 14 => s.to_owned(),
        _ => return None,
    };
    let t =
        format!("{}-{}-{}T{}:{}:{}Z", &full[..4], &full[4..6], &full[6..8], &full[8..10], &full[10..12], &full[12..14]);
    t.parse().ok()
}

/// Trusts exactly the server certificate whose SHA-256 is pinned: no certificate authority, no host name.
#[derive(Debug)]
struct Pinned {
    pin: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let got: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if got == self.pin {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the kiosk's certificate is {}, not the pinned one: a different machine answered, or its certificate was replaced",
                fingerprint(end_entity.as_ref())
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Parses a pin: `sha256:` and 64 hex digits, or the colon-separated form.
pub fn parse_pin(s: &str) -> Result<[u8; 32], TlsError> {
    let s = s.trim();
    let hex_part = s.strip_prefix("sha256:").or_else(|| s.strip_prefix("SHA256:")).unwrap_or(s).replace(':', "");
    let mut pin = [0u8; 32];
    hex::decode_to_slice(&hex_part, &mut pin).map_err(|_| TlsError::NotAPin(s.to_owned()))?;
    Ok(pin)
}

/// A client configuration that trusts only the certificate with SHA-256 `pin`.
pub fn pinned_client(pin: [u8; 32]) -> Result<rustls::ClientConfig, TlsError> {
    let provider = provider();
    Ok(rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned { pin, provider }))
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_names_its_expiry_and_fingerprint() {
        let g = generate("linshu-01", &["kiosk.local".into(), "192.0.2.10".into()], 5).unwrap();
        let expiry = not_after(&g.der).expect("notAfter parses");
        let now = jiff::Timestamp::now();
        let years = (expiry - now).as_secs_f64() / 3600.0 / 24.0 / 365.25;
        assert!((4.9..5.1).contains(&years), "{years}");
        let pem_der = CertificateDer::from_pem_slice(g.cert_pem.as_bytes()).unwrap();
        assert_eq!(fingerprint(pem_der.as_ref()), fingerprint(&g.der));
        assert_eq!(parse_pin(&fingerprint(&g.der)).unwrap(), parse_pin(&fingerprint_colons(&g.der)).unwrap());
        assert!(parse_pin("sha256:abc").is_err());
    }
}
