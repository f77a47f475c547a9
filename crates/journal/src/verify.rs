//! Checks an export or a live journal file: every entry's hash, the links between them, the chain of seals
//! from the root key, and the signed checkpoints.

use super::chain::{ChainFields, Checkpoint, GENESIS, entry_hash, lower_hex32, payload_digest};
use super::export::{CSV_HEADER, EXPORT_FORMAT_NAME, ExportHeader};
use super::schema::{ENTRY_COLUMNS, entry_from_row, open_for_verify};
use super::seal::{Policy, Seal, SealChain, SealLine};
use super::{Entry, JournalError};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::Digest;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

/// The outcome of a verification that could read its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        entries: u64,
        first_seq: Option<u64>,
        last_seq: Option<u64>,
        checkpoints: u64,
        /// Seals walked from the root key, and the newest one's seq.
        seals: u64,
        sealed_through: Option<u64>,
        /// Entries after the newest seal: intact, but not yet protected against whoever holds the box.
        unsealed: u64,
        /// Entries whose payload was purged (each one past its retention period, as a later
        /// `retention_purge` entry records, in an input that holds every entry).
        purged: u64,
        notes: Vec<String>,
    },
    Tampered {
        seq: u64,
        what: String,
    },
    /// In an older format than the current one, whose range is not signed as today's is: not verified
    /// (exit 1), since today's file relabelled as an older one looks the same. See [`VerifyOptions`].
    OldFormat {
        what: String,
    },
}

/// Why the input could not be read at all (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// Streaming chain checker: feed entries in file order, then checkpoints.
struct Checker {
    contiguous: bool,
    kiosk_id: Option<String>,
    /// The previous entry's seq and hash (bytes: compared for every entry, so never re-encoded).
    prev: Option<(u64, [u8; 32])>,
    entries: u64,
    first_seq: Option<u64>,
    /// Hashes at the seqs a checkpoint names, captured while streaming.
    wanted: HashMap<u64, Option<String>>,
    notes: Vec<String>,
    /// A gap seen at the last entry: reported as missing entries unless the next entry
    /// turns out to be the missing one arriving late (then it is a swap).
    pending_gap: Option<Bad>,
    /// Seqs absent between entries of a filtered stretch (first, last): normal for a kind filter.
    gaps: Vec<(u64, u64)>,
    /// Entries of the kinds the writer seals in their own transaction (`session_end`, `shutdown`), in order:
    /// one that no seal covers shows that seals were removed.
    always_sealed: Vec<(u64, &'static str)>,
    /// Entries whose payload was purged: (seq, time_utc).
    purged: Vec<(u64, String)>,
    /// Retention purges whose cut-off is as many days before the purge itself as it says: (seq, cut-off,
    /// days). Whether the days are enough depends on the policy of the purge's epoch (seals come later).
    purges: Vec<(u64, String, u64)>,
    /// The entries as transactions: a run of consecutive entries with the same boot, time and clock.
    runs: Vec<Run>,
    /// The boots seen, interned: a run names its boot by index.
    boots: HashMap<String, u32>,
    /// The time_utc of the newest run (runs end where it changes).
    run_time: String,
    /// The boot_id of the newest run.
    run_boot: String,
    /// Where the kiosk journaled that a seal failed (`seal_failed`).
    seal_failures: Vec<u64>,
}

/// Entries of one transaction as the file shows it: consecutive seqs sharing boot, time and clock.
#[derive(Debug, Clone, Copy)]
struct Run {
    first_seq: u64,
    last_seq: u64,
    boot: u32,
    mono_ms: i64,
}

/// Entries a tool run beside the kiosk may append to an epoch without sealing (it holds no key): allowed
/// above the policy's count before an epoch's last transaction.
pub const TOOL_ENTRIES_ALLOWANCE: u64 = 16;

/// The kinds whose entry is always sealed in the transaction that writes it (docs/journal-format.md).
const ALWAYS_SEALED: [&str; 2] = ["session_end", "shutdown"];

type Bad = (u64, String);

/// An entry as the checker reads it, borrowed: a database row is checked without copying its text.
struct EntryRef<'a> {
    seq: u64,
    kiosk_id: &'a str,
    boot_id: &'a str,
    time_utc: &'a str,
    mono_ms: i64,
    session_id: &'a str,
    kind: &'a str,
    payload: Option<&'a str>,
    payload_digest: &'a str,
    prev_hash: &'a str,
    hash: &'a str,
}

impl<'a> EntryRef<'a> {
    /// What the entry's hash covers, with the payload through `payload_digest`.
    fn chain_fields(&self, payload_digest: [u8; 32]) -> ChainFields<'a> {
        ChainFields {
            seq: self.seq,
            kiosk_id: self.kiosk_id,
            boot_id: self.boot_id,
            time_utc: self.time_utc,
            mono_ms: self.mono_ms,
            session_id: self.session_id,
            kind: self.kind,
            payload_digest,
        }
    }
}

impl Entry {
    /// What this entry's hash covers, with the payload through `payload_digest` (as recomputed by whoever
    /// checks or, in the tamper tests, forges it).
    pub fn chain_fields(&self, payload_digest: [u8; 32]) -> ChainFields<'_> {
        EntryRef::from(self).chain_fields(payload_digest)
    }
}

impl<'a> From<&'a Entry> for EntryRef<'a> {
    fn from(e: &'a Entry) -> Self {
        EntryRef {
            seq: e.seq,
            kiosk_id: &e.kiosk_id,
            boot_id: &e.boot_id,
            time_utc: &e.time_utc,
            mono_ms: e.mono_ms,
            session_id: &e.session_id,
            kind: &e.kind,
            payload: e.payload.as_deref(),
            payload_digest: &e.payload_digest,
            prev_hash: &e.prev_hash,
            hash: &e.hash,
        }
    }
}

impl Checker {
    fn new(contiguous: bool, checkpoint_seqs: impl IntoIterator<Item = u64>) -> Self {
        Checker {
            contiguous,
            kiosk_id: None,
            prev: None,
            entries: 0,
            first_seq: None,
            wanted: checkpoint_seqs.into_iter().map(|s| (s, None)).collect(),
            notes: Vec::new(),
            pending_gap: None,
            gaps: Vec::new(),
            always_sealed: Vec::new(),
            purged: Vec::new(),
            purges: Vec::new(),
            runs: Vec::new(),
            boots: HashMap::new(),
            run_time: String::new(),
            run_boot: String::new(),
            seal_failures: Vec::new(),
        }
    }

