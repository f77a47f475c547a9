//! Forward-secure seals, byte for byte as docs/journal-format.md specifies: each epoch's key signs the head
//! and the next epoch's public key, then is erased, so a chain of seals walks from the root key. Pure: no IO.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// First line of a seal's signed text (format version 1: no policy).
pub const SEAL_HEADER: &str = "kiosk-journal-seal-v1";
/// First line of a seal's signed text that announces the next epoch's policy (format version 2).
pub const SEAL_HEADER_V2: &str = "kiosk-journal-seal-v2";

/// The sealing policy and retention period a seal announces for the epoch after it: that epoch ends after
/// `epoch_entries` entries or `epoch_minutes` minutes, and no payload younger than `retention_days` is
/// purged in it. Signed with the seal, so it cannot be changed after the fact (docs/journal-format.md,
/// "The sealing policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub epoch_entries: u64,
    pub epoch_minutes: u64,
    pub retention_days: u32,
}

impl Policy {
    /// What binds an epoch no seal announced a policy for (epoch 0, and epochs after a version 1 seal): the
    /// longest epochs any configuration may set (`[journal] epoch_entries` ≤ 10,000, `epoch_minutes` ≤ 60)
    /// and the legal retention floor.
    pub const LOOSEST: Policy = Policy {
        epoch_entries: config::MAX_EPOCH_ENTRIES,
        epoch_minutes: config::MAX_EPOCH_MINUTES,
        retention_days: 180,
    };

    /// The stricter of two policies in each of its parts: what a writer keeps to while the epoch it is in
    /// was announced with one policy and its configuration says another.
    pub fn strictest(self, other: Policy) -> Policy {
        Policy {
            epoch_entries: self.epoch_entries.min(other.epoch_entries),
            epoch_minutes: self.epoch_minutes.min(other.epoch_minutes),
            retention_days: self.retention_days.max(other.retention_days),
        }
    }
}
/// When an epoch ends: the configuration's defaults.
pub use config::{EPOCH_MAX_AGE, EPOCH_MAX_ENTRIES};

/// "Epoch `epoch`'s key vouches that entry `seq` has hash `head_hash`, and hands over to `next_public_key`."
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    pub kiosk_id: String,
    pub epoch: u64,
    /// The head entry sealed: every entry up to and including it.
    pub seq: u64,
    /// Hex of the entry hash at `seq`.
    pub head_hash: String,
    pub time_utc: String,
    /// Hex of this epoch's public key (epoch 0: the root key), the one that signed.
    pub public_key: String,
    /// Hex of the next epoch's public key.
    pub next_public_key: String,
    /// The next epoch's policy (version 2 seals); absent in version 1 seals, written before policies were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    /// Hex of the 64-byte ed25519 signature over [`Seal::signed_text`].
    pub signature: String,
}

impl Seal {
    /// The exact bytes that are signed: seven lines after the header (version 1), or ten with the next
    /// epoch's policy (version 2), each ending in "\n".
    pub fn signed_text(&self) -> String {
        let base = format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            if self.policy.is_some() { SEAL_HEADER_V2 } else { SEAL_HEADER },
            self.kiosk_id,
            self.epoch,
            self.seq,
            self.head_hash,
            self.time_utc,
            self.public_key,
            self.next_public_key
        );
        match &self.policy {
            Some(p) => format!("{base}{}\n{}\n{}\n", p.epoch_entries, p.epoch_minutes, p.retention_days),
            None => base,
        }
    }

    /// The same seal as a version 2 seal, announcing the next epoch's policy: signed again by `key` (the one
    /// that signed it), over the longer text.
    pub fn announcing(mut self, policy: Policy, key: &SigningKey) -> Seal {
        self.policy = Some(policy);
        self.signature = hex::encode(key.sign(self.signed_text().as_bytes()).to_bytes());
        self
    }

    pub fn sign(
        key: &SigningKey,
        kiosk_id: &str,
        epoch: u64,
        seq: u64,
        head_hash: &[u8; 32],
        time_utc: &str,
        next: &VerifyingKey,
    ) -> Seal {
        let mut seal = Seal {
            kiosk_id: kiosk_id.to_owned(),
            epoch,
            seq,
            head_hash: hex::encode(head_hash),
            time_utc: time_utc.to_owned(),
            public_key: hex::encode(key.verifying_key().as_bytes()),
            next_public_key: hex::encode(next.as_bytes()),
            policy: None,
            signature: String::new(),
        };
        seal.signature = hex::encode(key.sign(seal.signed_text().as_bytes()).to_bytes());
        seal
    }
}

