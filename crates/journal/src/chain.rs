//! The hash chain and signed checkpoints, byte for byte as docs/journal-format.md specifies. Pure: no IO.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// Domain separation for entry hashes (format version 1).
pub const ENTRY_DOMAIN: &[u8] = b"kiosk-journal-entry-v1\0";
/// First line of a checkpoint's signed text (format version 1).
pub const CHECKPOINT_HEADER: &str = "kiosk-journal-checkpoint-v1";
/// prev_hash of the entry with seq 1.
pub const GENESIS: [u8; 32] = [0; 32];

/// The fields of an entry that the chain covers (the payload only through its digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFields<'a> {
    pub seq: u64,
    pub kiosk_id: &'a str,
    pub boot_id: &'a str,
    pub time_utc: &'a str,
    pub mono_ms: i64,
    pub session_id: &'a str,
    pub kind: &'a str,
    pub payload_digest: [u8; 32],
}

/// SHA-256 of the payload's exact stored bytes (its JSON text as UTF-8).
pub fn payload_digest(payload: &str) -> [u8; 32] {
    Sha256::digest(payload.as_bytes()).into()
}

fn put_str(h: &mut Sha256, s: &str) {
    h.update((s.len() as u32).to_be_bytes());
    h.update(s.as_bytes());
}

/// hash = SHA-256(domain ‖ prev_hash ‖ seq u64 BE ‖ lp(kiosk_id) ‖ lp(boot_id) ‖ lp(time_utc)
/// ‖ mono_ms i64 BE ‖ lp(session_id) ‖ lp(kind) ‖ payload_digest), lp = u32 BE length + UTF-8.
pub fn entry_hash(prev_hash: &[u8; 32], f: &ChainFields<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(ENTRY_DOMAIN);
    h.update(prev_hash);
    h.update(f.seq.to_be_bytes());
    put_str(&mut h, f.kiosk_id);
    put_str(&mut h, f.boot_id);
    put_str(&mut h, f.time_utc);
    h.update(f.mono_ms.to_be_bytes());
    put_str(&mut h, f.session_id);
    put_str(&mut h, f.kind);
    h.update(f.payload_digest);
    h.finalize().into()
}

/// A signed statement "entry `seq` of kiosk `kiosk_id` has hash `head_hash`", made at `time_utc`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub kiosk_id: String,
    pub seq: u64,
    /// Hex of the entry hash at `seq`.
    pub head_hash: String,
    pub time_utc: String,
    /// Hex of the ed25519 public key that signed it.
    pub public_key: String,
    /// Hex of the 64-byte ed25519 signature over `signed_text()`.
    pub signature: String,
}

impl Checkpoint {
    /// The exact bytes that are signed: four lines after the header, each ending in "\n".
    pub fn signed_text(kiosk_id: &str, seq: u64, head_hash: &str, time_utc: &str) -> String {
        format!("{CHECKPOINT_HEADER}\n{kiosk_id}\n{seq}\n{head_hash}\n{time_utc}\n")
    }

    pub fn sign(key: &SigningKey, kiosk_id: &str, seq: u64, head_hash: &[u8; 32], time_utc: &str) -> Checkpoint {
        let head_hash = hex::encode(head_hash);
        let text = Self::signed_text(kiosk_id, seq, &head_hash, time_utc);
        Checkpoint {
            kiosk_id: kiosk_id.to_owned(),
            seq,
            head_hash,
            time_utc: time_utc.to_owned(),
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(key.sign(text.as_bytes()).to_bytes()),
        }
    }

    /// Checks the signature against `trusted` (or, without one, the key the checkpoint names).
    pub fn verify(&self, trusted: Option<&VerifyingKey>) -> Result<(), KeyError> {
        let named = parse_public_key(&self.public_key)?;
        let key = match trusted {
            Some(t) if t != &named => {
                return Err(KeyError::SignedByAnother {
                    seq: self.seq,
                    named: self.public_key.clone(),
                    trusted: hex::encode(t.as_bytes()),
                });
            }
            Some(t) => *t,
            None => named,
        };
        let sig: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(KeyError::MalformedSignature { seq: self.seq })?;
        let text = Self::signed_text(&self.kiosk_id, self.seq, &self.head_hash, &self.time_utc);
        key.verify(text.as_bytes(), &Signature::from_bytes(&sig)).map_err(|_| KeyError::BadSignature { seq: self.seq })
    }
}

