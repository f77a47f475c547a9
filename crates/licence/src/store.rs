//! Where a citizen's licences come from: the `DocumentSource` trait, the local store the county office
//! fills with `kiosk documents import`, and the import itself (JSONL, all or nothing).

use super::render::PdfFont;
use super::template::Templates;
use journal::SubjectKey;
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Most copies one document may allow at a kiosk.
pub const MAX_COPIES_ALLOWED: u32 = 20;
/// Longest data value accepted (characters).
pub const MAX_FIELD_CHARS: usize = 2000;

/// One printable document, as the kiosk holds it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceDocument {
    pub id: String,
    #[serde(rename = "type")]
    pub doc_type: String,
    /// HMAC of the holder's ID number with this kiosk's subject key (never the number itself).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    pub copies_allowed: u32,
    /// The fields the template prints.
    pub data: BTreeMap<String, String>,
}

impl std::fmt::Debug for LicenceDocument {
    // Data holds names and addresses: Debug (logs, panics) shows only what identifies the document.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicenceDocument")
            .field("id", &self.id)
            .field("type", &self.doc_type)
            .field("copies_allowed", &self.copies_allowed)
            .finish_non_exhaustive()
    }
}

/// The card holder a lookup is for.
pub struct Holder<'a> {
    /// Sent to the provincial platform only; the local store never sees it.
    pub id_number: &'a str,
    pub subject: &'a str,
}

/// Why documents could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The store or platform cannot answer now; the citizen is told to try later or ask staff.
    #[error("The document source is not available: {0}")]
    Unavailable(String),
    #[error("There is no document with id \"{0}\" in the document source.")]
    NotFound(String),
    /// The source answered with something the kiosk cannot use.
    #[error("The document source sent an unusable answer: {0}")]
    Invalid(String),
}

/// A place documents come from: the local store or the provincial platform.
pub trait DocumentSource: Send + Sync {
    /// The holder's documents, in a stable order.
    fn for_holder(&self, holder: &Holder<'_>) -> Result<Vec<LicenceDocument>, SourceError>;
    /// One document by id (the technician's path).
    fn by_id(&self, id: &str) -> Result<LicenceDocument, SourceError>;
    /// For logs and the maintenance screen.
    fn describe(&self) -> String;
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS documents (
    id             TEXT PRIMARY KEY,
    type           TEXT NOT NULL,
    subject        TEXT NOT NULL,
    copies_allowed INTEGER NOT NULL,
    data           TEXT NOT NULL,
    imported_at    TEXT NOT NULL,
    source_file    TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS documents_subject ON documents (subject);
";

/// The local document store (an SQLite file of its own: it holds personal data the journal must not).
#[derive(Debug, Clone)]
pub struct LocalStore {
    path: PathBuf,
}

impl LocalStore {
    pub fn new(path: &Path) -> LocalStore {
        LocalStore { path: path.to_path_buf() }
    }

    fn open(&self, create: bool) -> Result<Connection, SourceError> {
        let unavailable = |e: rusqlite::Error| {
            SourceError::Unavailable(format!("cannot open the document store {} ({e})", self.path.display()))
        };
        if !create && !self.path.exists() {
            return Err(SourceError::Unavailable(format!(
                "the document store {} does not exist yet; fill it with `kiosk documents import`",
                self.path.display()
            )));
        }
        if create && let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| SourceError::Unavailable(format!("cannot create the folder {} ({e})", dir.display())))?;
        }
        let conn = Connection::open(&self.path).map_err(unavailable)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(unavailable)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;")
            .map_err(unavailable)?;
        conn.execute_batch(SCHEMA).map_err(unavailable)?;
        // Personal data: readable by the kiosk user only.
        let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600));
        Ok(conn)
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, u32, String)> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    }

    fn document(
        (id, doc_type, subject, copies_allowed, data): (String, String, String, u32, String),
    ) -> Result<LicenceDocument, SourceError> {
        let data = serde_json::from_str(&data)
            .map_err(|e| SourceError::Invalid(format!("document {id} has unreadable data ({e})")))?;
        Ok(LicenceDocument { id, doc_type, subject, copies_allowed, data })
    }

    /// Stores checked documents in one transaction: new ids are added, known ids replaced.
    pub fn put(&self, docs: &[LicenceDocument], source_file: &str) -> Result<ImportSummary, SourceError> {
        let mut conn = self.open(true)?;
        let failed = |e: rusqlite::Error| SourceError::Unavailable(format!("the import was rolled back ({e})"));
        let tx = conn.transaction().map_err(failed)?;
        let now = journal::utc_now();
        let (mut added, mut replaced) = (0, 0);
        for d in docs {
            let existed: Option<i64> = tx
                .query_row("SELECT 1 FROM documents WHERE id = ?1", [&d.id], |r| r.get(0))
                .optional()
                .map_err(failed)?;
            let data = serde_json::to_string(&d.data).map_err(|e| SourceError::Invalid(e.to_string()))?;
            tx.execute(
                "INSERT INTO documents (id, type, subject, copies_allowed, data, imported_at, source_file)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET type = excluded.type, subject = excluded.subject,
                   copies_allowed = excluded.copies_allowed, data = excluded.data,
                   imported_at = excluded.imported_at, source_file = excluded.source_file",
                rusqlite::params![d.id, d.doc_type, d.subject, d.copies_allowed, data, now, source_file],
            )
            .map_err(failed)?;
            if existed.is_some() { replaced += 1 } else { added += 1 }
        }
        tx.commit().map_err(failed)?;
        Ok(ImportSummary { added, replaced })
    }

    pub fn count(&self) -> Result<u64, SourceError> {
        let conn = self.open(false)?;
        conn.query_row("SELECT count(*) FROM documents", [], |r| r.get(0))
            .map_err(|e| SourceError::Unavailable(e.to_string()))
    }
}

