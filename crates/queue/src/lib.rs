//! Queue tickets: numbers by category and business day, taken inside a journal transaction before anything prints.

use config::{CategoryConfig, Config};
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use journal::{Journal, JournalError, NewEntry, TicketState};

/// The hall's queue as the counters use it through a kiosk (issue #31).
pub use hall::queue::{Acted, Action as HallAction, Call as HallCall, Called as HallCalled};

/// The day a ticket belongs to: local date in the hall's zone, shifted back by the rollover time.
pub fn business_day(now: Timestamp, tz: &TimeZone, rollover_minutes: u32) -> Date {
    let shifted = now - jiff::SignedDuration::from_mins(i64::from(rollover_minutes));
    shifted.to_zoned_datetime(tz.clone()).date()
}

/// A ticket as issued (and, once printed, as on paper).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ticket {
    /// Unique id: kiosk, business day and number.
    pub id: String,
    /// What is printed and called: prefix and zero-padded number, e.g. A023.
    pub display: String,
    pub prefix: String,
    pub number: u32,
    pub category_zh: String,
    pub category_en: String,
    pub business_day: String,
    /// Printed, not yet called tickets before this one in its category.
    pub waiting_ahead: u32,
    pub priority: bool,
    /// Local issue time, "YYYY-MM-DD HH:MM".
    pub issued_at: String,
    /// Where to wait ("" when the category does not say).
    pub window_zh: String,
    pub window_en: String,
    /// The estimated wait from today's pace of calls in the category ([`estimated_wait_minutes`]).
    pub wait_minutes: u32,
    /// The link the ticket's QR rates it at ("" for none).
    pub rating_url: String,
    /// Whose tickets `waiting_ahead` counts.
    pub counted: Counted,
    /// Shown on screen instead of printed (the printer could not print): its six-digit verification code.
    pub shown_code: Option<String>,
}

/// Whose tickets a ticket's people-ahead count (and so its wait) counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Counted {
    /// This kiosk numbers alone: its tickets are the hall's.
    Kiosk,
    /// The hall database's count, every kiosk of the hall.
    Hall,
    /// The hall database did not answer: this kiosk's tickets only (the citizen is told).
    KioskOnly,
}

/// What 好差评 may do with a ticket number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rateable {
    /// Served today and not rated yet: this ticket.
    Yes(String),
    /// No such ticket today.
    Unknown,
    /// Not served (yet, or at all).
    NotServed,
    /// Rated already.
    Rated,
}

