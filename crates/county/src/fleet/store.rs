//! The county's PostgreSQL: migrations (refinery), each kiosk's stored head, pages stored one transaction
//! each, breaks and alerts, and the rows read back for an export.

use super::page::{CheckedPage, StoredHead, check_seal_against_store};
use journal::seal::{Seal, SealLine};
use postgres::Client;
use postgres::types::Type;

pub use hall::{DbAddress, describe, pg_message};

mod embedded {
    refinery::embed_migrations!("migrations/fleet");
}

/// Why the county database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Address(#[from] hall::DbError),
    #[error("the export cannot be written ({0}); check the --out folder and the disk")]
    Write(#[from] std::io::Error),
    #[error("an exported line cannot be written as JSON ({0})")]
    Json(#[from] serde_json::Error),
    #[error("PostgreSQL refused: {}", pg_message(.0))]
    Db(#[from] postgres::Error),
    #[error("the fleet schema could not be migrated: {0}")]
    Migrate(String),
    #[error("the database holds a seal that cannot be read or written as JSON: {0}")]
    BadSeal(String),
    #[error(
        "the database has no fleet schema (or an older one, version {0:?}); run `kiosk-county fleet migrate --db …` first"
    )]
    NotMigrated(Option<i32>),
    #[error(
        "kiosk \"{id}\" was recorded with root key {stored}, but the fleet file says {given}; a replaced box is a new kiosk id (docs/fleet.md)"
    )]
    RootKeyChanged { id: String, stored: String, given: String },
}

/// The newest migration this build ships.
pub fn latest_version() -> u32 {
    embedded::migrations::runner().get_migrations().iter().map(|m| m.version()).max().unwrap_or(0)
}

/// Applies the migrations this build has not yet applied; returns the versions applied.
pub fn migrate(client: &mut Client) -> Result<Vec<u32>, StoreError> {
    let report = embedded::migrations::runner().run(client).map_err(|e| StoreError::Migrate(e.to_string()))?;
    Ok(report.applied_migrations().iter().map(|m| m.version()).collect())
}

/// Refuses a database this build's pull would write wrongly: no schema, or an older one.
pub fn check_schema(client: &mut Client) -> Result<(), StoreError> {
    let exists: bool = client.query_one("SELECT to_regclass('refinery_schema_history') IS NOT NULL", &[])?.get(0);
    let version: Option<i32> =
        if exists { client.query_one("SELECT max(version) FROM refinery_schema_history", &[])?.get(0) } else { None };
    if version.is_none_or(|v| i64::from(v) < i64::from(latest_version())) {
        return Err(StoreError::NotMigrated(version));
    }
    Ok(())
}

/// A kiosk's row: its head, and whether its pull is stopped by a break.
#[derive(Debug, Clone)]
pub struct KioskState {
    pub head: StoredHead,
    /// (seq, reason) of a recorded break.
    pub broken: Option<(i64, String)>,
}

/// Records the kiosk (town and URL follow the fleet file; the root key may never change).
pub fn register(client: &mut Client, kiosk: &super::Kiosk) -> Result<(), StoreError> {
    let given = hex::encode(kiosk.root_key.as_bytes());
    let row = client.query_one(
        "INSERT INTO kiosks (kiosk_id, town, url, root_key) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kiosk_id) DO UPDATE SET town = excluded.town, url = excluded.url
         RETURNING root_key",
        &[&kiosk.id, &kiosk.town, &kiosk.url, &given],
    )?;
    let stored: String = row.get(0);
    if stored != given {
        return Err(StoreError::RootKeyChanged { id: kiosk.id.clone(), stored, given });
    }
    Ok(())
}

/// The stored head and seals of a kiosk that was registered.
pub fn state(client: &mut Client, kiosk_id: &str) -> Result<KioskState, StoreError> {
    let row = client.query_one(
        "SELECT head_seq, head_hash, broken_seq, broken_reason FROM kiosks WHERE kiosk_id = $1",
        &[&kiosk_id],
    )?;
    let seals = stored_seals(client, kiosk_id)?;
    let broken = row.get::<_, Option<String>>(3).map(|r| (row.get::<_, Option<i64>>(2).unwrap_or(0), r));
    Ok(KioskState { head: StoredHead { seq: row.get::<_, i64>(0) as u64, hash: row.get(1), seals }, broken })
}

fn stored_seals(client: &mut Client, kiosk_id: &str) -> Result<Vec<Seal>, StoreError> {
    let mut seals = Vec::new();
    for row in client.query("SELECT seal FROM seals WHERE kiosk_id = $1 ORDER BY epoch", &[&kiosk_id])? {
        let text: String = row.get(0);
        let seal: Seal =
            serde_json::from_str(&text).map_err(|e| StoreError::BadSeal(format!("kiosk {kiosk_id}: {e}")))?;
        seals.push(seal);
    }
    Ok(seals)
}