    /// Every purged payload must be older than the cut-off of a consistent `retention_purge` entry after it:
    /// one purged younger shows that payloads were erased before they were due. Only an input that holds
    /// every entry can show it (a kind-filtered export may leave the purge entries out).
    /// A purge counts only when it kept payloads at least as long as the policy of its epoch says (the one
    /// the seal before it announced; 180 days, the legal floor, where none did). `seals`: as for
    /// [`Checker::check_stretches`].
    fn check_purges(&self, seals: &[(u64, Option<Policy>)]) -> Result<(), Bad> {
        let required = |seq: u64| {
            let before = seals.partition_point(|(s, _)| *s < seq);
            let policy = before.checked_sub(1).and_then(|i| seals[i].1).unwrap_or(Policy::LOOSEST);
            u64::from(policy.retention_days.max(super::MIN_RETENTION_DAYS))
        };
        let purges: Vec<(u64, &str)> = self
            .purges
            .iter()
            .filter(|(seq, _, days)| *days >= required(*seq))
            .map(|(seq, before, _)| (*seq, before.as_str()))
            .collect();
        // The latest cut-off among the purges from each position on.
        let mut latest_after: Vec<&str> = vec![""; purges.len() + 1];
        for i in (0..purges.len()).rev() {
            latest_after[i] = latest_after[i + 1].max(purges[i].1);
        }
        for (seq, time) in &self.purged {
            let first_after = purges.partition_point(|(p, _)| p <= seq);
            let cutoff = latest_after[first_after];
            if time.as_str() >= cutoff {
                return Err((
                    *seq,
                    format!(
                        "entry {seq}'s payload was purged, but it was written at {time}, {}: payloads were erased before their retention period ended",
                        if cutoff.is_empty() {
                            "and no retention purge after it records a cut-off".to_owned()
                        } else {
                            format!("after the latest retention purge's cut-off {cutoff}")
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Notes a purged payload, or a retention purge's record when it is consistent.
    fn note_retention(&mut self, e: &EntryRef<'_>) {
        let Some(payload) = e.payload else {
            self.purged.push((e.seq, e.time_utc.to_owned()));
            return;
        };
        if e.kind != "retention_purge" {
            return;
        }
        let Ok(p) = serde_json::from_str::<serde_json::Value>(payload) else { return };
        let (Some(before), Some(days)) =
            (p.get("before").and_then(|v| v.as_str()), p.get("retention_days").and_then(|v| v.as_u64()))
        else {
            return;
        };
        let due = e
            .time_utc
            .parse::<jiff::Timestamp>()
            .ok()
            .and_then(|t| t.checked_sub(jiff::SignedDuration::from_hours(24 * days as i64)).ok());
        // At least the legal floor; whether as long as the epoch's policy says is decided with the seals.
        let consistent = days >= u64::from(super::MIN_RETENTION_DAYS)
            && before.parse::<jiff::Timestamp>().ok().zip(due).is_some_and(|(b, due)| b <= due);
        if consistent {
            self.purges.push((e.seq, before.to_owned(), days));
        }
    }

    /// Every entry of an always-sealed kind must be covered by a seal (`sealed`: the newest seal's seq, 0
    /// when there is none): one after it shows that the seals covering it were deleted.
    fn check_always_sealed(&self, sealed: u64) -> Result<(), Bad> {
        match self.always_sealed.iter().find(|(seq, _)| *seq > sealed) {
            Some((seq, kind)) => Err((
                *seq,
                format!(
                    "entry {seq} ({kind}) is not sealed, but the kiosk seals every {kind} in the transaction that writes it: {}",
                    if sealed == 0 {
                        "the journal's seals were removed".to_owned()
                    } else {
                        format!("the seals after seq {sealed} were removed")
                    }
                ),
            )),
            None => Ok(()),
        }
    }

    /// Extends the newest run, or starts one: a new transaction shows as a change of boot, time or clock.
    fn note_run(&mut self, e: &EntryRef<'_>) {
        // Most entries continue the last run's boot: compared first, without a lookup or a copy.
        let boot = match self.runs.last() {
            Some(run) if self.run_boot == e.boot_id => run.boot,
            _ => {
                self.run_boot.clear();
                self.run_boot.push_str(e.boot_id);
                let next = self.boots.len() as u32;
                *self.boots.entry(e.boot_id.to_owned()).or_insert(next)
            }
        };
        if let Some(run) = self.runs.last_mut()
            && run.last_seq + 1 == e.seq
            && run.boot == boot
            && run.mono_ms == e.mono_ms
            && self.run_time == e.time_utc
        {
            run.last_seq = e.seq;
            return;
        }
        self.run_time.clear();
        self.run_time.push_str(e.time_utc);
        self.runs.push(Run { first_seq: e.seq, last_seq: e.seq, boot, mono_ms: e.mono_ms });
    }

    /// Every epoch must be as short as its policy makes it (the one the seal before it announced; the
    /// longest any configuration allows where none did): fewer than `epoch_entries` entries (plus a tool's
    /// few) before its last transaction, and each run of a process spanning less than `epoch_minutes` on
    /// its own clock. A longer sealed epoch shows that a seal inside it was removed, unless the kiosk
    /// journaled there that a seal failed; a longer unsealed tail, that the seals after it were removed (or
    /// that sealing has been failing). `seals`: each walked seal's seq and announced policy, in order. Only
    /// an input without gaps can show it.
    fn check_stretches(&mut self, seals: &[(u64, Option<Policy>)]) -> Result<(), Bad> {
        if !self.contiguous || !self.gaps.is_empty() {
            return Ok(());
        }
        let (Some(first), Some((last, _))) = (self.first_seq, self.prev.as_ref()) else { return Ok(()) };
        let last = *last;
        // (first seq, last seq, closed by a seal, its policy, the seal that announced it)
        let mut epochs: Vec<(u64, u64, bool, Policy, Option<usize>)> = Vec::new();
        let (mut start, mut policy, mut by) = (1, Policy::LOOSEST, None);
        for (n, &(end, announced)) in seals.iter().enumerate() {
            if end >= start {
                epochs.push((start, end, true, policy, by));
                start = end + 1;
            }
            policy = announced.unwrap_or(Policy::LOOSEST);
            by = announced.map(|_| n);
        }
        if start <= last {
            epochs.push((start, last, false, policy, by));
        }
        let mut r = 0;
        for (start, end, sealed, policy, by) in epochs {
            let (start, end) = (start.max(first), end.min(last));
            if start > end {
                continue;
            }
            while r < self.runs.len() && self.runs[r].last_seq < start {
                r += 1;
            }
            let mut spans: HashMap<u32, (i64, i64)> = HashMap::new();
            let mut final_first = start;
            let mut i = r;
            while i < self.runs.len() && self.runs[i].first_seq <= end {
                let run = self.runs[i];
                let span = spans.entry(run.boot).or_insert((run.mono_ms, run.mono_ms));
                span.0 = span.0.min(run.mono_ms);
                span.1 = span.1.max(run.mono_ms);
                final_first = run.first_seq.max(start);
                i += 1;
            }
            let before_last = final_first - start;
            let max_ms = i64::try_from(policy.epoch_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX);
            let longest = spans.values().map(|(a, b)| b - a).max().unwrap_or(0);
            let too_many = before_last >= policy.epoch_entries.saturating_add(TOOL_ENTRIES_ALLOWANCE);
            let too_long = longest >= max_ms;
            if !(too_many || too_long) {
                continue;
            }
            let failed = self.seal_failures.iter().find(|s| (start..=end).contains(*s)).copied();
            if let (true, Some(f)) = (sealed, failed) {
                self.notes.push(format!(
                    "entries {start} to {end} were sealed later than their policy says: the kiosk journaled at seq {f} that a seal failed"
                ));
                continue;
            }
            let measure = if too_many {
                format!("{before_last} entries before its last transaction")
            } else {
                format!("one process writing for {} min {} s", longest / 60_000, longest % 60_000 / 1000)
            };
            let allowed = match by {
                Some(n) => format!(
                    "the seal of epoch {n} announced epochs of at most {} entries or {} minutes",
                    policy.epoch_entries, policy.epoch_minutes
                ),
                None => format!(
                    "no configuration allows an epoch of more than {} entries or {} minutes",
                    policy.epoch_entries, policy.epoch_minutes
                ),
            };
            let why = match (sealed, failed) {
                (_, Some(f)) => {
                    format!("the kiosk journaled at seq {f} that a seal failed, and nothing has sealed since")
                }
                (true, None) => "a seal inside it was removed".to_owned(),
                (false, None) if seals.is_empty() => "the journal's seals were removed".to_owned(),
                (false, None) => "the seals after it were removed".to_owned(),
            };
            return Err((
                start,
                format!(
                    "entries {start} to {end} are {}, with {measure}, but {allowed}: {why}",
                    if sealed { "sealed as one epoch" } else { "unsealed" },
                ),
            ));
        }
        Ok(())
    }

    /// Reports a gap that no later entry explained.
    fn end(&mut self) -> Result<(), Bad> {
        self.pending_gap.take().map_or(Ok(()), Err)
    }

    fn feed(&mut self, e: &EntryRef<'_>) -> Result<(), Bad> {
        let bad = |what: String| Err((e.seq, what));
        if e.seq == 0 {
            return bad("seq 0 is not a seq: they start at 1".into());
        }
        let mut decoded = [[0u8; 32]; 3];
        for (i, (name, value)) in
            [("payload_digest", e.payload_digest), ("prev_hash", e.prev_hash), ("hash", e.hash)].into_iter().enumerate()
        {
            match lower_hex32(value) {
                Some(bytes) => decoded[i] = bytes,
                None => return bad(format!("its {name} is not 64 lower-case hex digits")),
            }
        }
        let [digest, prev_hash, hash] = decoded;
        if let Some(gap) = self.pending_gap.take()
            && self.prev.as_ref().is_some_and(|(pseq, _)| e.seq > *pseq)
        {
            return Err(gap);
        }
        match &self.kiosk_id {
            None => self.kiosk_id = Some(e.kiosk_id.to_owned()),
            Some(k) if *k != e.kiosk_id => {
                return bad(format!("the entry names kiosk \"{}\" but the journal is kiosk \"{k}\"", e.kiosk_id));
            }
            Some(_) => {}
        }
        if let Some(p) = e.payload
            && payload_digest(p) != digest
        {
            return bad("its payload was altered (the payload no longer matches payload_digest)".into());
        }
        if entry_hash(&prev_hash, &e.chain_fields(digest)) != hash {
            return bad("a field of the entry was edited (its hash does not match its contents)".into());
        }
        match &self.prev {
            None => {
                if e.seq == 1 && prev_hash != GENESIS {
                    return bad("the first entry does not start from the genesis hash".into());
                }
                if self.contiguous && e.seq != 1 {
                    self.notes.push(format!("the entries start at seq {}, not 1 (a date-limited export)", e.seq));
                }
            }
            Some((pseq, phash)) => {
                if e.seq <= *pseq {
                    let what = if e.seq == *pseq { "duplicated" } else { "out of order (entries swapped or moved)" };
                    return bad(format!("entry {} follows entry {pseq}: {what}", e.seq));
                }
                if e.seq == pseq + 1 && prev_hash != *phash {
                    return bad(format!(
                        "its prev_hash does not match entry {pseq}'s hash: the chain is broken (an entry was replaced or inserted)"
                    ));
                }
                if e.seq > pseq + 1 && self.contiguous {
                    self.pending_gap =
                        Some((e.seq, format!("entries {} to {} are missing (deleted)", pseq + 1, e.seq - 1)));
                } else if e.seq > pseq + 1 {
                    self.gaps.push((pseq + 1, e.seq - 1));
                }
            }
        }
        if let Some(slot) = self.wanted.get_mut(&e.seq) {
            *slot = Some(e.hash.to_owned());
        }
        if let Some(kind) = ALWAYS_SEALED.into_iter().find(|k| *k == e.kind) {
            self.always_sealed.push((e.seq, kind));
        }
        if e.kind == "seal_failed" {
            self.seal_failures.push(e.seq);
        }
        self.note_run(e);
        self.note_retention(e);
        self.entries += 1;
        self.first_seq.get_or_insert(e.seq);
        self.prev = Some((e.seq, hash));
        Ok(())
    }

    /// A seal's head must be the entry at its seq, as the seal recorded it.
    /// `to_the_end`: the input is the whole journal, so a seal past its last entry means a cut tail (an
    /// export's later seals are just later history).
    fn check_seal(&mut self, seal: &Seal, to_the_end: bool) -> Result<(), Bad> {
        let last = self.prev.as_ref().map_or(0, |(s, _)| *s);
        if seal.seq > last && !to_the_end {
            return Ok(());
        }
        if seal.seq > last {
            return Err((
                last + 1,
                format!(
                    "the journal ends at seq {last} but the seal of epoch {} covers seq {}: the tail was cut",
                    seal.epoch, seal.seq
                ),
            ));
        }
        match self.wanted.get(&seal.seq) {
            Some(Some(hash)) if *hash == seal.head_hash => Ok(()),
            Some(Some(_)) => Err((
                seal.seq,
                format!(
                    "entry {} differs from what the seal of epoch {} recorded: entries of a sealed epoch were rewritten",
                    seal.seq, seal.epoch
                ),
            )),
            _ if self.contiguous && self.first_seq.is_some_and(|f| f <= seal.seq) => {
                Err((seal.seq, format!("entry {}, which the seal of epoch {} names, is missing", seal.seq, seal.epoch)))
            }
            _ => Ok(()),
        }
    }

    fn check_checkpoint(&mut self, cp: &Checkpoint, chain: &SealChain) -> Result<(), Bad> {
        let named = super::chain::parse_public_key(&cp.public_key)
            .map_err(|what| (cp.seq, format!("forged checkpoint: {what}")))?;
        if chain.epoch_of(&named).is_none() {
            return Err((
                cp.seq,
                format!(
                    "the checkpoint at seq {} was signed by key {}, which the chain of seals from the root key does not vouch for (a forged checkpoint)",
                    cp.seq, cp.public_key
                ),
            ));
        }
        cp.verify(Some(&named)).map_err(|what| (cp.seq, format!("forged checkpoint: {what}")))?;
        if let Some(k) = &self.kiosk_id
            && *k != cp.kiosk_id
        {
            return Err((cp.seq, format!("the checkpoint is for kiosk \"{}\", not \"{k}\"", cp.kiosk_id)));
        }
        let last = self.prev.as_ref().map_or(0, |(s, _)| *s);
        if cp.seq > last {
            return Err((
                last + 1,
                format!(
                    "the journal ends at seq {last} but a signed checkpoint covers seq {}: the tail was cut",
                    cp.seq
                ),
            ));
        }
        match self.wanted.get(&cp.seq) {
            Some(Some(hash)) if *hash == cp.head_hash => Ok(()),
            Some(Some(_)) => {
                Err((cp.seq, "the entry differs from what the signed checkpoint recorded (rewritten chain)".into()))
            }
            _ => {
                if self.contiguous {
                    Err((cp.seq, "the entry a signed checkpoint names is missing".into()))
                } else {
                    self.notes.push(format!("checkpoint at seq {} is outside this filtered export", cp.seq));
                    Ok(())
                }
            }
        }
    }

    fn finish(self, checkpoints: u64, chain: Option<&SealChain>, unsealed: u64) -> Verdict {
        Verdict::Intact {
            entries: self.entries,
            first_seq: self.first_seq,
            last_seq: self.prev.map(|(s, _)| s),
            checkpoints,
            seals: chain.map_or(0, SealChain::seals),
            sealed_through: chain.and_then(|c| c.sealed.as_ref().map(|(s, _)| *s)),
            unsealed,
            purged: self.purged.len() as u64,
            notes: self.notes,
        }
    }
}

fn tampered((seq, what): Bad) -> Verdict {
    Verdict::Tampered { seq, what }
}

/// The closing line of a jsonl export; unknown or repeated keys are refused.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointLine {
    checkpoint: Checkpoint,
    /// Version 2 exports: the signed statement over the header and the range.
    #[serde(default)]
    export: Option<super::export::ExportStatement>,
}

/// Verifies a JSON-lines export held in memory (a page of the staff API's journal pull).
/// `prior`: seals the caller already holds (a pull asks each page only for seals it does not have).
pub fn verify_jsonl_bytes(bytes: &[u8], trusted: Option<&VerifyingKey>, prior: &[Seal]) -> Result<Verdict, Unreadable> {
    verify_jsonl(bytes, trusted, prior, None, VerifyOptions::default()).map_err(Unreadable)
}

/// [`verify_jsonl_bytes`] for a caller that stores what it verified (the fleet pull): the `prior` seals were
/// walked from the root by it before, so their signatures are not checked again (the new ones are), and the
/// entries read are handed back in file order so that no line is parsed twice. Only meaningful when the
/// verdict is intact.
pub fn verify_jsonl_bytes_keeping(
    bytes: &[u8],
    trusted: Option<&VerifyingKey>,
    prior: &[Seal],
    entries: &mut Vec<Entry>,
) -> Result<Verdict, Unreadable> {
    verify_jsonl(bytes, trusted, prior, Some(entries), VerifyOptions::default()).map_err(Unreadable)
}

/// What a verification accepts beyond the current formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Accept files whose range and contiguity are not signed as today's are (version 1 and 2 exports, CSV
    /// signatures of version 1, a CSV without its `.sig`), with a note: entries cut from them, or a
    /// `contiguous` set false to hide a gap, cannot be seen. Off by default: such a file is refused, since a
    /// current file relabelled as an older one (its statement removed) looks the same.
    pub accept_old_format: bool,
}

/// Verifies a JSON-lines or CSV export, or a journal database, by looking at its first bytes; files in an
/// older format than the current one are refused (see [`VerifyOptions`]).
pub fn verify_path(path: &Path, trusted: Option<&VerifyingKey>) -> Result<Verdict, Unreadable> {
    verify_path_with(path, trusted, VerifyOptions::default())
}

/// [`verify_path`] with options.
pub fn verify_path_with(
    path: &Path,
    trusted: Option<&VerifyingKey>,
    options: VerifyOptions,
) -> Result<Verdict, Unreadable> {
    let unreadable = |what: String| Unreadable(format!("{}: {what}", path.display()));
    let mut file = std::fs::File::open(path).map_err(|e| unreadable(format!("cannot open it ({e}).")))?;
    let mut magic = [0u8; 16];
    let n = std::io::Read::read(&mut file, &mut magic).map_err(|e| unreadable(format!("cannot read it ({e}).")))?;
    if n == 16 && &magic == b"SQLite format 3\0" {
        return verify_database(path, trusted, &mut |_| true).map_err(|e| unreadable(e.to_string()));
    }
    if magic.starts_with(b"\xef\xbb\xbf{") {
        return Ok(tampered((
            1,
            "line 1 begins with a byte-order mark, which `kiosk journal export` never writes: the file was edited"
                .into(),
        )));
    }
    let reader =
        std::io::BufReader::new(std::fs::File::open(path).map_err(|e| unreadable(format!("cannot open it ({e}).")))?);
    if magic.starts_with(b"seq,") {
        let sig_path = super::export::CsvSignature::path_for(path);
        let sig = match std::fs::read(&sig_path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(unreadable(format!("its signature {} cannot be read ({e}).", sig_path.display()))),
            Ok(bytes) => match serde_json::from_slice::<super::export::CsvSignature>(&bytes) {
                Ok(sig) => Some(sig),
                Err(e) => {
                    return Ok(tampered((
                        1,
                        format!("its signature file {} is not well-formed ({e})", sig_path.display()),
                    )));
                }
            },
        };
        let digest = std::fs::read(path)
            .map(|b| hex::encode(sha2::Sha256::digest(&b)))
            .map_err(|e| unreadable(format!("cannot read it ({e}).")))?;
        verify_csv(reader, sig.as_ref().map(|s| (s, digest.as_str())), trusted, options).map_err(unreadable)
    } else if magic.starts_with(b"{") {
        verify_jsonl(reader, trusted, &[], None, options).map_err(unreadable)
    } else {
        Err(unreadable(
            "this is neither a journal database nor a jsonl or csv export from `kiosk journal export`.".into(),
        ))
    }
}

/// The root a verification walks from: the trusted key, or (with a note) the one the input names itself.
fn root_key(
    trusted: Option<&VerifyingKey>,
    named: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<Option<VerifyingKey>, String> {
    match (trusted, named) {
        (Some(t), _) => Ok(Some(*t)),
        (None, Some(n)) if !n.is_empty() => {
            notes.push("seals and signatures were checked from the root key the input names itself; pass --pubkey with the key the county recorded for a trustworthy check".into());
            super::chain::parse_public_key(n).map(Some).map_err(|e| e.to_string())
        }
        (None, _) => Ok(None),
    }
}

/// Walks `seals` from `root`; the first break is the verdict.
fn walk(root: VerifyingKey, kiosk_id: &str, seals: &[Seal]) -> Result<SealChain, Bad> {
    walk_after(root, kiosk_id, seals, 0)
}

/// [`walk`] whose first `verified_before` seals were walked (signatures checked) by the caller earlier.
fn walk_after(root: VerifyingKey, kiosk_id: &str, seals: &[Seal], verified_before: usize) -> Result<SealChain, Bad> {
    let mut chain = SealChain::new(root);
    for (i, s) in seals.iter().enumerate() {
        if i < verified_before {
            chain.walk_verified_before(kiosk_id, s)?;
        } else {
            chain.walk(kiosk_id, s)?;
        }
    }
    Ok(chain)
}

/// Verifies a journal database, calling `tick` with the entries read so far every 10,000 entries; a
/// `tick` that answers false stops the check ([`JournalError::Stopped`]).
pub fn verify_database(
    path: &Path,
    trusted: Option<&VerifyingKey>,
    tick: &mut dyn FnMut(u64) -> bool,
) -> Result<Verdict, JournalError> {
    let conn = open_for_verify(path)?;
    conn.execute_batch("BEGIN")?;
    if !super::schema::has_table(&conn, "checkpoints")? {
        return Ok(tampered((1, "the journal has no `checkpoints` table: it was dropped".into())));
    }
    // What the journal says of itself: its kiosk, its format and its root key.
    let meta_kiosk = super::schema::meta(&conn, "kiosk_id")?;
    let meta_key = super::schema::meta(&conn, "public_key")?;
    if let Some(v) = super::schema::meta(&conn, "format_version")?
        && v != super::schema::FORMAT_VERSION
    {
        return Err(JournalError::Refused(format!(
            "{}: the journal is in format version {v}, which this kiosk does not know (it reads version {}).",
            path.display(),
            super::schema::FORMAT_VERSION
        )));
    }
    let mut notes = Vec::new();
    if let (Some(t), Some(m)) = (trusted, &meta_key)
        && *m != hex::encode(t.as_bytes())
    {
        return Ok(tampered((
            1,
            format!(
                "the journal names root key {m}, not the trusted key {}: another kiosk's journal, or one re-keyed",
                hex::encode(t.as_bytes())
            ),
        )));
    }
    let root = root_key(trusted, meta_key.as_deref(), &mut notes)
        .map_err(|e| JournalError::Refused(format!("{}: meta: {e}.", path.display())))?;
    let seals = super::schema::seals(&conn, 0, None)?;
    let mut cps: Vec<Checkpoint> = conn
        .prepare(&format!("SELECT {} FROM checkpoints ORDER BY seq", super::schema::CHECKPOINT_COLUMNS))?
        .query_map([], super::schema::checkpoint_from_row)?
        .collect::<Result<_, _>>()?;
    let chain = match root {
        Some(root) => {
            let kiosk = meta_kiosk.clone().or_else(|| seals.first().map(|s| s.kiosk_id.clone())).unwrap_or_default();
            match walk(root, &kiosk, &seals) {
                Ok(c) => Some(c),
                Err(bad) => return Ok(tampered(bad)),
            }
        }
        None if seals.is_empty() && cps.is_empty() => None,
        None => {
            return Ok(tampered((
                1,
                "the journal's meta names no root key, yet it holds seals or checkpoints: meta was edited".into(),
            )));
        }
    };
    let mut checker = Checker::new(true, cps.iter().map(|c| c.seq).chain(seals.iter().map(|s| s.seq)));
    checker.notes = notes;
    match scan_entries(&conn, checker, meta_kiosk.as_deref(), tick)? {
        Scanned::Checked(c) => checker = *c,
        Scanned::Tampered(bad) => return Ok(tampered(bad)),
    }
    if let Err(bad) = checker.end() {
        return Ok(tampered(bad));
    }
    // A cut tail shows at the newest seal; a rewrite, at the first seal after it.
    let last = checker.prev.as_ref().map_or(0, |(s, _)| *s);
    for seal in seals.last().filter(|s| s.seq > last).into_iter().chain(&seals) {
        if let Err(bad) = checker.check_seal(seal, true) {
            return Ok(tampered(bad));
        }
    }
    let n = cps.len() as u64;
    cps.reverse();
    for cp in &cps {
        let Some(chain) = &chain else { break };
        if let Err(bad) = checker.check_checkpoint(cp, chain) {
            return Ok(tampered(bad));
        }
    }
    let last = checker.prev.as_ref().map_or(0, |(s, _)| *s);
    // Without a chain (no root key known) the seals' seqs still show what they cover.
    let sealed = chain
        .as_ref()
        .and_then(|c| c.sealed.as_ref())
        .map(|(s, _)| *s)
        .unwrap_or_else(|| seals.iter().map(|s| s.seq).max().unwrap_or(0));
    let seal_seqs: Vec<(u64, Option<Policy>)> = match &chain {
        Some(c) => c.seal_seqs().to_vec(),
        None => seals.iter().map(|s| (s.seq, s.policy)).collect(),
    };
    if let Err(bad) = checker
        .check_always_sealed(sealed)
        .and_then(|()| checker.check_stretches(&seal_seqs))
        .and_then(|()| checker.check_purges(&seal_seqs))
    {
        return Ok(tampered(bad));
    }
    Ok(checker.finish(n, chain.as_ref(), last.saturating_sub(sealed)))
}

/// How many entries travel together from the reading thread to the checking one.
const BATCH: usize = 2048;

/// Entries read from SQLite, copied out of its pages into one buffer: the text fields of each row as spans.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    rows: Vec<RowSpans>,
}

struct RowSpans {
    seq: i64,
    mono_ms: i64,
    /// kiosk_id, boot_id, time_utc, session_id, kind, payload, payload_digest, prev_hash, hash.
    text: [(u32, u32); 9],
    payload_null: bool,
}

impl Batch {
    /// Copies a row of [`ENTRY_COLUMNS`]; a value of the wrong type is an error.
    fn push(&mut self, r: &rusqlite::Row<'_>) -> rusqlite::Result<()> {
        let mut text = [(0u32, 0u32); 9];
        let mut payload_null = false;
        for (slot, col) in [1usize, 2, 3, 5, 6, 7, 8, 9, 10].into_iter().enumerate() {
            let value = r.get_ref(col)?;
            if col == 7 && value == rusqlite::types::ValueRef::Null {
                payload_null = true;
                continue;
            }
            let b = value.as_bytes()?;
            let start = self.bytes.len() as u32;
            self.bytes.extend_from_slice(b);
            text[slot] = (start, b.len() as u32);
        }
        self.rows.push(RowSpans { seq: r.get(0)?, mono_ms: r.get(4)?, text, payload_null });
        Ok(())
    }

    fn entry(&self, row: &RowSpans) -> Result<EntryRef<'_>, Bad> {
        let seq = row.seq.max(0) as u64;
        let field = |slot: usize| -> Result<&str, Bad> {
            let (start, len) = row.text[slot];
            std::str::from_utf8(&self.bytes[start as usize..(start + len) as usize])
                .map_err(|_| (seq, "a field of the entry is not UTF-8 text (altered outside SQLite)".to_owned()))
        };
        if row.seq < 1 {
            return Err((seq, format!("seq {} is not a seq: they start at 1", row.seq)));
        }
        Ok(EntryRef {
            seq,
            kiosk_id: field(0)?,
            boot_id: field(1)?,
            time_utc: field(2)?,
            mono_ms: row.mono_ms,
            session_id: field(3)?,
            kind: field(4)?,
            payload: if row.payload_null { None } else { Some(field(5)?) },
            payload_digest: field(6)?,
            prev_hash: field(7)?,
            hash: field(8)?,
        })
    }
}

enum Scanned {
    Checked(Box<Checker>),
    Tampered(Bad),
}

/// Reads every entry in seq order and checks it: SQLite reads on this thread while another hashes and links
/// what was read (each entry's hash needs only its own fields and stored `prev_hash`, so the two overlap).
fn scan_entries(
    conn: &rusqlite::Connection,
    mut checker: Checker,
    meta_kiosk: Option<&str>,
    tick: &mut dyn FnMut(u64) -> bool,
) -> Result<Scanned, JournalError> {
    let mut stmt = conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM entries ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Batch>();
        let worker = scope.spawn(move || -> Result<Checker, Bad> {
            let mut first = true;
            for batch in rx {
                for row in &batch.rows {
                    let e = batch.entry(row)?;
                    if first && e.seq != 1 {
                        return Err((
                            1,
                            format!("the journal starts at seq {}: the first entries were deleted", e.seq),
                        ));
                    }
                    first = false;
                    if let Some(k) = meta_kiosk
                        && k != e.kiosk_id
                    {
                        return Err((
                            e.seq,
                            format!("meta names kiosk \"{k}\" but entry {} is kiosk \"{}\"", e.seq, e.kiosk_id),
                        ));
                    }
                    checker.feed(&e)?;
                }
                // The buffers go back for the next batch.
                let mut spent = batch;
                spent.bytes.clear();
                spent.rows.clear();
                let _ = back_tx.send(spent);
            }
            Ok(checker)
        });
        let mut read = 0u64;
        let mut batch = Batch::default();
        // Damage SQLite meets while reading: reported after what the checker found before it.
        let mut damage: Option<rusqlite::Error> = None;
        let mut stopped = false;
        loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => {
                    damage = Some(e);
                    break;
                }
            };
            if let Err(e) = batch.push(row) {
                damage = Some(e);
                break;
            }
            read += 1;
            if batch.rows.len() == BATCH {
                let next = back_rx.try_recv().unwrap_or_default();
                if tx.send(std::mem::replace(&mut batch, next)).is_err() {
                    break; // the checker stopped at a finding
                }
            }
            if read.is_multiple_of(10_000) && !tick(read) {
                stopped = true;
                break;
            }
        }
        if !batch.rows.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        let checked =
            worker.join().map_err(|_| JournalError::Refused("The journal check stopped unexpectedly.".into()))?;
        if stopped {
            return Err(JournalError::Stopped);
        }
        match (checked, damage) {
            (Err(bad), _) => Ok(Scanned::Tampered(bad)),
            (Ok(checker), None) => Ok(Scanned::Checked(Box::new(checker))),
            (Ok(checker), Some(e)) => {
                let next = checker.prev.as_ref().map_or(1, |(s, _)| s + 1);
                match e.sqlite_error_code() {
                    Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) | None => {
                        Ok(Scanned::Tampered((
                            next,
                            format!(
                                "the database cannot be read past seq {} ({e}): altered outside SQLite, or a failing disk",
                                next - 1
                            ),
                        )))
                    }
                    Some(_) => Err(JournalError::from(e)),
                }
            }
        }
    })
}

