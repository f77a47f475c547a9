//! The one thread that writes the journal: group commit, seq and hash assignment, forward-secure seals.

use super::chain::{ChainFields, Checkpoint, entry_hash, payload_digest};
use super::epoch_key::{self, EpochKey, OnDisk};
use super::keys::{SubjectKey, load_or_create_secret};
use super::schema::insert_checkpoint;
use super::seal::{Policy, Seal};
use super::{EntryKind, JournalError, NewEntry, payload, schema, utc_now};
use rusqlite::{Connection, TransactionBehavior};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A test hook: every commit of this process's journals takes this much longer (a slow SD card), so the
/// UI-stall benchmark can show that no commit runs on the UI thread. Zero in the kiosk.
static TEST_COMMIT_DELAY_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Slows every commit by `delay` (benchmarks and tests only).
#[doc(hidden)]
pub fn set_test_commit_delay(delay: Duration) {
    TEST_COMMIT_DELAY_MS.store(delay.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
}

/// Upper bound on requests grouped into one transaction.
const MAX_GROUP: usize = 512;

/// A request's reply: the seqs its entries got, once durable.
type Reply = SyncSender<Result<Vec<u64>, JournalError>>;

/// How long a process that does not hold the sealing lock waits for it when asked to sign.
const SIGNING_LOCK_WAIT: Duration = Duration::from_secs(10);

/// When an epoch ends and its key is erased; besides these, at every session end and at shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochRule {
    /// 0 turns sealing off (the sealing-overhead benchmark's baseline only).
    pub max_entries: u64,
    pub max_age: Duration,
}

impl Default for EpochRule {
    fn default() -> Self {
        EpochRule { max_entries: super::seal::EPOCH_MAX_ENTRIES, max_age: super::seal::EPOCH_MAX_AGE }
    }
}

/// Where the journal and its keys live; built from the `[journal]` config section.
#[derive(Debug, Clone)]
pub struct JournalSettings {
    pub kiosk_id: String,
    pub path: PathBuf,
    pub secret_path: PathBuf,
    /// The current epoch's signing key (on day one: the root key).
    pub signing_key_path: PathBuf,
    pub epoch: EpochRule,
    /// Days a payload is kept before a retention purge may clear it (`[journal] retention_days`, at least
    /// 180): recorded with the sealing policy.
    pub retention_days: u32,
}

impl JournalSettings {
    pub fn from_config(config: &config::Config) -> Self {
        let j = &config.journal;
        let dir = j.path.parent().map(Path::to_path_buf).unwrap_or_default();
        JournalSettings {
            kiosk_id: config.kiosk.id.clone(),
            path: j.path.clone(),
            secret_path: j.secret_path.clone().unwrap_or_else(|| dir.join("subject.key")),
            signing_key_path: j.signing_key_path.clone().unwrap_or_else(|| dir.join("checkpoint.ed25519")),
            epoch: EpochRule { max_entries: j.epoch_entries, max_age: Duration::from_secs(60 * j.epoch_minutes) },
            retention_days: j.retention_days.max(super::MIN_RETENTION_DAYS),
        }
    }

    /// A journal and its keys in one folder, with the default epochs (tools and tests).
    pub fn in_dir(kiosk_id: &str, dir: &Path) -> Self {
        JournalSettings {
            kiosk_id: kiosk_id.to_owned(),
            path: dir.join("journal.sqlite3"),
            secret_path: dir.join("subject.key"),
            signing_key_path: dir.join("checkpoint.ed25519"),
            epoch: EpochRule::default(),
            retention_days: super::MIN_RETENTION_DAYS,
        }
    }
}

type Work = Box<dyn FnOnce(&Connection) -> Result<Vec<NewEntry>, JournalError> + Send>;

enum Request {
    Txn { work: Work, reply: SyncSender<Result<Vec<u64>, JournalError>> },
    Checkpoint { at: Option<(u64, [u8; 32])>, reply: SyncSender<Result<Option<Checkpoint>, JournalError>> },
    Sign { text: String, reply: SyncSender<Result<Signed, JournalError>> },
    Seal { reply: SyncSender<Result<Option<Seal>, JournalError>> },
}

/// A signature by the current epoch's key, and that epoch: whoever checks it needs the seals before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub signature: String,
    pub epoch: u64,
}

struct Inner {
    tx: Mutex<Option<SyncSender<Request>>>,
    thread: Mutex<Option<owner::Owned>>,
}

impl Inner {
    fn close(&self) {
        // Closing the channel lets the writer finish what it has and stop.
        self.tx.lock().map(|mut t| t.take()).ok();
        if let Some(mut owned) = self.thread.lock().ok().and_then(|mut h| h.take()) {
            owned.stop();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

/// Handle to the journal; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
    subject_key: SubjectKey,
    root_key: String,
    key_problem: Option<KeyProblem>,
    boot_id: String,
    settings: Arc<JournalSettings>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.settings.path).field("boot_id", &self.boot_id).finish()
    }
}