/// What storing a page did.
#[derive(Debug)]
pub enum Stored {
    /// The page's entries were inserted: the new head.
    Inserted { entries: u64, head: StoredHead },
    /// The kiosk's stored head moved since it was read (another pull of the same kiosk): nothing stored.
    Raced,
    /// A new seal contradicts entries stored earlier: nothing stored.
    Broken { seq: u64, what: String },
}

/// The types of `entries`' columns in table order, for binary COPY in (all) and out (seq to hash).
const ENTRY_TYPES: [Type; 14] = [
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    // payload_problem, payload_checked (in only)
    Type::TEXT,
    Type::BOOL,
];

/// Stores a checked page in one transaction: the kiosk's row locked and its head compared with the one the
/// page was checked against, new seals checked against entries stored earlier, the entries by binary COPY,
/// seals, head and checkpoint. Either all of it lands or none.
pub fn store_page(
    client: &mut Client,
    kiosk_id: &str,
    checked_against: &StoredHead,
    page: &CheckedPage,
) -> Result<Stored, StoreError> {
    let Some((last_seq, last_hash)) = page.head() else {
        return Ok(Stored::Inserted { entries: 0, head: checked_against.clone() });
    };
    let mut tx = client.transaction()?;
    // A page need not wait for its commit to reach the disk: if the database machine loses power, the last
    // pages roll back together with the head that names them, and the next pull fetches them again from the
    // kiosk, which keeps every entry. Breaks and alerts are committed durably (their own transactions).
    tx.batch_execute("SET LOCAL synchronous_commit = off")?;
    let row = tx.query_one("SELECT head_seq, head_hash FROM kiosks WHERE kiosk_id = $1 FOR UPDATE", &[&kiosk_id])?;
    if (row.get::<_, i64>(0) as u64, row.get::<_, String>(1)) != (checked_against.seq, checked_against.hash.clone()) {
        return Ok(Stored::Raced);
    }
    // A seal over an entry of an earlier page was not checked by the page's own verification.
    let earlier: Vec<&Seal> = page.new_seals.iter().filter(|s| s.seq <= checked_against.seq).collect();
    if !earlier.is_empty() {
        let seqs: Vec<i64> = earlier.iter().map(|s| s.seq as i64).collect();
        let stored: std::collections::HashMap<i64, String> = tx
            .query("SELECT seq, hash FROM entries WHERE kiosk_id = $1 AND seq = ANY($2)", &[&kiosk_id, &seqs])?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        for seal in earlier {
            if let Err(what) = check_seal_against_store(seal, stored.get(&(seal.seq as i64)).map(String::as_str)) {
                return Ok(Stored::Broken { seq: seal.seq, what: what.to_string() });
            }
        }
    }
    let sink = tx.copy_in(
        "COPY entries (kiosk_id, seq, boot_id, time_utc, mono_ms, session_id, kind, payload, payload_digest,
                       prev_hash, hash, at, payload_problem, payload_checked) FROM STDIN (FORMAT binary)",
    )?;
    let mut writer = postgres::binary_copy::BinaryCopyInWriter::new(sink, &ENTRY_TYPES);
    let mut problems = Vec::new();
    for (e, at) in page.entries.iter().zip(&page.times) {
        let seq = e.seq as i64;
        let problem = payload_problem(&e.kind, e.payload.as_deref());
        if let Some(p) = &problem {
            problems.push(left_out_alert(e.seq, &e.kind, p));
        }
        writer.write(&[
            &e.kiosk_id,
            &seq,
            &e.boot_id,
            &e.time_utc,
            &e.mono_ms,
            &e.session_id,
            &e.kind,
            &e.payload,
            &e.payload_digest,
            &e.prev_hash,
            &e.hash,
            at,
            &problem,
            &true,
        ])?;
    }
    let entries = writer.finish()?;
    for what in &problems {
        tx.execute("INSERT INTO alerts (kiosk_id, what) VALUES ($1, $2)", &[&kiosk_id, what])?;
    }
    for seal in &page.new_seals {
        let text = serde_json::to_string(seal).map_err(|e| StoreError::BadSeal(e.to_string()))?;
        tx.execute(
            "INSERT INTO seals (kiosk_id, epoch, seq, seal) VALUES ($1, $2, $3, $4)",
            &[&kiosk_id, &(seal.epoch as i64), &(seal.seq as i64), &text],
        )?;
    }
    if let Some(proof) = &page.proof {
        let text = serde_json::to_string(proof).map_err(|e| StoreError::BadSeal(e.to_string()))?;
        let (first, last) = (proof.export.first_seq as i64, proof.export.last_seq as i64);
        tx.execute(
            "INSERT INTO page_proofs (kiosk_id, first_seq, last_seq, proof) VALUES ($1, $2, $3, $4)",
            &[&kiosk_id, &first, &last, &text],
        )?;
    }
    tx.execute(
        "UPDATE kiosks SET head_seq = $2, head_hash = $3, public_key = $4, checkpoint = $5,
                last_pull_at = now(), last_heard_at = now(), last_error = NULL
         WHERE kiosk_id = $1",
        &[&kiosk_id, &(last_seq as i64), &last_hash, &page.public_key, &page.checkpoint],
    )?;
    tx.commit()?;
    let mut seals = checked_against.seals.clone();
    seals.extend(page.new_seals.iter().cloned());
    Ok(Stored::Inserted { entries, head: StoredHead { seq: last_seq, hash: last_hash.to_owned(), seals } })
}

