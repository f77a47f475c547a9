//! A stand-in for the provincial platform (`kiosk sim platform`): the documented API (docs/backend-api.md)
//! served over TLS from fixture files, with the platform's failures on demand (slow, 500, a refused token,
//! malformed JSON, a connection dropped). Not the real platform: for tests and demos.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use licence::platform::{QueryRequest, QueryResponse, WireDocument};
use licence::store::ImportLine;
use platform::appointments::{AppointmentList, AppointmentQuery, CheckIn, WireAppointment};
use platform::cases::{AddressQuery, CaseList, CaseQuery, DeliveryRequest, WireAddress, WireCase, WireStep};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The demo's fictional appointments (the fixture cards' holders), times relative to the start.
pub const SAMPLE_FIXTURES: &str = include_str!("../../../config/platform-fixtures.json");

/// How the stand-in misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Fault {
    /// Answers as documented.
    #[default]
    None,
    /// Answers after 5 s.
    Slow,
    /// Answers HTTP 500 to everything.
    Error,
    /// Refuses every token (HTTP 401), as after the platform rotated it.
    WrongToken,
    /// Answers 200 with a body that is not JSON.
    Malformed,
    /// Accepts connections and closes them at once.
    Unreachable,
}

/// The stand-in's data: documents with their holders' ID numbers, as a JSONL import file has them, and the
/// appointments of a fixtures file (checked in as the kiosk asks).
pub struct StandIn {
    docs: Vec<(String, WireDocument)>,
    token: Option<String>,
    appointments: std::sync::Mutex<Vec<(String, WireAppointment)>>,
    cases: std::sync::Mutex<Vec<FixtureCaseState>>,
    /// Delivery requests by idempotency key (a retry is the same request).
    deliveries: std::sync::Mutex<Vec<(String, DeliveryRequest)>>,
    /// Check-ins by appointment code and the key they came with.
    check_ins: std::sync::Mutex<Vec<(String, String)>>,
    /// Ratings by idempotency key (a retry is the same rating), with how often each key arrived.
    evaluations: std::sync::Mutex<Vec<(String, u32)>>,
    /// Told of every request with a side effect as it arrives, before it is answered (the tests check
    /// that the kiosk's journal already holds it).
    side_effects: std::sync::Mutex<Option<SideEffectWatcher>>,
}

/// What a test gives [`StandIn::watch_side_effects`]: the path and body of each request with a side effect.
pub type SideEffectWatcher = std::sync::Arc<dyn Fn(&str, &[u8]) + Send + Sync>;

/// A case as the stand-in keeps it: its holder, its wire form and the applicant's addresses.
struct FixtureCaseState {
    id_number: String,
    case: WireCase,
    addresses: Vec<WireAddress>,
}

/// The fixtures file (`--fixtures FILE.json`): fictional appointments, their holders' ID numbers, and
/// times either fixed (`start`, RFC 3339) or relative to when the stand-in started (`start_in_minutes`), so
/// that a demo or a test finds one due now whatever the hour.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    #[serde(default)]
    pub appointments: Vec<FixtureAppointment>,
    #[serde(default)]
    pub cases: Vec<FixtureCase>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureCase {
    pub number: String,
    pub id_number: String,
    pub item_name: String,
    #[serde(default)]
    pub item_name_en: Option<String>,
    /// Each reached step with its time: fixed (`at`) or relative (`at_in_minutes`, negative: in the past).
    pub steps: Vec<FixtureStep>,
    #[serde(default)]
    pub delivery_offered: bool,
    #[serde(default)]
    pub addresses: Vec<WireAddress>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureStep {
    pub name: String,
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub at_in_minutes: Option<i64>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureAppointment {
    pub code: String,
    pub id_number: String,
    pub item_name: String,
    #[serde(default)]
    pub item_name_en: Option<String>,
    pub category: String,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub start_in_minutes: Option<i64>,
    #[serde(default = "booked")]
    pub status: String,
}

fn booked() -> String {
    "booked".into()
}

/// The hall's zone, for "today" in appointment queries.
fn hall_tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC)
}