/// Why a key or a checkpoint's signature is not accepted; each says what is wrong, the caller where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("\"{0}\" is not an ed25519 public key (64 hex digits)")]
    NotHex(String),
    #[error("\"{0}\" is not a valid ed25519 public key")]
    NotAKey(String),
    #[error("{arg}: cannot read it ({why})")]
    Unreadable { arg: String, why: String },
    #[error("checkpoint at seq {seq} was signed by key {named}, not by the trusted key {trusted}")]
    SignedByAnother { seq: u64, named: String, trusted: String },
    #[error("checkpoint at seq {seq} has a malformed signature")]
    MalformedSignature { seq: u64 },
    #[error("checkpoint at seq {seq} has a signature that does not verify (forged or altered)")]
    BadSignature { seq: u64 },
}

/// Parses a 64-hex-digit ed25519 public key.
pub fn parse_public_key(s: &str) -> Result<VerifyingKey, KeyError> {
    let bytes: [u8; 32] = hex::decode(s.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| KeyError::NotHex(s.trim().to_owned()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::NotAKey(s.trim().to_owned()))
}

/// A public key as a command line gives it: 64 hex digits, or a file holding them.
pub fn public_key_from_arg(arg: &str) -> Result<VerifyingKey, KeyError> {
    let path = std::path::Path::new(arg);
    let text = if path.is_file() {
        std::fs::read_to_string(path).map_err(|e| KeyError::Unreadable { arg: arg.to_owned(), why: e.to_string() })?
    } else {
        arg.to_owned()
    };
    parse_public_key(&text)
}

/// What the format writes for every hash: exactly 64 lower-case hex digits.
pub(crate) fn is_lower_hex64(s: &str) -> bool {
    lower_hex32(s).is_some()
}

/// The value of each byte as a lower-case hex digit; 0xff for anything else (upper case included).
const HEX_VALUE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Decodes exactly 64 lower-case hex digits, refusing anything else; a table look-up a digit, since a
/// verify of a million entries decodes three of these per entry.
pub(crate) fn lower_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (hi, lo) = (HEX_VALUE[pair[0] as usize], HEX_VALUE[pair[1] as usize]);
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    // Valid digits are below 16; any 0xff sets the high bits.
    (bad & 0xf0 == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> ChainFields<'static> {
        ChainFields {
            seq: 1,
            kiosk_id: "k1",
            boot_id: "b",
            time_utc: "2026-11-25T12:00:00.000Z",
            mono_ms: 5,
            session_id: "",
            kind: "boot",
            payload_digest: payload_digest("{}"),
        }
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = entry_hash(&GENESIS, &fields());
        let mut f = fields();
        f.seq = 2;
        assert_ne!(entry_hash(&GENESIS, &f), base);
        let mut f = fields();
        f.mono_ms = 6;
        assert_ne!(entry_hash(&GENESIS, &f), base);
        let mut f = fields();
        f.kind = "boot2";
        assert_ne!(entry_hash(&GENESIS, &f), base);
        // Length prefixes keep field boundaries: moving a character between fields changes the hash.
        let mut f = fields();
        f.kiosk_id = "k";
        f.boot_id = "1b";
        assert_ne!(entry_hash(&GENESIS, &f), base);
        assert_ne!(entry_hash(&[1; 32], &fields()), base);
    }

    #[test]
    fn known_answer() {
        // Pinned so that docs/journal-format.md's worked example stays true.
        expect_hex(entry_hash(&GENESIS, &fields()));
    }

    fn expect_hex(h: [u8; 32]) {
        assert_eq!(hex::encode(h), KNOWN_HASH);
    }

    const KNOWN_HASH: &str = "82a667d3b644b9c66d3630e30f4e7a3849d6ed268036c4fc6308e0e35ddba7a9";

    #[test]
    fn checkpoints_sign_and_detect_forgery() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let cp = Checkpoint::sign(&key, "k1", 10, &[3; 32], "2026-11-25T12:00:00.000Z");
        cp.verify(Some(&key.verifying_key())).unwrap();
        let mut forged = cp.clone();
        forged.seq = 11;
        assert!(forged.verify(None).is_err());
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(cp.verify(Some(&other.verifying_key())).is_err());
    }
}