/// A seal's line in a JSON-lines export or journal page: `{"seal": {…}}`; unknown or repeated keys are refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealLine {
    pub seal: Seal,
}

impl SealLine {
    /// How every seal line begins, so that a reader can tell one from an entry without parsing it.
    pub const PREFIX: &'static str = "{\"seal\":";
}

/// Why a walk stopped: the seq to report and what is wrong.
pub type Broken = (u64, String);

/// The keys a verified walk of seals vouches for, and where the sealed part of the journal ends.
#[derive(Debug, Clone)]
pub struct SealChain {
    /// Epoch n's public key at index n: the root first, then each seal's next key.
    keys: Vec<VerifyingKey>,
    /// The newest seal's (seq, head hash hex); None before the first.
    pub sealed: Option<(u64, String)>,
    /// The seq each walked seal covers and the policy it announces for the next epoch, in epoch order.
    seqs: Vec<(u64, Option<Policy>)>,
}

impl SealChain {
    pub fn new(root: VerifyingKey) -> Self {
        SealChain { keys: vec![root], sealed: None, seqs: Vec::new() }
    }

    /// Seals walked so far.
    pub fn seals(&self) -> u64 {
        self.keys.len() as u64 - 1
    }

    /// The seq each walked seal covers (where the epochs end) and the policy it announces for the next
    /// epoch, in epoch order.
    pub fn seal_seqs(&self) -> &[(u64, Option<Policy>)] {
        &self.seqs
    }

    /// The key of the current (unsealed) epoch: the one that signs checkpoints and statements now.
    pub fn current_key(&self) -> &VerifyingKey {
        self.keys.last().expect("the root is always there")
    }

    /// The epoch whose key this is, if the chain vouches for it.
    pub fn epoch_of(&self, key: &VerifyingKey) -> Option<u64> {
        self.keys.iter().position(|k| k == key).map(|i| i as u64)
    }

    /// Takes the next seal: it must be the next epoch's, signed by that epoch's key, over a later head.
    pub fn walk(&mut self, kiosk_id: &str, seal: &Seal) -> Result<(), Broken> {
        self.step(kiosk_id, seal, true)
    }

    /// Takes the next seal from a store that walked it before (the county's copy): every check of
    /// [`SealChain::walk`] but the signature's, which costs an ed25519 verification per seal and would make
    /// each page of a kiosk with months of seals re-verify all of them.
    pub fn walk_verified_before(&mut self, kiosk_id: &str, seal: &Seal) -> Result<(), Broken> {
        self.step(kiosk_id, seal, false)
    }

