//! Hashes and random bytes for credentials: staff token hashes, the maintenance PIN hash, fresh keys.

use sha2::{Digest, Sha256};

pub const PIN_ITERATIONS: u32 = 100_000;
/// More than this would make a PIN check take minutes on the box: refused in the configuration and here.
pub const MAX_PIN_ITERATIONS: u32 = 10_000_000;

/// `sha256:<hex>` of a bearer token (tokens are long and random, so a plain hash suffices).
pub fn token_hash(token: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(token.as_bytes())))
}

/// `pbkdf2-sha256:<iterations>:<salt>:<hash>` of a PIN: short PINs need a slow hash.
pub fn pin_hash(pin: &str, salt: &[u8]) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(pin.as_bytes(), salt, PIN_ITERATIONS, &mut out);
    format!("pbkdf2-sha256:{PIN_ITERATIONS}:{}:{}", hex::encode(salt), hex::encode(out))
}

/// Checks a PIN against a stored `pin_hash` in constant time.
pub fn pin_matches(pin: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split(':').collect();
    let ["pbkdf2-sha256", iters, salt, hash] = parts.as_slice() else { return false };
    let (Ok(iters), Ok(salt), Ok(hash)) = (iters.parse::<u32>(), hex::decode(salt), hex::decode(hash)) else {
        return false;
    };
    if iters == 0 || iters > MAX_PIN_ITERATIONS {
        return false;
    }
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(pin.as_bytes(), &salt, iters, &mut out);
    hash.len() == out.len() && hash.iter().zip(out).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Fresh random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(std::io::Error::other)?;
    Ok(buf)
}
