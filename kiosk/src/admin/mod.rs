//! The staff HTTP API on `[admin] listen`: bearer-token protected; for now the counter calls that make "waiting ahead" true.

use crate::config::Config;
use crate::journal::{JournalError, TicketState, payload};
use crate::queue::{Queue, QueueError, business_day};
use serde_json::{Value, json};
use std::io::Read;

/// A parsed API request, independent of the HTTP library (so routing is testable without sockets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRequest {
    CallNext { counter: String, categories: Vec<String> },
    Recall { ticket_id: String, counter: String },
    Complete { ticket_id: String },
    NoShow { ticket_id: String },
    Queue,
}

/// An HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Value,
}

fn error(status: u16, message: impl Into<String>) -> ApiResponse {
    ApiResponse { status, body: json!({ "error": message.into() }) }
}

const MAX_BODY: u64 = 64 * 1024;

/// Maps method, path and body to a request, or to the error response a client gets.
pub fn route(method: &str, path: &str, body: &[u8]) -> Result<ApiRequest, ApiResponse> {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let json_body = || -> Result<Value, ApiResponse> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        serde_json::from_slice(body).map_err(|e| error(400, format!("The request body is not JSON ({e}).")))
    };
    match (method, parts.as_slice()) {
        ("GET", ["", "api", "queue"]) => Ok(ApiRequest::Queue),
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
            Ok(ApiRequest::CallNext { counter: (*counter).to_owned(), categories })
        }
        ("POST", ["", "api", "tickets", id, action]) => {
            let ticket_id = (*id).to_owned();
            match *action {
                "recall" => {
                    let v = json_body()?;
                    let counter = v.get("counter").and_then(Value::as_str).unwrap_or("").to_owned();
                    Ok(ApiRequest::Recall { ticket_id, counter })
                }
                "complete" => Ok(ApiRequest::Complete { ticket_id }),
                "no-show" => Ok(ApiRequest::NoShow { ticket_id }),
                _ => Err(error(404, format!("Unknown ticket action \"{action}\"; use recall, complete or no-show."))),
            }
        }
        (_, ["", "api", ..]) => Err(error(404, format!("No API endpoint {method} {path}."))),
        _ => Err(error(404, "Not found.")),
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
    let conn = crate::journal::open_read_only(&queue.journal().settings().path)?;
    let mut out = serde_json::Map::new();
    for cat in queue.categories() {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM tickets WHERE business_day = ?1 AND prefix = ?2 AND state = 'printed'",
                [day, &cat.prefix],
                |r| r.get(0),
            )
            .map_err(JournalError::from)?;
        out.insert(cat.prefix.clone(), json!({ "waiting": n, "name_zh": cat.name_zh, "name_en": cat.name_en }));
    }
    Ok(ApiResponse { status: 200, body: json!({ "business_day": day, "categories": out }) })
}

fn call_next(queue: &Queue, day: &str, counter: &str, categories: &[String]) -> Result<ApiResponse, QueueError> {
    for c in categories {
        if !queue.categories().iter().any(|k| &k.prefix == c) {
            return Ok(error(400, format!("There is no queue category \"{c}\".")));
        }
    }
    let (day, counter_owned, cats) = (day.to_owned(), counter.to_owned(), categories.to_vec());
    let (_, called) = queue.journal().transact(move |conn| {
        let marks = (0..cats.len()).map(|i| format!("?{}", i + 2)).collect::<Vec<_>>().join(", ");
        // Priority tickets first, then the order they were issued in.
        let sql = format!(
            "SELECT id, prefix, number FROM tickets WHERE business_day = ?1 AND state = 'printed' AND prefix IN ({marks})
             ORDER BY priority DESC, issued_seq, number LIMIT 1"
        );
        let mut args: Vec<&dyn rusqlite::ToSql> = vec![&day];
        args.extend(cats.iter().map(|c| c as &dyn rusqlite::ToSql));
        let row = conn.query_row(&sql, args.as_slice(), |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)));
        let (id, prefix, number) = match row {
            Ok(r) => r,
            Err(rusqlite::Error::QueryReturnedNoRows) => return Ok((vec![], None)),
            Err(e) => return Err(e.into()),
        };
        conn.execute("UPDATE tickets SET state = 'called' WHERE id = ?1", [&id])?;
        let entry = payload::TicketCalled { ticket_id: id.clone(), state: TicketState::Called, counter: counter_owned, recall: false }.into();
        Ok((vec![entry], Some((id, prefix, number))))
    })?;
    Ok(match called {
        None => ApiResponse {
            status: 200,
            body: json!({ "called": null, "message": "No ticket is waiting in these categories." }),
        },
        Some((id, prefix, _)) => {
            let (ticket, _) = queue.load(&id)?;
            ApiResponse {
                status: 200,
                body: json!({ "called": { "ticket_id": id, "number": ticket.display, "category": prefix, "counter": counter } }),
            }
        }
    })
}

