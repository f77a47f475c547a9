//! The counter calls (call-next, recall, complete, no-show, the waiting counts), sans-IO: a method, a path and
//! a body in, a request or the client's error out; then the request carried out against the queue.

use journal::{JournalError, TicketState, payload};
use queue::{Queue, QueueError, business_day};
use serde_json::{Value, json};

/// A parsed API request, independent of the HTTP library (so routing is testable without sockets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRequest {
    CallNext {
        counter: String,
        categories: Vec<String>,
    },
    Recall {
        ticket_id: String,
        counter: String,
    },
    Complete {
        ticket_id: String,
    },
    NoShow {
        ticket_id: String,
    },
    /// Back to waiting in `category` (for `counter` only when given).
    Transfer {
        ticket_id: String,
        category: String,
        counter: Option<String>,
    },
    Queue,
    /// The calls after `since` (0: the latest), for the calling display.
    Calls {
        since: i64,
    },
}

/// An HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Value,
}

pub fn error(status: u16, message: impl Into<String>) -> ApiResponse {
    ApiResponse { status, body: json!({ "error": message.into() }) }
}

/// Longest counter name, ticket id and category prefix a client may send: a counter is "3" or "窗口12", a
/// ticket id a UUID-like string, a prefix one or two letters.
pub const MAX_COUNTER: usize = 32;
pub const MAX_TICKET_ID: usize = 64;
pub const MAX_CATEGORY: usize = 8;
pub const MAX_CATEGORIES: usize = 32;

/// A field longer than its cap: 400 with the field named.
fn too_long(field: &str, max: usize) -> ApiResponse {
    error(400, format!("`{field}` is longer than {max} characters; send the short name the kiosk knows."))
}

/// Maps method, path (without its query, `/api/v1/…` or the old `/api/…`) and body to a request, or to
/// the error response a client gets.
pub fn route(method: &str, path: &str, body: &[u8]) -> Result<ApiRequest, ApiResponse> {
    let raw_path = path;
    let path = path.split('?').next().unwrap_or("");
    let path = path.strip_prefix("/api/v1/").map_or_else(|| path.to_owned(), |rest| format!("/api/{rest}"));
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let json_body = || -> Result<Value, ApiResponse> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        serde_json::from_slice(body).map_err(|e| error(400, format!("The request body is not JSON ({e}).")))
    };
    match (method, parts.as_slice()) {
        ("GET", ["", "api", "queue"]) => Ok(ApiRequest::Queue),
        ("GET", ["", "api", "calls"]) => {
            let since = query_since(raw_path)?;
            Ok(ApiRequest::Calls { since })
        }
        ("POST", ["", "api", "counters", counter, "call-next"]) => {
            let v = json_body()?;
            let categories = match v.get("categories") {
                Some(Value::Array(a)) if !a.is_empty() => a
                    .iter()
                    .map(|c| {
                        c.as_str().map(str::to_owned).ok_or_else(|| {
                            error(400, "`categories` must be a list of prefixes such as [\"A\", \"B\"].")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return Err(error(400, "Send {\"categories\": [\"A\", …]}: the categories this counter serves.")),
            };
            if counter.chars().count() > MAX_COUNTER {
                return Err(too_long("counter", MAX_COUNTER));
            }
            if categories.len() > MAX_CATEGORIES {
                return Err(error(400, format!("`categories` lists more than {MAX_CATEGORIES} categories.")));
            }
            if categories.iter().any(|c| c.chars().count() > MAX_CATEGORY) {
                return Err(too_long("categories", MAX_CATEGORY));
            }
            Ok(ApiRequest::CallNext { counter: (*counter).to_owned(), categories })
        }
        ("POST", ["", "api", "tickets", id, action]) => {
            if id.chars().count() > MAX_TICKET_ID {
                return Err(too_long("ticket_id", MAX_TICKET_ID));
            }
            let ticket_id = (*id).to_owned();
            match *action {
                "recall" => {
                    let v = json_body()?;
                    let counter = v.get("counter").and_then(Value::as_str).unwrap_or("").to_owned();
                    if counter.chars().count() > MAX_COUNTER {
                        return Err(too_long("counter", MAX_COUNTER));
                    }
                    Ok(ApiRequest::Recall { ticket_id, counter })
                }
                "complete" => Ok(ApiRequest::Complete { ticket_id }),
                "no-show" => Ok(ApiRequest::NoShow { ticket_id }),
                "transfer" => {
                    let v = json_body()?;
                    let category = match v.get("category").and_then(Value::as_str) {
                        Some(c) if !c.is_empty() => c.to_owned(),
                        _ => {
                            return Err(error(
                                400,
                                "Send {\"category\": \"B\"} (and \"counter\" to send it to one window).",
                            ));
                        }
                    };
                    if category.chars().count() > MAX_CATEGORY {
                        return Err(too_long("category", MAX_CATEGORY));
                    }
                    let counter = match v.get("counter") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(c)) if c.chars().count() > MAX_COUNTER => {
                            return Err(too_long("counter", MAX_COUNTER));
                        }
                        Some(Value::String(c)) if !c.is_empty() => Some(c.clone()),
                        Some(Value::String(_)) => None,
                        Some(_) => return Err(error(400, "`counter` must be a window's name such as \"3\".")),
                    };
                    Ok(ApiRequest::Transfer { ticket_id, category, counter })
                }
                _ => Err(error(
                    404,
                    format!("Unknown ticket action \"{action}\"; use recall, complete, no-show or transfer."),
                )),
            }
        }
        (_, ["", "api", ..]) => Err(error(404, format!("No API endpoint {method} {path}."))),
        _ => Err(error(404, "Not found.")),
    }
}

/// `since` from a query string: a call's id, 0 when absent.
fn query_since(path: &str) -> Result<i64, ApiResponse> {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    match query.split('&').find_map(|p| p.strip_prefix("since=")) {
        None => Ok(0),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| error(400, "`since` must be a call's id: a whole number, 0 or more.")),
    }
}

