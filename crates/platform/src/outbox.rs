//! The durable outbox to the platform (一事一评): each rating is written, with an idempotency key made once,
//! into the journal's database in the same transaction as its `evaluation` entry, then submitted until the
//! platform has it — retried with backoff while it cannot be reached, the same key each time, so that a
//! rating is delivered exactly once however often the kiosk is stopped or the network drops.

use super::{Platform, PlatformError};
use journal::{Journal, JournalError};
use rusqlite::{Connection, OptionalExtension};
use std::sync::Arc;
use std::time::Duration;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    path         TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      TEXT NOT NULL,
    delivered_at TEXT,
    last_error   TEXT
);";

/// Where ratings go on the platform.
pub const EVALUATIONS: &str = "/v1/evaluations";

/// Adds a message inside the caller's transaction (with the journal entry it belongs to); `key` is made once,
/// here, and sent with every attempt.
pub fn enqueue_in(
    conn: &Connection,
    path: &str,
    body: &serde_json::Value,
    now: jiff::Timestamp,
) -> rusqlite::Result<String> {
    conn.execute_batch(SCHEMA)?;
    let key = vocabulary::secrets::random_bytes::<16>().map(hex::encode).unwrap_or_else(|_| {
        // No randomness: the time and the row count still make it unique on this kiosk.
        format!("{}-{}", now.as_nanosecond(), conn.last_insert_rowid())
    });
    let at = journal::format_utc(now);
    conn.execute(
        "INSERT INTO outbox (key, path, body, created_at, next_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        rusqlite::params![key, path, body.to_string(), at],
    )?;
    Ok(key)
}

/// How long after `attempts` failed tries the next one is made: 5 s, doubling, at most 15 minutes.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(16));
    Duration::from_secs(secs.min(15 * 60))
}

/// What the outbox holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    pub pending: u64,
    pub delivered: u64,
    /// The oldest message not delivered yet (RFC 3339), and the last error it met.
    pub oldest_pending: Option<String>,
    pub last_error: Option<String>,
}

pub fn status(journal: &Journal) -> Result<Status, JournalError> {
    let (_, s) = journal.transact(|conn| {
        conn.execute_batch(SCHEMA)?;
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64);
        let pending = count("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL")?;
        let delivered = count("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NOT NULL")?;
        let oldest: Option<(String, Option<String>)> = conn
            .query_row(
                "SELECT created_at, last_error FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (oldest_pending, last_error) = match oldest {
            Some((at, e)) => (Some(at), e),
            None => (None, None),
        };
        Ok((vec![], Status { pending, delivered, oldest_pending, last_error }))
    })?;
    Ok(s)
}

/// One pass: every message due at `now` is submitted once, oldest first. Returns (delivered, still pending).
/// A message is marked delivered only after the platform said it has it; an attempt cut short (the kiosk
/// stopped, the answer lost) is made again with the same key, and the platform keeps one.
pub fn send_due(journal: &Journal, platform: &Platform, now: jiff::Timestamp) -> Result<(u64, u64), JournalError> {
    let at = journal::format_utc(now);
    let (_, due) = journal.transact(move |conn| {
        conn.execute_batch(SCHEMA)?;
        let mut q = conn.prepare(
            "SELECT id, key, path, body, attempts FROM outbox WHERE delivered_at IS NULL AND next_at <= ?1 ORDER BY id",
        )?;
        let rows = q
            .query_map([at], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, u32>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((vec![], rows))
    })?;
    let mut delivered = 0;
    for (id, key, path, body, attempts) in due {
        let mut message: serde_json::Value = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
        if let Some(m) = message.as_object_mut() {
            m.insert("idempotency_key".into(), key.clone().into());
            m.insert("kiosk_id".into(), platform.kiosk_id().into());
        }
        let result: Result<serde_json::Value, PlatformError> =
            platform.call("POST", &path, Some(&message), crate::bounds::MAX_LIST_ANSWER);
        let now = jiff::Timestamp::now();
        let outcome = match result {
            Ok(_) => Ok(journal::format_utc(now)),
            Err(e) => {
                let next = now + jiff::SignedDuration::try_from(backoff(attempts + 1)).unwrap_or_default();
                Err((e.to_string(), journal::format_utc(next)))
            }
        };
        if outcome.is_ok() {
            delivered += 1;
        } else if let Err((e, _)) = &outcome {
            log::warn!("outbox: {key} not delivered yet ({e}); trying again later");
        }
        journal.transact(move |conn| {
            match outcome {
                Ok(at) => conn.execute(
                    // A number left for the follow-up call has reached the platform: it is not kept here.
                    "UPDATE outbox SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL,
                            body = json_remove(body, '$.contact') WHERE id = ?1",
                    rusqlite::params![id, at],
                )?,
                Err((e, next)) => conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_at = ?3 WHERE id = ?1",
                    rusqlite::params![id, e, next],
                )?,
            };
            Ok((vec![], ()))
        })?;
    }
    let pending = status(journal)?.pending;
    Ok((delivered, pending))
}

/// Sends what is due every second until its owner stops it.
pub fn run(journal: Journal, platform: Arc<Platform>, life: owner::Life) {
    loop {
        if let Err(e) = send_due(&journal, &platform, jiff::Timestamp::now()) {
            log::error!("outbox: {e}");
        }
        if life.rest(Duration::from_secs(1)) {
            return;
        }
    }
}

/// Starts the outbox's sender on its own owned thread.
pub fn start(journal: Journal, platform: Arc<Platform>) -> std::io::Result<owner::Owned> {
    owner::Owned::spawn("outbox", move |life| run(journal, platform, life))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_seconds_to_a_quarter_hour() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(5), Duration::from_secs(80));
        assert_eq!(backoff(9), Duration::from_secs(900));
        assert_eq!(backoff(40), Duration::from_secs(900));
    }
}
