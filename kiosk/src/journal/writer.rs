//! The one thread that writes the journal: group commit, seq and hash assignment, periodic checkpoints.

use super::chain::{ChainFields, Checkpoint, entry_hash, payload_digest};
use super::keys::{SubjectKey, load_or_create_secret};
use super::{JournalError, NewEntry, schema, utc_now};
use ed25519_dalek::SigningKey;
use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A checkpoint is signed after this many entries …
pub const CHECKPOINT_EVERY_ENTRIES: u64 = 1_000;
/// … and after this long when anything changed.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(15 * 60);
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

/// Where the journal and its keys live; built from the `[journal]` config section.
#[derive(Debug, Clone)]
pub struct JournalSettings {
    pub kiosk_id: String,
    pub path: PathBuf,
    pub secret_path: PathBuf,
    pub signing_key_path: PathBuf,
}

impl JournalSettings {
    pub fn from_config(config: &crate::config::Config) -> Self {
        let j = &config.journal;
        let dir = j.path.parent().map(Path::to_path_buf).unwrap_or_default();
        JournalSettings {
            kiosk_id: config.kiosk.id.clone(),
            path: j.path.clone(),
            secret_path: j.secret_path.clone().unwrap_or_else(|| dir.join("subject.key")),
            signing_key_path: j.signing_key_path.clone().unwrap_or_else(|| dir.join("checkpoint.ed25519")),
        }
    }
}

type Work = Box<dyn FnOnce(&Connection) -> Result<Vec<NewEntry>, JournalError> + Send>;

enum Request {
    Txn { work: Work, reply: SyncSender<Result<Vec<u64>, JournalError>> },
    Checkpoint { reply: SyncSender<Result<Option<Checkpoint>, JournalError>> },
}

struct Inner {
    tx: Mutex<Option<SyncSender<Request>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Inner {
    fn close(&self) {
        // Closing the channel lets the writer finish what it has and stop.
        self.tx.lock().map(|mut t| t.take()).ok();
        if let Some(handle) = self.thread.lock().ok().and_then(|mut h| h.take()) {
            let _ = handle.join();
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
    public_key: String,
    signing: Arc<SigningKey>,
    boot_id: String,
    settings: Arc<JournalSettings>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.settings.path).field("boot_id", &self.boot_id).finish()
    }
}

impl Journal {
    /// Opens (or creates) the journal, its keys, and starts the writer thread.
    pub fn open(settings: JournalSettings) -> Result<Journal, JournalError> {
        let conn = schema::open_for_writing(&settings.path, &settings.kiosk_id)?;
        let subject_key = SubjectKey::from_bytes(*load_or_create_secret(&settings.secret_path)?);
        let signing = SigningKey::from_bytes(&*load_or_create_secret(&settings.signing_key_path)?);
        let public_key = hex::encode(signing.verifying_key().as_bytes());
        conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('public_key', ?1)", [&public_key])?;
        let boot_id = hex::encode(crate::secrets::random_bytes::<8>().map_err(|e| JournalError::Key {
            path: settings.signing_key_path.clone(),
            what: format!("no randomness from the OS ({e})"),
        })?);
        let (tx, rx) = sync_channel(4 * MAX_GROUP);
        let mut writer = Writer {
            conn,
            kiosk_id: settings.kiosk_id.clone(),
            boot_id: boot_id.clone(),
            started: Instant::now(),
            signing: signing.clone(),
            last_checkpoint: Instant::now(),
            checkpointed_seq: 0,
        };
        writer.checkpointed_seq = writer.latest_checkpoint_seq().unwrap_or(0);
        let thread = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| JournalError::Refused(format!("Cannot start the journal writer thread ({e}).")))?;
        Ok(Journal {
            inner: Arc::new(Inner { tx: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) }),
            subject_key,
            public_key,
            signing: Arc::new(signing),
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
        self.send(Request::Checkpoint { reply })?;
        rx.recv().map_err(|_| JournalError::Stopped)?
    }