/// Carries out a request against the queue at time `now`.
pub fn handle(
    queue: &Queue,
    tz: &jiff::tz::TimeZone,
    rollover: u32,
    req: ApiRequest,
    now: jiff::Timestamp,
) -> ApiResponse {
    let day = business_day(now, tz, rollover).to_string();
    // With a hall queue, the hall's: any counter calls any kiosk's tickets. When the hall database does not
    // answer (within its deadline), this kiosk's own tickets, as a kiosk alone would.
    let shared = queue.hall().is_some();
    let mut response = if shared && let Some(answered) = in_hall::handle(queue, &day, &req) {
        answered.unwrap_or_else(|e| queue_error(&e))
    } else {
        handle_here(queue, &day, req)
    };
    // Whether this kiosk takes part in a hall queue: with `hall` false, its database did not answer.
    if let Some(body) = response.body.as_object_mut() {
        body.insert("shared".into(), json!(shared));
        body.entry("hall").or_insert(json!(false));
    }
    response
}

/// A counter call against this kiosk's own tickets (a kiosk alone, or a hall database that did not answer).
fn handle_here(queue: &Queue, day: &str, req: ApiRequest) -> ApiResponse {
    let day = day.to_owned();
    let result = match req {
        ApiRequest::Queue => waiting_counts(queue, &day),
        ApiRequest::CallNext { counter, categories } => call_next(queue, &day, &counter, &categories),
        ApiRequest::Recall { ticket_id, counter } => {
            transition(queue, &ticket_id, TicketState::Called, |ticket_id, state| {
                payload::TicketCalled { ticket_id, state, counter, recall: true }.into()
            })
        }
        ApiRequest::Complete { ticket_id } => {
            transition(queue, &ticket_id, TicketState::Completed, |ticket_id, state| {
                payload::TicketCompleted { ticket_id, state }.into()
            })
        }
        ApiRequest::NoShow { ticket_id } => transition(queue, &ticket_id, TicketState::NoShow, |ticket_id, state| {
            payload::TicketNoShow { ticket_id, state }.into()
        }),
        ApiRequest::Transfer { ticket_id, category, counter } => transfer(queue, &ticket_id, &category, counter),
        ApiRequest::Calls { since } => local_calls(queue, &day, since),
    };
    result.unwrap_or_else(|e| queue_error(&e))
}