impl DocumentSource for LocalStore {
    fn for_holder(&self, holder: &Holder<'_>) -> Result<Vec<LicenceDocument>, SourceError> {
        let conn = self.open(false)?;
        let fail = |e: rusqlite::Error| SourceError::Unavailable(e.to_string());
        let mut stmt = conn
            .prepare(
                "SELECT id, type, subject, copies_allowed, data FROM documents WHERE subject = ?1 ORDER BY type, id",
            )
            .map_err(fail)?;
        let rows = stmt.query_map([holder.subject], Self::row).map_err(fail)?;
        rows.map(|r| r.map_err(fail).and_then(Self::document)).collect()
    }

    fn by_id(&self, id: &str) -> Result<LicenceDocument, SourceError> {
        let conn = self.open(false)?;
        let row = conn
            .query_row("SELECT id, type, subject, copies_allowed, data FROM documents WHERE id = ?1", [id], Self::row)
            .optional()
            .map_err(|e| SourceError::Unavailable(e.to_string()))?
            .ok_or_else(|| SourceError::NotFound(id.into()))?;
        Self::document(row)
    }

    fn describe(&self) -> String {
        format!("local document store {}", self.path.display())
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub added: usize,
    pub replaced: usize,
}

/// One line of an import file, as the county office writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportLine {
    pub id: String,
    #[serde(rename = "type")]
    pub doc_type: String,
    /// The holder's ID number: hashed to the subject on import and then dropped.
    pub subject_id_number: zeroize::Zeroizing<String>,
    pub copies_allowed: u32,
    pub data: BTreeMap<String, serde_json::Value>,
}

/// An ID number the kiosk's reader can produce: 18 characters with a GB 11643 check character
/// (residents, Hong Kong / Macao / Taiwan permits, 2023 foreigners' cards), or the 15-character
/// 2017 foreigners' permanent residence number (three letters, twelve digits).
pub fn plausible_id_number(id: &str) -> bool {
    let b = id.as_bytes();
    drivers::idcard::card::valid_id_number(id)
        || (b.len() == 15 && b[..3].iter().all(u8::is_ascii_uppercase) && b[3..].iter().all(u8::is_ascii_digit))
}

