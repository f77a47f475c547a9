//! The staff API on `[admin] listen`: axum on a small tokio runtime of its own (the rest of the kiosk stays on
//! threads), TLS when configured, bearer tokens with roles, and limits on everything a client can make the
//! kiosk hold: body, header bytes, time, connections, requests in hand. docs/admin-api.md is its contract.

pub mod auth;
pub mod client;
pub mod counter;
pub mod hall_pages;
mod listener;
pub mod reports;
pub mod tls;

pub use counter::{ApiRequest, ApiResponse, handle, queue_error, route};

use auth::{Caller, Gate, Throttle, Tokens};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use config::Config;
use journal::Journal;
use queue::Queue;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a client can make the API hold, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body; a larger Content-Length gets 413 before a byte of it is read.
    pub max_body: usize,
    /// The body of PUT /api/v1/catalogue (a catalogue of thousands of items).
    pub max_catalogue: usize,
    /// Largest request head (hyper's read buffer; 8 KiB is its floor): beyond it 431.
    pub max_header_bytes: usize,
    /// From a head's first byte (or the connection opening) to its end; then 408 and close.
    pub header_read: Duration,
    /// From a complete head to the response, body read included; then 408.
    pub request: Duration,
    /// An idle keep-alive connection, or one whose client stopped reading, closes after this.
    pub idle: Duration,
    /// Open connections; beyond this new ones are closed at once.
    pub max_connections: usize,
    /// Open connections from one address (an IPv6 /64 counts as one): one peer cannot hold them all.
    pub max_connections_per_address: usize,
    /// A connection that has not shown a valid token closes after this long idle (the authenticated keep
    /// `idle`); a 401 or 429 answer also closes its connection.
    pub idle_unauthenticated: Duration,
    /// Requests being handled at once per role (counter, staff, technician): more of a role wait (within
    /// their deadline) for that role's turn, never another role's. A body is read before a turn is taken,
    /// so a stalled body holds no turn.
    pub max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 64 * 1024,
            max_catalogue: 8 * 1024 * 1024,
            max_header_bytes: 8 * 1024,
            header_read: Duration::from_secs(5),
            request: Duration::from_secs(10),
            idle: Duration::from_secs(30),
            max_connections: 512,
            max_connections_per_address: 32,
            idle_unauthenticated: Duration::from_secs(5),
            max_in_flight: 8,
        }
    }
}

/// The devices a running kiosk lets the API report on; `kiosk admin serve` has none (they belong to
/// `kiosk run`).
#[derive(Clone, Default)]
pub struct Devices {
    pub printer: Option<devices::TicketPrinter>,
    pub reader: Option<devices::IdReaderHandle>,
    pub licence: Option<Arc<devices::DeviceHealth<drivers::ipp::PrinterFault>>>,
    /// What the kiosk's own journal checks found.
    pub integrity: Option<journal::integrity::IntegrityStatus>,
    /// The service catalogue 事项查询 uses, replaced by PUT /api/v1/catalogue.
    pub catalogue: Option<catalogue::store::CatalogueStore>,
}

/// Everything a handler may use.
pub struct Api {
    pub config: Config,
    pub queue: Queue,
    pub journal: Journal,
    pub devices: Devices,
    pub readers: reports::Readers,
    tokens: Tokens,
    throttle: Mutex<Throttle>,
    limits: Limits,
    /// Turns per role: [counter, staff, technician].
    in_flight: [tokio::sync::Semaphore; 3],
    started: std::time::Instant,
    /// The journal's head when this process started: metrics count what happened since.
    pub boot_seq: u64,
}

/// The running staff API, for the kiosk to stop at shutdown.
pub struct AdminServer {
    thread: Option<owner::Owned>,
    api: Arc<Api>,
    /// Where it listens (the configured port, or the one the system chose for port 0).
    pub local_addr: SocketAddr,
}