impl Journal {
    /// Opens (or creates) the journal and its keys, and starts the writer thread. The process that gets the
    /// sealing lock (the kiosk) recovers an interrupted key hand-over and seals what an earlier run left
    /// unsealed; another process appends but does not seal.
    pub fn open(settings: JournalSettings) -> Result<Journal, JournalError> {
        let conn = schema::open_for_writing(&settings.path, &settings.kiosk_id)?;
        let subject_key = SubjectKey::from_bytes(*load_or_create_secret(&settings.secret_path)?);
        let boot_id = hex::encode(vocabulary::secrets::random_bytes::<8>().map_err(|e| JournalError::Key {
            path: settings.signing_key_path.clone(),
            what: format!("no randomness from the OS ({e})"),
        })?);
        let mut writer = Writer {
            conn,
            kiosk_id: settings.kiosk_id.clone(),
            boot_id: boot_id.clone(),
            started: Instant::now(),
            key_path: settings.signing_key_path.clone(),
            rule: settings.epoch,
            retention_days: settings.retention_days,
            sealer: None,
            unnoted_seal_failure: None,
            last_mono: -1,
        };
        let key_problem = writer.take_sealing_role()?;
        if let Err(e) = writer.seal_head() {
            log::warn!("journal: the tail an earlier run left was not sealed: {e}");
            writer.note_seal_failure(&e);
        }
        let root_key = schema::meta(&writer.conn, "public_key")?.unwrap_or_default();
        let (tx, rx) = sync_channel(4 * MAX_GROUP);
        let thread = owner::Owned::spawn("journal-writer", move |_| writer.run(rx))
            .map_err(|e| JournalError::Refused(format!("Cannot start the journal writer thread ({e}).")))?;
        Ok(Journal {
            inner: Arc::new(Inner { tx: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) }),
            subject_key,
            root_key,
            key_problem,
            boot_id,
            settings: Arc::new(settings),
        })
    }

    fn send(&self, req: Request) -> Result<(), JournalError> {
        let tx = self.inner.tx.lock().map_err(|_| JournalError::Stopped)?.clone().ok_or(JournalError::Stopped)?;
        tx.send(req).map_err(|_| JournalError::Stopped)
    }

    /// Appends one entry; returns its seq once the commit is durable.
    pub fn append(&self, entry: NewEntry) -> Result<u64, JournalError> {
        let seqs = self.transact(move |_| Ok((vec![entry], ())))?.0;
        Ok(seqs[0])
    }

    /// Runs `work` inside the journal's write transaction and appends the entries it returns,
    /// atomically with whatever `work` wrote to its own tables. Returns the seqs and `work`'s
    /// value only after the commit is durable; an error from `work` rolls back just its part.
    pub fn transact<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<(Vec<NewEntry>, T), JournalError> + Send + 'static,
    ) -> Result<(Vec<u64>, T), JournalError> {
        let slot: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
        let out = slot.clone();
        let work: Work = Box::new(move |conn| {
            let (entries, value) = work(conn)?;
            *out.lock().map_err(|_| JournalError::Stopped)? = Some(value);
            Ok(entries)
        });
        let (reply, rx) = sync_channel(1);
        self.send(Request::Txn { work, reply })?;
        let seqs = rx.recv().map_err(|_| JournalError::Stopped)??;
        let value = slot.lock().map_err(|_| JournalError::Stopped)?.take().ok_or(JournalError::Stopped)?;
        Ok((seqs, value))
    }

    /// Signs a checkpoint over the current head (None when the journal is empty).
    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, JournalError> {
        let (reply, rx) = sync_channel(1);
        self.send(Request::Checkpoint { at: None, reply })?;
        rx.recv().map_err(|_| JournalError::Stopped)?
    }

    /// Signs and records a checkpoint over a given entry (an export's last entry).
    pub fn checkpoint_at(&self, seq: u64, hash_hex: &str) -> Result<Checkpoint, JournalError> {
        let mut hash = [0u8; 32];
        hex::decode_to_slice(hash_hex, &mut hash).map_err(|_| {
            JournalError::Refused(format!("Entry {seq} has a malformed hash; run `kiosk journal verify`."))
        })?;
        let (reply, rx) = sync_channel(1);
        self.send(Request::Checkpoint { at: Some((seq, hash)), reply })?;
        rx.recv().map_err(|_| JournalError::Stopped)??.ok_or(JournalError::Stopped)
    }

    /// Signs `text` with the current epoch's key: the statements that travel with exports, such as a CSV
    /// export's `.sig`. The epoch says which seals a verifier needs to reach that key from the root.
    pub fn sign_statement(&self, text: &str) -> Result<Signed, JournalError> {
        let (reply, rx) = sync_channel(1);
        self.send(Request::Sign { text: text.to_owned(), reply })?;
        rx.recv().map_err(|_| JournalError::Stopped)?
    }

    /// Ends the current epoch now if anything was written in it: seals the head and erases the key.
    pub fn seal(&self) -> Result<Option<Seal>, JournalError> {
        let (reply, rx) = sync_channel(1);
        self.send(Request::Seal { reply })?;
        rx.recv().map_err(|_| JournalError::Stopped)?
    }

    pub fn subject_key(&self) -> &SubjectKey {
        &self.subject_key
    }

    /// Hex of the root key: the one installed on day one, from which every seal is walked.
    pub fn public_key(&self) -> &str {
        &self.root_key
    }

    /// What opening found wrong with the epoch key on disk (seals or keys removed or replaced), if anything.
    pub fn key_problem(&self) -> Option<&KeyProblem> {
        self.key_problem.as_ref()
    }

    pub fn boot_id(&self) -> &str {
        &self.boot_id
    }

    pub fn settings(&self) -> &JournalSettings {
        &self.settings
    }

    /// Stops the writer after what it has been given: it commits that, seals the head and closes the file.
    /// Returns when it has. Every clone then answers [`JournalError::Stopped`].
    pub fn close(&self) {
        self.inner.close();
    }
}