    /// Signs and records a checkpoint over a given entry (an export's last entry).
    pub fn checkpoint_at(&self, seq: u64, hash_hex: &str) -> Result<Checkpoint, JournalError> {
        let mut hash = [0u8; 32];
        hex::decode_to_slice(hash_hex, &mut hash).map_err(|_| {
            JournalError::Refused(format!("Entry {seq} has a malformed hash; run `kiosk journal verify`."))
        })?;
        let cp = Checkpoint::sign(&self.signing, &self.settings.kiosk_id, seq, &hash, &utc_now());
        let stored = cp.clone();
        self.transact(move |conn| {
            insert_checkpoint(conn, &stored)?;
            Ok((Vec::new(), ()))
        })?;
        Ok(cp)
    }

    /// Signs `text` with the checkpoint key (hex of the ed25519 signature): the statements that travel with
    /// exports, such as a CSV export's `.sig`.
    pub fn sign_statement(&self, text: &str) -> String {
        use ed25519_dalek::Signer;
        hex::encode(self.signing.sign(text.as_bytes()).to_bytes())
    }

    pub fn subject_key(&self) -> &SubjectKey {
        &self.subject_key
    }

    /// Hex of the ed25519 key that signs this journal's checkpoints.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    pub fn boot_id(&self) -> &str {
        &self.boot_id
    }

    pub fn settings(&self) -> &JournalSettings {
        &self.settings
    }

    /// Stops the writer after what it has been given: it commits that, signs a checkpoint over the head
    /// and closes the file. Returns when it has. Every clone then answers [`JournalError::Stopped`].
    pub fn close(&self) {
        self.inner.close();
    }
}

struct Writer {
    conn: Connection,
    kiosk_id: String,
    boot_id: String,
    started: Instant,
    signing: SigningKey,
    last_checkpoint: Instant,
    checkpointed_seq: u64,
}