impl AdminServer {
    /// Stops accepting, lets requests in hand finish (2 s at most), journals the unreported failed logins
    /// and waits for the API's thread.
    pub fn stop(&mut self) {
        // Only the first stop journals: the thread is gone after it.
        if let Some(mut t) = self.thread.take() {
            t.stop();
            journal_auth_failures(&self.api);
        }
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Why the staff API could not start: each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("[admin] tls_cert and tls_key are both needed for TLS")]
    TlsFiles,
    #[error("the staff API's TLS key {} is refused: {why}", path.display())]
    PrivateKey { path: std::path::PathBuf, why: std::io::Error },
    #[error(transparent)]
    Tls(#[from] ::net::tls::TlsError),
    #[error("cannot listen on {listen} ({why}); check [admin] listen")]
    Listen { listen: String, why: std::io::Error },
    #[error("the staff API cannot start ({0})")]
    Io(#[from] std::io::Error),
}

/// Listens on `[admin] listen` and serves on a thread of its own until [`AdminServer::stop`]. Errors that
/// a technician must fix (address in use, unreadable certificate) come back here, not from the thread.
pub fn start(config: &Config, queue: Queue, devices: Devices) -> Result<AdminServer, StartError> {
    start_with(config, queue, devices, Limits::default())
}

pub fn start_with(config: &Config, queue: Queue, devices: Devices, limits: Limits) -> Result<AdminServer, StartError> {
    let listen = &config.admin.listen;
    let tls = if config.admin.tls() { Some(tls::acceptor(&config.admin)?) } else { None };
    let std_listener =
        std::net::TcpListener::bind(listen).map_err(|why| StartError::Listen { listen: listen.clone(), why })?;
    std_listener.set_nonblocking(true)?;
    let local_addr = std_listener.local_addr()?;
    let journal = queue.journal().clone();
    let readers = reports::Readers::new(&journal);
    let boot_seq = reports::head_seq(&readers).unwrap_or(0);
    let api = Arc::new(Api {
        tokens: Tokens::new(&config.admin.tokens),
        config: config.clone(),
        queue,
        journal,
        devices,
        readers,
        throttle: Mutex::new(Throttle::default()),
        limits,
        in_flight: std::array::from_fn(|_| tokio::sync::Semaphore::new(limits.max_in_flight)),
        started: std::time::Instant::now(),
        boot_seq,
    });
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(8)
        .thread_name("admin-api-blocking")
        .build()?;
    let router = router(api.clone());
    let flusher_api = api.clone();
    let scheme = if tls.is_some() { "https" } else { "http" };
    log::info!("staff API on {scheme}://{local_addr}");
    let thread = owner::Owned::spawn("admin-api", move |_| {
        runtime.block_on(async move {
            let listener = match tokio::net::TcpListener::from_std(std_listener) {
                Ok(l) => l,
                Err(e) => {
                    log::error!("the staff API cannot use its socket: {e}");
                    return;
                }
            };
            let mut flush_stop = stop_rx.clone();
            let flusher = tokio::spawn(async move {
                let mut every = tokio::time::interval(auth::WINDOW);
                every.tick().await;
                loop {
                    tokio::select! {
                        _ = flush_stop.changed() => break,
                        _ = every.tick() => {
                            let api = flusher_api.clone();
                            let _ = tokio::task::spawn_blocking(move || journal_auth_failures(&api)).await;
                        }
                    }
                }
            });
            listener::accept_loop(listener, tls, router, limits, stop_rx).await;
            let _ = flusher.await;
        });
        runtime.shutdown_timeout(Duration::from_secs(3));
    })?
    // The async side waits on its own watch channel; the owner's stop sends on it.
    .waking_with(move || {
        let _ = stop.send(true);
    });
    Ok(AdminServer { thread: Some(thread), api, local_addr })
}

/// Serves the API without the UI until SIGTERM or SIGINT, then stops cleanly.
pub fn serve(config: &Config, queue: Queue) -> Result<(), StartError> {
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT])?;
    let mut server = start(config, queue, Devices::default())?;
    if let Some(sig) = signals.forever().next() {
        log::info!("signal {sig}: stopping the staff API");
    }
    server.stop();
    Ok(())
}

