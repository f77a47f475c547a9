//! The hall's one queue (issue #31): every printed ticket of a hall's kiosks in `hall_tickets`, in the hall's
//! order (priority first, then the time each kiosk issued it), and every call in `hall_calls` for the calling
//! display. Counters call from here: the next ticket is taken with `FOR UPDATE SKIP LOCKED`, so two counters
//! calling at the same instant never get the same ticket. Each operation runs through the hall counter's one
//! connection and its one deadline; the caller falls back to this kiosk's own tickets when it fails.

use crate::counter::{HallCounter, TakeError};
use crate::pg_message;
use std::time::Instant;

/// A ticket as a kiosk publishes it to the hall: once printed, and again when this kiosk's own state moved
/// on while the hall database was away (a publication only ever moves a ticket forward).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallTicket {
    pub ticket_id: String,
    /// YYYY-MM-DD.
    pub business_day: String,
    pub kiosk_id: String,
    pub category: String,
    pub number: u32,
    pub display: String,
    pub priority: bool,
    /// When the kiosk issued it (RFC 3339, UTC): its place in the hall's order.
    pub issued_at: String,
    /// `hall`, `offline` or `kiosk`.
    pub numbering: String,
    /// `waiting`, `called`, `completed` or `no_show`, as this kiosk knows it.
    pub state: String,
    /// The counter that called it, when called.
    pub counter: Option<String>,
    /// Shown on screen, not printed: its verification code.
    pub shown_code: Option<String>,
}

/// A ticket a counter called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Called {
    pub ticket_id: String,
    pub display: String,
    pub category: String,
    pub kiosk_id: String,
    /// Shown on screen, not printed: the code on the citizen's screen.
    pub shown_code: Option<String>,
}

/// What a counter does to a called ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Calls it again (at `counter` when given, else where it was called).
    Recall {
        counter: String,
    },
    Complete,
    NoShow,
    /// Back to waiting, in `category` (its place by its issue time), for `counter` only when given.
    Transfer {
        category: String,
        counter: Option<String>,
    },
}

impl Action {
    fn state(&self) -> &'static str {
        match self {
            Action::Recall { .. } => "called",
            Action::Complete => "completed",
            Action::NoShow => "no_show",
            Action::Transfer { .. } => "waiting",
        }
    }
}

/// What came of an [`Action`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// Done: the ticket's number as printed and where it is now.
    Done { display: String, state: String, counter: Option<String> },
    /// The ticket is not called (its number and state), so the action does not apply.
    NotCalled { display: String, state: String },
    /// No such ticket in the hall.
    Unknown,
}

/// One call (or recall) as the calling display shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The display's cursor: calls come in this order.
    pub id: i64,
    pub ticket_id: String,
    pub display: String,
    pub category: String,
    pub counter: String,
    pub recall: bool,
    /// Seconds since the epoch.
    pub at_epoch_s: f64,
}

/// How far a state is along (a publication never moves a ticket back).
const RANK: &str = "CASE $S WHEN 'waiting' THEN 0 WHEN 'called' THEN 1 ELSE 2 END";

fn failed(e: tokio_postgres::Error) -> TakeError {
    TakeError::Failed(pg_message(&e))
}