/// A queue refusal as the staff client gets it: its own status, the sentence, and the next opening when
/// the category is closed.
pub fn queue_error(e: &QueueError) -> ApiResponse {
    let mut r = error(e.http_status(), e.to_string());
    if let QueueError::Closed { opens_zh, opens_en, .. } = e {
        r.body["opens_zh"] = json!(opens_zh);
        r.body["opens_en"] = json!(opens_en);
    }
    r
}

fn waiting_counts(queue: &Queue, day: &str) -> Result<ApiResponse, QueueError> {
    let conn = journal::open_reader(&queue.journal().settings().path)?;
    let mut out = serde_json::Map::new();
    for cat in queue.categories() {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM tickets WHERE business_day = ?1 AND coalesce(waits_in, prefix) = ?2 AND state IN ('printed', 'shown')",
                [day, &cat.prefix],
                |r| r.get(0),
            )
            .map_err(JournalError::from)?;
        out.insert(cat.prefix.clone(), json!({ "waiting": n, "name_zh": cat.name_zh, "name_en": cat.name_en }));
    }
    Ok(ApiResponse { status: 200, body: json!({ "business_day": day, "hall": false, "categories": out }) })
}

fn call_next(queue: &Queue, day: &str, counter: &str, categories: &[String]) -> Result<ApiResponse, QueueError> {
    for c in categories {
        if !queue.categories().iter().any(|k| &k.prefix == c) {
            return Ok(error(400, format!("There is no queue category \"{c}\".")));
        }
    }
    let (day, counter_owned, cats) = (day.to_owned(), counter.to_owned(), categories.to_vec());
    let shared = queue.hall().is_some();
    let (_, called) = queue.journal().transact(move |conn| {
        let marks = (0..cats.len()).map(|i| format!("?{}", i + 2)).collect::<Vec<_>>().join(", ");
        // Priority tickets first, then the order they were issued in.
        let sql = format!(
            "SELECT id, prefix, number FROM tickets WHERE business_day = ?1 AND state IN ('printed', 'shown')
                AND coalesce(waits_in, prefix) IN ({marks}) AND (for_counter IS NULL OR for_counter = ?{counter_mark})
             ORDER BY priority DESC, issued_seq, number LIMIT 1",
            counter_mark = cats.len() + 2
        );
        let mut args: Vec<&dyn rusqlite::ToSql> = vec![&day];
        args.extend(cats.iter().map(|c| c as &dyn rusqlite::ToSql));
        args.push(&counter_owned);
        let row = conn.query_row(&sql, args.as_slice(), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        });
        let (id, prefix, number) = match row {
            Ok(r) => r,
            Err(rusqlite::Error::QueryReturnedNoRows) => return Ok((vec![], None)),
            Err(e) => return Err(e.into()),
        };
        conn.execute("UPDATE tickets SET state = 'called', for_counter = NULL WHERE id = ?1", [&id])?;
        // A number shown on screen, not printed: the code the citizen's screen shows, for the clerk.
        let shown_code: Option<String> = conn
            .query_row(
                "SELECT json_extract(payload, '$.code') FROM entries
                  WHERE kind = 'ticket_shown' AND json_extract(payload, '$.ticket_id') = ?1",
                [&id],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
        // With a hall queue whose database is away: the hall learns of this call when it is back.
        if shared {
            conn.execute("INSERT OR IGNORE INTO hall_pending (ticket_id) VALUES (?1)", [&id])?;
        }
        let entry = payload::TicketCalled {
            ticket_id: id.clone(),
            state: TicketState::Called,
            counter: counter_owned,
            recall: false,
        }
        .into();
        Ok((vec![entry], Some((id, prefix, number, shown_code))))
    })?;
    Ok(match called {
        None => ApiResponse {
            status: 200,
            body: json!({ "called": null, "message": "No ticket is waiting in these categories." }),
        },
        Some((id, prefix, _, shown_code)) => {
            let (ticket, _) = queue.load(&id)?;
            ApiResponse {
                status: 200,
                body: json!({ "called": { "ticket_id": id, "number": ticket.display, "category": prefix, "counter": counter,
                              "shown_code": shown_code } }),
            }
        }
    })
}

