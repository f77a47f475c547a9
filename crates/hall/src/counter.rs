//! One queue per hall: the next number of a category comes from the hall's PostgreSQL (`hall_counters`,
//! one row per hall, business day and category, taken with one `INSERT … ON CONFLICT DO UPDATE …
//! RETURNING`). One client-side deadline covers connecting, TLS, the statement and its answer, so a database
//! that accepts and never answers (or is frozen) costs a citizen at most `DEADLINE`; then, and while the
//! database cannot be reached, the caller uses the kiosk's offline band, and the database is tried again
//! after `retry_seconds`. The caller takes the number outside the journal's write transaction.

use crate::db::{DbAddress, DbError, pg_message};
use config::SharedQueue;
use std::time::{Duration, Instant};

/// The hall counter as one kiosk uses it: one connection, opened when first needed, driven by a runtime of
/// its own on the caller's thread (no thread of its own: the connection is polled only while a number is
/// being taken).
pub struct HallCounter {
    db: DbAddress,
    hall: String,
    retry: Duration,
    deadline: Duration,
    runtime: Option<tokio::runtime::Runtime>,
    client: Option<Connected>,
    /// While set and in the future, the database is not tried: numbers come from the offline band.
    offline_until: Option<Instant>,
}

/// An open connection: the client and the task that drives its socket (aborted to drop it).
struct Connected {
    client: tokio_postgres::Client,
    connection: tokio::task::JoinHandle<()>,
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl std::fmt::Debug for HallCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HallCounter").field("hall", &self.hall).field("offline_until", &self.offline_until).finish()
    }
}

/// How long a citizen may wait for the hall database, all told (connect, TLS, statement, answer), before
/// the offline band is used instead: the ticket is printed within about 2.5 s of the tap either way.
pub const DEADLINE: Duration = Duration::from_millis(1500);
/// The server's own bound on the statement (a lock held by another kiosk's transaction, say); the client's
/// deadline above is what holds when the server itself does not answer.
const STATEMENT_TIMEOUT_MS: u32 = 1500;

/// What `kiosk doctor` finds of the hall database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// It answers: how many categories it numbered today for this hall.
    Answers { counters_today: i64 },
    /// It cannot be reached (the kiosk uses its offline band).
    Unreachable(String),
    /// It answers but has no `hall_counters` table: `kiosk-county fleet migrate` was not run on it.
    NoSchema(String),
}

/// A hall number as taken, with what the hall knew of its category at that moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub number: u32,
    /// Tickets of the whole hall waiting in the category.
    pub waiting: u32,
    /// When today's tickets of the category were called, in seconds since the epoch, oldest first.
    pub calls_epoch_s: Vec<f64>,
}

/// One piece of work on the hall database: a future that borrows the connection.
pub(crate) type Work<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, TakeError>> + 'c>>;

/// Why no hall number was taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TakeError {
    #[error("the hall database failed a moment ago; not tried again yet")]
    Resting,
    #[error("the hall database did not answer within {0:?}; the connection was dropped")]
    Deadline(Duration),
    #[error("{0}")]
    Failed(String),
}

fn runtime() -> Result<tokio::runtime::Runtime, TakeError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| TakeError::Failed(format!("cannot start the hall database's client ({e})")))
}

/// Connects with a ticket's bounds (the server's statement timeout set; the caller holds the deadline).
async fn connect(db: &DbAddress) -> Result<Connected, DbError> {
    let mut config = db.async_config(DEADLINE)?;
    config.options(format!("-c statement_timeout={STATEMENT_TIMEOUT_MS}"));
    config.keepalives_idle(Duration::from_secs(10));
    let (client, connection) = db.connect_async(config).await?;
    Ok(Connected { client, connection })
}

/// Connects as a ticket would (same deadline) and reads today's counter rows of the hall; takes no number.
pub fn probe(shared: &SharedQueue) -> Probe {
    let db = DbAddress::new(&shared.db, shared.ca_file.as_deref());
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => return Probe::Unreachable(e.to_string()),
    };
    // The timer is made inside the runtime (a `timeout` built outside it finds no time driver).
    let asked = runtime.block_on(async {
        tokio::time::timeout(DEADLINE, async {
            let connected = connect(&db).await.map_err(|e| Probe::Unreachable(e.to_string()))?;
            connected
                .client
                .query_one(
                    // The hall's queue too: a database migrated before it (V5) has no `hall_tickets`.
                    "SELECT (SELECT count(*) FROM hall_counters WHERE hall = $1 AND business_day >= current_date - 1),
                            (SELECT count(*) FROM hall_tickets WHERE hall = $1 AND false)",
                    &[&shared.hall],
                )
                .await
                .map_err(|e| match e.code() {
                    Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => Probe::NoSchema(pg_message(&e)),
                    _ => Probe::Unreachable(pg_message(&e)),
                })
        })
        .await
    });
    match asked {
        Ok(Ok(row)) => Probe::Answers { counters_today: row.get(0) },
        Ok(Err(probe)) => probe,
        Err(_) => Probe::Unreachable(TakeError::Deadline(DEADLINE).to_string()),
    }
}