/// At most this many `auth_failed` entries a minute: one per peer, the most failing first, and the rest
/// of the peers folded into one more entry, so a flood from many addresses cannot grow the journal.
pub const MAX_AUTH_FAILED_ENTRIES: usize = 16;

/// One `auth_failed` entry per peer with failures since its last one, at most [`MAX_AUTH_FAILED_ENTRIES`].
fn journal_auth_failures(api: &Api) {
    let reports = match api.throttle.lock() {
        Ok(mut t) => t.drain(std::time::Instant::now()),
        Err(_) => return,
    };
    for entry in auth_failed_entries(reports) {
        let address = entry.address.clone();
        if let Err(e) = api.journal.append(entry.into()) {
            log::error!("staff API: failed logins from {address} not journaled: {e}");
        }
    }
}

/// The entries for a minute's reports: the [`MAX_AUTH_FAILED_ENTRIES`]` - 1` peers with the most failures
/// each in its own entry, the others summed in one whose address says how many they were.
pub fn auth_failed_entries(mut reports: Vec<auth::Report>) -> Vec<journal::payload::AuthFailed> {
    reports.sort_by(|a, b| {
        (b.failures + b.refused_while_blocked)
            .cmp(&(a.failures + a.refused_while_blocked))
            .then(a.address.cmp(&b.address))
    });
    let keep = if reports.len() > MAX_AUTH_FAILED_ENTRIES { MAX_AUTH_FAILED_ENTRIES - 1 } else { reports.len() };
    let rest = reports.split_off(keep);
    let mut entries: Vec<journal::payload::AuthFailed> = reports
        .into_iter()
        .map(|r| journal::payload::AuthFailed {
            address: r.address.to_string(),
            failures: r.failures,
            refused_while_blocked: r.refused_while_blocked,
            blocked: r.blocked,
        })
        .collect();
    if !rest.is_empty() {
        entries.push(journal::payload::AuthFailed {
            address: format!("{} other addresses", rest.len()),
            failures: rest.iter().map(|r| r.failures).fold(0, u32::saturating_add),
            refused_while_blocked: rest.iter().map(|r| r.refused_while_blocked).fold(0, u32::saturating_add),
            blocked: rest.iter().any(|r| r.blocked),
        });
    }
    entries
}

fn router(api: Arc<Api>) -> axum::Router {
    let counter_routes = |prefix: &str| {
        axum::Router::new()
            .route(&format!("{prefix}/queue"), get(counter_call))
            .route(&format!("{prefix}/calls"), get(counter_call))
            .route(&format!("{prefix}/counters/{{counter}}/call-next"), post(counter_call))
            .route(&format!("{prefix}/tickets/{{id}}/{{action}}"), post(counter_call))
    };
    axum::Router::new()
        .merge(counter_routes("/api/v1"))
        // The paths before /api/v1, kept for one release and answering the same.
        .merge(counter_routes("/api"))
        .route("/api/v1/journal", get(journal_page))
        .route("/api/v1/checkpoint", get(checkpoint))
        .route("/api/v1/health", get(health))
        .route("/api/v1/test-print", post(test_print))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/catalogue", axum::routing::put(put_catalogue).get(catalogue_info))
        .route("/api/v1/catalogue/partners", axum::routing::put(put_partners))
        .route("/metrics", get(metrics))
        .route("/api/v1/announcement", get(announcement))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(api.clone(), gate))
        // The hall's pages hold only code: served without a token (their calls carry the counter token).
        .merge(
            axum::Router::new()
                .route("/counter", get(|| async { page("text/html; charset=utf-8", hall_pages::COUNTER_HTML) }))
                .route("/display", get(|| async { page("text/html; charset=utf-8", hall_pages::DISPLAY_HTML) }))
                .route("/hall.js", get(|| async { page("text/javascript; charset=utf-8", hall_pages::HALL_JS) }))
                .route("/hall.css", get(|| async { page("text/css; charset=utf-8", hall_pages::HALL_CSS) })),
        )
        .with_state(api)
}