/// How long `waiting_ahead` people will take, in minutes: today's pace of calls in the category once
/// there have been three (the mean gap between them, at least a minute), before that the configured
/// minutes per ticket. Pure: the call times are read by the caller.
pub fn estimated_wait_minutes(waiting_ahead: u32, calls_today: &[Timestamp], service_minutes: u32) -> u32 {
    if waiting_ahead == 0 {
        return 0;
    }
    let per_ticket = match (calls_today.first(), calls_today.last()) {
        (Some(first), Some(last)) if calls_today.len() >= 3 => {
            let span = last.duration_since(*first).as_secs_f64().max(0.0) / 60.0;
            (span / (calls_today.len() - 1) as f64).max(1.0)
        }
        _ => f64::from(service_minutes.max(1)),
    };
    (per_ticket * f64::from(waiting_ahead)).ceil().min(f64::from(u32::MAX)) as u32
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("There is no queue category \"{0}\"; the configured prefixes are {1}.")]
    UnknownCategory(String, String),
    #[error("{name_zh}暂停取号，{opens_zh}开始。 {name_en} is closed now; it opens {opens_en}.")]
    Closed { name_zh: String, name_en: String, opens_zh: String, opens_en: String },
    #[error(
        "{name_zh}今日号码已取完（{first}–{last}），请联系工作人员。 All numbers for {name_en} today ({first}–{last}) are taken; please ask a member of staff."
    )]
    BandExhausted { name_zh: String, name_en: String, first: String, last: String },
    #[error("您今天已取{limit}张{name_zh}号票。 You have already taken {limit} tickets for {name_en} today.")]
    DailyLimit { name_zh: String, name_en: String, limit: u32 },
    #[error("There is no ticket {0}.")]
    UnknownTicket(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl QueueError {
    /// The HTTP status a staff client gets for this refusal.
    pub fn http_status(&self) -> u16 {
        match self {
            QueueError::BandExhausted { .. } => 409,
            QueueError::DailyLimit { .. } => 429,
            QueueError::Closed { .. } => 423,
            QueueError::UnknownCategory(..) | QueueError::UnknownTicket(_) => 404,
            QueueError::Journal(_) => 500,
        }
    }

    /// What the citizen is told.
    pub fn reason(&self) -> vocabulary::Reason {
        use vocabulary::{Named, Reason};
        match self {
            QueueError::Closed { name_zh, name_en, opens_zh, opens_en } => {
                Reason::CategoryClosed { name: Named::new(name_zh, name_en), opens: Named::new(opens_zh, opens_en) }
            }
            QueueError::BandExhausted { name_zh, name_en, first, last } => Reason::NumbersExhausted {
                name: Named::new(name_zh, name_en),
                first: first.clone(),
                last: last.clone(),
            },
            QueueError::DailyLimit { name_zh, name_en, limit } => {
                Reason::DailyLimit { name: Named::new(name_zh, name_en), limit: *limit }
            }
            QueueError::UnknownCategory(..) | QueueError::UnknownTicket(_) | QueueError::Journal(_) => {
                Reason::QueueUnavailable
            }
        }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ticket_counters (
    business_day TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    last_number  INTEGER NOT NULL,
    PRIMARY KEY (business_day, prefix)
) STRICT;
CREATE TABLE IF NOT EXISTS tickets (
    id           TEXT PRIMARY KEY,
    business_day TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    number       INTEGER NOT NULL,
    state        TEXT NOT NULL,  -- issued, printed, shown, print_failed, voided, called, completed, no_show
    priority     INTEGER NOT NULL,
    subject      TEXT,
    issued_seq   INTEGER,
    issued_at    TEXT NOT NULL,
    UNIQUE (business_day, prefix, number)
) STRICT;
-- With a shared hall queue: tickets whose state here has not reached the hall's queue yet (a printed
-- ticket, or one called here while the hall database was away), published in this order.
CREATE TABLE IF NOT EXISTS hall_pending (
    ticket_id TEXT PRIMARY KEY
) STRICT;
-- With a shared hall queue: the last number this kiosk gave from its offline band.
CREATE TABLE IF NOT EXISTS offline_counters (
    business_day TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    last_number  INTEGER NOT NULL,
    PRIMARY KEY (business_day, prefix)
) STRICT;
";

/// A local ticket state as the hall's queue knows it; None for a ticket that does not wait (issued and not
/// printed yet, print failed, voided).
fn hall_state(state: TicketState) -> Option<&'static str> {
    match state {
        TicketState::Printed | TicketState::Shown => Some("waiting"),
        TicketState::Called => Some("called"),
        TicketState::Completed => Some("completed"),
        TicketState::NoShow => Some("no_show"),
        TicketState::Issued | TicketState::PrintFailed | TicketState::Voided => None,
    }
}

/// This kiosk's own counters in the journal file: its numbers when it numbers alone, its offline band's
/// when it takes part in a hall queue.
#[derive(Debug, Clone, Copy)]
enum LocalCounter {
    Kiosk,
    Offline,
}

/// The next number of `band` ([first, last]) from a local counter, stored in the caller's transaction;
/// None when the band is used up.
fn next_in_band(
    conn: &rusqlite::Connection,
    counter: LocalCounter,
    day: &str,
    prefix: &str,
    [first, last]: [u32; 2],
) -> Result<Option<u32>, rusqlite::Error> {
    let table = match counter {
        LocalCounter::Kiosk => "ticket_counters",
        LocalCounter::Offline => "offline_counters",
    };
    let stored: Option<i64> = conn
        .query_row(
            &format!("SELECT last_number FROM {table} WHERE business_day = ?1 AND prefix = ?2"),
            [day, prefix],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
    let number = stored.map_or(first, |n| n as u32 + 1);
    if number > last {
        return Ok(None);
    }
    conn.execute(
        &format!(
            "INSERT INTO {table} (business_day, prefix, last_number) VALUES (?1, ?2, ?3)
             ON CONFLICT (business_day, prefix) DO UPDATE SET last_number = excluded.last_number"
        ),
        rusqlite::params![day, prefix, number],
    )?;
    Ok(Some(number))
}

/// A hall's shared queue as this kiosk takes part in it: the hall counter and this kiosk's offline band.
#[derive(Debug, Clone)]
struct HallQueue {
    counter: std::sync::Arc<std::sync::Mutex<hall::counter::HallCounter>>,
    offline_band: [u32; 2],
}

/// The hall's queue on this kiosk.
#[derive(Debug, Clone)]
pub struct Queue {
    journal: Journal,
    kiosk_id: String,
    categories: Vec<CategoryConfig>,
    tz: TimeZone,
    rollover_minutes: u32,
    rating_url: String,
    hall: Option<HallQueue>,
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

impl Queue {
    pub fn new(config: &Config, journal: Journal) -> Result<Queue, QueueError> {
        journal.transact(|conn| {
            conn.execute_batch(SCHEMA)?;
            // Columns added after the first release: a transferred ticket's category and window.
            let has = |column: &str| -> Result<bool, rusqlite::Error> {
                conn.query_row("SELECT count(*) FROM pragma_table_info('tickets') WHERE name = ?1", [column], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n > 0)
            };
            if !has("waits_in")? {
                conn.execute_batch(
                    "ALTER TABLE tickets ADD COLUMN waits_in TEXT; ALTER TABLE tickets ADD COLUMN for_counter TEXT;",
                )?;
            }
            Ok((vec![], ()))
        })?;
        Ok(Queue {
            journal,
            kiosk_id: config.kiosk.id.clone(),
            categories: config.queue.categories.clone(),
            tz: config.tz().clone(),
            rollover_minutes: config.rollover_minutes(),
            rating_url: config.queue.rating_url.clone(),
            hall: config.queue.shared.as_ref().map(|s| HallQueue {
                counter: std::sync::Arc::new(std::sync::Mutex::new(hall::counter::HallCounter::new(s))),
                offline_band: s.offline_band,
            }),
        })
    }

    pub fn categories(&self) -> &[CategoryConfig] {
        &self.categories
    }

    fn category(&self, prefix: &str) -> Result<&CategoryConfig, QueueError> {
        self.categories.iter().find(|c| c.prefix == prefix).ok_or_else(|| {
            QueueError::UnknownCategory(
                prefix.to_owned(),
                self.categories.iter().map(|c| c.prefix.as_str()).collect::<Vec<_>>().join(", "),
            )
        })
    }

    fn open_at(cat: &CategoryConfig, day: Weekday, minute: u32) -> bool {
        (cat.days.is_empty() || cat.days.iter().any(|d| d == weekday_name(day)))
            && cat.open_ranges().iter().any(|&(a, b)| a <= minute && minute < b)
    }

    /// Ok when the category issues tickets at `now`; otherwise when it opens next.
    pub fn check_open(&self, cat: &CategoryConfig, now: Timestamp) -> Result<(), QueueError> {
        let local = now.to_zoned_datetime(self.tz.clone());
        let minute = u32::from(local.hour() as u8) * 60 + u32::from(local.minute() as u8);
        if Self::open_at(cat, local.weekday(), minute) {
            return Ok(());
        }
        // Next opening within a week: the earliest range start after now.
        let mut next: Option<(i64, Date, u32)> = None;
        for offset in 0..8i64 {
            let Ok(date) = local.date().checked_add(offset.days()) else { continue };
            if !(cat.days.is_empty() || cat.days.iter().any(|d| d == weekday_name(date.weekday()))) {
                continue;
            }
            for &(a, _) in cat.open_ranges() {
                if offset == 0 && a <= minute {
                    continue;
                }
                let key = offset * 1440 + i64::from(a);
                if next.is_none_or(|(k, _, _)| key < k) {
                    next = Some((key, date, a));
                }
            }
            if next.is_some() {
                break;
            }
        }
        let (opens_zh, opens_en) = match next {
            Some((_, date, a)) => {
                let hm = format!("{:02}:{:02}", a / 60, a % 60);
                if date == local.date() {
                    (format!("今天{hm}"), format!("today at {hm}"))
                } else {
                    (format!("{}月{}日{hm}", date.month(), date.day()), format!("on {date} at {hm}"))
                }
            }
            None => ("另行通知".into(), "at a time to be announced".into()),
        };
        Err(QueueError::Closed { name_zh: cat.name_zh.clone(), name_en: cat.name_en.clone(), opens_zh, opens_en })
    }

    /// Takes the next number in the category and journals ticket_issued, in one durable transaction.
    pub fn issue(
        &self,
        prefix: &str,
        now: Timestamp,
        subject: Option<String>,
        priority: bool,
        session_id: &str,
    ) -> Result<(Ticket, u64), QueueError> {
        let cat = self.category(prefix)?.clone();
        self.check_open(&cat, now)?;
        let day = business_day(now, &self.tz, self.rollover_minutes).to_string();
        let issued_at = now.to_zoned_datetime(self.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string();
        let kiosk_id = self.kiosk_id.clone();
        let session = session_id.to_owned();
        let rating_url = self.rating_url.clone();
        // Every refusal is judged before a hall number is taken, so a refused citizen uses up no hall number
        // (the daily limit is judged again inside the transaction below; only two issues for one citizen at
        // the same instant could skip a number there). The hall number is taken outside the journal's write
        // transaction: a database that is slow or frozen costs this citizen at most the counter's deadline
        // and never holds the journal (the staff API's counter calls, the other flows' records) meanwhile.
        self.check_daily_limit(&cat, &day, subject.as_deref())?;
        let hall_number = self.hall.as_ref().map(|h| {
            h.counter
                .lock()
                .map_err(|_| hall::counter::TakeError::Failed("the hall counter's lock is poisoned".into()))
                .and_then(|mut c| {
                    // Tickets printed here and not yet in the hall's queue go first, so the count below has them.
                    let now = std::time::Instant::now();
                    let pending = self.pending_publications().unwrap_or_default();
                    let published = c.publish(&pending, now).is_ok();
                    let taken = c.take(&day, &cat.prefix, cat.first, now)?;
                    if published {
                        self.forget_pending(&pending);
                    }
                    Ok(taken)
                })
        });
        let offline_band = self.hall.as_ref().map(|h| h.offline_band);
        // Today's calls are the ones of the last day at most (the business day's tickets, below).
        let since = journal::format_utc(now - jiff::SignedDuration::from_hours(24));
        let (seqs, ticket) = self.journal.transact(move |conn| {
            let refuse = |e: QueueError| JournalError::Refused(e.to_string());
            let width = cat.last.to_string().len().max(3);
            let exhausted = |first: u32, last: u32| {
                refuse(QueueError::BandExhausted {
                    name_zh: cat.name_zh.clone(),
                    name_en: cat.name_en.clone(),
                    first: format!("{}{:0width$}", cat.prefix, first),
                    last: format!("{}{:0width$}", cat.prefix, last),
                })
            };
            if let (Some(s), limit) = (&subject, cat.daily_limit_per_person)
                && limit > 0
            {
                let taken: i64 = conn.query_row(
                    "SELECT count(*) FROM tickets WHERE business_day = ?1 AND prefix = ?2 AND subject = ?3 AND state != 'voided'",
                    [&day, &cat.prefix, s],
                    |r| r.get(0),
                )?;
                if taken >= i64::from(limit) {
                    return Err(refuse(QueueError::DailyLimit { name_zh: cat.name_zh.clone(), name_en: cat.name_en.clone(), limit }));
                }
            }
            // A hall number was committed in the hall database before this transaction journals it: if the
            // kiosk fails in between, the number is skipped, never given twice.
            let mut from_hall: Option<(u32, Vec<f64>)> = None;
            let (number, numbering) = match (hall_number, offline_band) {
                (Some(Ok(t)), _) if t.number > cat.last => return Err(exhausted(cat.first, cat.last)),
                (Some(Ok(t)), _) => {
                    from_hall = Some((t.waiting, t.calls_epoch_s));
                    (t.number, Some("hall"))
                }
                (Some(Err(_)), Some(band)) => {
                    let n = next_in_band(conn, LocalCounter::Offline, &day, &cat.prefix, band)?;
                    (n.ok_or_else(|| exhausted(band[0], band[1]))?, Some("offline"))
                }
                _ => {
                    let n = next_in_band(conn, LocalCounter::Kiosk, &day, &cat.prefix, [cat.first, cat.last])?;
                    (n.ok_or_else(|| exhausted(cat.first, cat.last))?, None)
                }
            };
            let waiting: i64 = conn.query_row(
                "SELECT count(*) FROM tickets WHERE business_day = ?1 AND coalesce(waits_in, prefix) = ?2 AND state IN ('printed', 'shown')",
                [&day, &cat.prefix],
                |r| r.get(0),
            )?;
            let display = format!("{}{:0width$}", cat.prefix, number);
            let id = format!("{kiosk_id}-{}-{display}", day.replace('-', ""));
            let calls: Vec<Timestamp> = conn
                .prepare(
                    "SELECT e.time_utc FROM entries e JOIN tickets t ON t.id = json_extract(e.payload, '$.ticket_id')
                     WHERE e.kind = 'ticket_called' AND e.time_utc >= ?1 AND t.business_day = ?2 AND t.prefix = ?3
                       AND NOT coalesce(json_extract(e.payload, '$.recall'), 0)
                     ORDER BY e.seq",
                )?
                .query_map([&since, &day, &cat.prefix], |r| r.get::<_, String>(0))?
                .filter_map(|t| t.ok().and_then(|t| t.parse().ok()))
                .collect();
            // With a hall queue, the hall's count and pace when it answered; this kiosk's own otherwise.
            let (waiting, calls, counted) = match (from_hall, numbering) {
                (Some((w, hall_calls)), _) => {
                    let calls = hall_calls
                        .iter()
                        .filter_map(|s| Timestamp::from_millisecond((s * 1000.0) as i64).ok())
                        .collect::<Vec<_>>();
                    (i64::from(w), calls, Counted::Hall)
                }
                (None, Some(_)) => (waiting, calls, Counted::KioskOnly),
                (None, None) => (waiting, calls, Counted::Kiosk),
            };
            conn.execute(
                "INSERT INTO tickets (id, business_day, prefix, number, state, priority, subject, issued_at)
                 VALUES (?1, ?2, ?3, ?4, 'issued', ?5, ?6, ?7)",
                rusqlite::params![id, day, cat.prefix, number, priority, subject, issued_at],
            )?;
            let rating_url = rating_url.replace("{ticket_id}", &id);
            let ticket = Ticket {
                id,
                display,
                prefix: cat.prefix.clone(),
                number,
                category_zh: cat.name_zh.clone(),
                category_en: cat.name_en.clone(),
                business_day: day.clone(),
                waiting_ahead: waiting as u32,
                priority,
                issued_at: issued_at.clone(),
                window_zh: cat.window_zh.clone(),
                window_en: cat.window_en.clone(),
                wait_minutes: estimated_wait_minutes(waiting as u32, &calls, cat.service_minutes),
                rating_url,
                counted,
                shown_code: None,
            };
            let entry: NewEntry = journal::payload::TicketIssued {
                ticket_id: ticket.id.clone(),
                number: ticket.display.clone(),
                category: ticket.prefix.clone(),
                business_day: ticket.business_day.clone(),
                waiting_ahead: ticket.waiting_ahead,
                priority,
                subject: subject.clone(),
                numbering: numbering.map(str::to_owned),
                ahead_counted: match counted {
                    Counted::Kiosk => None,
                    Counted::Hall => Some("hall".into()),
                    Counted::KioskOnly => Some("kiosk".into()),
                },
            }
            .into();
            Ok((vec![entry.in_session(session)], ticket))
        })?;
        let seq = seqs[0];
        self.journal.transact({
            let id = ticket.id.clone();
            move |conn| {
                conn.execute("UPDATE tickets SET issued_seq = ?1 WHERE id = ?2", rusqlite::params![seq as i64, id])?;
                Ok((vec![], ()))
            }
        })?;
        Ok((ticket, seq))
    }

    /// Refuses a ticket beyond the category's daily limit per person, read outside any write transaction.
    fn check_daily_limit(&self, cat: &CategoryConfig, day: &str, subject: Option<&str>) -> Result<(), QueueError> {
        let (Some(s), limit) = (subject, cat.daily_limit_per_person) else { return Ok(()) };
        if limit == 0 {
            return Ok(());
        }
        let conn = journal::open_reader(&self.journal.settings().path)?;
        let taken: i64 = conn
            .query_row(
                "SELECT count(*) FROM tickets WHERE business_day = ?1 AND prefix = ?2 AND subject = ?3 AND state != 'voided'",
                [day, &cat.prefix, s],
                |r| r.get(0),
            )
            .map_err(JournalError::from)?;
        if taken >= i64::from(limit) {
            return Err(QueueError::DailyLimit { name_zh: cat.name_zh.clone(), name_en: cat.name_en.clone(), limit });
        }
        Ok(())
    }

    /// Records an outcome: the ticket's new state and its journal entry, atomically.
    pub fn record(
        &self,
        ticket_id: &str,
        state: TicketState,
        entry: impl Into<NewEntry>,
        session_id: &str,
    ) -> Result<u64, QueueError> {
        let id = ticket_id.to_owned();
        let entry = entry.into().in_session(session_id);
        let shared = self.hall.is_some();
        let (seqs, ()) = self.journal.transact(move |conn| {
            let n = conn.execute("UPDATE tickets SET state = ?1 WHERE id = ?2", [state.as_str(), &id])?;
            if n == 0 {
                return Err(JournalError::Refused(QueueError::UnknownTicket(id).to_string()));
            }
            // With a hall queue, a printed ticket joins it (and a ticket called here while the hall database
            // was away tells it so): the row is written with the state, so no ticket is left out of the hall.
            if shared && hall_state(state).is_some() {
                conn.execute("INSERT OR IGNORE INTO hall_pending (ticket_id) VALUES (?1)", [&id])?;
            }
            Ok((vec![entry], ()))
        })?;
        if shared && hall_state(state).is_some() {
            self.publish_pending(std::time::Instant::now());
        }
        Ok(seqs[0])
    }

    /// Publishes what waits in `hall_pending` to the hall's queue, in order; true when nothing is left.
    /// Within the hall counter's deadline; when the hall database does not answer, the rows stay for the
    /// next try (the next ticket, the next counter call, or the app's hall sync).
    pub fn publish_pending(&self, now: std::time::Instant) -> bool {
        let Some(h) = &self.hall else { return true };
        let pending = match self.pending_publications() {
            Ok(p) => p,
            Err(e) => {
                log::warn!("the tickets waiting for the hall's queue could not be read ({e})");
                return false;
            }
        };
        if pending.is_empty() {
            return true;
        }
        let Ok(mut counter) = h.counter.lock() else { return false };
        match counter.publish(&pending, now) {
            Ok(()) => {
                drop(counter);
                self.forget_pending(&pending);
                true
            }
            Err(_) => false,
        }
    }

    /// The tickets of `hall_pending` as the hall's queue takes them, in the order they were written.
    fn pending_publications(&self) -> Result<Vec<hall::queue::HallTicket>, QueueError> {
        let conn = journal::open_reader(&self.journal.settings().path)?;
        let mut stmt = conn
            .prepare(
                "SELECT t.id, t.business_day, coalesce(t.waits_in, t.prefix), t.number, t.priority, t.state,
                        (SELECT e.time_utc FROM entries e WHERE e.seq = t.issued_seq),
                        (SELECT json_extract(e.payload, '$.numbering') FROM entries e WHERE e.seq = t.issued_seq),
                        (SELECT json_extract(e.payload, '$.counter') FROM entries e
                          WHERE e.kind = 'ticket_called' AND json_extract(e.payload, '$.ticket_id') = t.id
                          ORDER BY e.seq DESC LIMIT 1),
                        t.prefix,
                        (SELECT json_extract(e.payload, '$.code') FROM entries e
                          WHERE e.kind = 'ticket_shown' AND json_extract(e.payload, '$.ticket_id') = t.id)
                   FROM hall_pending p JOIN tickets t ON t.id = p.ticket_id ORDER BY p.rowid",
            )
            .map_err(JournalError::from)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ))
            })
            .map_err(JournalError::from)?;
        let mut out = vec![];
        for row in rows {
            let (id, day, category, number, priority, state, issued, numbering, counter, prefix, shown_code) =
                row.map_err(JournalError::from)?;
            let Some(state) = TicketState::parse(&state).and_then(hall_state) else { continue };
            let width = self.category(&prefix).map_or(3, |c| c.last.to_string().len().max(3));
            out.push(hall::queue::HallTicket {
                ticket_id: id,
                business_day: day,
                kiosk_id: self.kiosk_id.clone(),
                category,
                number: number as u32,
                display: format!("{prefix}{number:0width$}"),
                priority,
                issued_at: issued.unwrap_or_default(),
                numbering: numbering.unwrap_or_else(|| "kiosk".into()),
                state: state.to_owned(),
                counter,
                shown_code,
            });
        }
        Ok(out)
    }

    /// Takes published tickets off `hall_pending`.
    fn forget_pending(&self, published: &[hall::queue::HallTicket]) {
        if published.is_empty() {
            return;
        }
        let ids: Vec<String> = published.iter().map(|t| t.ticket_id.clone()).collect();
        let done = self.journal.transact(move |conn| {
            for id in &ids {
                conn.execute("DELETE FROM hall_pending WHERE ticket_id = ?1", [id])?;
            }
            Ok((vec![], ()))
        });
        if let Err(e) = done {
            log::warn!(
                "published tickets could not be taken off the list for the hall ({e}); they are published again"
            );
        }
    }

    /// Brings this kiosk and the hall's queue together: what waits to be published goes first, then the
    /// hall's state of this kiosk's tickets of the business day of `at` comes back (a ticket called,
    /// completed or transferred at a counter that reached another kiosk). False when the hall database did
    /// not answer. Run by the app's hall sync every few seconds, within the counter's deadline each time.
    pub fn sync_hall(&self, at: Timestamp, now: std::time::Instant) -> bool {
        let Some(h) = &self.hall else { return true };
        if !self.publish_pending(now) {
            return false;
        }
        let day = business_day(at, &self.tz, self.rollover_minutes).to_string();
        let states = match h.counter.lock() {
            Ok(mut c) => c.own_tickets(&self.kiosk_id, &day, now),
            Err(_) => return false,
        };
        let Ok(states) = states else { return false };
        let done = self.journal.transact(move |conn| {
            for (id, state, category) in &states {
                let local = match state.as_str() {
                    "waiting" => TicketState::Printed,
                    "called" => TicketState::Called,
                    "completed" => TicketState::Completed,
                    _ => TicketState::NoShow,
                };
                // Only forward, and not over a change made here that the hall has not had yet.
                conn.execute(
                    // (A ticket shown on screen waits as `shown`, not `printed`.)
                    "UPDATE tickets SET state = ?2, waits_in = nullif(?3, prefix)
                      WHERE id = ?1 AND state IN ('printed', 'shown', 'called') AND state != ?2
                        AND NOT (state = 'shown' AND ?2 = 'printed')
                        AND id NOT IN (SELECT ticket_id FROM hall_pending)",
                    rusqlite::params![id, local.as_str(), category],
                )?;
            }
            Ok((vec![], ()))
        });
        done.is_ok()
    }

    /// Journals a call, completion, no-show or transfer a counter made in the hall's queue through this
    /// kiosk (the ticket may be another kiosk's), and follows it in this kiosk's own record when the ticket
    /// is its own.
    pub fn journal_hall_action(
        &self,
        ticket_id: &str,
        state: TicketState,
        waits_in: Option<String>,
        entry: impl Into<NewEntry>,
    ) -> Result<u64, QueueError> {
        let (id, entry) = (ticket_id.to_owned(), entry.into());
        let (seqs, ()) = self.journal.transact(move |conn| {
            conn.execute(
                "UPDATE tickets SET state = ?2, waits_in = coalesce(nullif(?3, prefix), waits_in) WHERE id = ?1",
                rusqlite::params![id, state.as_str(), waits_in],
            )?;
            Ok((vec![entry], ()))
        })?;
        Ok(seqs[0])
    }

    /// Sends a called ticket of this kiosk back to wait in `category`, for `counter` only when given; journaled
    /// with `entry` in the same transaction.
    pub fn transfer(
        &self,
        ticket_id: &str,
        category: &str,
        counter: Option<&str>,
        entry: impl Into<NewEntry>,
    ) -> Result<u64, QueueError> {
        let (id, category, counter, entry) =
            (ticket_id.to_owned(), category.to_owned(), counter.map(str::to_owned), entry.into());
        let shared = self.hall.is_some();
        let (seqs, ()) = self.journal.transact(move |conn| {
            let n = conn.execute(
                "UPDATE tickets SET state = 'printed', waits_in = nullif(?2, prefix), for_counter = ?3
                  WHERE id = ?1 AND state = 'called'",
                rusqlite::params![id, category, counter],
            )?;
            if n == 0 {
                return Err(JournalError::Refused(QueueError::UnknownTicket(id).to_string()));
            }
            if shared {
                conn.execute("INSERT OR IGNORE INTO hall_pending (ticket_id) VALUES (?1)", [&id])?;
            }
            Ok((vec![entry], ()))
        })?;
        Ok(seqs[0])
    }

    /// The hall's queue, when this kiosk takes part in one.
    pub fn hall(&self) -> Option<&std::sync::Mutex<hall::counter::HallCounter>> {
        self.hall.as_ref().map(|h| &*h.counter)
    }

    pub fn kiosk_id(&self) -> &str {
        &self.kiosk_id
    }

    /// A stored ticket with its current state, for reprinting and the counter API.
    pub fn load(&self, ticket_id: &str) -> Result<(Ticket, TicketState), QueueError> {
        let conn = journal::open_reader(&self.journal.settings().path)?;
        let row = conn.query_row(
            "SELECT business_day, prefix, number, state, priority, issued_at FROM tickets WHERE id = ?1",
            [ticket_id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, String>(5)?,
                ))
            },
        );
        let (day, prefix, number, state, priority, issued_at) = match row {
            Ok(r) => r,
            Err(rusqlite::Error::QueryReturnedNoRows) => return Err(QueueError::UnknownTicket(ticket_id.to_owned())),
            Err(e) => return Err(QueueError::Journal(e.into())),
        };
        let cat = self.category(&prefix)?;
        let waiting: i64 = conn
            .query_row(
                "SELECT count(*) FROM tickets WHERE business_day = ?1 AND coalesce(waits_in, prefix) = ?2 AND state IN ('printed', 'shown') AND number < ?3",
                rusqlite::params![day, prefix, number],
                |r| r.get(0),
            )
            .map_err(|e| QueueError::Journal(e.into()))?;
        let width = cat.last.to_string().len().max(3);
        let ticket = Ticket {
            id: ticket_id.to_owned(),
            display: format!("{prefix}{:0width$}", number),
            prefix: prefix.clone(),
            number: number as u32,
            category_zh: cat.name_zh.clone(),
            category_en: cat.name_en.clone(),
            business_day: day,
            waiting_ahead: waiting as u32,
            priority,
            window_zh: cat.window_zh.clone(),
            window_en: cat.window_en.clone(),
            // A reprint gives the wait at the configured pace: the ticket was issued earlier.
            wait_minutes: estimated_wait_minutes(waiting as u32, &[], cat.service_minutes),
            rating_url: self.rating_url.replace("{ticket_id}", ticket_id),
            issued_at,
            counted: if self.hall.is_some() { Counted::KioskOnly } else { Counted::Kiosk },
            shown_code: None,
        };
        let state = TicketState::parse(&state).ok_or_else(|| {
            QueueError::Journal(JournalError::Refused(format!("Ticket {ticket_id} has an unknown state \"{state}\".")))
        })?;
        Ok((ticket, state))
    }

    /// Whether the ticket a citizen names by its number ("A023") can be rated now (好差评): it is today's,
    /// it has been served, and it has not been rated yet.
    pub fn rateable(&self, number: &str, now: Timestamp) -> Result<Rateable, QueueError> {
        let (prefix, digits) = vocabulary::ticket_number::split_number(number);
        let (Ok(n), Ok(cat)) = (digits.parse::<u32>(), self.category(prefix)) else { return Ok(Rateable::Unknown) };
        let day = business_day(now, &self.tz, self.rollover_minutes).to_string();
        let conn = journal::open_reader(&self.journal.settings().path)?;
        let row = conn.query_row(
            "SELECT id, state FROM tickets WHERE business_day = ?1 AND prefix = ?2 AND number = ?3",
            rusqlite::params![day, cat.prefix, n],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        );
        let (id, state) = match row {
            Ok(r) => r,
            Err(rusqlite::Error::QueryReturnedNoRows) => return Ok(Rateable::Unknown),
            Err(e) => return Err(QueueError::Journal(e.into())),
        };
        if state != TicketState::Completed.as_str() {
            return Ok(Rateable::NotServed);
        }
        let rated: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM entries WHERE kind = 'evaluation'
                   AND json_extract(payload, '$.transaction.ticket_id') = ?1)",
                [&id],
                |r| r.get(0),
            )
            .map_err(JournalError::from)?;
        Ok(if rated { Rateable::Rated } else { Rateable::Yes(id) })
    }

    /// Printed, not yet called tickets per category in the business day of `now`: the hall's when this kiosk
    /// takes part in a hall queue and its database answers (within its deadline), else this kiosk's.
    pub fn waiting_counts(&self, now: Timestamp) -> Result<Vec<(String, u32)>, QueueError> {
        let day = business_day(now, &self.tz, self.rollover_minutes).to_string();
        if let Some(h) = &self.hall {
            let at = std::time::Instant::now();
            self.publish_pending(at);
            let hall = h.counter.lock().ok().and_then(|mut c| c.waiting(&day, at).ok());
            if let Some(hall) = hall {
                return Ok(self
                    .categories
                    .iter()
                    .map(|c| (c.prefix.clone(), hall.iter().find(|(k, _)| *k == c.prefix).map_or(0, |(_, n)| *n)))
                    .collect());
            }
        }
        let conn = journal::open_reader(&self.journal.settings().path)?;
        let mut out = Vec::new();
        for cat in &self.categories {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM tickets WHERE business_day = ?1 AND coalesce(waits_in, prefix) = ?2 AND state IN ('printed', 'shown')",
                    [&day, &cat.prefix],
                    |r| r.get(0),
                )
                .map_err(JournalError::from)?;
            out.push((cat.prefix.clone(), n as u32));
        }
        Ok(out)
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_the_clock_opens_a_category_that_keeps_office_hours() {
        // The demo's 不动产登记: weekdays 08:30-12:00 and 13:30-17:30.
        let mut cat = config::Config::demo(std::path::Path::new("/nonexistent")).queue.categories[1].clone();
        assert_eq!(cat.prefix, "B");
        assert!(Queue::open_at(&cat, Weekday::Monday, 9 * 60));
        assert!(!Queue::open_at(&cat, Weekday::Monday, 20 * 60), "closed in the evening");
        assert!(!Queue::open_at(&cat, Weekday::Sunday, 9 * 60), "closed on Sunday");
        cat.open_round_the_clock();
        for (day, minute) in [(Weekday::Monday, 20 * 60), (Weekday::Sunday, 3 * 60), (Weekday::Saturday, 23 * 60 + 59)]
        {
            assert!(Queue::open_at(&cat, day, minute), "{day:?} {minute}");
        }
    }

    #[test]
    fn the_estimated_wait_follows_todays_pace_once_there_is_one() {
        let t = |m: i64| Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_mins(m);
        assert_eq!(estimated_wait_minutes(0, &[t(0), t(4), t(8)], 5), 0, "nobody ahead: no wait");
        assert_eq!(estimated_wait_minutes(3, &[], 5), 15, "no calls yet: the configured pace");
        assert_eq!(estimated_wait_minutes(3, &[t(0), t(10)], 5), 15, "two calls are no pace yet");
        assert_eq!(estimated_wait_minutes(3, &[t(0), t(6), t(12)], 5), 18, "a call every 6 minutes");
        assert_eq!(estimated_wait_minutes(4, &[t(0), t(0), t(0)], 5), 4, "at least a minute each");
    }

    #[test]
    fn business_day_rolls_over_at_the_configured_hour() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let at =
            |s: &str| s.parse::<jiff::civil::DateTime>().unwrap().to_zoned_datetime(tz.clone()).unwrap().timestamp();
        assert_eq!(business_day(at("2026-11-25T03:59"), &tz, 240).to_string(), "2026-11-24");
        assert_eq!(business_day(at("2026-11-25T04:00"), &tz, 240).to_string(), "2026-11-25");
        assert_eq!(business_day(at("2026-11-25T00:00"), &tz, 0).to_string(), "2026-11-25");
    }
}