impl StandIn {
    /// Loads an import-format JSONL file (the same fictional documents the local store takes).
    pub fn from_jsonl(text: &str, token: Option<String>) -> Result<StandIn, FixtureError> {
        let mut docs = vec![];
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let l: ImportLine =
                serde_json::from_str(line).map_err(|e| FixtureError::Documents { line: n + 1, why: e.to_string() })?;
            let data = l.data.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)));
            let id_number = l.subject_id_number.trim().to_ascii_uppercase();
            docs.push((
                id_number,
                WireDocument { id: l.id, doc_type: l.doc_type, copies_allowed: l.copies_allowed, data: data.collect() },
            ));
        }
        Ok(StandIn {
            docs,
            token,
            appointments: Default::default(),
            cases: Default::default(),
            deliveries: Default::default(),
            evaluations: Default::default(),
            check_ins: Default::default(),
            side_effects: Default::default(),
        })
    }

    /// Adds the appointments of a fixtures file (JSON), their relative times counted from `now`.
    pub fn with_fixtures(self, text: &str, now: jiff::Timestamp) -> Result<StandIn, FixtureError> {
        let f: Fixtures = serde_json::from_str(text).map_err(|e| FixtureError::Fixtures(e.to_string()))?;
        let when = |fixed: Option<String>, minutes: Option<i64>, what: &str| match (fixed, minutes) {
            (Some(s), None) => Ok(s),
            (None, Some(m)) => {
                let t = now + jiff::SignedDuration::from_mins(m);
                let t = t.round(jiff::Unit::Minute).unwrap_or(t);
                Ok(t.to_zoned_datetime(hall_tz()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
            }
            _ => Err(FixtureError::NoTime(what.to_owned())),
        };
        let mut cases = vec![];
        for c in f.cases {
            let mut steps = vec![];
            for s in c.steps {
                let at = when(s.at, s.at_in_minutes, &format!("case {} step {}", c.number, s.name))?;
                steps.push(WireStep { name: s.name, at: Some(at) });
            }
            cases.push(FixtureCaseState {
                id_number: c.id_number.trim().to_ascii_uppercase(),
                case: WireCase {
                    number: c.number,
                    item_name: c.item_name,
                    item_name_en: c.item_name_en,
                    steps,
                    delivery_offered: c.delivery_offered,
                    delivery_requested: false,
                },
                addresses: c.addresses,
            });
        }
        *self.cases.lock().unwrap_or_else(|p| p.into_inner()) = cases;
        let mut v = vec![];
        for a in f.appointments {
            let start = when(a.start, a.start_in_minutes, &format!("appointment {}", a.code))?;
            let wire = WireAppointment {
                code: a.code,
                item_name: a.item_name,
                item_name_en: a.item_name_en,
                category: a.category,
                start,
                status: a.status,
            };
            v.push((a.id_number.trim().to_ascii_uppercase(), wire));
        }
        *self.appointments.lock().unwrap_or_else(|p| p.into_inner()) = v;
        Ok(self)
    }

    /// Answers one request: (method, path, authorization header, body) → (status, JSON body).
    /// Calls `watcher` with every request that changes something on the platform (a delivery request, a
    /// check-in notice, a rating), as it arrives and before it is answered.
    pub fn watch_side_effects(&self, watcher: SideEffectWatcher) {
        *self.side_effects.lock().unwrap_or_else(|p| p.into_inner()) = Some(watcher);
    }

    /// Whether a request changes something on the platform: every POST but the queries.
    pub fn has_side_effect(method: &str, path: &str) -> bool {
        method == "POST" && !path.ends_with("/query") && path != "/v1/delivery/addresses"
    }

    pub fn answer(&self, method: &str, path: &str, auth: Option<&str>, body: &[u8]) -> (u16, String) {
        let err = |status: u16, msg: &str| (status, serde_json::json!({ "error": msg }).to_string());
        if let Some(t) = &self.token
            && auth != Some(format!("Bearer {t}").as_str())
        {
            return err(401, "missing or wrong bearer token");
        }
        if Self::has_side_effect(method, path) {
            let watcher = self.side_effects.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(watch) = watcher {
                watch(path, body);
            }
        }
        match (method, path) {
            ("POST", "/v1/documents/query") => {
                let Ok(q) = serde_json::from_slice::<QueryRequest>(body) else {
                    return err(400, "the body must be {\"kiosk_id\": ..., \"id_number\": ...}");
                };
                let id = q.id_number.trim().to_ascii_uppercase();
                let documents: Vec<WireDocument> =
                    self.docs.iter().filter(|(holder, _)| *holder == id).map(|(_, d)| d.clone()).collect();
                (200, serde_json::to_string(&QueryResponse { documents }).unwrap_or_default())
            }
            ("GET", p) if p.starts_with("/v1/documents/") => {
                let id = &p["/v1/documents/".len()..];
                match self.docs.iter().find(|(_, d)| d.id == id) {
                    Some((_, d)) => (200, serde_json::to_string(d).unwrap_or_default()),
                    None => err(404, "no such document"),
                }
            }
            ("POST", "/v1/appointments/query") => {
                let Ok(q) = serde_json::from_slice::<AppointmentQuery>(body) else {
                    return err(400, "the body must be {\"kiosk_id\", \"date\", and \"id_number\" or \"code\"}");
                };
                let who = q.id_number.as_deref().map(|i| i.trim().to_ascii_uppercase());
                let list = self.appointments.lock().unwrap_or_else(|p| p.into_inner());
                let appointments = list
                    .iter()
                    .filter(|(holder, a)| {
                        let on_day = a
                            .start
                            .parse::<jiff::Timestamp>()
                            .is_ok_and(|t| t.to_zoned_datetime(hall_tz()).date().to_string() == q.date);
                        let whose = match (&who, &q.code) {
                            (Some(w), None) => holder == w,
                            (None, Some(c)) => &a.code == c,
                            _ => false,
                        };
                        on_day && whose
                    })
                    .map(|(_, a)| a.clone())
                    .collect();
                (200, serde_json::to_string(&AppointmentList { appointments }).unwrap_or_default())
            }
            ("POST", p) if p.starts_with("/v1/appointments/") && p.ends_with("/check-in") => {
                let code = &p["/v1/appointments/".len()..p.len() - "/check-in".len()];
                let Ok(c) = serde_json::from_slice::<CheckIn>(body) else {
                    return err(400, "the body must be {\"kiosk_id\", \"ticket\"}");
                };
                let mut list = self.appointments.lock().unwrap_or_else(|p| p.into_inner());
                let mut keys = self.check_ins.lock().unwrap_or_else(|p| p.into_inner());
                let again =
                    c.idempotency_key.as_ref().is_some_and(|k| keys.iter().any(|(c2, k2)| c2 == code && k2 == k));
                match list.iter_mut().find(|(_, a)| a.code == code) {
                    None => err(404, "no such appointment"),
                    // The same check-in sent again (its answer was lost): the same answer.
                    Some((_, a)) if again => (200, serde_json::json!({ "appointment": a }).to_string()),
                    Some((_, a)) if a.status != "booked" => err(409, "the appointment is not open for check-in"),
                    Some((_, a)) => {
                        a.status = "checked_in".into();
                        keys.push((code.to_owned(), c.idempotency_key.unwrap_or_default()));
                        (200, serde_json::json!({ "appointment": a }).to_string())
                    }
                }
            }
            ("POST", "/v1/cases/query") => {
                let Ok(q) = serde_json::from_slice::<CaseQuery>(body) else {
                    return err(400, "the body must be {\"kiosk_id\", and \"case_number\" or \"id_number\"}");
                };
                let who = q.id_number.as_deref().map(|i| i.trim().to_ascii_uppercase());
                let list = self.cases.lock().unwrap_or_else(|p| p.into_inner());
                let cases = list
                    .iter()
                    .filter(|c| match (&q.case_number, &who) {
                        (Some(n), None) => &c.case.number == n,
                        (None, Some(w)) => &c.id_number == w,
                        _ => false,
                    })
                    .map(|c| c.case.clone())
                    .collect();
                (200, serde_json::to_string(&CaseList { cases }).unwrap_or_default())
            }
            ("POST", "/v1/delivery/addresses") => {
                let Ok(q) = serde_json::from_slice::<AddressQuery>(body) else {
                    return err(400, "the body must be {\"kiosk_id\", \"case_number\"}");
                };
                let list = self.cases.lock().unwrap_or_else(|p| p.into_inner());
                match list.iter().find(|c| c.case.number == q.case_number) {
                    Some(c) => (200, serde_json::json!({ "addresses": c.addresses }).to_string()),
                    None => err(404, "no such case"),
                }
            }
            ("POST", "/v1/delivery/requests") => {
                let Ok(r) = serde_json::from_slice::<DeliveryRequest>(body) else {
                    return err(
                        400,
                        "the body must be {\"kiosk_id\", \"case_number\", \"address_id\", \"idempotency_key\"}",
                    );
                };
                let mut deliveries = self.deliveries.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(i) = deliveries.iter().position(|(k, _)| *k == r.idempotency_key) {
                    return (200, serde_json::json!({ "request_id": format!("D{:04}", i + 1) }).to_string());
                }
                let mut cases = self.cases.lock().unwrap_or_else(|p| p.into_inner());
                let Some(c) = cases.iter_mut().find(|c| c.case.number == r.case_number) else {
                    return err(404, "no such case");
                };
                if !c.addresses.iter().any(|a| a.id == r.address_id) {
                    return err(400, "not one of the applicant's addresses");
                }
                if !c.case.delivery_offered || c.case.delivery_requested {
                    return err(409, "delivery is not open for this case");
                }
                c.case.delivery_requested = true;
                deliveries.push((r.idempotency_key.clone(), r));
                (201, serde_json::json!({ "request_id": format!("D{:04}", deliveries.len()) }).to_string())
            }
            ("POST", "/v1/evaluations") => {
                let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
                    return err(400, "the body must be a JSON object");
                };
                let key = v.get("idempotency_key").and_then(|k| k.as_str()).unwrap_or_default();
                let level = v.get("level").and_then(|l| l.as_u64()).unwrap_or(0);
                if key.is_empty() || !(1..=5).contains(&level) || v.get("transaction").is_none() {
                    return err(400, "an evaluation needs idempotency_key, level 1-5 and transaction");
                }
                let mut seen = self.evaluations.lock().unwrap_or_else(|p| p.into_inner());
                match seen.iter_mut().find(|(k, _)| k == key) {
                    Some((_, n)) => *n += 1,
                    None => seen.push((key.to_owned(), 1)),
                }
                (200, r#"{"accepted":true}"#.to_owned())
            }
            ("GET", "/v1/_standin/evaluations") => {
                let seen = self.evaluations.lock().unwrap_or_else(|p| p.into_inner());
                let attempts: u32 = seen.iter().map(|(_, n)| n).sum();
                (200, serde_json::json!({ "ratings": seen.len(), "attempts": attempts }).to_string())
            }
            _ => err(404, "no such endpoint"),
        }
    }

    /// An appointment's status as the stand-in holds it ("booked", "checked_in", …).
    pub fn appointment_status(&self, code: &str) -> Option<String> {
        let list = self.appointments.lock().unwrap_or_else(|p| p.into_inner());
        list.iter().find(|(_, a)| a.code == code).map(|(_, a)| a.status.clone())
    }

    /// How many distinct ratings arrived (a retry with the same key counts once).
    pub fn evaluation_count(&self) -> usize {
        self.evaluations.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// How many distinct delivery requests arrived (a retry with the same key counts once).
    pub fn delivery_count(&self) -> usize {
        self.deliveries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Why the stand-in's documents or fixtures cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("the stand-in's documents, line {line}: {why}")]
    Documents { line: usize, why: String },
    #[error("the stand-in's fixtures: {0}")]
    Fixtures(String),
    #[error("{0}: give a time or a time in minutes from now")]
    NoTime(String),
}

/// Why the stand-in could not start.
#[derive(Debug, thiserror::Error)]
pub enum StandInError {
    #[error("the stand-in platform cannot start ({0})")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Tls(#[from] net::tls::TlsError),
}

/// The stand-in's certificate: `DIR/platform.crt` and `platform.key`, made (for localhost and 127.0.0.1)
/// when they are not there yet. The kiosk trusts the certificate file as `[platform] ca_file`.
pub fn certificate(dir: &Path) -> Result<(PathBuf, tokio_rustls::TlsAcceptor), StandInError> {
    std::fs::create_dir_all(dir)?;
    let (cert, key) = (dir.join("platform.crt"), dir.join("platform.key"));
    if !cert.exists() || !key.exists() {
        let g = net::tls::generate("stand-in platform", &["localhost".into(), "127.0.0.1".into()], 1)?;
        std::fs::write(&cert, &g.cert_pem)?;
        std::fs::write(&key, &g.key_pem)?;
    }
    let acceptor = net::tls::acceptor_from(&cert, &key)?;
    Ok((cert, acceptor))
}

/// A stand-in serving on its own owned thread (the demo, tests), until this is dropped.
pub struct Running {
    pub port: u16,
    /// The certificate to trust (`[platform] ca_file`).
    pub cert: PathBuf,
    /// What it has been asked (delivery requests), for tests.
    pub standin: Arc<StandIn>,
    _thread: owner::Owned,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Running(127.0.0.1:{})", self.port)
    }
}

/// Starts the stand-in on 127.0.0.1 (a free port) with its certificate in `dir`.
pub fn spawn(standin: StandIn, fault: Fault, dir: &Path) -> Result<Running, StandInError> {
    let (cert, acceptor) = certificate(dir)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let standin = Arc::new(standin);
    let serving = standin.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let thread = owner::Owned::spawn("platform-standin", move |_| {
        if let Err(e) = serve_until(serving, fault, listener, acceptor, stopped) {
            log::error!("stand-in platform stopped: {e:#}");
        }
    })?
    .waking_with(move || {
        let _ = stop.send(true);
    });
    Ok(Running { port, cert, standin, _thread: thread })
}

/// Serves `listener` until the process ends (`kiosk sim platform`).
pub fn serve(
    standin: Arc<StandIn>,
    fault: Fault,
    listener: std::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
) -> std::io::Result<()> {
    let (_never, stopped) = tokio::sync::watch::channel(false);
    serve_until(standin, fault, listener, acceptor, stopped)
}

/// [`serve`] until `stop` says so; the connections in hand end with it (the runtime goes).
pub fn serve_until(
    standin: Arc<StandIn>,
    fault: Fault,
    listener: std::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            let accepted = tokio::select! {
                _ = stop.changed() => return Ok(()),
                accepted = listener.accept() => accepted,
            };
            let (tcp, _) = match accepted {
                Ok(a) => a,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if fault == Fault::Unreachable {
                drop(tcp);
                continue;
            }
            let (acceptor, standin) = (acceptor.clone(), standin.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let standin = standin.clone();
                    async move {
                        let method = req.method().as_str().to_owned();
                        let path = req.uri().path().to_owned();
                        let auth = req
                            .headers()
                            .get(hyper::header::AUTHORIZATION)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        let body = http_body_util::Limited::new(req.into_body(), 1 << 20)
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        // The stand-in's own counters answer whatever the fault (tests read them).
                        let fault = if path.starts_with("/v1/_standin/") { Fault::None } else { fault };
                        let (status, json) = match fault {
                            Fault::Error => (500, r#"{"error":"internal error"}"#.to_owned()),
                            Fault::WrongToken => (401, r#"{"error":"token not recognised"}"#.to_owned()),
                            Fault::Malformed => (200, "{\"documents\": [".to_owned()),
                            Fault::Slow => {
                                // The platform does the work, then its answer is slow: what a kiosk stopped
                                // while waiting must not do twice.
                                let answer = standin.answer(&method, &path, auth.as_deref(), &body);
                                tokio::time::sleep(Duration::from_secs(5)).await;
                                answer
                            }
                            Fault::None | Fault::Unreachable => standin.answer(&method, &path, auth.as_deref(), &body),
                        };
                        hyper::Response::builder()
                            .status(status)
                            .header(hyper::header::CONTENT_TYPE, "application/json")
                            .body(Full::new(Bytes::from(json)))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_in_answers_by_id_number_and_checks_the_token() {
        let line = r#"{"id":"P-1","type":"certificate_of_proof","subject_id_number":"371329195003071012","copies_allowed":2,"data":{"title":"户籍证明","number":"1","holder_name":"张三丰","body":"x","authority":"y","issue_date":"z"}}"#;
        let s = StandIn::from_jsonl(line, Some("tok".into())).unwrap();
        let q = br#"{"kiosk_id":"k","id_number":"371329195003071012"}"#;
        assert_eq!(s.answer("POST", "/v1/documents/query", None, q).0, 401);
        let (status, body) = s.answer("POST", "/v1/documents/query", Some("Bearer tok"), q);
        assert_eq!(status, 200);
        assert!(body.contains("\"P-1\"") && !body.contains("371329195003071012"), "{body}");
        assert_eq!(s.answer("GET", "/v1/documents/P-2", Some("Bearer tok"), b"").0, 404);
        assert_eq!(s.answer("POST", "/v1/documents/query", Some("Bearer tok"), b"{").0, 400);
    }
}
