//! Printing a citizen's licence, journaled: the copies still allowed (counted from the journal), then
//! licence_print_requested → Print-Job → follow the job → licence_printed or licence_print_failed.

use super::platform::PlatformSource;
use super::printer::{LicencePrinter, LicencePrinterOwner, SimulatedA4};
use super::render::{PdfFont, Preview, RenderError, RenderInput, preview, render};
use super::store::{DocumentSource, Holder, LicenceDocument, LocalStore, SourceError};
use super::template::{Template, Templates};
use config::{Config, DocumentSourceKind};
use devices::DeviceHealth;
use drivers::ipp::{IppPrinter, JobState, PrintRequest, PrinterFault};
use journal::{Journal, JournalError, NewEntry, payload};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS licence_prints (
    id            TEXT PRIMARY KEY,
    document_id   TEXT NOT NULL,
    copies        INTEGER NOT NULL,
    state         TEXT NOT NULL,   -- requested, printed, failed
    requested_at  TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS licence_prints_document ON licence_prints (document_id);
";

/// Why a licence was not printed. Every variant has a sentence for the citizen.
#[derive(Debug, thiserror::Error)]
pub enum LicenceError {
    #[error("{}", .0.technician())]
    Printer(PrinterFault),
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("{0}")]
    Render(#[from] RenderError),
    #[error(
        "Document {document_id} may be printed {allowed} times at the kiosk and {used} have been printed; {asked} more would exceed that. The county office can raise copies_allowed by importing the document again."
    )]
    CopyLimit { document_id: String, allowed: u32, used: u32, asked: u32 },
    #[error("{0}")]
    Journal(#[from] JournalError),
}

impl LicenceError {
    /// The reason code journaled in licence_print_failed.
    pub fn code(&self) -> &'static str {
        match self {
            LicenceError::Printer(f) => f.code(),
            LicenceError::Source(_) => "document_source",
            LicenceError::Render(_) => "render_failed",
            LicenceError::CopyLimit { .. } => "copy_limit",
            LicenceError::Journal(_) => "journal",
        }
    }

    /// What the citizen is told.
    pub fn reason(&self) -> vocabulary::Reason {
        use vocabulary::Reason;
        match self {
            LicenceError::Printer(f) => Reason::A4(devices::a4_trouble(f)),
            LicenceError::Source(_) => Reason::LookupUnavailable,
            LicenceError::Render(_) | LicenceError::Journal(_) => Reason::LicenceFailed,
            LicenceError::CopyLimit { allowed, .. } => Reason::CopyLimit { allowed: *allowed },
        }
    }
}

/// A document as the citizen's list shows it.
#[derive(Debug, Clone)]
pub struct DocumentChoice {
    pub document: LicenceDocument,
    pub title_zh: String,
    pub title_en: String,
    /// The document's number with its middle masked.
    pub number_masked: String,
    /// Copies still allowed.
    pub remaining: u32,
}

/// A finished print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    pub print_id: String,
    pub job_id: i32,
    pub copies: u32,
    pub remaining: u32,
}

/// Everything licence printing needs, shared by the UI flow and the CLI.
#[derive(Clone)]
pub struct Licences {
    journal: Journal,
    source: Arc<dyn DocumentSource>,
    /// The licence printer's owner (its one link).
    pub printer: LicencePrinterOwner,
    /// The licence printer's one state, whoever noticed it (the watcher's probe or a print).
    pub health: Arc<DeviceHealth<PrinterFault>>,
    pub templates: Templates,
    /// Where the font is (checked at start) and the font itself, read on the first render.
    font_at: Result<(std::path::PathBuf, u32), String>,
    font: Arc<std::sync::OnceLock<Result<PdfFont, String>>>,
    kiosk_id: String,
    verify_url: String,
    tz: jiff::tz::TimeZone,
    job_timeout: Duration,
    two_sided: bool,
}

impl std::fmt::Debug for Licences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Licences({}, {})", self.source.describe(), self.printer.describe())
    }
}

/// The folder the simulated licence printer files PDFs in: next to the journal.
pub fn simulated_output_dir(config: &Config) -> std::path::PathBuf {
    config.journal.path.parent().unwrap_or(Path::new(".")).join("licence-prints")
}

