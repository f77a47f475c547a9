//! A stand-in for the provincial platform (`kiosk sim platform`): the documented API (docs/backend-api.md)
//! served over TLS from fixture files, with the platform's failures on demand (slow, 500, a refused token,
//! malformed JSON, a connection dropped). Not the real platform: for tests and demos.

use crate::licence::platform::{QueryRequest, QueryResponse, WireDocument};
use crate::licence::store::ImportLine;
use crate::platform::appointments::{AppointmentList, AppointmentQuery, CheckIn, WireAppointment};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
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
}

/// The fixtures file (`--fixtures FILE.json`): fictional appointments, their holders' ID numbers, and
/// times either fixed (`start`, RFC 3339) or relative to when the stand-in started (`start_in_minutes`), so
/// that a demo or a test finds one due now whatever the hour.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    #[serde(default)]
    pub appointments: Vec<FixtureAppointment>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureAppointment {
    pub code: String,
    pub id_number: String,
    pub item_name: String,
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
    pub fn from_jsonl(text: &str, token: Option<String>) -> Result<StandIn, String> {
        let mut docs = vec![];
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let l: ImportLine = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
            let data = l.data.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)));
            let id_number = l.subject_id_number.trim().to_ascii_uppercase();
            docs.push((
                id_number,
                WireDocument { id: l.id, doc_type: l.doc_type, copies_allowed: l.copies_allowed, data: data.collect() },
            ));
        }
        Ok(StandIn { docs, token, appointments: Default::default() })
    }

    /// Adds the appointments of a fixtures file (JSON), their relative times counted from `now`.
    pub fn with_fixtures(self, text: &str, now: jiff::Timestamp) -> Result<StandIn, String> {
        let f: Fixtures = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut v = vec![];
        for a in f.appointments {
            let start = match (a.start, a.start_in_minutes) {
                (Some(s), None) => s,
                (None, Some(m)) => {
                    let t = now + jiff::SignedDuration::from_mins(m);
                    let t = t.round(jiff::Unit::Minute).unwrap_or(t);
                    t.to_zoned_datetime(hall_tz()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
                }
                _ => return Err(format!("appointment {}: give start or start_in_minutes", a.code)),
            };
            let wire =
                WireAppointment { code: a.code, item_name: a.item_name, category: a.category, start, status: a.status };
            v.push((a.id_number.trim().to_ascii_uppercase(), wire));
        }
        *self.appointments.lock().unwrap_or_else(|p| p.into_inner()) = v;
        Ok(self)
    }

    /// Answers one request: (method, path, authorization header, body) → (status, JSON body).
    pub fn answer(&self, method: &str, path: &str, auth: Option<&str>, body: &[u8]) -> (u16, String) {
        let err = |status: u16, msg: &str| (status, serde_json::json!({ "error": msg }).to_string());
        if let Some(t) = &self.token
            && auth != Some(format!("Bearer {t}").as_str())
        {
            return err(401, "missing or wrong bearer token");
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
                if serde_json::from_slice::<CheckIn>(body).is_err() {
                    return err(400, "the body must be {\"kiosk_id\", \"ticket\"}");
                }
                let mut list = self.appointments.lock().unwrap_or_else(|p| p.into_inner());
                match list.iter_mut().find(|(_, a)| a.code == code) {
                    None => err(404, "no such appointment"),
                    Some((_, a)) if a.status != "booked" => err(409, "the appointment is not open for check-in"),
                    Some((_, a)) => {
                        a.status = "checked_in".into();
                        (200, serde_json::json!({ "appointment": a }).to_string())
                    }
                }
            }
            _ => err(404, "no such endpoint"),
        }
    }
}

/// The stand-in's certificate: `DIR/platform.crt` and `platform.key`, made (for localhost and 127.0.0.1)
/// when they are not there yet. The kiosk trusts the certificate file as `[platform] ca_file`.
pub fn certificate(dir: &Path) -> anyhow::Result<(PathBuf, tokio_rustls::TlsAcceptor)> {
    std::fs::create_dir_all(dir)?;
    let (cert, key) = (dir.join("platform.crt"), dir.join("platform.key"));
    if !cert.exists() || !key.exists() {
        let g = crate::admin::tls::generate("stand-in platform", &["localhost".into(), "127.0.0.1".into()], 1)?;
        std::fs::write(&cert, &g.cert_pem)?;
        std::fs::write(&key, &g.key_pem)?;
    }
    let acceptor = crate::admin::tls::acceptor_from(&cert, &key)?;
    Ok((cert, acceptor))
}

/// A stand-in serving on a background thread (tests), until the process ends.
#[derive(Debug)]
pub struct Running {
    pub port: u16,
    /// The certificate to trust (`[platform] ca_file`).
    pub cert: PathBuf,
}

/// Starts the stand-in on 127.0.0.1 (a free port) with its certificate in `dir`.
pub fn spawn(standin: StandIn, fault: Fault, dir: &Path) -> anyhow::Result<Running> {
    let (cert, acceptor) = certificate(dir)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        if let Err(e) = serve(standin, fault, listener, acceptor) {
            log::error!("stand-in platform stopped: {e:#}");
        }
    });
    Ok(Running { port, cert })
}

/// Serves `listener` until the process ends.
pub fn serve(
    standin: StandIn,
    fault: Fault,
    listener: std::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let standin = Arc::new(standin);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            let (tcp, _) = match listener.accept().await {
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
                        let (status, json) = match fault {
                            Fault::Error => (500, r#"{"error":"internal error"}"#.to_owned()),
                            Fault::WrongToken => (401, r#"{"error":"token not recognised"}"#.to_owned()),
                            Fault::Malformed => (200, "{\"documents\": [".to_owned()),
                            Fault::Slow => {
                                tokio::time::sleep(Duration::from_secs(5)).await;
                                standin.answer(&method, &path, auth.as_deref(), &body)
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