/// The quick check at start: the newest seal's head and the chain from it to the head; what lies before it
/// is the background check's work (the key state is checked when the journal opens).
pub fn verify_tail(conn: &rusqlite::Connection) -> Result<Verdict, JournalError> {
    let seal = super::schema::last_seal(conn)?;
    let from = seal.as_ref().map_or(1, |s| s.seq);
    let mut checker = Checker::new(true, seal.iter().map(|s| s.seq));
    let mut stmt = conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE seq >= ?1 ORDER BY seq"))?;
    let mut rows = stmt.query([from as i64])?;
    let mut first = true;
    while let Some(row) = rows.next()? {
        let e = entry_from_row(row)?;
        if first && e.seq != from {
            return Ok(tampered((from, format!("entry {from}, which the newest seal names, is missing"))));
        }
        first = false;
        if let Err(bad) = checker.feed(&(&e).into()) {
            return Ok(tampered(bad));
        }
    }
    if let Err(bad) = checker.end() {
        return Ok(tampered(bad));
    }
    if let Some(seal) = &seal
        && let Err(bad) = checker.check_seal(seal, true)
    {
        return Ok(tampered(bad));
    }
    let last = checker.prev.as_ref().map_or(0, |(s, _)| *s);
    let unsealed = last.saturating_sub(seal.as_ref().map_or(0, |s| s.seq));
    Ok(checker.finish(0, None, unsealed))
}