impl Writer {
    fn run(&mut self, rx: Receiver<Request>) {
        loop {
            let first = match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(req) => req,
                Err(RecvTimeoutError::Timeout) => {
                    self.periodic_checkpoint();
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
            self.periodic_checkpoint();
        }
        // Last words: a checkpoint over whatever was written since the last one.
        if let Err(e) = self.sign_head_if_changed() {
            log::warn!("journal: no checkpoint at shutdown: {e}");
        }
    }

    fn periodic_checkpoint(&mut self) {
        if self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY
            && let Err(e) = self.sign_head_if_changed()
        {
            log::warn!("journal: periodic checkpoint failed: {e}");
        }
    }

    fn sign_head_if_changed(&mut self) -> Result<Option<Checkpoint>, JournalError> {
        let (seq, _) = schema::head(&self.conn)?;
        if seq == self.checkpointed_seq {
            self.last_checkpoint = Instant::now();
            return Ok(None);
        }
        self.sign_head()
    }

    fn sign_head(&mut self) -> Result<Option<Checkpoint>, JournalError> {
        let (seq, hash) = schema::head(&self.conn)?;
        if seq == 0 {
            return Ok(None);
        }
        let cp = Checkpoint::sign(&self.signing, &self.kiosk_id, seq, &hash, &utc_now());
        insert_checkpoint(&self.conn, &cp)?;
        self.checkpointed_seq = seq;
        self.last_checkpoint = Instant::now();
        Ok(Some(cp))
    }

    fn latest_checkpoint_seq(&self) -> rusqlite::Result<u64> {
        self.conn
            .query_row("SELECT coalesce(max(seq), 0) FROM checkpoints", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
    }

    fn process(&mut self, batch: Vec<Request>) {
        let mut txns = Vec::new();
        let mut checkpoints = Vec::new();
        for req in batch {
            match req {
                Request::Txn { work, reply } => txns.push((work, reply)),
                Request::Checkpoint { reply } => checkpoints.push(reply),
            }
        }
        if !txns.is_empty() {
            match self.commit_group(txns) {
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
        for reply in checkpoints {
            let _ = reply.send(self.sign_head());
        }
    }

    /// One transaction for the whole group; each request in its own savepoint.
    #[allow(clippy::type_complexity)]
    fn commit_group(
        &mut self,
        txns: Vec<(Work, SyncSender<Result<Vec<u64>, JournalError>>)>,
    ) -> Result<
        Vec<(SyncSender<Result<Vec<u64>, JournalError>>, Result<Vec<u64>, JournalError>)>,
        (Vec<SyncSender<Result<Vec<u64>, JournalError>>>, JournalError),
    > {
        let mono_ms = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (kiosk_id, boot_id) = (self.kiosk_id.clone(), self.boot_id.clone());
        let mut tx = match self.conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return Err((txns.into_iter().map(|(_, r)| r).collect(), e.into())),
        };
        let mut results = Vec::with_capacity(txns.len());
        let head = schema::head(&tx);
        let (mut seq, mut prev) = match head {
            Ok(h) => h,
            Err(e) => return Err((txns.into_iter().map(|(_, r)| r).collect(), e.into())),
        };
        let mut checkpoint_due = false;
        let time_utc = utc_now();
        // A lone request needs no savepoint: if it fails, the whole transaction rolls back.
        let alone = txns.len() == 1;
        for (work, reply) in txns {
            let outcome = (|| -> Result<(Vec<u64>, u64, [u8; 32]), JournalError> {
                let run = |conn: &Connection| -> Result<(Vec<u64>, u64, [u8; 32]), JournalError> {
                    let entries = work(conn)?;
                    let (mut s, mut p) = (seq, prev);
                    let mut seqs = Vec::with_capacity(entries.len());
                    for e in entries {
                        s += 1;
                        p = insert_entry(conn, s, &p, &kiosk_id, &boot_id, &time_utc, mono_ms, &e)?;
                        seqs.push(s);
                    }
                    Ok((seqs, s, p))
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
                Ok((seqs, s, p)) => {
                    checkpoint_due |= seq / CHECKPOINT_EVERY_ENTRIES != s / CHECKPOINT_EVERY_ENTRIES;
                    (seq, prev) = (s, p);
                    results.push((reply, Ok(seqs)));
                }
                Err(e) => results.push((reply, Err(e))),
            }
        }
        if alone && results.iter().any(|(_, r)| r.is_err()) {
            // The lone request failed: undo whatever it wrote (dropping the transaction rolls back).
            drop(tx);
            return Ok(results);
        }
        if checkpoint_due {
            let cp = Checkpoint::sign(&self.signing, &kiosk_id, seq, &prev, &time_utc);
            if let Err(e) = insert_checkpoint(&tx, &cp) {
                log::warn!("journal: checkpoint at seq {seq} not written: {e}");
            }
        }
        let delay = TEST_COMMIT_DELAY_MS.load(std::sync::atomic::Ordering::Relaxed);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        match tx.commit() {
            Ok(()) => {
                if checkpoint_due {
                    self.checkpointed_seq = seq;
                    self.last_checkpoint = Instant::now();
                }
                Ok(results)
            }
            Err(e) => Err((results.into_iter().map(|(r, _)| r).collect(), e.into())),
        }
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

/// The columns [`checkpoint_from_row`] reads, in its order.
pub(super) const CHECKPOINT_COLUMNS: &str = "kiosk_id, seq, head_hash, time_utc, public_key, signature";

pub(super) fn checkpoint_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Checkpoint> {
    Ok(Checkpoint {
        kiosk_id: r.get(0)?,
        seq: r.get::<_, i64>(1)? as u64,
        head_hash: r.get(2)?,
        time_utc: r.get(3)?,
        public_key: r.get(4)?,
        signature: r.get(5)?,
    })
}

/// The newest signed checkpoint, or the one at `seq` when given.
pub fn stored_checkpoint(conn: &Connection, seq: Option<u64>) -> rusqlite::Result<Option<Checkpoint>> {
    let sql =
        format!("SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE ?1 IS NULL OR seq = ?1 ORDER BY seq DESC LIMIT 1");
    let row = conn.query_row(&sql, [seq.map(|s| s as i64)], checkpoint_from_row);
    match row {
        Ok(cp) => Ok(Some(cp)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) fn insert_checkpoint(conn: &Connection, cp: &Checkpoint) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO checkpoints (seq, kiosk_id, head_hash, time_utc, public_key, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![cp.seq as i64, cp.kiosk_id, cp.head_hash, cp.time_utc, cp.public_key, cp.signature],
    )?;
    Ok(())
}