/// What is wrong with an entry's payload for the county's figures (None: nothing, or purged).
pub fn payload_problem(kind: &str, payload: Option<&str>) -> Option<String> {
    payload.and_then(|p| journal::payload::check(kind, p).err()).map(|e| e.to_string())
}

fn left_out_alert(seq: u64, kind: &str, problem: &str) -> String {
    format!("entry seq {seq} ({kind}) is stored but left out of the figures: {problem}")
}

/// Checks the payloads of entries stored before the county checked them (migration 3): marks what is wrong,
/// with an alert each, in batches of one transaction each. Returns (checked, marked).
pub fn check_stored_payloads(client: &mut Client) -> Result<(u64, u64), StoreError> {
    let (mut checked, mut marked) = (0u64, 0u64);
    loop {
        let mut tx = client.transaction()?;
        let rows = tx.query(
            "SELECT kiosk_id, seq, kind, payload FROM entries WHERE NOT payload_checked
             ORDER BY kiosk_id, seq LIMIT 5000 FOR UPDATE",
            &[],
        )?;
        if rows.is_empty() {
            return Ok((checked, marked));
        }
        for r in &rows {
            let (kiosk_id, seq, kind, payload): (String, i64, String, Option<String>) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let problem = payload_problem(&kind, payload.as_deref());
            tx.execute(
                "UPDATE entries SET payload_checked = true, payload_problem = $3 WHERE kiosk_id = $1 AND seq = $2",
                &[&kiosk_id, &seq, &problem],
            )?;
            if let Some(p) = &problem {
                tx.execute(
                    "INSERT INTO alerts (kiosk_id, what) VALUES ($1, $2)",
                    &[&kiosk_id, &left_out_alert(seq as u64, &kind, p)],
                )?;
                marked += 1;
            }
        }
        checked += rows.len() as u64;
        tx.commit()?;
    }
}

/// The kiosk answered and had nothing new.
pub fn heard(client: &mut Client, kiosk_id: &str) -> Result<(), StoreError> {
    client.execute(
        "UPDATE kiosks SET last_pull_at = now(), last_heard_at = now(), last_error = NULL WHERE kiosk_id = $1",
        &[&kiosk_id],
    )?;
    Ok(())
}

/// A pull that failed without a break (unreachable, refused, unreadable): noted, and an alert when it is new.
pub fn failed(client: &mut Client, kiosk_id: &str, what: &str) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    // One alert when a kiosk starts failing (or fails differently), not one every round while it stays down.
    let changed = tx.execute(
        "UPDATE kiosks SET last_error = $2 WHERE kiosk_id = $1 AND last_error IS DISTINCT FROM $2",
        &[&kiosk_id, &what],
    )?;
    tx.execute("UPDATE kiosks SET last_pull_at = now() WHERE kiosk_id = $1", &[&kiosk_id])?;
    if changed == 1 {
        tx.execute("INSERT INTO alerts (kiosk_id, what) VALUES ($1, $2)", &[&kiosk_id, &what])?;
    }
    tx.commit()?;
    Ok(())
}

/// The hash the county holds for the kiosk's entry `seq`.
pub fn stored_hash(client: &mut Client, kiosk_id: &str, seq: u64) -> Result<String, StoreError> {
    let row =
        client.query_one("SELECT hash FROM entries WHERE kiosk_id = $1 AND seq = $2", &[&kiosk_id, &(seq as i64)])?;
    Ok(row.get(0))
}

/// A break: the kiosk's pull stops until staff clear it; the reason is kept, and an alert.
pub fn broken(client: &mut Client, kiosk_id: &str, seq: u64, what: &str) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute(
        "UPDATE kiosks SET last_pull_at = now(), last_heard_at = now(), broken_at = now(), broken_seq = $2,
                broken_reason = $3, last_error = $3
         WHERE kiosk_id = $1",
        &[&kiosk_id, &(seq as i64), &what],
    )?;
    tx.execute(
        "INSERT INTO alerts (kiosk_id, what) VALUES ($1, $2)",
        &[&kiosk_id, &format!("chain broken at seq {seq}: {what}")],
    )?;
    tx.commit()?;
    Ok(())
}