/// Why an old format is refused without [`VerifyOptions::accept_old_format`].
const OLD_FORMAT_HINT: &str = "A file in today's format relabelled as an older one looks the same, so it is not verified; if you know where the file came from and accept that deletions cannot be seen in it, run verify again with --accept-old-format";

fn verify_jsonl(
    reader: impl BufRead,
    trusted: Option<&VerifyingKey>,
    prior: &[Seal],
    mut keep: Option<&mut Vec<Entry>>,
    options: VerifyOptions,
) -> Result<Verdict, String> {
    let mut lines = reader.lines().enumerate();
    let (header, header_sha256): (ExportHeader, String) = match lines.next() {
        Some((_, Ok(l))) => (
            serde_json::from_str(&l).map_err(|e| format!("line 1 is not an export header ({e})."))?,
            hex::encode(sha2::Sha256::digest(l.as_bytes())),
        ),
        Some((_, Err(e))) => return Err(format!("line 1 is not UTF-8 text ({e}).")),
        None => return Err("the file is empty.".into()),
    };
    if header.format != EXPORT_FORMAT_NAME || !(1..=super::export::JOINED_VERSION).contains(&header.version) {
        return Err(format!(
            "line 1 names format {} v{}, which this kiosk does not know.",
            header.format, header.version
        ));
    }
    let joined = header.version == super::export::JOINED_VERSION;
    let mut checkpoint: Option<Checkpoint> = None;
    let mut statement: Option<super::export::ExportStatement> = None;
    let mut pages: Vec<super::export::PageProof> = Vec::new();
    let mut seals: Vec<Seal> = prior.to_vec();
    // Checkpoint and seal seqs are only known at the end, so remember every hash (32 bytes of hex a line).
    let mut checker = Checker::new(header.contiguous, std::iter::empty());
    let mut hashes: HashMap<u64, String> = HashMap::new();
    for (i, line) in lines {
        let line = line.map_err(|e| format!("cannot read line {} ({e}).", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let next_seq = checker.prev.as_ref().map_or(1, |(s, _)| s + 1);
        if let Some(cp) = &checkpoint {
            return Ok(tampered((
                cp.seq + 1,
                format!("line {} follows the closing checkpoint: entries were appended after signing", i + 1),
            )));
        }
        // A joined file's page proofs come last; only proofs follow the first.
        if joined && line.trim_start().starts_with(super::export::PageLine::PREFIX) {
            match serde_json::from_str::<super::export::PageLine>(&line) {
                Ok(p) => pages.push(p.page),
                Err(e) => {
                    return Ok(tampered((next_seq, format!("line {} is not a well-formed page proof ({e})", i + 1))));
                }
            }
            continue;
        }
        if !pages.is_empty() {
            return Ok(tampered((
                next_seq,
                format!("line {} follows the page proofs, which close a joined export: lines were added", i + 1),
            )));
        }
        // Parsed straight into the entry's shape: a repeated or unknown key is refused, never resolved to
        // the first or last of two values.
        if !joined && line.trim_start().starts_with("{\"checkpoint\"") {
            match serde_json::from_str::<CheckpointLine>(&line) {
                Ok(cp) => {
                    checkpoint = Some(cp.checkpoint);
                    statement = cp.export;
                }
                Err(e) => {
                    return Ok(tampered((next_seq, format!("line {} is not a well-formed checkpoint ({e})", i + 1))));
                }
            }
            continue;
        }
        if line.trim_start().starts_with(SealLine::PREFIX) {
            match serde_json::from_str::<SealLine>(&line) {
                Ok(s) => seals.push(s.seal),
                Err(e) => return Ok(tampered((next_seq, format!("line {} is not a well-formed seal ({e})", i + 1)))),
            }
            continue;
        }
        if !seals.len().eq(&prior.len()) {
            return Ok(tampered((
                next_seq,
                format!("line {} is an entry after the seals: entries were moved or added", i + 1),
            )));
        }
        let e: Entry = match serde_json::from_str(&line) {
            Ok(e) => e,
            Err(err) => {
                return Ok(tampered((next_seq, format!("line {} is not a well-formed entry ({err})", i + 1))));
            }
        };
        if let Err(bad) = checker.feed(&(&e).into()) {
            return Ok(tampered(bad));
        }
        hashes.insert(e.seq, e.hash.clone());
        if e.kiosk_id != header.kiosk_id {
            return Ok(tampered((
                e.seq,
                format!("the entry names kiosk \"{}\", the export \"{}\"", e.kiosk_id, header.kiosk_id),
            )));
        }
        if let Some(kept) = keep.as_deref_mut() {
            kept.push(e);
        }
    }
    if let Err(bad) = checker.end() {
        return Ok(tampered(bad));
    }
    // A joined file closes with the last page's checkpoint; its statements are checked below.
    if joined {
        checkpoint = pages.last().map(|p| p.checkpoint.clone());
    }
    let Some(cp) = checkpoint else {
        let seq = checker.prev.as_ref().map_or(0, |(s, _)| s + 1);
        if checker.entries == 0 {
            return Ok(checker.finish(0, None, 0));
        }
        return Ok(tampered((seq, "the closing signed checkpoint is missing: the export was cut or edited".into())));
    };
    let mut notes = Vec::new();
    let root = root_key(trusted, Some(&header.public_key), &mut notes)
        .map_err(|e| format!("line 1: {e}."))?
        .ok_or_else(|| "line 1 names no root key.".to_owned())?;
    checker.notes.extend(notes);
    if trusted.is_some_and(|t| hex::encode(t.as_bytes()) != header.public_key) {
        return Ok(tampered((
            checker.first_seq.unwrap_or(1),
            format!(
                "the export names root key {}, not the trusted key: another kiosk's journal, or edited",
                header.public_key
            ),
        )));
    }
    // Seals a keeping caller stored earlier were verified then; a plain verification trusts nothing it holds.
    let verified_before = if keep.is_some() { prior.len() } else { 0 };
    let chain = match walk_after(root, &header.kiosk_id, &seals, verified_before) {
        Ok(c) => c,
        Err(bad) => return Ok(tampered(bad)),
    };
    let wanted: std::collections::HashSet<u64> = seals
        .iter()
        .map(|s| s.seq)
        .chain(std::iter::once(cp.seq))
        .chain(pages.iter().map(|p| p.checkpoint.seq))
        .collect();
    checker.wanted = hashes.iter().filter(|(s, _)| wanted.contains(s)).map(|(s, h)| (*s, Some(h.clone()))).collect();
    for seal in &seals {
        if let Err(bad) = checker.check_seal(seal, false) {
            return Ok(tampered(bad));
        }
    }
    if let Err(bad) = checker.check_checkpoint(&cp, &chain) {
        return Ok(tampered(bad));
    }
    if checker.prev.as_ref().is_some_and(|(s, _)| *s != cp.seq) {
        return Ok(tampered((cp.seq, "the closing checkpoint does not cover the last entry".into())));
    }
    if joined && let Err(bad) = check_pages(&mut checker, &pages, &header, &chain) {
        return Ok(tampered(bad));
    }
    match (header.version, statement) {
        (v, _) if v < 3 && !options.accept_old_format => {
            let what = if v == 1 { "its header (contiguous, filter), its range and its first seq are not signed" } else { "it carries no seals" };
            return Ok(Verdict::OldFormat {
                what: format!("this is a version {v} export, older than today's version 3: {what}. {OLD_FORMAT_HINT}"),
            });
        }
        (1, _) => checker.notes.push(
            "a version 1 export, accepted as asked: its header (contiguous, filter) and first seq are not signed, so entries cut from it cannot be seen".into(),
        ),
        (super::export::JOINED_VERSION, _) => {}
        (_, None) => {
            return Ok(tampered((cp.seq, "the closing line lacks the export's signed statement that versions 2 and 3 carry".into())));
        }
        (_, Some(st)) => {
            // Signed by the epoch after the last seal the export carries: the key that was current then.
            let key = chain.current_key();
            let sig: Option<[u8; 64]> = hex::decode(&st.signature).ok().and_then(|b| b.try_into().ok());
            let text = st.signed_text(&header.kiosk_id, &cp);
            let verified = sig.is_some_and(|b| key.verify(text.as_bytes(), &Signature::from_bytes(&b)).is_ok());
            if !verified {
                return Ok(tampered((cp.seq, "the export's signed statement does not verify (edited or forged, or seals were removed)".into())));
            }
            if st.header_sha256 != header_sha256 {
                return Ok(tampered((
                    checker.first_seq.unwrap_or(1),
                    "line 1 is not the header that was signed: `contiguous`, the filter or another field was changed".into(),
                )));
            }
            let (first, last) = (checker.first_seq, checker.prev.as_ref().map(|(s, _)| *s));
            if (checker.entries, first, last) != (st.entries, Some(st.first_seq), Some(st.last_seq)) {
                return Ok(tampered((
                    st.first_seq,
                    format!(
                        "the export holds {} entries (seq {}–{}) but was signed with {} (seq {}–{}): entries were cut or removed",
                        checker.entries,
                        first.unwrap_or(0),
                        last.unwrap_or(0),
                        st.entries,
                        st.first_seq,
                        st.last_seq
                    ),
                )));
            }
        }
    }
    let sealed = chain.sealed.as_ref().map_or(0, |(s, _)| *s);
    // Files from before seals (version 2 exports, and version 1 files without seal lines) cannot show them.
    if (header.version >= 3 || !seals.is_empty())
        && let Err(bad) = checker.check_always_sealed(sealed).and_then(|()| checker.check_stretches(chain.seal_seqs()))
    {
        return Ok(tampered(bad));
    }
    // Purges come after what they purge: only an export that skips nothing and runs to the journal's head
    // (no end date, not a pull's page of limited length) holds every purge record its purged entries need.
    let open_ended =
        ["to", "to_utc", "limit"].iter().all(|k| header.filter.get(k).is_none_or(serde_json::Value::is_null));
    if checker.contiguous
        && open_ended
        && let Err(bad) = checker.check_purges(chain.seal_seqs())
    {
        return Ok(tampered(bad));
    }
    let unsealed = hashes.keys().filter(|s| **s > sealed).count() as u64;
    Ok(checker.finish(1, Some(&chain), unsealed))
}

/// A joined export's page proofs: each page as the kiosk signed it (its header, contiguous and of version 3;
/// its checkpoint and statement by a key the walk from the root reached), and the pages tiling the file's
/// entries with nothing between them and nothing outside. So a joined file proves it is contiguous from its
/// first page's first seq to its last page's last seq without trusting the tool that joined it.
fn check_pages(
    checker: &mut Checker,
    pages: &[super::export::PageProof],
    header: &ExportHeader,
    chain: &SealChain,
) -> Result<(), Bad> {
    let first = checker.first_seq.unwrap_or(1);
    if !header.contiguous {
        return Err((first, "a joined export must be contiguous, and line 1 says it is not".into()));
    }
    let mut next = first;
    for (n, page) in pages.iter().enumerate() {
        let st = &page.export;
        let at = |what: String| (st.first_seq, format!("page proof {}: {what}", n + 1));
        let page_header: ExportHeader =
            serde_json::from_str(&page.header).map_err(|e| at(format!("its header is not an export header ({e})")))?;
        if (page_header.format.as_str(), page_header.version) != (EXPORT_FORMAT_NAME, super::export::EXPORT_VERSION)
            || page_header.kiosk_id != header.kiosk_id
            || page_header.public_key != header.public_key
            || !page_header.contiguous
        {
            return Err(at("its header is not a contiguous version 3 page of this kiosk's journal".into()));
        }
        if hex::encode(sha2::Sha256::digest(page.header.as_bytes())) != st.header_sha256 {
            return Err(at("its header is not the one its statement signed".into()));
        }
        checker.check_checkpoint(&page.checkpoint, chain).map_err(|(_, what)| at(what))?;
        // The statement is signed by the same key as the page's checkpoint (the epoch current then).
        let key = super::chain::parse_public_key(&page.checkpoint.public_key).map_err(|e| at(e.to_string()))?;
        let sig: Option<[u8; 64]> = hex::decode(&st.signature).ok().and_then(|b| b.try_into().ok());
        let text = st.signed_text(&header.kiosk_id, &page.checkpoint);
        let verified = sig.is_some_and(|b| key.verify(text.as_bytes(), &Signature::from_bytes(&b)).is_ok());
        if !verified {
            return Err(at("its statement does not verify (edited or forged)".into()));
        }
        if st.first_seq != next {
            return Err(at(format!(
                "it starts at seq {}, but the file's entries continue at seq {next}: pages are missing, moved or repeated",
                st.first_seq
            )));
        }
        if st.last_seq < st.first_seq
            || st.entries != st.last_seq - st.first_seq + 1
            || page.checkpoint.seq != st.last_seq
        {
            return Err(at("its statement does not describe one unbroken stretch closed by its checkpoint".into()));
        }
        next = st.last_seq + 1;
    }
    let last = checker.prev.as_ref().map_or(0, |(s, _)| *s);
    if checker.entries > 0 && next != last + 1 {
        return Err((
            next,
            format!(
                "the page proofs cover entries up to seq {}, but the file holds entries up to seq {last}",
                next - 1
            ),
        ));
    }
    checker.notes.push(format!(
        "joined from {} page(s), each signed by the kiosk: seq {first}–{last} is proven contiguous",
        pages.len()
    ));
    Ok(())
}

fn verify_csv(
    reader: impl std::io::Read,
    signed: Option<(&super::export::CsvSignature, &str)>,
    trusted: Option<&VerifyingKey>,
    options: VerifyOptions,
) -> Result<Verdict, String> {
    match signed {
        None if !options.accept_old_format => {
            return Ok(Verdict::OldFormat {
                what: format!(
                    "no .sig file beside this CSV: nothing proves which rows it must hold, so a deleted row or a cut tail could not be seen (keep the .sig `kiosk journal export` writes with it). {OLD_FORMAT_HINT}"
                ),
            });
        }
        Some((sig, _)) if sig.version < 2 && !options.accept_old_format => {
            return Ok(Verdict::OldFormat {
                what: format!(
                    "its signature is version {}, older than today's version 2: it carries no seals. {OLD_FORMAT_HINT}",
                    sig.version
                ),
            });
        }
        _ => {}
    }
    let mut r = csv::Reader::from_reader(reader);
    let headers = r.headers().map_err(|e| format!("the CSV header cannot be read ({e})."))?.clone();
    if headers.iter().ne(CSV_HEADER) {
        return Err(format!("the CSV header is not `{}`.", CSV_HEADER.join(",")));
    }
    // What the signature says must hold before a row is believed.
    let mut chain = None;
    let mut notes = Vec::new();
    if let Some((sig, digest)) = signed {
        if sig.format != super::export::CSV_SIGNATURE_FORMAT || !(1..=2).contains(&sig.version) {
            return Ok(tampered((
                1,
                format!("its signature names format {} v{}, which this kiosk does not know", sig.format, sig.version),
            )));
        }
        if trusted.is_some_and(|t| hex::encode(t.as_bytes()) != sig.public_key) {
            return Ok(tampered((
                sig.first_seq,
                format!("its signature names root key {}, not the trusted key", sig.public_key),
            )));
        }
        let root = root_key(trusted, Some(&sig.public_key), &mut notes)
            .map_err(|e| format!("its signature: {e}."))?
            .ok_or_else(|| "its signature names no root key.".to_owned())?;
        let walked = match walk(root, &sig.kiosk_id, &sig.seals) {
            Ok(c) => c,
            Err(bad) => return Ok(tampered(bad)),
        };
        // Signed by the epoch after the last seal the signature carries: the key that was current then.
        let key = *walked.current_key();
        chain = Some(walked);
        let bytes: Option<[u8; 64]> = hex::decode(&sig.signature).ok().and_then(|b| b.try_into().ok());
        let ok = bytes.is_some_and(|b| key.verify(sig.signed_text().as_bytes(), &Signature::from_bytes(&b)).is_ok());
        if !ok {
            return Ok(tampered((
                sig.first_seq,
                "the CSV's signature does not verify: the .sig file was edited or forged".into(),
            )));
        }
        if sig.csv_sha256 != digest {
            return Ok(tampered((
                sig.first_seq,
                "the CSV is not the file that was signed (its SHA-256 differs): rows were edited, added or removed"
                    .into(),
            )));
        }
    }
    let contiguous = signed.is_some_and(|(s, _)| s.contiguous);
    let seal_seqs = signed.map(|(s, _)| s.seals.iter().map(|x| x.seq).collect::<Vec<_>>()).unwrap_or_default();
    let mut checker = Checker::new(contiguous, signed.map(|(s, _)| s.checkpoint.seq).into_iter().chain(seal_seqs));
    checker.notes = notes;
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("CSV row {} cannot be read ({e}).", i + 2))?;
        let next_seq = checker.prev.as_ref().map_or(1, |(s, _)| s + 1);
        let row_bad = |what: String| Ok(tampered((next_seq, format!("CSV row {}: {what}", i + 2))));
        if rec.len() != CSV_HEADER.len() {
            return row_bad(format!("it has {} fields, not {}", rec.len(), CSV_HEADER.len()));
        }
        let Ok(seq) = rec[0].parse::<u64>() else {
            return row_bad(format!("seq \"{}\" is not a whole number ≥ 1", &rec[0]));
        };
        let Ok(mono_ms) = rec[4].parse::<i64>() else {
            return row_bad(format!("mono_ms \"{}\" is not a whole number", &rec[4]));
        };
        let e = Entry {
            seq,
            kiosk_id: rec[1].to_owned(),
            boot_id: rec[2].to_owned(),
            time_utc: rec[3].to_owned(),
            mono_ms,
            session_id: rec[5].to_owned(),
            kind: rec[6].to_owned(),
            payload: (!rec[7].is_empty()).then(|| rec[7].to_owned()),
            payload_digest: rec[8].to_owned(),
            prev_hash: rec[9].to_owned(),
            hash: rec[10].to_owned(),
        };
        if let Err(bad) = checker.feed(&(&e).into()) {
            return Ok(tampered(bad));
        }
    }
    if let Err(bad) = checker.end() {
        return Ok(tampered(bad));
    }
    let Some((sig, _)) = signed else {
        for (a, b) in checker.gaps.iter().take(10) {
            let range = if a == b { format!("seq {a} is") } else { format!("seqs {a}–{b} are") };
            checker.notes.push(format!("{range} absent: filtered out, or deleted"));
        }
        checker.notes.push("no .sig file beside this CSV, accepted as asked: each entry and each link was checked, but completeness is unknown (a cut tail or a deleted row cannot be detected); keep the .sig that `kiosk journal export` writes with it".into());
        return Ok(checker.finish(0, None, 0));
    };
    let Some(chain) = chain else { return Err("the signature was not read.".into()) };
    let (first, last) = (checker.first_seq, checker.prev.as_ref().map(|(s, _)| *s));
    if (checker.entries, first, last) != (sig.entries, Some(sig.first_seq), Some(sig.last_seq)) {
        return Ok(tampered((
            last.map_or(sig.first_seq, |l| l + 1),
            format!(
                "the CSV holds {} entries (seq {}–{}) but its signature says {} (seq {}–{})",
                checker.entries,
                first.unwrap_or(0),
                last.unwrap_or(0),
                sig.entries,
                sig.first_seq,
                sig.last_seq
            ),
        )));
    }
    for seal in &sig.seals {
        if let Err(bad) = checker.check_seal(seal, false) {
            return Ok(tampered(bad));
        }
    }
    if let Err(bad) = checker.check_checkpoint(&sig.checkpoint, &chain) {
        return Ok(tampered(bad));
    }
    let sealed = chain.sealed.as_ref().map_or(0, |(s, _)| *s);
    // A version 1 signature carried no seals.
    if (sig.version >= 2 || !sig.seals.is_empty())
        && let Err(bad) = checker.check_always_sealed(sealed).and_then(|()| checker.check_stretches(chain.seal_seqs()))
    {
        return Ok(tampered(bad));
    }
    let unsealed = last.map_or(0, |l| l.saturating_sub(sealed.max(first.unwrap_or(1) - 1)));
    Ok(checker.finish(1, Some(&chain), unsealed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_hex_decodes_as_hex_does_and_refuses_anything_else() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37 + 5) as u8);
        let text = hex::encode(bytes);
        assert_eq!(lower_hex32(&text), Some(bytes));
        assert_eq!(lower_hex32(&text.to_uppercase()), None, "upper case is not what the format writes");
        assert_eq!(lower_hex32(&text[..62]), None);
        for bad in ["g", " ", "\u{0}", "G", ":"] {
            let edited = format!("{bad}{}", &text[1..]);
            assert_eq!(lower_hex32(&edited), None, "{bad:?}");
        }
    }
}