impl HallCounter {
    pub fn new(shared: &SharedQueue) -> HallCounter {
        HallCounter {
            db: DbAddress::new(&shared.db, shared.ca_file.as_deref()),
            hall: shared.hall.clone(),
            retry: Duration::from_secs(u64::from(shared.retry_seconds)),
            deadline: DEADLINE,
            runtime: None,
            client: None,
            offline_until: None,
        }
    }

    /// The next hall number of `category` on `business_day` (YYYY-MM-DD), starting at `first`; committed in
    /// the hall database when this returns, with the hall's count of tickets waiting in the category and
    /// today's call times there (for the wait). Returns within the deadline whatever the database does. Err:
    /// why the offline band must be used now. A number whose answer was lost (the deadline passed after the
    /// statement reached the server) is skipped, never given twice.
    pub fn take(&mut self, business_day: &str, category: &str, first: u32, now: Instant) -> Result<Taken, TakeError> {
        let first = i32::try_from(first).map_err(|e| TakeError::Failed(e.to_string()))?;
        let (hall, day, category) = (self.hall.clone(), business_day.to_owned(), category.to_owned());
        self.run(now, move |client| {
            Box::pin(async move {
                let row = client
                    .query_one(
                        "WITH n AS (
                           INSERT INTO hall_counters (hall, business_day, category, last_number)
                           VALUES ($1, $2::text::date, $3, $4)
                           ON CONFLICT (hall, business_day, category) DO UPDATE SET last_number = hall_counters.last_number + 1
                           RETURNING last_number)
                         SELECT (SELECT last_number FROM n),
                                (SELECT count(*) FROM hall_tickets
                                  WHERE hall = $1 AND business_day = $2::text::date AND category = $3 AND state = 'waiting'),
                                (SELECT coalesce(array_agg(extract(epoch FROM called_at)::float8 ORDER BY called_at), '{}')
                                   FROM hall_tickets
                                  WHERE hall = $1 AND business_day = $2::text::date AND category = $3 AND called_at IS NOT NULL)",
                        &[&hall, &day, &category, &first],
                    )
                    .await
                    .map_err(|e| TakeError::Failed(pg_message(&e)))?;
                let n: i32 = row.get(0);
                let number =
                    u32::try_from(n).map_err(|_| TakeError::Failed(format!("the hall database gave number {n}")))?;
                let waiting: i64 = row.get(1);
                let calls: Vec<f64> = row.get(2);
                Ok(Taken { number, waiting: u32::try_from(waiting).unwrap_or(u32::MAX), calls_epoch_s: calls })
            })
        })
    }

    /// The hall this counter numbers for.
    pub fn hall(&self) -> &str {
        &self.hall
    }

    /// Runs `work` on the hall database within the deadline (connecting first when needed). While the
    /// database is resting after a failure it is not tried; a failure drops the connection and rests it for
    /// `retry_seconds`; the first failure and the first success after failures are logged.
    pub(crate) fn run<T>(
        &mut self,
        now: Instant,
        work: impl for<'c> FnOnce(&'c tokio_postgres::Client) -> Work<'c, T>,
    ) -> Result<T, TakeError> {
        if let Some(until) = self.offline_until
            && now < until
        {
            return Err(TakeError::Resting);
        }
        match self.try_run(work) {
            Ok(v) => {
                if self.offline_until.take().is_some() {
                    log::info!(
                        "the hall database ({}) answers again: tickets are numbered and called for the whole hall",
                        self.hall
                    );
                }
                Ok(v)
            }
            Err(why) => {
                self.client = None;
                if self.offline_until.is_none() {
                    log::warn!(
                        "the hall database cannot be used ({why}): tickets come from this kiosk's offline band, \
                         and counters reaching this kiosk call its own tickets"
                    );
                }
                self.offline_until = Some(now + self.retry);
                Err(why)
            }
        }
    }

    fn try_run<T>(
        &mut self,
        work: impl for<'c> FnOnce(&'c tokio_postgres::Client) -> Work<'c, T>,
    ) -> Result<T, TakeError> {
        if self.runtime.is_none() {
            self.runtime = Some(runtime()?);
        }
        let (Some(runtime), db, deadline) = (&self.runtime, &self.db, self.deadline) else {
            return Err(TakeError::Failed("no runtime".into()));
        };
        let slot = &mut self.client;
        runtime
            .block_on(async {
                tokio::time::timeout(deadline, async {
                    if slot.is_none() {
                        *slot = Some(connect(db).await.map_err(|e| TakeError::Failed(e.to_string()))?);
                    }
                    let Some(connected) = slot.as_ref() else {
                        return Err(TakeError::Failed("no connection".into()));
                    };
                    work(&connected.client).await
                })
                .await
            })
            .unwrap_or(Err(TakeError::Deadline(deadline)))
    }
}