/// Sends a called ticket of this kiosk back to wait in `category` (its place by its issue time), for
/// `counter` only when given.
fn transfer(
    queue: &Queue,
    ticket_id: &str,
    category: &str,
    counter: Option<String>,
) -> Result<ApiResponse, QueueError> {
    if !queue.categories().iter().any(|k| k.prefix == category) {
        return Ok(error(400, format!("There is no queue category \"{category}\".")));
    }
    let (ticket, state) = queue.load(ticket_id)?;
    if state != TicketState::Called {
        return Ok(error(409, format!("Ticket {} is {state}; this needs a ticket that is called.", ticket.display)));
    }
    let entry = payload::TicketTransferred {
        ticket_id: ticket_id.to_owned(),
        state: TicketState::Printed,
        category: category.to_owned(),
        counter: counter.clone(),
    };
    queue.transfer(ticket_id, category, counter.as_deref(), entry)?;
    Ok(ApiResponse {
        status: 200,
        body: json!({ "ticket_id": ticket_id, "number": ticket.display, "state": "waiting", "category": category, "counter": counter }),
    })
}

/// This kiosk's calls of the business day after `since` (the journal's seq is the cursor), for the calling
/// display of a kiosk alone.
fn local_calls(queue: &Queue, day: &str, since: i64) -> Result<ApiResponse, QueueError> {
    let conn = journal::open_reader(&queue.journal().settings().path)?;
    let mut stmt = conn
        .prepare(
            "SELECT e.seq, t.id, t.prefix, t.number, coalesce(t.waits_in, t.prefix), json_extract(e.payload, '$.counter'),
                    coalesce(json_extract(e.payload, '$.recall'), 0), e.time_utc
               FROM entries e JOIN tickets t ON t.id = json_extract(e.payload, '$.ticket_id')
              WHERE e.kind = 'ticket_called' AND e.seq > ?1 AND t.business_day = ?2
              ORDER BY e.seq DESC LIMIT 50",
        )
        .map_err(JournalError::from)?;
    let mut calls: Vec<Value> = stmt
        .query_map(rusqlite::params![since, day], |r| {
            let (prefix, number): (String, i64) = (r.get(2)?, r.get(3)?);
            let width =
                queue.categories().iter().find(|c| c.prefix == prefix).map_or(3, |c| c.last.to_string().len().max(3));
            Ok(json!({
                "id": r.get::<_, i64>(0)?,
                "ticket_id": r.get::<_, String>(1)?,
                "number": format!("{prefix}{number:0width$}"),
                "category": r.get::<_, String>(4)?,
                "counter": r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                "recall": r.get::<_, i64>(6)? != 0,
                "at": r.get::<_, String>(7)?,
            }))
        })
        .map_err(JournalError::from)?
        .collect::<Result<_, _>>()
        .map_err(JournalError::from)?;
    calls.reverse();
    Ok(ApiResponse { status: 200, body: json!({ "hall": false, "calls": calls }) })
}

/// Moves a called ticket to `to` (recall keeps it called), journaled with the entry `entry` makes.
fn transition(
    queue: &Queue,
    ticket_id: &str,
    to: TicketState,
    entry: impl FnOnce(String, TicketState) -> journal::NewEntry,
) -> Result<ApiResponse, QueueError> {
    let (ticket, state) = queue.load(ticket_id)?;
    if state != TicketState::Called {
        return Ok(error(409, format!("Ticket {} is {state}; this needs a ticket that is called.", ticket.display)));
    }
    queue.record(ticket_id, to, entry(ticket_id.to_owned(), to), "")?;
    Ok(ApiResponse { status: 200, body: json!({ "ticket_id": ticket_id, "number": ticket.display, "state": to }) })
}

/// The counter calls against the hall's queue (issue #31): the hall's order across every kiosk, calls
/// journaled by the kiosk that answered them. None when the hall database did not answer (the caller uses this
/// kiosk's own tickets).
mod in_hall {
    use super::{ApiRequest, ApiResponse, error};
    use journal::{TicketState, payload};
    use queue::{Acted, HallAction, Queue, QueueError};
    use serde_json::json;
    use std::time::Instant;