/// Staff looked at a break: the kiosk is pulled again (from the same stored head).
pub fn clear(client: &mut Client, kiosk_id: &str) -> Result<bool, StoreError> {
    let n = client.execute(
        "UPDATE kiosks SET broken_at = NULL, broken_seq = NULL, broken_reason = NULL WHERE kiosk_id = $1 AND broken_at IS NOT NULL",
        &[&kiosk_id],
    )?;
    Ok(n == 1)
}

/// Writes a kiosk's stored journal as a JSON-lines export, which `kiosk journal verify --pubkey ROOT` checks
/// like any other: a joined (version 4) file — header, entries, seals, every stored page's proof — when the
/// proofs cover every stored entry; a version 1 file (the newest checkpoint closing it) for a kiosk pulled
/// before proofs were kept, which verify accepts only with `--accept-old-format`. Returns the number of
/// entries and whether the file is version 1.
pub fn export(
    client: &mut Client,
    kiosk_id: &str,
    out: &mut dyn std::io::Write,
) -> Result<Option<(u64, bool)>, StoreError> {
    let Some(row) = client
        .query_opt("SELECT public_key, root_key, checkpoint, head_seq FROM kiosks WHERE kiosk_id = $1", &[&kiosk_id])?
    else {
        return Ok(None);
    };
    let public_key: Option<String> = row.get(0);
    let head_seq: i64 = row.get(3);
    let proofs: Vec<(i64, i64, String)> = client
        .query(
            "SELECT first_seq, last_seq, proof FROM page_proofs WHERE kiosk_id = $1 ORDER BY first_seq",
            &[&kiosk_id],
        )?
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    // The proofs tile 1..=head with nothing between them: then the kiosk's signatures prove the whole file.
    let mut next = 1i64;
    for (first, last, _) in &proofs {
        if *first != next {
            break;
        }
        next = last + 1;
    }
    let joined = next == head_seq + 1 && head_seq > 0;
    let header = journal::export::ExportHeader {
        format: journal::export::EXPORT_FORMAT_NAME.into(),
        version: if joined { journal::export::JOINED_VERSION } else { 1 },
        kiosk_id: kiosk_id.to_owned(),
        public_key: public_key.unwrap_or_else(|| row.get(1)),
        exported_at: journal::utc_now(),
        contiguous: true,
        filter: serde_json::json!({ "from": "the county's fleet database" }),
    };
    serde_json::to_writer(&mut *out, &header)?;
    out.write_all(b"\n")?;
    let checkpoint: Option<String> = row.get(2);
    let mut tx = client.transaction()?;
    let reader = tx.copy_out(
        "COPY (SELECT seq, boot_id, time_utc, mono_ms, session_id, kind, payload, payload_digest, prev_hash, hash
               FROM entries WHERE kiosk_id = $$KIOSK$$ ORDER BY seq) TO STDOUT (FORMAT binary)"
            .replace("$$KIOSK$$", &quote_literal(kiosk_id))
            .as_str(),
    )?;
    // seq … hash: the stored columns without kiosk_id (known) and at (derived from time_utc).
    let mut rows = postgres::binary_copy::BinaryCopyOutIter::new(reader, &ENTRY_TYPES[1..11]);
    let mut n = 0u64;
    use postgres::fallible_iterator::FallibleIterator;
    while let Some(r) = rows.next()? {
        let e = journal::Entry {
            seq: r.get::<i64>(0) as u64,
            kiosk_id: kiosk_id.to_owned(),
            boot_id: r.get(1),
            time_utc: r.get(2),
            mono_ms: r.get(3),
            session_id: r.get(4),
            kind: r.get(5),
            payload: r.get(6),
            payload_digest: r.get(7),
            prev_hash: r.get(8),
            hash: r.get(9),
        };
        serde_json::to_writer(&mut *out, &e)?;
        out.write_all(b"\n")?;
        n += 1;
    }
    drop(rows);
    tx.commit()?;
    for seal in stored_seals(client, kiosk_id)? {
        serde_json::to_writer(&mut *out, &SealLine { seal })?;
        out.write_all(b"\n")?;
    }
    if joined {
        for (_, _, proof) in proofs {
            let page: journal::export::PageProof =
                serde_json::from_str(&proof).map_err(|e| StoreError::BadSeal(e.to_string()))?;
            serde_json::to_writer(&mut *out, &journal::export::PageLine { page })?;
            out.write_all(b"\n")?;
        }
    } else if let Some(cp) = checkpoint {
        out.write_all(cp.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(Some((n, !joined && n > 0)))
}

/// A string as an SQL literal (COPY takes no parameters).
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
