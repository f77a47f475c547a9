//! One page of a kiosk's journal as the staff API sent it, checked against what the county already holds:
//! the page verifies from the kiosk's root key, names the kiosk, and continues the stored chain. Pure: the
//! caller fetched the bytes and read the stored head.

use crate::journal::seal::{Seal, SealLine};
use crate::journal::{Entry, Verdict, verify_jsonl_bytes};
use ed25519_dalek::VerifyingKey;

/// Where the county's copy of a kiosk's chain ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHead {
    pub seq: u64,
    /// The hash of entry `seq` (the genesis hash when nothing is stored).
    pub hash: String,
    /// Every seal stored, in epoch order.
    pub seals: Vec<Seal>,
}

/// A page that verified and continues the stored chain.
#[derive(Debug, Clone)]
pub struct CheckedPage {
    /// The key the page's header names.
    pub public_key: String,
    pub entries: Vec<Entry>,
    /// Each entry's time (`time_utc` read), for the `at` column.
    pub times: Vec<std::time::SystemTime>,
    /// Seals the county did not have, in epoch order.
    pub new_seals: Vec<Seal>,
    /// The page's closing checkpoint line (it covers the last entry).
    pub checkpoint: Option<String>,
}

impl CheckedPage {
    /// The last entry's seq and hash: the new stored head.
    pub fn head(&self) -> Option<(u64, &str)> {
        self.entries.last().map(|e| (e.seq, e.hash.as_str()))
    }
}

/// Why a page was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageProblem {
    /// The chain or its seals do not verify, or do not continue what the county holds: evidence, kept as an
    /// alert; the kiosk is not pulled again until staff look.
    #[error("the chain breaks at seq {seq}: {what}")]
    Broken { seq: u64, what: String },
    /// The page could not be read at all (not the format, or values PostgreSQL cannot hold).
    #[error("the page cannot be read: {0}")]
    Unreadable(String),
}

/// Checks `body` (a JSON-lines page) for kiosk `kiosk_id` with root key `root`, after the stored `head`.
/// A page without entries is empty whatever else it carries: seals and checkpoints are only trusted with
/// the entries they were verified against.
pub fn check_page(kiosk_id: &str, root: &VerifyingKey, head: &StoredHead, body: &[u8]) -> Result<CheckedPage, PageProblem> {
    let verdict = verify_jsonl_bytes(body, Some(root), &head.seals).map_err(|e| PageProblem::Unreadable(e.0))?;
    if let Verdict::Tampered { seq, what } = verdict {
        return Err(PageProblem::Broken { seq, what });
    }
    // It verified, so every line below has the shape the verifier read; errors here are not expected.
    let text = std::str::from_utf8(body).map_err(|_| PageProblem::Unreadable("the page is not UTF-8".into()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: crate::journal::export::ExportHeader = lines
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| PageProblem::Unreadable("the page does not start with an export header".into()))?;
    let first_new = head.seq + 1;
    if header.kiosk_id != kiosk_id {
        return Err(PageProblem::Broken {
            seq: first_new,
            what: format!("the kiosk at this address answers as \"{}\", not \"{kiosk_id}\"", header.kiosk_id),
        });
    }
    let mut page = CheckedPage {
        public_key: header.public_key,
        entries: Vec::new(),
        times: Vec::new(),
        new_seals: Vec::new(),
        checkpoint: None,
    };
    for line in lines {
        if line.starts_with(SealLine::PREFIX) {
            let l: SealLine = serde_json::from_str(line).map_err(|e| PageProblem::Unreadable(format!("a seal line: {e}")))?;
            page.new_seals.push(l.seal);
        } else if line.starts_with("{\"checkpoint\"") {
            let cp: serde_json::Value =
                serde_json::from_str(line).map_err(|e| PageProblem::Unreadable(format!("the checkpoint line: {e}")))?;
            page.checkpoint = Some(serde_json::json!({ "checkpoint": cp["checkpoint"] }).to_string());
        } else {
            let e: Entry = serde_json::from_str(line).map_err(|e| PageProblem::Unreadable(format!("an entry: {e}")))?;
            page.times.push(storable(&e)?);
            page.entries.push(e);
        }
    }
    let Some(first) = page.entries.first() else {
        page.new_seals.clear();
        page.checkpoint = None;
        return Ok(page);
    };
    if first.seq != first_new {
        let what = if first.seq > first_new {
            format!("entries {first_new} to {} are missing: the kiosk skipped them", first.seq - 1)
        } else {
            format!("the kiosk sent entry {} again, after the county's copy ends at {}", first.seq, head.seq)
        };
        return Err(PageProblem::Broken { seq: first_new, what });
    }
    if head.seq > 0 && first.prev_hash != head.hash {
        return Err(PageProblem::Broken {
            seq: first.seq,
            what: format!(
                "entry {} does not continue the chain the county holds (its prev_hash is not the stored hash of entry {}): the kiosk's history was rewritten",
                first.seq, head.seq
            ),
        });
    }
    if let Some((epoch, seal)) =
        page.new_seals.iter().enumerate().find(|(i, s)| s.epoch != (head.seals.len() + i) as u64).map(|(i, s)| (i, s))
    {
        return Err(PageProblem::Broken {
            seq: seal.seq,
            what: format!("the page's seal number {} is for epoch {}, not {}", epoch + 1, seal.epoch, head.seals.len() + epoch),
        });
    }
    Ok(page)
}

/// Entry values PostgreSQL would refuse, refused here with the entry's seq (a NUL in text, a payload that
/// jsonb cannot hold, a time that is not UTC); returns the entry's time for the `at` column.
fn storable(e: &Entry) -> Result<std::time::SystemTime, PageProblem> {
    let bad = |what: &str| PageProblem::Unreadable(format!("entry {}: {what}", e.seq));
    let texts = [&e.kiosk_id, &e.boot_id, &e.time_utc, &e.session_id, &e.kind, &e.payload_digest, &e.prev_hash, &e.hash];
    if texts.iter().any(|t| t.contains('\0')) || e.payload.as_deref().is_some_and(|p| p.contains('\0')) {
        return Err(bad("a field holds a NUL character"));
    }
    if let Some(p) = &e.payload {
        if serde_json::from_str::<serde::de::IgnoredAny>(p).is_err() {
            return Err(bad("its payload is not JSON"));
        }
        if p.contains("\\u0000") {
            return Err(bad("its payload holds an escaped NUL, which PostgreSQL's jsonb refuses"));
        }
    }
    let t: jiff::Timestamp = e.time_utc.parse().map_err(|_| bad("its time_utc is not a UTC time"))?;
    std::time::SystemTime::try_from(t).map_err(|_| bad("its time_utc is out of range"))
}

/// A seal must name an entry the county holds with the hash it holds: `stored` is that hash, if any.
pub fn check_seal_against_store(seal: &Seal, stored: Option<&str>) -> Result<(), PageProblem> {
    match stored {
        Some(h) if h == seal.head_hash => Ok(()),
        Some(_) => Err(PageProblem::Broken {
            seq: seal.seq,
            what: format!(
                "the seal of epoch {} records a different entry {} than the one the county holds: entries of a sealed epoch were rewritten",
                seal.epoch, seal.seq
            ),
        }),
        None => Err(PageProblem::Broken {
            seq: seal.seq,
            what: format!("the seal of epoch {} names entry {}, which the county does not hold", seal.epoch, seal.seq),
        }),
    }
}