/// One of the hall's pages, with a policy that lets it load only itself and talk only to this server.
fn page(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// How long the synthesiser may take for one announcement.
const ANNOUNCEMENT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// A call as the hall hears it (`?number=A001&counter=3&lang=zh|en`): WAV from the kiosk's voice engine
/// (espeak-ng), which the calling display plays.
async fn announcement(
    State(api): State<Arc<Api>>,
    q: Result<
        axum::extract::Query<std::collections::HashMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    let Ok(axum::extract::Query(q)) = q else {
        return refuse(400, "The query is not name=value pairs; send ?number=A001&counter=3&lang=zh.");
    };
    let get = |name: &str| q.get(name).cloned().unwrap_or_default();
    let english = match get("lang").as_str() {
        "zh" => false,
        "en" => true,
        _ => return refuse(400, "`lang` must be zh or en."),
    };
    let text = match hall_pages::announcement(&get("number"), &get("counter"), english) {
        Ok(t) => t,
        Err(why) => return refuse(400, &why),
    };
    let voice = api.config.voice.clone();
    let rendered = blocking(move || {
        let spoken = devices::voice::Spoken { text, english, slow: false };
        devices::voice::render_wav_bytes(&voice, &spoken, ANNOUNCEMENT_DEADLINE)
    })
    .await;
    match rendered {
        Ok(Ok(wav)) => {
            let mut r = wav.into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
            r
        }
        Ok(Err(e)) => {
            refuse(503, &format!("The announcement could not be spoken ({e}); the display still shows the call."))
        }
        Err(r) => r,
    }
}

/// A JSON body with a status.
pub fn json_response(status: u16, body: &serde_json::Value) -> Response {
    let mut r =
        (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

fn refuse(status: u16, message: &str) -> Response {
    json_response(status, &json!({ "error": message }))
}

/// Everything before a handler, in order: the body's declared size, a turn among the requests in hand,
/// the address's throttle, the token and its role, then the body read within its limit — all inside the
/// request's deadline.
async fn gate(State(api): State<Arc<Api>>, req: Request, next: Next) -> Response {
    let limits = api.limits;
    // A catalogue is far larger than any other request.
    let max_body =
        if req.uri().path().starts_with("/api/v1/catalogue") { limits.max_catalogue } else { limits.max_body };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).map(|v| v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()));
    match declared {
        Some(None) => return refuse(400, "The Content-Length header is not a number."),
        Some(Some(n)) if n > max_body as u64 => {
            return refuse(
                413,
                &format!("The request body of {n} bytes is over the limit of {max_body} bytes; nothing was read."),
            );
        }
        _ => {}
    }
    let work = async {
        let peer = req.extensions().get::<listener::Peer>().map(|p| p.0);
        let conn = req.extensions().get::<listener::ConnAuth>().cloned();
        // Throttled by peer: an IPv6 /64 is one peer (one host can take any address in it).
        let ip = peer.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |p| listener::peer_key(p.ip()));
        let now = std::time::Instant::now();
        let gate = api.throttle.lock().map(|mut t| t.gate(ip, now)).unwrap_or(Gate::Open);
        if let Gate::Blocked { retry_after_s } = gate {
            let mut r = refuse(
                429,
                &format!(
                    "Too many wrong tokens from this address; try again in {retry_after_s} s with the right token."
                ),
            );
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            return closing(r);
        }
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let caller: Option<Caller> = presented.and_then(|t| api.tokens.check(t));
        let Some(caller) = caller else {
            let failure = api.throttle.lock().map(|mut t| t.failed(ip, now)).unwrap_or_default();
            if failure.first {
                log::warn!("staff API: a request from {ip} had no valid token");
            }
            if failure.blocked {
                log::warn!(
                    "staff API: {ip} sent {} wrong tokens within a minute; blocked for 5 minutes",
                    auth::MAX_FAILURES
                );
            }
            return closing(refuse(401, "A valid bearer token is needed (Authorization: Bearer …)."));
        };
        if let Some(conn) = &conn {
            conn.authenticated();
        }
        if let Some(role) = auth::role_for(req.uri().path())
            && role != caller.role
        {
            return refuse(
                403,
                &format!(
                    "This token ({}) acts as {}; {} needs a {} token.",
                    caller.name,
                    caller.role.as_str(),
                    req.uri().path(),
                    role.as_str()
                ),
            );
        }
        let (parts, body) = req.into_parts();
        let bytes = match http_body_util::BodyExt::collect(http_body_util::Limited::new(body, max_body)).await {
            Ok(c) => c.to_bytes(),
            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                return refuse(413, &format!("The request body is over the limit of {max_body} bytes."));
            }
            Err(e) => return refuse(400, &format!("The request body could not be read ({e}).")),
        };
        // The body is in hand: only now a turn of the caller's role, so a stalled body holds none and one
        // role's work never waits behind another's.
        let Ok(_turn) = api.in_flight[role_index(caller.role)].acquire().await else {
            return refuse(503, "The staff API is stopping.");
        };
        let mut req = Request::from_parts(parts, Body::from(bytes));
        req.extensions_mut().insert(caller);
        next.run(req).await
    };
    match tokio::time::timeout(limits.request, work).await {
        Ok(r) => r,
        Err(_) => refuse(
            408,
            &format!("The request took longer than {} s; send it whole and try again.", limits.request.as_secs()),
        ),
    }
}