/// Why a line of a documents file is refused ([`check_line`]); the caller adds the file and line.
#[derive(Debug, thiserror::Error)]
pub enum LineProblem {
    #[error("{0}")]
    NotJson(#[from] serde_json::Error),
    #[error("id \"{0}\" must be 1 to 64 letters, digits, '-', '_' or '.'")]
    BadId(String),
    #[error(transparent)]
    Template(#[from] crate::template::TemplateError),
    #[error("subject_id_number is not a valid ID number (GB 11643 check digit or permit format)")]
    BadIdNumber,
    #[error("copies_allowed {0} must be 1 to {MAX_COPIES_ALLOWED}")]
    Copies(u32),
    #[error("data.{field} must be text, not {value}")]
    NotText { field: String, value: String },
    #[error("data.{field} is longer than {MAX_FIELD_CHARS} characters")]
    TooLong { field: String },
    #[error(
        "data.{field} contains \"{ch}\" (U+{code:04X}), which the licence font {font} cannot print; install fonts-noto-cjk or set [licence] font"
    )]
    Unprintable { field: String, ch: String, code: u32, font: String },
    #[error("data lacks {fields} (required by the {doc_type} template)")]
    Lacks { fields: String, doc_type: String },
}

/// Checks one parsed line; `Err` is the reason (the caller adds file and line).
pub fn check_line(
    line: ImportLine,
    templates: &Templates,
    key: &SubjectKey,
    font: Option<&PdfFont>,
) -> Result<LicenceDocument, LineProblem> {
    if line.id.is_empty()
        || line.id.len() > 64
        || !line.id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        // Echoed escaped: a file's bytes never reach the terminal raw.
        return Err(LineProblem::BadId(line.id.escape_debug().to_string()));
    }
    let template = templates.get(&line.doc_type)?;
    let id_number = line.subject_id_number.trim().to_ascii_uppercase();
    if !plausible_id_number(&id_number) {
        return Err(LineProblem::BadIdNumber);
    }
    if !(1..=MAX_COPIES_ALLOWED).contains(&line.copies_allowed) {
        return Err(LineProblem::Copies(line.copies_allowed));
    }
    let mut data = BTreeMap::new();
    for (k, v) in line.data {
        // The key as it may be echoed (escaped: a file's bytes never reach the terminal raw).
        let shown = k.escape_debug().to_string();
        let s = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => return Err(LineProblem::NotText { field: shown, value: other.to_string() }),
        };
        if s.chars().count() > MAX_FIELD_CHARS {
            return Err(LineProblem::TooLong { field: shown });
        }
        if let Some(ch) = font.and_then(|f| f.missing(&s)) {
            return Err(LineProblem::Unprintable {
                field: shown,
                ch: ch.escape_debug().to_string(),
                code: ch as u32,
                font: font.map(|f| f.path.display().to_string()).unwrap_or_default(),
            });
        }
        data.insert(k, s);
    }
    let missing = template.missing_fields(&data);
    if !missing.is_empty() {
        return Err(LineProblem::Lacks { fields: missing.join(", "), doc_type: template.doc_type.clone() });
    }
    Ok(LicenceDocument {
        id: line.id,
        doc_type: line.doc_type,
        subject: key.subject(&id_number),
        copies_allowed: line.copies_allowed,
        data,
    })
}