    pub fn handle(queue: &Queue, day: &str, req: &ApiRequest) -> Option<Result<ApiResponse, QueueError>> {
        let now = Instant::now();
        // What this kiosk printed (or called) while the hall database was away goes in first.
        queue.publish_pending(now);
        let hall = queue.hall()?;
        match req {
            ApiRequest::Queue => {
                let waiting = hall.lock().ok()?.waiting(day, now).ok()?;
                let mut out = serde_json::Map::new();
                for cat in queue.categories() {
                    let n = waiting.iter().find(|(c, _)| *c == cat.prefix).map_or(0, |(_, n)| *n);
                    out.insert(
                        cat.prefix.clone(),
                        json!({ "waiting": n, "name_zh": cat.name_zh, "name_en": cat.name_en }),
                    );
                }
                Some(Ok(ApiResponse {
                    status: 200,
                    body: json!({ "business_day": day, "hall": true, "categories": out }),
                }))
            }
            ApiRequest::Calls { since } => {
                let calls = hall.lock().ok()?.calls(*since, 50, now).ok()?;
                let calls: Vec<serde_json::Value> = calls
                    .iter()
                    .map(|c| {
                        let at = jiff::Timestamp::from_millisecond((c.at_epoch_s * 1000.0) as i64)
                            .map(|t| t.to_string())
                            .unwrap_or_default();
                        json!({ "id": c.id, "ticket_id": c.ticket_id, "number": c.display, "category": c.category,
                                "counter": c.counter, "recall": c.recall, "at": at })
                    })
                    .collect();
                Some(Ok(ApiResponse { status: 200, body: json!({ "hall": true, "calls": calls }) }))
            }
            ApiRequest::CallNext { counter, categories } => {
                if let Some(c) = categories.iter().find(|c| !queue.categories().iter().any(|k| &&k.prefix == c)) {
                    return Some(Ok(error(400, format!("There is no queue category \"{c}\"."))));
                }
                let called = hall.lock().ok()?.call_next(day, counter, categories, now).ok()?;
                Some(match called {
                    None => Ok(ApiResponse {
                        status: 200,
                        body: json!({ "called": null, "hall": true, "message": "No ticket is waiting in these categories." }),
                    }),
                    Some(c) => {
                        let entry = payload::TicketCalled {
                            ticket_id: c.ticket_id.clone(),
                            state: TicketState::Called,
                            counter: counter.clone(),
                            recall: false,
                        };
                        queue.journal_hall_action(&c.ticket_id, TicketState::Called, None, entry).map(|_| ApiResponse {
                            status: 200,
                            body: json!({ "called": { "ticket_id": c.ticket_id, "number": c.display, "category": c.category,
                                          "counter": counter, "kiosk_id": c.kiosk_id, "shown_code": c.shown_code },
                                          "hall": true }),
                        })
                    }
                })
            }
            ApiRequest::Recall { ticket_id, counter } => {
                act(queue, ticket_id, HallAction::Recall { counter: counter.clone() }, now)
            }
            ApiRequest::Complete { ticket_id } => act(queue, ticket_id, HallAction::Complete, now),
            ApiRequest::NoShow { ticket_id } => act(queue, ticket_id, HallAction::NoShow, now),
            ApiRequest::Transfer { ticket_id, category, counter } => {
                if !queue.categories().iter().any(|k| &k.prefix == category) {
                    return Some(Ok(error(400, format!("There is no queue category \"{category}\"."))));
                }
                act(
                    queue,
                    ticket_id,
                    HallAction::Transfer { category: category.clone(), counter: counter.clone() },
                    now,
                )
            }
        }
    }