/// A refusal that also ends the connection: a client without a valid token keeps nothing open.
fn closing(mut r: Response) -> Response {
    r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn role_index(role: config::Role) -> usize {
    match role {
        config::Role::Counter => 0,
        config::Role::Staff => 1,
        config::Role::Technician => 2,
    }
}

async fn not_found(method: Method, uri: Uri) -> Response {
    refuse(404, &format!("No API endpoint {method} {}; see docs/admin-api.md.", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    refuse(405, &format!("{} does not take {method}; see docs/admin-api.md.", uri.path()))
}

/// Runs blocking work (SQLite, the journal, a device) off the runtime's thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Response> {
    tokio::task::spawn_blocking(f).await.map_err(|_| refuse(500, "The request failed inside the kiosk; see its log."))
}

async fn counter_call(State(api): State<Arc<Api>>, method: Method, uri: Uri, body: Bytes) -> Response {
    // The query too: the calls' `since`.
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let request = match route(method.as_str(), path, &body) {
        Ok(r) => r,
        Err(resp) => return json_response(resp.status, &resp.body),
    };
    let done = blocking(move || {
        let tz = api.config.tz().clone();
        handle(&api.queue, &tz, api.config.rollover_minutes(), request, jiff::Timestamp::now())
    })
    .await;
    match done {
        Ok(resp) => json_response(resp.status, &resp.body),
        Err(r) => r,
    }
}

/// `name=value` pairs of a query string; unknown names are the caller's business.
fn query(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// The largest seq or epoch a query may name (docs/openapi.json states it).
const MAX_SEQ: u64 = i64::MAX as u64;

/// A query parameter parsed, or the sentence a 400 carries.
fn param<T: std::str::FromStr>(q: &[(String, String)], name: &str, what: &str) -> Result<Option<T>, String> {
    match q.iter().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => v
            .parse::<T>()
            .map(Some)
            .map_err(|_| format!("`{name}` must be {what}; it was \"{}\".", v.chars().take(40).collect::<String>())),
    }
}

async fn journal_page(State(api): State<Arc<Api>>, uri: Uri) -> Response {
    let q = query(&uri);
    let after = match param::<u64>(&q, "after_seq", "a whole number (the last seq you have, 0 at first)") {
        Ok(v) => v.unwrap_or(0),
        Err(why) => return refuse(400, &why),
    };
    let limit = match param::<u64>(&q, "limit", "a whole number from 1 to 5000") {
        Ok(v) => v.unwrap_or(reports::DEFAULT_PAGE),
        Err(why) => return refuse(400, &why),
    };
    if !(1..=reports::MAX_PAGE).contains(&limit) {
        return refuse(400, &format!("`limit` must be from 1 to {}; it was {limit}.", reports::MAX_PAGE));
    }
    let seals_from = match param::<u64>(&q, "seals_from", "a whole number (the seals you hold already, 0 at first)") {
        Ok(v) => v.unwrap_or(0),
        Err(why) => return refuse(400, &why),
    };
    // The journal's seqs and epochs are SQLite integers: beyond i64 they would wrap, so they are refused.
    for (name, value) in [("after_seq", after), ("seals_from", seals_from)] {
        if value > MAX_SEQ {
            return refuse(400, &format!("`{name}` must be at most {MAX_SEQ}; it was {value}."));
        }
    }
    match blocking(move || reports::journal_page(&api.journal, &api.readers, after, limit, seals_from)).await {
        Ok(Ok(body)) => {
            let mut r = Response::new(Body::from(body));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
            r
        }
        Ok(Err(e)) => refuse(500, &e.to_string()),
        Err(r) => r,
    }
}

async fn checkpoint(State(api): State<Arc<Api>>) -> Response {
    match blocking(move || reports::latest_checkpoint(&api.journal, &api.readers)).await {
        Ok(Ok(Some((cp, seal)))) => json_response(200, &json!({ "checkpoint": cp, "seal": seal })),
        Ok(Ok(None)) => refuse(404, "The journal is empty: there is nothing to sign yet."),
        Ok(Err(e)) => refuse(500, &e.to_string()),
        Err(r) => r,
    }
}

async fn health(State(api): State<Arc<Api>>) -> Response {
    match blocking(move || reports::health(&api)).await {
        Ok(body) => json_response(200, &body),
        Err(r) => r,
    }
}

/// A test page on the ticket printer, as the maintenance screen prints it; journaled with the token's name.
async fn test_print(State(api): State<Arc<Api>>, axum::Extension(caller): axum::Extension<Caller>) -> Response {
    let done = blocking(move || {
        let Some(printer) = &api.devices.printer else {
            return refuse(
                409,
                "This process drives no printer (`kiosk admin serve` runs without the devices); ask the kiosk that runs them.",
            );
        };
        let k = &api.config.kiosk;
        let result = devices::ticket::print_test_page(printer, &api.journal, &k.hall_name, &k.id, api.config.tz());
        let entry = journal::payload::MaintenanceAction {
            action: journal::payload::MaintenanceActionKind::TestPrint,
            ok: Some(result.is_ok()),
            detail: Some(match &result {
                Ok(()) => format!("staff API, token {}", caller.name),
                Err(e) => format!("staff API, token {}: {e}", caller.name),
            }),
        };
        if let Err(e) = api.journal.append(entry.into()) {
            log::error!("test print not journaled: {e}");
        }
        match result {
            Ok(()) => json_response(200, &json!({ "printed": true })),
            Err(e) => refuse(503, &format!("The test page did not print: {e}. Check the printer (paper, cover) and try again.")),
        }
    })
    .await;
    done.unwrap_or_else(|r| r)
}

async fn metrics(State(api): State<Arc<Api>>) -> Response {
    match blocking(move || reports::metrics(&api)).await {
        Ok(Ok(text)) => {
            let mut r = Response::new(Body::from(text));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
            r
        }
        Ok(Err(e)) => refuse(500, &e.to_string()),
        Err(r) => r,
    }
}

async fn stats(State(api): State<Arc<Api>>, uri: Uri) -> Response {
    let q = query(&uri);
    let date = |name: &str| param::<jiff::civil::Date>(&q, name, "a date written YYYY-MM-DD");
    let (from, to) = match (date("from"), date("to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(why), _) | (_, Err(why)) => return refuse(400, &why),
    };
    match blocking(move || reports::stats(&api, from, to)).await {
        Ok(Ok(body)) => json_response(200, &body),
        Ok(Err(e)) if e.is_the_callers() => refuse(400, &e.to_string()),
        Ok(Err(e)) => refuse(503, &e.to_string()),
        Err(r) => r,
    }
}

/// The catalogue in use: its date, size and digest.
async fn catalogue_info(State(api): State<Arc<Api>>) -> Response {
    match &api.devices.catalogue {
        Some(store) => {
            let c = store.get();
            json_response(200, &catalogue_json(&c))
        }
        None => refuse(409, "This process has no catalogue (`kiosk admin serve`); ask the kiosk itself."),
    }
}

fn catalogue_json(c: &catalogue::Catalogue) -> serde_json::Value {
    json!({
        "title": c.header.title, "updated": c.header.updated, "sample": c.header.sample,
        "items": c.items.len(), "points": c.partners.points.len(), "digest": c.digest,
    })
}

async fn put_catalogue(State(api): State<Arc<Api>>, body: axum::body::Bytes) -> Response {
    install_catalogue(api, body, false).await
}

async fn put_partners(State(api): State<Arc<Api>>, body: axum::body::Bytes) -> Response {
    install_catalogue(api, body, true).await
}

/// Validates and installs a catalogue (or partner file) sent by staff; a bad one changes nothing and the
/// answer names the line, column, item and field.
async fn install_catalogue(api: Arc<Api>, body: axum::body::Bytes, partners: bool) -> Response {
    let done = blocking(move || {
        let Some(store) = &api.devices.catalogue else {
            return refuse(409, "This process has no catalogue (`kiosk admin serve`); ask the kiosk itself.");
        };
        let Ok(text) = std::str::from_utf8(&body) else {
            return refuse(400, "The catalogue is not UTF-8 text; send the TOML file as it is.");
        };
        let result = if partners { store.install(None, Some(text)) } else { store.install(Some(text), None) };
        match result {
            Ok(c) => {
                catalogue::store::journal_loaded(&api.journal, &c, catalogue::store::Source::Api);
                json_response(200, &catalogue_json(&c))
            }
            Err(catalogue::store::InstallError::Invalid(e)) => {
                refuse(422, &format!("{e} Nothing was changed; correct the file and send it again."))
            }
            Err(e) => refuse(500, &e.to_string()),
        }
    })
    .await;
    done.unwrap_or_else(|r| r)
}

impl Api {
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_of_failures_from_many_peers_is_at_most_sixteen_entries() {
        let reports: Vec<auth::Report> = (0..40u8)
            .map(|i| auth::Report {
                address: std::net::IpAddr::from([192, 0, 2, i]),
                failures: u32::from(i) + 1,
                refused_while_blocked: 0,
                blocked: i == 3,
            })
            .collect();
        let entries = auth_failed_entries(reports);
        assert_eq!(entries.len(), MAX_AUTH_FAILED_ENTRIES);
        assert_eq!(entries[0].address, "192.0.2.39", "the most failing first");
        assert_eq!(entries[0].failures, 40);
        let last = entries.last().unwrap();
        assert_eq!(last.address, "25 other addresses");
        assert_eq!(last.failures, (1..=25).sum::<u32>());
        assert!(last.blocked, "a blocked peer among the others");
        // Few peers: one entry each, nothing folded.
        let few = auth_failed_entries(vec![auth::Report {
            address: std::net::IpAddr::from([192, 0, 2, 1]),
            failures: 2,
            refused_while_blocked: 1,
            blocked: false,
        }]);
        assert_eq!(few.len(), 1);
        assert_eq!(few[0].address, "192.0.2.1");
    }
}