/// The process's role as the one that seals: the lock that makes it the only one, and the epoch's key.
struct Sealer {
    _lock: std::fs::File,
    key: EpochKey,
    /// The newest seal's seq (0 before the first).
    sealed_seq: u64,
    epoch_began: Instant,
    /// This process's clock (`mono_ms`) at its first entry after the newest seal: the epoch ends before an
    /// entry would be written `max_age` or more after it, so a stretch of one run never spans longer.
    first_unsealed_mono: Option<i64>,
    /// A failed seal of this epoch is already in the journal (`seal_failed` is written once per epoch).
    failure_noted: bool,
    /// The policy the newest seal announced for this epoch (None before the first seal, or after a seal from
    /// before policies): the epoch keeps to it as well as to the configuration's.
    announced: Option<Policy>,
}

/// What the journal's seals say the current epoch and its key must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedKey {
    pub epoch: u64,
    /// Hex of the public key: the newest seal's next key, or the root before the first seal.
    pub public_key: String,
    /// The newest seal's seq (0 before the first): where a finding about the key is reported.
    pub sealed_seq: u64,
}

pub fn expected_key(conn: &Connection) -> rusqlite::Result<Option<ExpectedKey>> {
    Ok(match schema::last_seal(conn)? {
        Some(s) => Some(ExpectedKey { epoch: s.epoch + 1, public_key: s.next_public_key, sealed_seq: s.seq }),
        None => schema::meta(conn, "public_key")?.map(|root| ExpectedKey { epoch: 0, public_key: root, sealed_seq: 0 }),
    })
}

/// A key file that is not the one the seals hand the current epoch to: seals deleted, or the key replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem {
    /// The seq the finding is reported at: the newest remaining seal's (1 before any).
    pub seq: u64,
    pub what: String,
}

impl std::fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

/// Why a key file is another journal's: it names a root key other than the one this journal recorded.
fn foreign(conn: &Connection, found: &OnDisk, root: Option<&str>) -> Option<String> {
    let (OnDisk::Key(k), Some(root)) = (found, root) else { return None };
    let theirs = hex::encode(k.journal?);
    (theirs != root).then(|| {
        format!(
            "it belongs to another journal (root key {theirs}), not to {} (root key {root}); give each journal a key file of its own ([journal] signing_key_path), or put this journal's own key file back",
            conn.path().filter(|p| !p.is_empty()).unwrap_or("this journal")
        )
    })
}

/// A key file that belongs to another journal than the one at `conn` (`config check`), changing nothing.
pub fn foreign_key_file(conn: &Connection, key_path: &Path) -> Result<Option<String>, JournalError> {
    let root = schema::meta(conn, "public_key")?;
    Ok(foreign(conn, &epoch_key::read(key_path)?, root.as_deref()))
}

/// Compares the key file with what the seals expect, changing nothing: None when they agree.
pub fn key_state_problem(conn: &Connection, key_path: &Path) -> Result<Option<KeyProblem>, JournalError> {
    let expected = expected_key(conn)?;
    let next = match epoch_key::read(&epoch_key::next_path(key_path)) {
        Ok(OnDisk::Key(k)) => Some(k),
        _ => None,
    };
    let found = epoch_key::read(key_path)?;
    if let Some(what) = foreign(conn, &found, schema::meta(conn, "public_key")?.as_deref()) {
        let seq = expected.as_ref().map_or(0, |x| x.sealed_seq).max(1);
        return Ok(Some(KeyProblem { seq, what: format!("{}: {what}", key_path.display()) }));
    }
    Ok(mismatch(expected.as_ref(), &found, next.as_deref(), key_path))
}