impl HallCounter {
    /// Publishes `tickets` in order (new ones join the queue; known ones only move forward). All or, on an
    /// error, those before it: publishing again is harmless.
    pub fn publish(&mut self, tickets: &[HallTicket], now: Instant) -> Result<(), TakeError> {
        if tickets.is_empty() {
            return Ok(());
        }
        let (hall, tickets) = (self.hall().to_owned(), tickets.to_vec());
        let sql = format!(
            "INSERT INTO hall_tickets (hall, ticket_id, business_day, kiosk_id, category, number, display, priority,
                                       issued_at, numbering, state, counter, called_at, shown_code)
             VALUES ($1, $2, $3::text::date, $4, $5, $6, $7, $8, $9::text::timestamptz, $10, $11, $12,
                     CASE WHEN $11 = 'waiting' THEN NULL ELSE now() END, $13)
             ON CONFLICT (hall, ticket_id) DO UPDATE
                SET state = EXCLUDED.state, counter = coalesce(EXCLUDED.counter, hall_tickets.counter),
                    called_at = coalesce(hall_tickets.called_at, EXCLUDED.called_at)
              WHERE {} > {}",
            RANK.replace("$S", "EXCLUDED.state"),
            RANK.replace("$S", "hall_tickets.state")
        );
        self.run(now, move |client| {
            Box::pin(async move {
                let statement = client.prepare(&sql).await.map_err(failed)?;
                for t in &tickets {
                    let number = i32::try_from(t.number).map_err(|e| TakeError::Failed(e.to_string()))?;
                    client
                        .execute(
                            &statement,
                            &[
                                &hall,
                                &t.ticket_id,
                                &t.business_day,
                                &t.kiosk_id,
                                &t.category,
                                &number,
                                &t.display,
                                &t.priority,
                                &t.issued_at,
                                &t.numbering,
                                &t.state,
                                &t.counter,
                                &t.shown_code,
                            ],
                        )
                        .await
                        .map_err(failed)?;
                }
                Ok(())
            })
        })
    }

    /// Calls the next waiting ticket of `categories` for `counter` on `business_day`: priority first, then in
    /// the order issued across the hall; a ticket transferred to another counter is left for it. Two
    /// counters calling at once never get the same ticket (the row is locked, the other skips it).
    pub fn call_next(
        &mut self,
        business_day: &str,
        counter: &str,
        categories: &[String],
        now: Instant,
    ) -> Result<Option<Called>, TakeError> {
        let (hall, day, counter, categories) =
            (self.hall().to_owned(), business_day.to_owned(), counter.to_owned(), categories.to_vec());
        self.run(now, move |client| {
            Box::pin(async move {
                let row = client
                    .query_opt(
                        "WITH next AS (
                           SELECT ticket_id FROM hall_tickets
                            WHERE hall = $1 AND business_day = $2::text::date AND state = 'waiting'
                              AND category = ANY($3) AND (for_counter IS NULL OR for_counter = $4)
                            ORDER BY priority DESC, issued_at, ticket_id
                            LIMIT 1 FOR UPDATE SKIP LOCKED),
                         called AS (
                           UPDATE hall_tickets t SET state = 'called', counter = $4, called_at = now(), for_counter = NULL
                             FROM next WHERE t.hall = $1 AND t.ticket_id = next.ticket_id
                           RETURNING t.ticket_id, t.display, t.category, t.kiosk_id, t.shown_code),
                         logged AS (
                           INSERT INTO hall_calls (hall, ticket_id, display, category, counter)
                           SELECT $1, ticket_id, display, category, $4 FROM called)
                         SELECT ticket_id, display, category, kiosk_id, shown_code FROM called",
                        &[&hall, &day, &categories, &counter],
                    )
                    .await
                    .map_err(failed)?;
                Ok(row.map(|r| Called {
                    ticket_id: r.get(0),
                    display: r.get(1),
                    category: r.get(2),
                    kiosk_id: r.get(3),
                    shown_code: r.get(4),
                }))
            })
        })
    }

    /// Recalls, completes, marks no-show or transfers a called ticket.
    pub fn act(&mut self, ticket_id: &str, action: &Action, now: Instant) -> Result<Acted, TakeError> {
        let (hall, id, action) = (self.hall().to_owned(), ticket_id.to_owned(), action.clone());
        self.run(now, move |client| {
            Box::pin(async move {
                let row = match &action {
                    Action::Recall { counter } => {
                        client
                            .query_opt(
                                "WITH t AS (
                                   UPDATE hall_tickets SET counter = coalesce(nullif($3, ''), counter), called_at = now()
                                    WHERE hall = $1 AND ticket_id = $2 AND state = 'called'
                                   RETURNING ticket_id, display, category, counter),
                                 logged AS (
                                   INSERT INTO hall_calls (hall, ticket_id, display, category, counter, recall)
                                   SELECT $1, ticket_id, display, category, counter, true FROM t)
                                 SELECT display, counter FROM t",
                                &[&hall, &id, counter],
                            )
                            .await
                    }
                    Action::Complete | Action::NoShow => {
                        client
                            .query_opt(
                                "UPDATE hall_tickets SET state = $3
                                  WHERE hall = $1 AND ticket_id = $2 AND state = 'called'
                                 RETURNING display, counter",
                                &[&hall, &id, &action.state()],
                            )
                            .await
                    }
                    Action::Transfer { category, counter } => {
                        client
                            .query_opt(
                                "UPDATE hall_tickets SET state = 'waiting', category = $3, for_counter = $4, counter = NULL
                                  WHERE hall = $1 AND ticket_id = $2 AND state = 'called'
                                 RETURNING display, for_counter",
                                &[&hall, &id, category, counter],
                            )
                            .await
                    }
                }
                .map_err(failed)?;
                if let Some(r) = row {
                    return Ok(Acted::Done { display: r.get(0), state: action.state().to_owned(), counter: r.get(1) });
                }
                let found = client
                    .query_opt("SELECT display, state FROM hall_tickets WHERE hall = $1 AND ticket_id = $2", &[&hall, &id])
                    .await
                    .map_err(failed)?;
                Ok(found.map_or(Acted::Unknown, |r| Acted::NotCalled { display: r.get(0), state: r.get(1) }))
            })
        })
    }

    /// The hall's waiting tickets per category on `business_day` (categories with none are left out).
    pub fn waiting(&mut self, business_day: &str, now: Instant) -> Result<Vec<(String, u32)>, TakeError> {
        let (hall, day) = (self.hall().to_owned(), business_day.to_owned());
        self.run(now, move |client| {
            Box::pin(async move {
                let rows = client
                    .query(
                        "SELECT category, count(*) FROM hall_tickets
                          WHERE hall = $1 AND business_day = $2::text::date AND state = 'waiting'
                          GROUP BY category ORDER BY category",
                        &[&hall, &day],
                    )
                    .await
                    .map_err(failed)?;
                Ok(rows
                    .iter()
                    .map(|r| (r.get::<_, String>(0), u32::try_from(r.get::<_, i64>(1)).unwrap_or(u32::MAX)))
                    .collect())
            })
        })
    }

    /// The hall's calls after `since` (a call's id; 0 for the latest), oldest first, at most `limit`, of the
    /// last day.
    pub fn calls(&mut self, since: i64, limit: u32, now: Instant) -> Result<Vec<Call>, TakeError> {
        let hall = self.hall().to_owned();
        let limit = i64::from(limit);
        self.run(now, move |client| {
            Box::pin(async move {
                let rows = client
                    .query(
                        "SELECT id, ticket_id, display, category, counter, recall, extract(epoch FROM at)::float8
                           FROM hall_calls
                          WHERE hall = $1 AND id > $2 AND at > now() - interval '1 day'
                          ORDER BY id DESC LIMIT $3",
                        &[&hall, &since, &limit],
                    )
                    .await
                    .map_err(failed)?;
                let mut calls: Vec<Call> = rows
                    .iter()
                    .map(|r| Call {
                        id: r.get(0),
                        ticket_id: r.get(1),
                        display: r.get(2),
                        category: r.get(3),
                        counter: r.get(4),
                        recall: r.get(5),
                        at_epoch_s: r.get(6),
                    })
                    .collect();
                calls.reverse();
                Ok(calls)
            })
        })
    }
}

impl HallCounter {
    /// The hall's state of this kiosk's tickets of `business_day`: (ticket id, state, category it waits in),
    /// so the kiosk's own records follow what counters elsewhere did with them.
    pub fn own_tickets(
        &mut self,
        kiosk_id: &str,
        business_day: &str,
        now: Instant,
    ) -> Result<Vec<(String, String, String)>, TakeError> {
        let (hall, kiosk, day) = (self.hall().to_owned(), kiosk_id.to_owned(), business_day.to_owned());
        self.run(now, move |client| {
            Box::pin(async move {
                let rows = client
                    .query(
                        "SELECT ticket_id, state, category FROM hall_tickets
                          WHERE hall = $1 AND kiosk_id = $2 AND business_day = $3::text::date",
                        &[&hall, &kiosk, &day],
                    )
                    .await
                    .map_err(failed)?;
                Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
            })
        })
    }
}
