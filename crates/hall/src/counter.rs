//! One queue per hall: the next number of a category comes from the hall's PostgreSQL (`hall_counters`,
//! one row per hall, business day and category, taken with one `INSERT … ON CONFLICT DO UPDATE …
//! RETURNING`). While the database cannot be reached the caller uses the kiosk's offline band, and the
//! database is tried again after `retry_seconds`.

use crate::db::{DbAddress, DbError, pg_message};
use config::SharedQueue;
use std::time::{Duration, Instant};

/// The hall counter as one kiosk uses it: one connection, opened when first needed.
pub struct HallCounter {
    db: DbAddress,
    hall: String,
    retry: Duration,
    client: Option<postgres::Client>,
    /// While set and in the future, the database is not tried: numbers come from the offline band.
    offline_until: Option<Instant>,
}

impl std::fmt::Debug for HallCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HallCounter").field("hall", &self.hall).field("offline_until", &self.offline_until).finish()
    }
}

/// How long a citizen may wait for the hall database before the offline band is used instead.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const STATEMENT_TIMEOUT_MS: u32 = 2000;

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

/// The hall database with a ticket's bounds: 2 s to connect, 2 s per statement.
fn connect(db: &DbAddress) -> Result<postgres::Client, DbError> {
    let mut config = db.config(CONNECT_TIMEOUT)?;
    config.connect_timeout(CONNECT_TIMEOUT);
    config.options(&format!("-c statement_timeout={STATEMENT_TIMEOUT_MS}"));
    config.keepalives_idle(Duration::from_secs(10));
    db.connect(config)
}

/// Connects as a ticket would (same timeouts) and reads today's counter rows of the hall; takes no number.
pub fn probe(shared: &SharedQueue) -> Probe {
    let db = DbAddress::new(&shared.db, shared.ca_file.as_deref());
    let mut client = match connect(&db) {
        Ok(c) => c,
        Err(e) => return Probe::Unreachable(e.to_string()),
    };
    match client.query_one(
        "SELECT count(*) FROM hall_counters WHERE hall = $1 AND business_day >= current_date - 1",
        &[&shared.hall],
    ) {
        Ok(row) => Probe::Answers { counters_today: row.get(0) },
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => Probe::NoSchema(pg_message(&e)),
        Err(e) => Probe::Unreachable(pg_message(&e)),
    }
}

impl HallCounter {
    pub fn new(shared: &SharedQueue) -> HallCounter {
        HallCounter {
            db: DbAddress::new(&shared.db, shared.ca_file.as_deref()),
            hall: shared.hall.clone(),
            retry: Duration::from_secs(u64::from(shared.retry_seconds)),
            client: None,
            offline_until: None,
        }
    }

    /// The next hall number of `category` on `business_day` (YYYY-MM-DD), starting at `first`; committed in
    /// the hall database when this returns. Err: why the offline band must be used now (it says whether the
    /// database was tried). A number whose answer was lost is skipped, never given twice.
    pub fn take(&mut self, business_day: &str, category: &str, first: u32, now: Instant) -> Result<u32, String> {
        if let Some(until) = self.offline_until
            && now < until
        {
            return Err("the hall database failed a moment ago; not tried again yet".into());
        }
        match self.try_take(business_day, category, first) {
            Ok(n) => {
                if self.offline_until.take().is_some() {
                    log::info!(
                        "the hall database ({}) answers again: tickets are numbered for the whole hall",
                        self.hall
                    );
                }
                Ok(n)
            }
            Err(why) => {
                self.client = None;
                if self.offline_until.is_none() {
                    log::warn!("the hall database cannot be used ({why}): tickets come from this kiosk's offline band");
                }
                self.offline_until = Some(now + self.retry);
                Err(why)
            }
        }
    }

    fn try_take(&mut self, business_day: &str, category: &str, first: u32) -> Result<u32, String> {
        if self.client.is_none() {
            self.client = Some(connect(&self.db).map_err(|e| e.to_string())?);
        }
        let client = self.client.as_mut().ok_or("no connection")?;
        let first = i32::try_from(first).map_err(|e| e.to_string())?;
        let row = client
            .query_one(
                "INSERT INTO hall_counters (hall, business_day, category, last_number)
                 VALUES ($1, $2::text::date, $3, $4)
                 ON CONFLICT (hall, business_day, category) DO UPDATE SET last_number = hall_counters.last_number + 1
                 RETURNING last_number",
                &[&self.hall, &business_day, &category, &first],
            )
            .map_err(|e| pg_message(&e))?;
        let n: i32 = row.get(0);
        u32::try_from(n).map_err(|_| format!("the hall database gave number {n}"))
    }
}