    fn step(&mut self, kiosk_id: &str, seal: &Seal, check_signature: bool) -> Result<(), Broken> {
        let epoch = self.seals();
        let bad = |what: String| Err((seal.seq, what));
        if seal.epoch != epoch {
            return if seal.epoch > epoch {
                bad(format!(
                    "the seal of epoch {epoch} is missing (the next seal found is epoch {}): seals were deleted",
                    seal.epoch
                ))
            } else {
                bad(format!("the seal of epoch {} appears twice or out of order", seal.epoch))
            };
        }
        if seal.kiosk_id != kiosk_id {
            return bad(format!("the seal of epoch {epoch} is for kiosk \"{}\", not \"{kiosk_id}\"", seal.kiosk_id));
        }
        let expected = *self.current_key();
        if seal.public_key != hex::encode(expected.as_bytes()) {
            return bad(format!(
                "the seal of epoch {epoch} is signed by key {}, but the chain of seals from the root hands epoch {epoch} to key {}: a forged seal",
                seal.public_key,
                hex::encode(expected.as_bytes())
            ));
        }
        let sig: Option<[u8; 64]> = hex::decode(&seal.signature).ok().and_then(|b| b.try_into().ok());
        let ok = !check_signature
            || sig.is_some_and(|s| expected.verify(seal.signed_text().as_bytes(), &Signature::from_bytes(&s)).is_ok());
        if !ok {
            return bad(format!("the seal of epoch {epoch} has a signature that does not verify (forged or altered)"));
        }
        if let Some((prev, _)) = &self.sealed
            && seal.seq <= *prev
        {
            return bad(format!(
                "the seal of epoch {epoch} seals seq {}, not after the previous seal's {prev}",
                seal.seq
            ));
        }
        if seal.seq == 0 || !super::chain::is_lower_hex64(&seal.head_hash) {
            return bad(format!("the seal of epoch {epoch} names no valid head"));
        }
        let next = super::chain::parse_public_key(&seal.next_public_key)
            .map_err(|e| (seal.seq, format!("the seal of epoch {epoch}: {e}")))?;
        self.keys.push(next);
        self.sealed = Some((seal.seq, seal.head_hash.clone()));
        self.seqs.push((seal.seq, seal.policy));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn chain_of(n: u8) -> Vec<Seal> {
        (0..n)
            .map(|e| {
                Seal::sign(
                    &key(e + 1),
                    "k1",
                    u64::from(e),
                    u64::from(e) * 10 + 5,
                    &[e; 32],
                    "2026-11-26T08:00:00.000Z",
                    &key(e + 2).verifying_key(),
                )
            })
            .collect()
    }

    #[test]
    fn a_chain_walks_from_the_root() {
        let mut chain = SealChain::new(key(1).verifying_key());
        for s in &chain_of(3) {
            chain.walk("k1", s).unwrap();
        }
        assert_eq!(chain.seals(), 3);
        assert_eq!(chain.current_key(), &key(4).verifying_key());
        assert_eq!(chain.epoch_of(&key(2).verifying_key()), Some(1));
        assert_eq!(chain.sealed, Some((25, hex::encode([2u8; 32]))));
    }

    #[test]
    fn a_missing_or_forged_seal_breaks_the_walk() {
        let seals = chain_of(3);
        let mut chain = SealChain::new(key(1).verifying_key());
        chain.walk("k1", &seals[0]).unwrap();
        let err = chain.walk("k1", &seals[2]).unwrap_err();
        assert!(err.1.contains("epoch 1 is missing"), "{err:?}");

        // Whoever holds a later key cannot sign an earlier epoch's seal.
        let forged = Seal::sign(&key(3), "k1", 1, 15, &[9; 32], "t", &key(3).verifying_key());
        let err = chain.walk("k1", &forged).unwrap_err();
        assert!(err.1.contains("a forged seal"), "{err:?}");

        let mut edited = seals[1].clone();
        edited.head_hash = hex::encode([7u8; 32]);
        assert!(chain.walk("k1", &edited).unwrap_err().1.contains("does not verify"));
        let mut other = SealChain::new(key(9).verifying_key());
        assert!(other.walk("k1", &seals[0]).is_err(), "a different root vouches for nothing");
    }

    #[test]
    fn seals_walked_before_skip_only_their_signature_check() {
        let seals = chain_of(3);
        let mut unsigned = seals[0].clone();
        unsigned.signature = "00".repeat(64);
        let mut chain = SealChain::new(key(1).verifying_key());
        chain.walk_verified_before("k1", &unsigned).unwrap();
        chain.walk("k1", &seals[1]).unwrap();
        let mut fresh = SealChain::new(key(1).verifying_key());
        assert!(fresh.walk("k1", &unsigned).unwrap_err().1.contains("does not verify"), "a new seal is checked");
        let mut skipped = SealChain::new(key(1).verifying_key());
        assert!(skipped.walk_verified_before("k1", &seals[1]).unwrap_err().1.contains("epoch 0 is missing"));
        let wrong_key = Seal::sign(&key(3), "k1", 0, 5, &[0; 32], "t", &key(4).verifying_key());
        let mut other = SealChain::new(key(1).verifying_key());
        assert!(other.walk_verified_before("k1", &wrong_key).unwrap_err().1.contains("a forged seal"));
    }
}
