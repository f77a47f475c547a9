//! The provincial platform as a document source (HTTP JSON, docs/backend-api.md), and a local stand-in
//! for it that tests and demos start (`kiosk sim platform`): the real platform is out of reach here.

use super::store::{DocumentSource, Holder, ImportLine, LicenceDocument, MAX_COPIES_ALLOWED, SourceError};
use super::template::Templates;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// A document as the platform sends it (no holder identifier: the kiosk asked for the holder).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireDocument {
    pub id: String,
    #[serde(rename = "type")]
    pub doc_type: String,
    pub copies_allowed: u32,
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct QueryRequest {
    pub kiosk_id: String,
    pub id_number: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryResponse {
    pub documents: Vec<WireDocument>,
}

/// The HTTP client for the platform.
#[derive(Clone)]
pub struct PlatformSource {
    base: String,
    token: Option<String>,
    kiosk_id: String,
    templates: Templates,
    agent: ureq::Agent,
}

impl std::fmt::Debug for PlatformSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlatformSource({})", self.base)
    }
}

impl PlatformSource {
    pub fn new(base: &str, token: Option<String>, kiosk_id: &str, templates: Templates) -> PlatformSource {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        PlatformSource {
            base: base.trim_end_matches('/').to_string(),
            token,
            kiosk_id: kiosk_id.into(),
            templates,
            agent,
        }
    }

    fn check(&self, w: WireDocument, subject: &str) -> Result<LicenceDocument, SourceError> {
        let template = self.templates.get(&w.doc_type).map_err(|e| SourceError::Invalid(e.to_string()))?;
        if !(1..=MAX_COPIES_ALLOWED).contains(&w.copies_allowed) {
            return Err(SourceError::Invalid(format!("document {} allows {} copies", w.id, w.copies_allowed)));
        }
        let missing = template.missing_fields(&w.data);
        if !missing.is_empty() {
            return Err(SourceError::Invalid(format!("document {} lacks {}", w.id, missing.join(", "))));
        }
        Ok(LicenceDocument {
            id: w.id,
            doc_type: w.doc_type,
            subject: subject.into(),
            copies_allowed: w.copies_allowed,
            data: w.data,
        })
    }

    fn status_error(&self, status: u16, what: &str) -> SourceError {
        match status {
            401 | 403 => SourceError::Unavailable(format!(
                "the platform refused the kiosk's token (HTTP {status}) for {what}; check [licence] platform_token_file"
            )),
            _ => SourceError::Unavailable(format!("the platform answered HTTP {status} for {what}")),
        }
    }

    fn auth<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(t) => req.header("Authorization", &format!("Bearer {t}")),
            None => req,
        }
    }
}

fn unreachable(base: &str, e: ureq::Error) -> SourceError {
    SourceError::Unavailable(format!("cannot reach the platform at {base} ({e})"))
}

impl DocumentSource for PlatformSource {
    fn for_holder(&self, holder: &Holder<'_>) -> Result<Vec<LicenceDocument>, SourceError> {
        let url = format!("{}/v1/documents/query", self.base);
        let body = QueryRequest { kiosk_id: self.kiosk_id.clone(), id_number: holder.id_number.to_string() };
        let mut resp = self.auth(self.agent.post(&url)).send_json(&body).map_err(|e| unreachable(&self.base, e))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(self.status_error(status, "a document query"));
        }
        let parsed: QueryResponse = resp
            .body_mut()
            .with_config()
            .limit(8 << 20)
            .read_json()
            .map_err(|e| SourceError::Invalid(format!("the query answer is not the documented JSON ({e})")))?;
        parsed.documents.into_iter().map(|w| self.check(w, holder.subject)).collect()
    }

    fn by_id(&self, id: &str) -> Result<LicenceDocument, SourceError> {
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(SourceError::NotFound(id.into()));
        }
        let url = format!("{}/v1/documents/{id}", self.base);
        let mut resp = self.auth(self.agent.get(&url)).call().map_err(|e| unreachable(&self.base, e))?;
        match resp.status().as_u16() {
            200 => {}
            404 => return Err(SourceError::NotFound(id.into())),
            s => return Err(self.status_error(s, "a document")),
        }
        let w: WireDocument = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_json()
            .map_err(|e| SourceError::Invalid(format!("the document answer is not the documented JSON ({e})")))?;
        self.check(w, "")
    }

    fn describe(&self) -> String {
        format!("provincial platform at {}", self.base)
    }
}

/// The stand-in platform's state: documents with their holders' ID numbers, as a JSONL import file has them.
pub struct StandIn {
    docs: Vec<(String, WireDocument)>,
    token: Option<String>,
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
        Ok(StandIn { docs, token })
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
            _ => err(404, "no such endpoint"),
        }
    }

    /// Serves until the process ends.
    pub fn serve(self, listen: &str) -> anyhow::Result<()> {
        let server = tiny_http::Server::http(listen)
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen} for the stand-in platform ({e})"))?;
        eprintln!("stand-in provincial platform on http://{listen} ({} documents)", self.docs.len());
        for mut req in server.incoming_requests() {
            let mut body = vec![];
            let _ = std::io::Read::read_to_end(&mut std::io::Read::take(req.as_reader(), 1 << 20), &mut body);
            let auth = req.headers().iter().find(|h| h.field.equiv("Authorization")).map(|h| h.value.to_string());
            let path = req.url().split('?').next().unwrap_or("").to_string();
            let (status, json) = self.answer(req.method().as_str(), &path, auth.as_deref(), &body);
            let header = tiny_http::Header::from_bytes("Content-Type", "application/json").ok();
            let mut resp = tiny_http::Response::from_string(json).with_status_code(status);
            if let Some(h) = header {
                resp = resp.with_header(h);
            }
            let _ = req.respond(resp);
        }
        Ok(())
    }
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