/// Parses and checks a whole JSONL import. Every bad line is reported (`FILE:LINE: reason`);
/// when any line is bad, nothing is returned to store.
pub fn parse_import(
    text: &str,
    file: &str,
    templates: &Templates,
    key: &SubjectKey,
    font: Option<&PdfFont>,
) -> Result<Vec<LicenceDocument>, Vec<String>> {
    let mut docs: Vec<LicenceDocument> = vec![];
    let mut errors = vec![];
    let mut seen = BTreeMap::new();
    for (n, raw) in text.lines().enumerate() {
        let n = n + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let parsed: Result<ImportLine, _> = serde_json::from_str(raw);
        match parsed.map_err(LineProblem::from).and_then(|l| check_line(l, templates, key, font)) {
            Ok(d) => {
                if let Some(first) = seen.insert(d.id.clone(), n) {
                    errors.push(format!("{file}:{n}: id \"{}\" appears again (first on line {first})", d.id));
                } else {
                    docs.push(d);
                }
            }
            Err(e) => errors.push(format!("{file}:{n}: {e}")),
        }
    }
    if docs.is_empty() && errors.is_empty() {
        errors.push(format!("{file}: the file holds no documents (one JSON object per line)"));
    }
    if errors.is_empty() { Ok(docs) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SubjectKey {
        SubjectKey::from_bytes([7; 32])
    }

    const GOOD: &str = r#"{"id":"P-1","type":"certificate_of_proof","subject_id_number":"371329195003071012","copies_allowed":2,"data":{"title":"户籍证明","number":"No. 1","holder_name":"张三丰","body":"兹证明……","authority":"临沭县公安局","issue_date":"2026年11月1日"}}"#;

    #[test]
    fn good_lines_import_and_bad_lines_are_all_reported() {
        let t = Templates::builtin().unwrap();
        let docs = parse_import(GOOD, "f.jsonl", &t, &key(), None).unwrap();
        assert_eq!(docs[0].subject, key().subject("371329195003071012"));
        let bad = format!(
            "{GOOD}\n{}\nnot json\n{}\n{}\n{GOOD}\n",
            GOOD.replace("371329195003071012", "371329195003071013"),
            GOOD.replace("\"copies_allowed\":2", "\"copies_allowed\":0").replace("P-1", "P-2"),
            GOOD.replace("\"title\":\"户籍证明\",", "").replace("P-1", "P-3"),
        );
        let errs = parse_import(&bad, "f.jsonl", &t, &key(), None).unwrap_err();
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(errs[0].starts_with("f.jsonl:2: subject_id_number"), "{}", errs[0]);
        assert!(errs[1].starts_with("f.jsonl:3: "), "{}", errs[1]);
        assert!(errs[2].contains("copies_allowed 0"), "{}", errs[2]);
        assert!(errs[3].contains("lacks title"), "{}", errs[3]);
        assert!(errs[4].contains("appears again (first on line 1)"), "{}", errs[4]);
    }

    #[test]
    fn the_id_number_is_not_kept() {
        let t = Templates::builtin().unwrap();
        let docs = parse_import(GOOD, "f.jsonl", &t, &key(), None).unwrap();
        let json = serde_json::to_string(&docs).unwrap();
        assert!(!json.contains("371329195003071012"));
        assert!(!format!("{docs:?}").contains("张三丰"));
    }

    #[test]
    fn store_adds_replaces_and_finds_by_subject() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(&dir.path().join("documents.sqlite3"));
        assert!(matches!(store.by_id("P-1"), Err(SourceError::Unavailable(_))));
        let t = Templates::builtin().unwrap();
        let docs = parse_import(GOOD, "f.jsonl", &t, &key(), None).unwrap();
        assert_eq!(store.put(&docs, "f.jsonl").unwrap(), ImportSummary { added: 1, replaced: 0 });
        assert_eq!(store.put(&docs, "f.jsonl").unwrap(), ImportSummary { added: 0, replaced: 1 });
        let subject = key().subject("371329195003071012");
        let found = store.for_holder(&Holder { id_number: "", subject: &subject }).unwrap();
        assert_eq!(found, docs);
        assert!(store.for_holder(&Holder { id_number: "", subject: "other" }).unwrap().is_empty());
        assert!(matches!(store.by_id("nope"), Err(SourceError::NotFound(_))));
    }
}