    fn act(
        queue: &Queue,
        ticket_id: &str,
        action: HallAction,
        now: Instant,
    ) -> Option<Result<ApiResponse, QueueError>> {
        let acted = queue.hall()?.lock().ok()?.act(ticket_id, &action, now).ok()?;
        Some(match acted {
            Acted::Unknown => Err(QueueError::UnknownTicket(ticket_id.to_owned())),
            Acted::NotCalled { display, state } => Ok(error(
                409,
                format!("Ticket {display} is {}; this needs a ticket that is called.", state.replace('_', "-")),
            )),
            Acted::Done { display, state, counter } => {
                let id = ticket_id.to_owned();
                let (local, waits_in, entry): (TicketState, Option<String>, journal::NewEntry) = match &action {
                    HallAction::Recall { counter: c } => (
                        TicketState::Called,
                        None,
                        payload::TicketCalled {
                            ticket_id: id,
                            state: TicketState::Called,
                            counter: c.clone(),
                            recall: true,
                        }
                        .into(),
                    ),
                    HallAction::Complete => (
                        TicketState::Completed,
                        None,
                        payload::TicketCompleted { ticket_id: id, state: TicketState::Completed }.into(),
                    ),
                    HallAction::NoShow => (
                        TicketState::NoShow,
                        None,
                        payload::TicketNoShow { ticket_id: id, state: TicketState::NoShow }.into(),
                    ),
                    HallAction::Transfer { category, counter } => (
                        TicketState::Printed,
                        Some(category.clone()),
                        payload::TicketTransferred {
                            ticket_id: id,
                            state: TicketState::Printed,
                            category: category.clone(),
                            counter: counter.clone(),
                        }
                        .into(),
                    ),
                };
                queue.journal_hall_action(ticket_id, local, waits_in, entry).map(|_| ApiResponse {
                    status: 200,
                    body: json!({ "ticket_id": ticket_id, "number": display, "state": state, "counter": counter, "hall": true }),
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_rejects() {
        assert_eq!(
            route("POST", "/api/counters/3/call-next", br#"{"categories":["A","B"]}"#),
            Ok(ApiRequest::CallNext { counter: "3".into(), categories: vec!["A".into(), "B".into()] })
        );
        assert_eq!(route("POST", "/api/counters/3/call-next", b"{").unwrap_err().status, 400);
        assert_eq!(route("POST", "/api/counters/3/call-next", br#"{"categories":[1]}"#).unwrap_err().status, 400);
        assert_eq!(route("POST", "/api/tickets/x/eat", b"").unwrap_err().status, 404);
        assert_eq!(route("GET", "/api/queue", b""), Ok(ApiRequest::Queue));
        assert_eq!(route("DELETE", "/api/queue", b"").unwrap_err().status, 404);
        assert_eq!(route("GET", "/api/v1/queue?x=1", b""), Ok(ApiRequest::Queue));
        let long = "9".repeat(60_000);
        let refused = route("POST", &format!("/api/v1/counters/{long}/call-next"), br#"{"categories":["A"]}"#);
        let refused = refused.unwrap_err();
        assert_eq!(refused.status, 400);
        assert!(refused.body["error"].as_str().unwrap().contains("`counter`"), "{}", refused.body);
        let refused = route("POST", "/api/v1/tickets/t/recall", format!("{{\"counter\":\"{long}\"}}").as_bytes());
        assert_eq!(refused.unwrap_err().status, 400);
    }

    #[test]
    fn queue_refusals_keep_their_meaning() {
        let closed = QueueError::Closed {
            name_zh: "综合业务".into(),
            name_en: "General services".into(),
            opens_zh: "明天 08:30".into(),
            opens_en: "tomorrow at 08:30".into(),
        };
        let r = queue_error(&closed);
        assert_eq!((r.status, r.body["opens_en"].as_str()), (423, Some("tomorrow at 08:30")));
        let full = QueueError::BandExhausted {
            name_zh: "综合业务".into(),
            name_en: "General services".into(),
            first: "A001".into(),
            last: "A999".into(),
        };
        assert_eq!(queue_error(&full).status, 409);
        let limit =
            QueueError::DailyLimit { name_zh: "综合业务".into(), name_en: "General services".into(), limit: 3 };
        assert_eq!(queue_error(&limit).status, 429);
        assert_eq!(queue_error(&QueueError::UnknownTicket("t".into())).status, 404);
        assert_eq!(queue_error(&QueueError::UnknownCategory("Z".into(), "A, B".into())).status, 404);
        assert_eq!(queue_error(&QueueError::Journal(JournalError::Stopped)).status, 500);
    }
}