/// Why licence printing could not be set up: each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the built-in licence templates do not load ({0})")]
    Templates(#[from] super::template::TemplateError),
    #[error(transparent)]
    Platform(#[from] platform::SetupError),
    #[error("[devices.licence_printer] uri: {0}")]
    PrinterUri(#[from] drivers::ipp::BadUri),
    #[error("the licence printer's owner thread cannot start ({0})")]
    Thread(#[from] std::io::Error),
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
}

impl Licences {
    /// How long one licence job may take (`[licence_printer] job_timeout_s`).
    pub fn job_timeout(&self) -> Duration {
        self.job_timeout
    }

    /// Builds the service from the configuration. A missing font does not stop the kiosk (the
    /// tile says the service is unavailable and the journal says why); everything else must be right.
    pub fn from_config(config: &Config, journal: Journal) -> Result<Licences, SetupError> {
        let templates = Templates::builtin()?;
        let l = &config.licence;
        let source: Arc<dyn DocumentSource> = match l.source {
            DocumentSourceKind::Local => Arc::new(LocalStore::new(&l.store_path)),
            DocumentSourceKind::Platform => {
                let platform = platform::Platform::from_config(&config.platform, &config.kiosk.id)?;
                Arc::new(PlatformSource::new(Arc::new(platform), templates.clone()))
            }
        };
        let p = &config.devices.licence_printer;
        let printer = if p.uri == "simulated" {
            LicencePrinter::Simulated(SimulatedA4::new(&simulated_output_dir(config)))
        } else {
            LicencePrinter::Ipp(IppPrinter::new(&p.uri, Duration::from_secs(15))?)
        };
        let printer = LicencePrinterOwner::start(printer)?;
        journal.transact(|conn| {
            conn.execute_batch(SCHEMA)?;
            Ok((vec![], ()))
        })?;
        Ok(Licences {
            journal,
            source,
            printer,
            health: DeviceHealth::new(journal::payload::Device::LicencePrinter, |f: &PrinterFault| {
                f.code().to_string()
            }),
            templates,
            font_at: PdfFont::locate(l.font.as_deref(), l.font_index).map_err(|e| e.to_string()),
            font: Arc::default(),
            kiosk_id: config.kiosk.id.clone(),
            verify_url: l.verify_url.clone(),
            tz: config.tz().clone(),
            job_timeout: Duration::from_secs(u64::from(p.job_timeout_s)),
            two_sided: p.two_sided,
        })
    }

    pub fn source(&self) -> &dyn DocumentSource {
        self.source.as_ref()
    }

    /// Why the service cannot print at all (no font), for the tile and the maintenance screen.
    pub fn unavailable(&self) -> Option<&str> {
        self.font_at.as_ref().err().map(String::as_str)
    }

    fn font(&self) -> Result<&PdfFont, LicenceError> {
        let font = self.font.get_or_init(|| {
            let (path, index) = self.font_at.clone()?;
            PdfFont::load(&path, index).map_err(|e| e.to_string())
        });
        font.as_ref().map_err(|e| LicenceError::Source(SourceError::Unavailable(e.clone())))
    }

    /// Copies of a document printed or in flight (a print whose outcome a crash lost counts: never
    /// more than allowed, and staff can check the journal).
    pub fn used(&self, document_id: &str) -> Result<u32, LicenceError> {
        let conn = journal::open_reader(&self.journal.settings().path)?;
        let used: i64 = conn
            .query_row(
                "SELECT coalesce(sum(copies), 0) FROM licence_prints WHERE document_id = ?1 AND state != 'failed'",
                [document_id],
                |r| r.get(0),
            )
            .map_err(JournalError::from)?;
        Ok(u32::try_from(used).unwrap_or(u32::MAX))
    }

    fn choice(&self, document: LicenceDocument) -> Result<DocumentChoice, LicenceError> {
        let template = self.templates.get(&document.doc_type).map_err(|e| SourceError::Invalid(e.to_string()))?;
        let number = document.data.get(&template.number_field).cloned().unwrap_or_default();
        let remaining = document.copies_allowed.saturating_sub(self.used(&document.id)?);
        Ok(DocumentChoice {
            title_zh: template.title_zh.clone(),
            title_en: template.title_en.clone(),
            number_masked: vocabulary::mask::number(&number),
            remaining,
            document,
        })
    }

    /// The holder's documents with the copies each still allows.
    pub fn documents_for(&self, id_number: &str) -> Result<Vec<DocumentChoice>, LicenceError> {
        let subject = self.journal.subject_key().subject(id_number);
        let docs = self.source.for_holder(&Holder { id_number, subject: &subject })?;
        docs.into_iter().map(|d| self.choice(d)).collect()
    }

    /// One document by id, for the technician's CLI.
    pub fn document(&self, id: &str) -> Result<DocumentChoice, LicenceError> {
        let doc = self.source.by_id(id)?;
        self.choice(doc)
    }

    /// The PDF of a document as it would print now.
    pub fn render(&self, document: &LicenceDocument) -> Result<Vec<u8>, LicenceError> {
        self.laid_out(document, render)
    }

    /// A picture of the document's first page, `width_px` wide, laid out exactly as it will print.
    /// The document's first page as the screen shows it: drawn from [`masked_for_screen`]'s copy, so the
    /// preview shows what the list and the greeting show (the print itself is whole).
    pub fn preview(&self, document: &LicenceDocument, width_px: u32) -> Result<Preview, LicenceError> {
        let template = self.templates.get(&document.doc_type).map_err(|e| SourceError::Invalid(e.to_string()))?;
        let shown = masked_for_screen(document, &template.number_field);
        self.laid_out(&shown, |template, input, font| preview(template, input, font, width_px))
    }

    /// Runs `draw` over the document's template, fields and font, as printed now.
    fn laid_out<T>(
        &self,
        document: &LicenceDocument,
        draw: impl FnOnce(&Template, &RenderInput<'_>, &PdfFont) -> Result<T, RenderError>,
    ) -> Result<T, LicenceError> {
        let font = self.font()?;
        let template = self.templates.get(&document.doc_type).map_err(|e| SourceError::Invalid(e.to_string()))?;
        let now = jiff::Timestamp::now().to_zoned_datetime(self.tz.clone());
        let verify_url = self.verify_url.replace("{document_id}", &document.id);
        let input = RenderInput {
            document_id: &document.id,
            data: &document.data,
            verify_url: &verify_url,
            kiosk_id: &self.kiosk_id,
            printed_at: &now,
        };
        Ok(draw(template, &input, font)?)
    }

    fn failed(&self, session: &str, doc: &LicenceDocument, copies: u32, print_id: Option<&str>, e: &LicenceError) {
        let detail = match e {
            LicenceError::Printer(f) => f.detail().map(str::to_owned),
            _ => None,
        };
        let entry: NewEntry = payload::LicencePrintFailed {
            document_id: doc.id.clone(),
            document_type: doc.doc_type.clone(),
            copies,
            reason: e.code().to_owned(),
            print_id: print_id.map(str::to_owned),
            detail,
        }
        .into();
        let entries = vec![entry.in_session(session)];
        let id = print_id.map(str::to_string);
        let result = self.journal.transact(move |conn| {
            if let Some(id) = id {
                conn.execute("UPDATE licence_prints SET state = 'failed' WHERE id = ?1", [&id])?;
            }
            Ok((entries, ()))
        });
        if let Err(err) = result {
            log::error!("cannot journal a failed licence print: {err}");
        }
        if let LicenceError::Printer(f) = e {
            self.health.observe(&self.journal, Some(f.clone()), journal::payload::HealthSource::Print);
        }
    }

    /// Asks the licence printer now whether it can print (a flow starting); what it says goes to its one
    /// state, as a probe's does.
    pub fn check_printer(&self) -> Result<(), LicenceError> {
        self.ask_printer(journal::payload::HealthSource::Flow).map_or(Ok(()), |f| Err(LicenceError::Printer(f)))
    }

    /// The printer's state now, told to its one state (which journals an outage once) as seen by `source`.
    fn ask_printer(&self, source: journal::payload::HealthSource) -> Option<PrinterFault> {
        let fault = self.printer.status().and_then(|s| s.fault().map_or(Ok(()), Err)).err();
        self.health.observe(&self.journal, fault.clone(), source);
        fault
    }

    /// Probes the licence printer every `every` until its owner stops, so its tile and the journal follow
    /// its state between prints. Returns the watcher's owned thread.
    pub fn watch(&self, every: Duration) -> std::io::Result<owner::Owned> {
        let me = self.clone();
        owner::Owned::spawn("licence-printer-health", move |life| {
            loop {
                me.ask_printer(journal::payload::HealthSource::Probe);
                if life.stop.wait(every) {
                    return;
                }
            }
        })
    }

    /// Prints `copies` of `doc`: render, check the printer, reserve the copies with
    /// licence_print_requested, send, follow the job, record the outcome. `on_state` hears the job's
    /// states for the screen.
    pub fn print(
        &self,
        doc: &LicenceDocument,
        copies: u32,
        session: &str,
        mut on_state: impl FnMut(JobState),
    ) -> Result<Printed, LicenceError> {
        let fail = |e: LicenceError, print_id: Option<&str>| {
            self.failed(session, doc, copies, print_id, &e);
            e
        };
        let pdf = self.render(doc).map_err(|e| fail(e, None))?;
        let status = self.printer.status().map_err(|f| fail(LicenceError::Printer(f), None))?;
        if let Some(f) = status.fault() {
            return Err(fail(LicenceError::Printer(f), None));
        }
        let print_id =
            format!("{}-{}", self.kiosk_id, hex::encode(vocabulary::secrets::random_bytes::<6>().unwrap_or([0; 6])));
        let (id, document_id, allowed, doc_type, subject) =
            (print_id.clone(), doc.id.clone(), doc.copies_allowed, doc.doc_type.clone(), doc.subject.clone());
        let sess = session.to_string();
        let reserved = self.journal.transact(move |conn| {
            let used: i64 = conn.query_row(
                "SELECT coalesce(sum(copies), 0) FROM licence_prints WHERE document_id = ?1 AND state != 'failed'",
                [&document_id],
                |r| r.get(0),
            )?;
            let used = u32::try_from(used).unwrap_or(u32::MAX);
            if copies == 0 || used.saturating_add(copies) > allowed {
                return Ok((vec![], Err(LicenceError::CopyLimit { document_id, allowed, used, asked: copies })));
            }
            conn.execute(
                "INSERT INTO licence_prints (id, document_id, copies, state, requested_at) VALUES (?1, ?2, ?3, 'requested', ?4)",
                rusqlite::params![id, document_id, copies, journal::utc_now()],
            )?;
            let entry: NewEntry = payload::LicencePrintRequested {
                print_id: id,
                document_id,
                document_type: doc_type,
                copies,
                allowed,
                used_before: used,
                subject: (!subject.is_empty()).then_some(subject),
            }
            .into();
            Ok((vec![entry.in_session(sess)], Ok(used)))
        });
        let used_before = match reserved {
            Ok((_, Ok(used))) => used,
            Ok((_, Err(e))) => return Err(fail(e, None)),
            Err(e) => return Err(LicenceError::Journal(e)),
        };
        let req = PrintRequest { pdf: &pdf, job_name: &doc.id, copies, two_sided: self.two_sided };
        let job_id = self
            .printer
            .print(&req, self.job_timeout, &mut on_state)
            .map_err(|f| fail(LicenceError::Printer(f), Some(&print_id)))?;
        let (id, document_id, sess) = (print_id.clone(), doc.id.clone(), session.to_string());
        self.journal.transact(move |conn| {
            conn.execute("UPDATE licence_prints SET state = 'printed' WHERE id = ?1", [&id])?;
            let entry: NewEntry = payload::LicencePrinted { print_id: id, document_id, copies, job_id }.into();
            Ok((vec![entry.in_session(sess)], ()))
        })?;
        self.health.observe(&self.journal, None, journal::payload::HealthSource::Print);
        Ok(Printed { print_id, job_id, copies, remaining: doc.copies_allowed.saturating_sub(used_before + copies) })
    }
}

/// The fields of a document that name a person: masked on screen by the one rule (vocabulary::mask).
pub const PERSON_NAME_FIELDS: [&str; 2] = ["holder_name", "legal_representative"];

/// `document` as a screen may show it: the person's name in every field (the name fields and free text that
/// repeats it) and the identifying number (`number_field`) wherever it appears, masked by the one rule.
pub fn masked_for_screen(document: &LicenceDocument, number_field: &str) -> LicenceDocument {
    let names: Vec<&str> =
        PERSON_NAME_FIELDS.iter().filter_map(|f| document.data.get(*f)).map(String::as_str).collect();
    let number = document.data.get(number_field).filter(|n| n.chars().count() > 8);
    let data = document
        .data
        .iter()
        .map(|(k, v)| {
            let mut v = vocabulary::mask::names_in(v, &names);
            if let Some(n) = number {
                v = v.replace(n.as_str(), &vocabulary::mask::number(n));
            }
            (k.clone(), v)
        })
        .collect();
    LicenceDocument { data, ..document.clone() }
}

#[cfg(test)]
mod masked_tests {
    use super::*;

    /// Issue #30 item 9: the preview showed a full credit code that the list masks, and the holder's name.
    #[test]
    fn the_screen_s_copy_masks_the_person_and_the_number_wherever_they_appear() {
        let data = [
            ("name", "临沭县小梅示例柳编工艺品有限公司"),
            ("credit_code", "91371329MA3DEMO01X"),
            ("legal_representative", "李小梅"),
            ("scope", "李小梅经营柳编，代码 91371329MA3DEMO01X"),
        ];
        let doc = LicenceDocument {
            id: "BL-1".into(),
            doc_type: "business_licence".into(),
            subject: String::new(),
            copies_allowed: 1,
            data: data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        let shown = masked_for_screen(&doc, "credit_code");
        assert_eq!(shown.data["legal_representative"], "李*梅");
        assert_eq!(shown.data["credit_code"], "9137**********O01X");
        assert_eq!(shown.data["scope"], "李*梅经营柳编，代码 9137**********O01X");
        assert_eq!(shown.data["name"], "临沭县小梅示例柳编工艺品有限公司", "a company's name is public");
        assert_eq!(doc.data["credit_code"], "91371329MA3DEMO01X", "the document itself is untouched");
    }
}
