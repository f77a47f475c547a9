//! The provincial platform as a document source (docs/backend-api.md), over the platform client
//! (`platform`); its stand-in (`kiosk sim platform`) is the demo's (`demo::standin`).

use super::store::{DocumentSource, Holder, LicenceDocument, MAX_COPIES_ALLOWED, SourceError};
use super::template::Templates;
use platform::{Platform, PlatformError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

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

/// The platform as a document source.
#[derive(Clone)]
pub struct PlatformSource {
    platform: Arc<Platform>,
    templates: Templates,
}

impl std::fmt::Debug for PlatformSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlatformSource({})", self.platform.url())
    }
}

impl PlatformSource {
    pub fn new(platform: Arc<Platform>, templates: Templates) -> PlatformSource {
        PlatformSource { platform, templates }
    }

    fn check(&self, w: WireDocument, subject: &str) -> Result<LicenceDocument, SourceError> {
        let template = self.templates.get(&w.doc_type).map_err(|e| SourceError::Invalid(e.to_string()))?;
        if !(1..=MAX_COPIES_ALLOWED).contains(&w.copies_allowed) {
            return Err(SourceError::Invalid(format!("document {} allows {} copies", w.id, w.copies_allowed)));
        }
        // Bounds before anything is drawn: the fields' count and length (their text is made printable when
        // it is filled into the document, `template::fill`).
        let too_long = |what: String, n: usize, max: usize| {
            SourceError::Invalid(format!("document {}: {what} is {n} characters long (at most {max})", w.id))
        };
        if w.id.chars().count() > platform::bounds::MAX_ID_CHARS {
            return Err(too_long("its id".into(), w.id.chars().count(), platform::bounds::MAX_ID_CHARS));
        }
        if w.data.len() > platform::bounds::MAX_FIELDS {
            return Err(SourceError::Invalid(format!(
                "document {}: {} data fields (at most {})",
                w.id,
                w.data.len(),
                platform::bounds::MAX_FIELDS
            )));
        }
        for (k, v) in &w.data {
            let n = v.chars().count();
            if n > platform::bounds::MAX_VALUE_CHARS || k.chars().count() > platform::bounds::MAX_ID_CHARS {
                return Err(too_long(
                    format!("the field {}", drivers::text::printable(&k.chars().take(64).collect::<String>())),
                    n,
                    platform::bounds::MAX_VALUE_CHARS,
                ));
            }
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
}

/// The document source's view of a platform failure: "not found" stays itself, a malformed answer is
/// unusable, the rest is "not available now".
fn source_error(e: PlatformError, id: &str) -> SourceError {
    match e {
        PlatformError::NotFound => SourceError::NotFound(id.into()),
        PlatformError::Malformed(_) => SourceError::Invalid(e.to_string()),
        _ => SourceError::Unavailable(e.to_string()),
    }
}

impl DocumentSource for PlatformSource {
    fn for_holder(&self, holder: &Holder<'_>) -> Result<Vec<LicenceDocument>, SourceError> {
        let body =
            QueryRequest { kiosk_id: self.platform.kiosk_id().to_owned(), id_number: holder.id_number.to_string() };
        let parsed: QueryResponse = self
            .platform
            .call("POST", "/v1/documents/query", Some(&body), platform::bounds::MAX_DOCUMENTS_ANSWER)
            .map_err(|e| source_error(e, "(query)"))?;
        platform::bounds::rows("documents", &parsed.documents).map_err(|e| source_error(e, "(query)"))?;
        parsed.documents.into_iter().map(|w| self.check(w, holder.subject)).collect()
    }

    fn by_id(&self, id: &str) -> Result<LicenceDocument, SourceError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(SourceError::NotFound(id.into()));
        }
        let w: WireDocument = self
            .platform
            .call::<(), _>("GET", &format!("/v1/documents/{id}"), None, platform::bounds::MAX_DOCUMENTS_ANSWER)
            .map_err(|e| source_error(e, id))?;
        self.check(w, "")
    }

    fn describe(&self) -> String {
        format!("provincial platform at {}", self.platform.url())
    }
}