fn agrees(expected: Option<&ExpectedKey>, k: &EpochKey) -> bool {
    expected.is_some_and(|x| k.epoch == x.epoch && hex::encode(k.public().as_bytes()) == x.public_key)
}

/// The sentence for a key file that is not the one the seals hand the current epoch to.
fn mismatch(
    expected: Option<&ExpectedKey>,
    found: &OnDisk,
    next: Option<&EpochKey>,
    key_path: &Path,
) -> Option<KeyProblem> {
    // A hand-over interrupted after its seal committed: the next key is the expected one.
    if next.is_some_and(|k| agrees(expected, k)) {
        return None;
    }
    let found_text = match found {
        OnDisk::Key(k) if agrees(expected, k) => return None,
        OnDisk::Key(k) if expected.is_none() && k.epoch == 0 => return None,
        OnDisk::Absent if expected.is_none() => return None,
        OnDisk::Key(k) => format!("the key of epoch {} ({})", k.epoch, hex::encode(k.public().as_bytes())),
        OnDisk::Absent => "no key at all".into(),
        OnDisk::Erased => "an erased key".into(),
    };
    let (epoch, want, seq) =
        expected.map_or((0, "(none recorded)", 0), |x| (x.epoch, x.public_key.as_str(), x.sealed_seq));
    Some(KeyProblem {
        seq: seq.max(1),
        what: format!(
            "the journal's seals hand epoch {epoch} to key {want}, but {} holds {found_text}: seals were deleted or the key was removed or replaced",
            key_path.display()
        ),
    })
}

struct Writer {
    conn: Connection,
    kiosk_id: String,
    boot_id: String,
    started: Instant,
    key_path: PathBuf,
    rule: EpochRule,
    retention_days: u32,
    sealer: Option<Sealer>,
    /// A seal that failed outside a write (its own transaction rolled back): the next write journals it.
    unnoted_seal_failure: Option<payload::SealFailed>,
    /// The `mono_ms` of the last transaction: the next one's is later.
    last_mono: i64,
}

impl Writer {
    /// Takes the sealing lock if no other process holds it, finishes or undoes an interrupted hand-over,
    /// and loads the current epoch's key. Returns what is wrong with the key state, if anything: the kiosk
    /// journals it and keeps serving with the key it has.
    fn take_sealing_role(&mut self) -> Result<Option<KeyProblem>, JournalError> {
        let Some(lock) = epoch_key::try_lock(&self.key_path)? else {
            log::info!("journal: another process holds the sealing key; this one appends without sealing");
            return Ok(None);
        };
        let path = self.key_path.clone();
        let next_path = epoch_key::next_path(&path);
        let expected = expected_key(&self.conn)?;
        match epoch_key::read(&next_path) {
            Ok(OnDisk::Key(k)) if agrees(expected.as_ref(), &k) => {
                log::info!("journal: finishing the hand-over to epoch {} that a stop interrupted", k.epoch);
                epoch_key::hand_over(&path)?;
            }
            Ok(OnDisk::Absent) => {}
            // A seal that never committed (or a key half written when the power went): it must not linger.
            _ => epoch_key::erase(&next_path)?,
        }
        let found = epoch_key::read(&path)?;
        // A key file that names another journal is refused before anything is written or sealed with it:
        // sealing would make this journal unverifiable and the hand-over would erase the other's key.
        let root = schema::meta(&self.conn, "public_key")?;
        if let Some(what) = foreign(&self.conn, &found, root.as_deref()) {
            return Err(JournalError::Key { path: path.clone(), what });
        }
        let problem = mismatch(expected.as_ref(), &found, None, &path);
        let key = match (found, &expected) {
            (OnDisk::Key(k), Some(x)) => EpochKey { epoch: x.epoch, key: k.key.clone(), journal: k.journal },
            // A journal that has no root key yet starts at epoch 0. A key file past epoch 0 has sealed
            // another journal (two configurations naming the same path): sealing with it would make this
            // journal unverifiable from its first seal. (A key at epoch 0 is this journal's own, made by a
            // first start that stopped before recording it.)
            (OnDisk::Key(k), None) if k.epoch > 0 => {
                return Err(JournalError::Key {
                    path: path.clone(),
                    what: format!(
                        "it holds epoch {} of another journal's keys, and this journal ({}) is new; give this journal a key file of its own ([journal] signing_key_path), or move the other journal's file back beside it",
                        k.epoch,
                        self.conn.path().unwrap_or("?")
                    ),
                });
            }
            (OnDisk::Key(k), None) => *k,
            (other, expected) => {
                // A new journal gets its root key; a lost key is replaced so that entries keep being sealed,
                // and the break in the chain stays for the verifier to report.
                if matches!(other, OnDisk::Erased) {
                    std::fs::remove_file(&path).map_err(|e| JournalError::Key {
                        path: path.clone(),
                        what: format!("cannot remove the erased key ({e})"),
                    })?;
                }
                let k = EpochKey::generate(expected.as_ref().map_or(0, |x| x.epoch), &path)?;
                // A new journal's root key names itself; a replacement names the journal's recorded root.
                let named = match root.as_deref().and_then(|r| hex::decode(r).ok()).and_then(|b| b.try_into().ok()) {
                    Some(r) => r,
                    None => k.public().to_bytes(),
                };
                let k = k.of_journal(named);
                epoch_key::create(&path, &k)?;
                log::info!("created {}", path.display());
                k
            }
        };
        if expected.is_none() {
            let root = hex::encode(key.public().as_bytes());
            self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('public_key', ?1)", [&root])?;
        }
        if let Some(p) = &problem {
            log::error!("journal: {p}");
        }
        let sealed_seq = expected.map_or(0, |x| x.sealed_seq);
        let announced = schema::last_seal(&self.conn)?.and_then(|s| s.policy);
        self.sealer = Some(Sealer {
            _lock: lock,
            key,
            sealed_seq,
            epoch_began: Instant::now(),
            first_unsealed_mono: None,
            failure_noted: false,
            announced,
        });
        Ok(problem)
    }

