//! One page of a kiosk's journal as the staff API sent it, checked against what the county already holds:
//! the page verifies from the kiosk's root key, names the kiosk, and continues the stored chain. Pure: the
//! caller fetched the bytes and read the stored head.

use ed25519_dalek::VerifyingKey;
use journal::seal::{Seal, SealLine};
use journal::{Entry, Verdict, verify_jsonl_bytes_keeping};

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
    /// The page's own proof as the kiosk signed it, kept for the joined exports (None without entries).
    pub proof: Option<journal::export::PageProof>,
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
pub fn check_page(
    kiosk_id: &str,
    root: &VerifyingKey,
    head: &StoredHead,
    body: &[u8],
) -> Result<CheckedPage, PageProblem> {
    // The verifier hands back the entries it parsed: each line is read once.
    let mut entries = Vec::new();
    let verdict = verify_jsonl_bytes_keeping(body, Some(root), &head.seals, &mut entries)
        .map_err(|e| PageProblem::Unreadable(e.0))?;
    if let Verdict::Tampered { seq, what } = verdict {
        return Err(PageProblem::Broken { seq, what });
    }
    // It verified, so every line below has the shape the verifier read; errors here are not expected.
    let text = std::str::from_utf8(body).map_err(|_| PageProblem::Unreadable("the page is not UTF-8".into()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: journal::export::ExportHeader = lines
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
    let times = entries.iter().map(storable).collect::<Result<Vec<_>, _>>()?;
    let proof = journal::export::page_proof(text);
    let mut page =
        CheckedPage { public_key: header.public_key, entries, times, new_seals: Vec::new(), checkpoint: None, proof };
    // Entries came from the verifier; only the seal and checkpoint lines are read here.
    for line in lines.filter(|l| l.starts_with(SealLine::PREFIX) || l.starts_with("{\"checkpoint\"")) {
        if line.starts_with(SealLine::PREFIX) {
            let l: SealLine =
                serde_json::from_str(line).map_err(|e| PageProblem::Unreadable(format!("a seal line: {e}")))?;
            page.new_seals.push(l.seal);
        } else {
            let cp: serde_json::Value =
                serde_json::from_str(line).map_err(|e| PageProblem::Unreadable(format!("the checkpoint line: {e}")))?;
            page.checkpoint = Some(serde_json::json!({ "checkpoint": cp["checkpoint"] }).to_string());
        }
    }
    let Some(first) = page.entries.first() else {
        page.new_seals.clear();
        page.checkpoint = None;
        page.proof = None;
        return Ok(page);
    };
    if page.proof.is_none() {
        return Err(PageProblem::Unreadable("the page has entries but no signed statement".into()));
    }
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
    // The verifier walked these after the stored ones; stored as they are numbered, they must follow on.
    if let Some((i, seal)) = page.new_seals.iter().enumerate().find(|(i, s)| s.epoch != (head.seals.len() + i) as u64) {
        return Err(PageProblem::Broken {
            seq: seal.seq,
            what: format!("the page's seal number {} is for epoch {}, not {}", i + 1, seal.epoch, head.seals.len() + i),
        });
    }
    Ok(page)
}

/// Entry values PostgreSQL would refuse, refused here with the entry's seq (a NUL in text, a payload that
/// jsonb cannot hold, a time that is not UTC); returns the entry's time for the `at` column.
fn storable(e: &Entry) -> Result<std::time::SystemTime, PageProblem> {
    let bad = |what: &str| PageProblem::Unreadable(format!("entry {}: {what}", e.seq));
    let texts =
        [&e.kiosk_id, &e.boot_id, &e.time_utc, &e.session_id, &e.kind, &e.payload_digest, &e.prev_hash, &e.hash];
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
/// Err: what is wrong (the seal's seq is where the chain breaks).
pub fn check_seal_against_store(seal: &Seal, stored: Option<&str>) -> Result<(), SealMismatch> {
    match stored {
        Some(h) if h == seal.head_hash => Ok(()),
        Some(_) => Err(SealMismatch::Rewritten { epoch: seal.epoch, seq: seal.seq }),
        None => Err(SealMismatch::NotHeld { epoch: seal.epoch, seq: seal.seq }),
    }
}

/// Why a pulled seal does not fit what the county holds ([`check_seal_against_store`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealMismatch {
    #[error(
        "the seal of epoch {epoch} records a different entry {seq} than the one the county holds: entries of a sealed epoch were rewritten"
    )]
    Rewritten { epoch: u64, seq: u64 },
    #[error("the seal of epoch {epoch} names entry {seq}, which the county does not hold")]
    NotHeld { epoch: u64, seq: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;
    use journal::page::{Readers, journal_page};
    use journal::{EntryKind, Journal, JournalSettings, NewEntry};

    fn journal(dir: &std::path::Path, id: &str, entries: usize) -> Journal {
        let j = Journal::open(JournalSettings::in_dir(id, dir)).unwrap();
        let batch: Vec<NewEntry> = (0..entries)
            .map(|i| NewEntry::new(EntryKind::Evaluation, serde_json::json!({ "level": 5, "i": i })))
            .collect();
        j.transact(move |_| Ok((batch, ()))).unwrap();
        j
    }

    fn root(j: &Journal) -> VerifyingKey {
        journal::chain::parse_public_key(j.public_key()).unwrap()
    }

    fn genesis() -> StoredHead {
        StoredHead { seq: 0, hash: hex::encode(journal::chain::GENESIS), seals: vec![] }
    }

    /// Pages of 100, each checked against the head the previous one left: the chain grows in order.
    #[test]
    fn pages_continue_the_stored_head_and_an_empty_page_brings_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let j = journal(dir.path(), "k1", 450);
        let readers = Readers::new(&j);
        let mut head = genesis();
        let mut stored = 0;
        loop {
            let body = journal_page(&j, &readers, head.seq, 100, head.seals.len() as u64).unwrap();
            let page = check_page("k1", &root(&j), &head, &body).unwrap();
            let Some((seq, hash)) = page.head() else {
                assert!(page.new_seals.is_empty() && page.checkpoint.is_none());
                break;
            };
            assert_eq!(page.entries[0].seq, head.seq + 1);
            assert!(page.checkpoint.is_some());
            stored += page.entries.len();
            let mut seals = head.seals.clone();
            seals.extend(page.new_seals.iter().cloned());
            head = StoredHead { seq, hash: hash.to_owned(), seals };
        }
        assert_eq!(stored, 450);
        assert_eq!(head.seq, 450);
    }

    /// The attacks the county's copy must catch: another kiosk at the address, a page that skips entries, a
    /// history that does not continue the stored head (a rewritten tail or a restored backup), another
    /// kiosk's root key.
    #[test]
    fn a_page_that_does_not_continue_the_county_copy_is_a_break() {
        let dir = tempfile::tempdir().unwrap();
        let j = journal(dir.path(), "k1", 50);
        let readers = Readers::new(&j);
        let body = journal_page(&j, &readers, 0, 20, 0).unwrap();
        let first = check_page("k1", &root(&j), &genesis(), &body).unwrap();
        let (seq, hash) = first.head().unwrap();
        let head = StoredHead { seq, hash: hash.to_owned(), seals: first.new_seals.clone() };

        let wrong_id = check_page("k2", &root(&j), &genesis(), &body).unwrap_err();
        assert!(
            matches!(&wrong_id, PageProblem::Broken { what, .. } if what.contains("answers as \"k1\"")),
            "{wrong_id}"
        );

        let skipped = journal_page(&j, &readers, 25, 10, head.seals.len() as u64).unwrap();
        let e = check_page("k1", &root(&j), &head, &skipped).unwrap_err();
        assert_eq!(
            e,
            PageProblem::Broken { seq: 21, what: "entries 21 to 25 are missing: the kiosk skipped them".into() }
        );

        let again = journal_page(&j, &readers, 10, 10, head.seals.len() as u64).unwrap();
        assert!(matches!(check_page("k1", &root(&j), &head, &again), Err(PageProblem::Broken { seq: 21, .. })));

        let next = journal_page(&j, &readers, 20, 10, head.seals.len() as u64).unwrap();
        let forked = StoredHead { hash: "ab".repeat(32), ..head.clone() };
        let e = check_page("k1", &root(&j), &forked, &next).unwrap_err();
        assert!(matches!(&e, PageProblem::Broken { seq: 21, what } if what.contains("history was rewritten")), "{e}");
        assert!(check_page("k1", &root(&j), &head, &next).is_ok(), "the true head continues");

        let other_dir = tempfile::tempdir().unwrap();
        let other = journal(other_dir.path(), "k1", 5);
        let e = check_page("k1", &root(&other), &genesis(), &body).unwrap_err();
        assert!(matches!(e, PageProblem::Broken { .. }), "another root key: {e}");
        assert!(matches!(check_page("k1", &root(&j), &genesis(), b"not json"), Err(PageProblem::Unreadable(_))));
    }

    #[test]
    fn values_postgresql_cannot_hold_are_refused_before_the_database() {
        let e = Entry {
            seq: 3,
            kiosk_id: "k".into(),
            boot_id: "b".into(),
            time_utc: "2026-11-27T08:00:00.000Z".into(),
            mono_ms: 1,
            session_id: String::new(),
            kind: "evaluation".into(),
            payload: Some(r#"{"a":"\u0000"}"#.into()),
            payload_digest: String::new(),
            prev_hash: String::new(),
            hash: String::new(),
        };
        assert!(storable(&e).unwrap_err().to_string().contains("escaped NUL"));
        let e = Entry { payload: Some("{".into()), ..e };
        assert!(storable(&e).unwrap_err().to_string().contains("not JSON"));
        let e = Entry { payload: None, time_utc: "yesterday".into(), ..e };
        assert!(storable(&e).unwrap_err().to_string().contains("entry 3: its time_utc"));
        let e = Entry { time_utc: "2026-11-27T08:00:00.000Z".into(), boot_id: "a\0b".into(), ..e };
        assert!(storable(&e).unwrap_err().to_string().contains("NUL"));
    }
}