/// Moves a called ticket to `to` (recall keeps it called), journaled with the entry `entry` makes.
fn transition(
    queue: &Queue,
    ticket_id: &str,
    to: TicketState,
    entry: impl FnOnce(String, TicketState) -> crate::journal::NewEntry,
) -> Result<ApiResponse, QueueError> {
    let (ticket, state) = queue.load(ticket_id)?;
    if state != TicketState::Called {
        return Ok(error(409, format!("Ticket {} is {state}; this needs a ticket that is called.", ticket.display)));
    }
    queue.record(ticket_id, to, entry(ticket_id.to_owned(), to), "")?;
    Ok(ApiResponse { status: 200, body: json!({ "ticket_id": ticket_id, "number": ticket.display, "state": to }) })
}

/// The running staff API, for the kiosk to stop at shutdown.
pub struct AdminServer {
    server: std::sync::Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AdminServer {
    /// Stops accepting, lets the request in hand finish, and waits for the listener thread.
    pub fn stop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Listens on `[admin] listen` and serves on a thread of its own until [`AdminServer::stop`].
pub fn start(config: &Config, queue: Queue) -> anyhow::Result<AdminServer> {
    let server = std::sync::Arc::new(
        tiny_http::Server::http(&config.admin.listen)
            .map_err(|e| anyhow::anyhow!("cannot listen on {} ({e}); check [admin] listen", config.admin.listen))?,
    );
    let (s, config) = (server.clone(), config.clone());
    let thread = std::thread::Builder::new().name("admin-api".into()).spawn(move || {
        if let Err(e) = serve_on(&s, &config, queue) {
            log::warn!("the staff API stopped: {e:#}");
        }
    })?;
    Ok(AdminServer { server, thread: Some(thread) })
}

/// Serves the API until the process ends. Requests without a configured bearer token get 401.
pub fn serve(config: &Config, queue: Queue) -> anyhow::Result<()> {
    let server = tiny_http::Server::http(&config.admin.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {} ({e}); check [admin] listen", config.admin.listen))?;
    serve_on(&server, config, queue)
}

fn serve_on(server: &tiny_http::Server, config: &Config, queue: Queue) -> anyhow::Result<()> {
    log::info!("admin API on {}", config.admin.listen);
    let tz = config.tz().clone();
    let rollover = config.rollover_minutes();
    let hashes = config.admin.token_hashes.clone();
    for mut request in server.incoming_requests() {
        let authorised = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .and_then(|h| h.value.as_str().strip_prefix("Bearer ").map(str::to_owned))
            .is_some_and(|token| hashes.contains(&crate::secrets::token_hash(&token)));
        let response = if !authorised {
            error(401, "A valid bearer token is needed (Authorization: Bearer …).")
        } else {
            let mut body = Vec::new();
            let read = request.as_reader().take(MAX_BODY + 1).read_to_end(&mut body);
            if read.is_err() || body.len() as u64 > MAX_BODY {
                error(413, "The request body is too large or unreadable.")
            } else {
                match route(request.method().as_str(), request.url(), &body) {
                    Ok(req) => handle(&queue, &tz, rollover, req, jiff::Timestamp::now()),
                    Err(resp) => resp,
                }
            }
        };
        let header =
            tiny_http::Header::from_bytes("Content-Type", "application/json; charset=utf-8").expect("static header");
        let _ = request.respond(
            tiny_http::Response::from_string(response.body.to_string())
                .with_status_code(response.status)
                .with_header(header),
        );
    }
    Ok(())
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