    /// For a signing request in a process that opened without the lock: waits a while for it.
    fn ensure_sealer(&mut self) -> Result<(), JournalError> {
        let deadline = Instant::now() + SIGNING_LOCK_WAIT;
        while self.sealer.is_none() {
            if let Some(p) = self.take_sealing_role()? {
                log::warn!("journal: {p}");
            }
            if self.sealer.is_some() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(JournalError::Refused(
                    "Another process — the running kiosk — holds the journal's signing key, so nothing can be signed here. Export from the maintenance screen or with `kiosk-county journal pull`, or stop the kiosk first.".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    fn run(&mut self, rx: Receiver<Request>) {
        loop {
            let wait = match &self.sealer {
                Some(s) => self.limits().1.saturating_sub(s.epoch_began.elapsed()).max(Duration::from_millis(50)),
                None => Duration::from_secs(30),
            };
            let first = match rx.recv_timeout(wait.min(Duration::from_secs(30))) {
                Ok(req) => req,
                Err(RecvTimeoutError::Timeout) => {
                    self.seal_if_old();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut batch = vec![first];
            while batch.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(req) => batch.push(req),
                    Err(_) => break,
                }
            }
            self.process(batch);
            self.seal_if_old();
        }
        // Last words: a seal over whatever was written since the last one.
        if let Err(e) = self.seal_head() {
            log::warn!("journal: no seal at shutdown: {e}");
        }
    }

    fn seal_if_old(&mut self) {
        if self.rule.max_entries > 0 && self.sealer.as_ref().is_some_and(|s| s.epoch_began.elapsed() >= self.limits().1)
        {
            match self.seal_head() {
                Ok(None) => {
                    // Nothing new: the epoch goes on until something is written.
                    if let Some(s) = &mut self.sealer {
                        s.epoch_began = Instant::now();
                    }
                }
                Ok(Some(_)) => {}
                Err(e) => {
                    log::warn!("journal: the epoch's seal failed: {e}");
                    self.note_seal_failure(&e);
                }
            }
        }
    }

    /// Seals the head in its own transaction, if anything was written since the last seal.
    fn seal_head(&mut self) -> Result<Option<Seal>, JournalError> {
        let policy = self.policy();
        let Some(sealer) = &self.sealer else { return Ok(None) };
        if self.rule.max_entries == 0 {
            return Ok(None);
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (seq, head) = schema::head(&tx)?;
        if seq <= sealer.sealed_seq {
            return Ok(None);
        }
        let (next, seal) = prepare_seal(sealer, &self.key_path, &self.kiosk_id, &tx, seq, &head, &utc_now(), policy)?;
        match tx.commit() {
            Ok(()) => {
                self.finish_seal(next, seq);
                Ok(Some(seal))
            }
            Err(e) => {
                abandon_seal(&self.key_path);
                Err(e.into())
            }
        }
    }

    /// After the seal's commit: the old key is erased and the next takes its place, on disk and here.
    fn finish_seal(&mut self, next: EpochKey, seq: u64) {
        let policy = self.policy();
        if let Err(e) = epoch_key::hand_over(&self.key_path) {
            // The next start finishes it (the seal names the next key).
            log::error!("journal: the key hand-over after a seal failed: {e}");
        }
        if let Some(s) = &mut self.sealer {
            // The old key is dropped here, which wipes it from memory.
            s.key = next;
            s.sealed_seq = seq;
            s.epoch_began = Instant::now();
            s.first_unsealed_mono = None;
            s.failure_noted = false;
            s.announced = Some(policy);
        }
    }

    /// The policy the configuration sets: what each seal announces for the epoch after it.
    fn policy(&self) -> Policy {
        Policy {
            epoch_entries: self.rule.max_entries,
            // Whole minutes, never 0 (a configuration sets whole minutes; a shorter rule rounds up).
            epoch_minutes: self.rule.max_age.as_secs().div_ceil(60).max(1),
            retention_days: self.retention_days,
        }
    }

    /// The current epoch's limits: the configuration's, and no looser than what the newest seal announced
    /// (a configuration changed since keeps to the announced policy until the next seal announces its own).
    fn limits(&self) -> (u64, Duration) {
        match self.sealer.as_ref().and_then(|s| s.announced) {
            Some(a) => (
                self.rule.max_entries.min(a.epoch_entries),
                self.rule.max_age.min(Duration::from_secs(60 * a.epoch_minutes)),
            ),
            None => (self.rule.max_entries, self.rule.max_age),
        }
    }

    /// Keeps a failed seal for the next write to journal (once per epoch): the stretch it leaves unsealed
    /// is then explained in the journal itself, under the seal that finally covers it.
    fn note_seal_failure(&mut self, e: &JournalError) {
        let Some(sealer) = &self.sealer else { return };
        if sealer.failure_noted || self.unnoted_seal_failure.is_some() {
            return;
        }
        let seq = schema::head(&self.conn).map_or(0, |(s, _)| s);
        self.unnoted_seal_failure = Some(payload::SealFailed { epoch: sealer.key.epoch, seq, error: e.to_string() });
    }

    fn sign_checkpoint(&mut self, at: Option<(u64, [u8; 32])>) -> Result<Option<Checkpoint>, JournalError> {
        let (seq, hash) = match at {
            Some(at) => at,
            None => schema::head(&self.conn)?,
        };
        if seq == 0 {
            return Ok(None);
        }
        self.ensure_sealer()?;
        let key = &self.sealer.as_ref().ok_or(JournalError::Stopped)?.key.key;
        let cp = Checkpoint::sign(key, &self.kiosk_id, seq, &hash, &utc_now());
        insert_checkpoint(&self.conn, &cp)?;
        Ok(Some(cp))
    }

    fn sign(&mut self, text: &str) -> Result<Signed, JournalError> {
        use ed25519_dalek::Signer;
        self.ensure_sealer()?;
        let k = &self.sealer.as_ref().ok_or(JournalError::Stopped)?.key;
        Ok(Signed { signature: hex::encode(k.key.sign(text.as_bytes()).to_bytes()), epoch: k.epoch })
    }

    fn process(&mut self, batch: Vec<Request>) {
        let mut txns = Vec::new();
        let mut rest = Vec::new();
        for req in batch {
            match req {
                Request::Txn { work, reply } => txns.push((work, reply)),
                other => rest.push(other),
            }
        }
        if !txns.is_empty() {
            self.commit_all(txns);
        }
        for req in rest {
            match req {
                Request::Checkpoint { at, reply } => {
                    let _ = reply.send(self.sign_checkpoint(at));
                }
                Request::Sign { text, reply } => {
                    let _ = reply.send(self.sign(&text));
                }
                Request::Seal { reply } => {
                    let _ = reply.send(self.seal_head());
                }
                Request::Txn { .. } => {}
            }
        }
    }

    /// Commits the requests in as few transactions as the epochs allow: a transaction ends with the request
    /// that ends an epoch (its seal goes into that transaction), and the rest go into the next. So within
    /// one epoch, the entries before its last transaction are fewer than the policy's count (the rule the
    /// verifier holds each stretch to).
    fn commit_all(&mut self, txns: Vec<(Work, Reply)>) {
        let mut queue: VecDeque<(Work, Reply)> = txns.into();
        while !queue.is_empty() {
            // Each transaction its own clock reading, so that a verifier tells transactions apart (one more
            // than the last when the clock has not moved on).
            let elapsed = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
            let mono_ms = elapsed.max(self.last_mono.saturating_add(1));
            self.last_mono = mono_ms;
            self.seal_before_writing(mono_ms);
            match self.commit_group(&mut queue, mono_ms) {
                Ok(replies) => {
                    for (reply, result) in replies {
                        let _ = reply.send(result);
                    }
                }
                Err((replies, e)) => {
                    log::error!("journal commit failed: {e}");
                    let msg = e.to_string();
                    for reply in replies {
                        let _ = reply.send(Err(JournalError::CommitFailed(msg.clone())));
                    }
                }
            }
        }
    }

    /// Ends the epoch first when writing now would make it longer than the policy allows: its first entry
    /// of this run is `max_age` old, or it already holds `max_entries` (a tool's entries, or a failed seal).
    fn seal_before_writing(&mut self, mono_ms: i64) {
        let Some(sealer) = &self.sealer else { return };
        if self.rule.max_entries == 0 {
            return;
        }
        let (max_entries, max_age) = self.limits();
        let max_age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        let old = sealer.first_unsealed_mono.is_some_and(|first| mono_ms.saturating_sub(first) >= max_age_ms);
        let full = schema::head(&self.conn).is_ok_and(|(seq, _)| seq.saturating_sub(sealer.sealed_seq) >= max_entries);
        if (old || full)
            && let Err(e) = self.seal_head()
        {
            log::warn!("journal: the epoch's seal failed: {e}");
            self.note_seal_failure(&e);
        }
    }

    /// One transaction for the requests at the front of `queue`, each in its own savepoint, up to and with
    /// the one that ends the epoch; the epoch's seal goes into the same transaction.
    #[allow(clippy::type_complexity)]
    fn commit_group(
        &mut self,
        queue: &mut VecDeque<(Work, Reply)>,
        mono_ms: i64,
    ) -> Result<Vec<(Reply, Result<Vec<u64>, JournalError>)>, (Vec<Reply>, JournalError)> {
        let (kiosk_id, boot_id) = (self.kiosk_id.clone(), self.boot_id.clone());
        let (max_entries, _) = self.limits();
        let policy = self.policy();
        let mut tx = match self.conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return Err((queue.drain(..).map(|(_, r)| r).collect(), e.into())),
        };
        let mut results = Vec::with_capacity(queue.len());
        let head = schema::head(&tx);
        let (mut seq, mut prev) = match head {
            Ok(h) => h,
            Err(e) => return Err((queue.drain(..).map(|(_, r)| r).collect(), e.into())),
        };
        let mut ends_epoch = false;
        let time_utc = utc_now();
        // A seal that failed outside a write is journaled first, in this transaction.
        let mut noted = false;
        if let Some(failed) = self.unnoted_seal_failure.take() {
            match insert_entry(&tx, seq + 1, &prev, &kiosk_id, &boot_id, &time_utc, mono_ms, &failed.into()) {
                Ok(p) => {
                    (seq, prev) = (seq + 1, p);
                    noted = true;
                    if let Some(s) = &mut self.sealer {
                        s.failure_noted = true;
                    }
                }
                Err(e) => log::error!("journal: a failed seal could not be journaled: {e}"),
            }
        }
        let sealing = self.rule.max_entries > 0 && self.sealer.is_some();
        let sealed_seq = self.sealer.as_ref().map_or(0, |s| s.sealed_seq);
        // A lone request needs no savepoint: if it fails, the whole transaction rolls back.
        let alone = queue.len() == 1 && !noted;
        while let Some((work, reply)) = queue.pop_front() {
            let outcome = (|| -> Result<(Vec<u64>, u64, [u8; 32], bool), JournalError> {
                let run = |conn: &Connection| -> Result<(Vec<u64>, u64, [u8; 32], bool), JournalError> {
                    let entries = work(conn)?;
                    let (mut s, mut p, mut ends) = (seq, prev, false);
                    let mut seqs = Vec::with_capacity(entries.len());
                    for e in entries {
                        s += 1;
                        p = insert_entry(conn, s, &p, &kiosk_id, &boot_id, &time_utc, mono_ms, &e)?;
                        ends |= matches!(e.kind, EntryKind::SessionEnd | EntryKind::Shutdown);
                        seqs.push(s);
                    }
                    Ok((seqs, s, p, ends))
                };
                if alone {
                    return run(&tx);
                }
                let sp = tx.savepoint()?;
                let out = run(&sp)?;
                sp.commit()?;
                Ok(out)
            })();
            match outcome {
                Ok((seqs, s, p, ends)) => {
                    (seq, prev) = (s, p);
                    ends_epoch |= ends;
                    results.push((reply, Ok(seqs)));
                }
                Err(e) => results.push((reply, Err(e))),
            }
            if sealing && seq > sealed_seq && (ends_epoch || seq - sealed_seq >= max_entries) {
                // The epoch ends with this request: the rest go into the next transaction.
                break;
            }
        }
        if alone && results.iter().any(|(_, r)| r.is_err()) {
            // The lone request failed: undo whatever it wrote (dropping the transaction rolls back).
            drop(tx);
            return Ok(results);
        }
        let mut sealed = None;
        if let Some(sealer) = &mut self.sealer
            && sealing
            && seq > sealer.sealed_seq
        {
            sealer.first_unsealed_mono.get_or_insert(mono_ms);
            if ends_epoch || seq - sealer.sealed_seq >= max_entries {
                match prepare_seal(sealer, &self.key_path, &kiosk_id, &tx, seq, &prev, &time_utc, policy) {
                    Ok((next, _)) => sealed = Some(next),
                    // The entries matter more than the seal: they commit, and a later write seals them. The
                    // failure goes into this transaction, so the stretch left unsealed says why.
                    Err(e) => {
                        log::warn!("journal: seal at seq {seq} not written: {e}");
                        if !sealer.failure_noted {
                            let failed = payload::SealFailed { epoch: sealer.key.epoch, seq, error: e.to_string() };
                            match insert_entry(
                                &tx,
                                seq + 1,
                                &prev,
                                &kiosk_id,
                                &boot_id,
                                &time_utc,
                                mono_ms,
                                &failed.into(),
                            ) {
                                Ok(_) => sealer.failure_noted = true,
                                Err(e) => log::error!("journal: a failed seal could not be journaled: {e}"),
                            }
                        }
                    }
                }
            }
        }
        let delay = TEST_COMMIT_DELAY_MS.load(std::sync::atomic::Ordering::Relaxed);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        match tx.commit() {
            Ok(()) => {
                if let Some(next) = sealed {
                    self.finish_seal(next, seq);
                }
                Ok(results)
            }
            Err(e) => {
                if sealed.is_some() {
                    abandon_seal(&self.key_path);
                }
                // The requests not yet taken stay in the queue for the next transaction.
                Err((results.into_iter().map(|(r, _)| r).collect(), e.into()))
            }
        }
    }
}

/// Writes the next epoch's key durably beside the current one, then the seal (announcing `policy` for the
/// next epoch) into `conn`'s open transaction. The caller commits, then hands over
/// ([`Writer::finish_seal`]) or abandons.
#[allow(clippy::too_many_arguments)]
fn prepare_seal(
    sealer: &Sealer,
    key_path: &Path,
    kiosk_id: &str,
    conn: &Connection,
    seq: u64,
    head: &[u8; 32],
    time_utc: &str,
    policy: Policy,
) -> Result<(EpochKey, Seal), JournalError> {
    let next_path = epoch_key::next_path(key_path);
    epoch_key::erase(&next_path)?;
    let mut next = EpochKey::generate(sealer.key.epoch + 1, key_path)?;
    // The next key names the journal: the current key's journal, else (a file from before keys named it)
    // the root key recorded in the journal.
    let root = match sealer.key.journal {
        Some(r) => Some(r),
        None => schema::meta(conn, "public_key")?.and_then(|r| hex::decode(r).ok()).and_then(|b| b.try_into().ok()),
    };
    if let Some(r) = root {
        next = next.of_journal(r);
    }
    epoch_key::create(&next_path, &next)?;
    let seal = Seal::sign(&sealer.key.key, kiosk_id, sealer.key.epoch, seq, head, time_utc, &next.public())
        .announcing(policy, &sealer.key.key);
    if let Err(e) = schema::insert_seal(conn, &seal) {
        abandon_seal(key_path);
        return Err(e.into());
    }
    Ok((next, seal))
}

/// The seal did not commit: the next key it named must not stay on disk.
fn abandon_seal(key_path: &Path) {
    if let Err(e) = epoch_key::erase(&epoch_key::next_path(key_path)) {
        log::error!("journal: an unused next key could not be erased: {e}");
    }
}

#[allow(clippy::too_many_arguments)]
fn insert_entry(
    conn: &Connection,
    seq: u64,
    prev: &[u8; 32],
    kiosk_id: &str,
    boot_id: &str,
    time_utc: &str,
    mono_ms: i64,
    e: &NewEntry,
) -> Result<[u8; 32], JournalError> {
    let payload = serde_json::to_string(&e.payload)
        .map_err(|err| JournalError::Refused(format!("Unserialisable payload: {err}.")))?;
    let digest = payload_digest(&payload);
    let fields = ChainFields {
        seq,
        kiosk_id,
        boot_id,
        time_utc,
        mono_ms,
        session_id: &e.session_id,
        kind: e.kind.as_str(),
        payload_digest: digest,
    };
    let hash = entry_hash(prev, &fields);
    conn.prepare_cached(
        "INSERT INTO entries (seq, kiosk_id, boot_id, time_utc, mono_ms, session_id, kind, payload, payload_digest, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(rusqlite::params![
        seq as i64,
        kiosk_id,
        boot_id,
        time_utc,
        mono_ms,
        e.session_id,
        e.kind.as_str(),
        payload,
        hex::encode(digest),
        hex::encode(prev),
        hex::encode(hash),
    ])?;
    Ok(hash)
}
