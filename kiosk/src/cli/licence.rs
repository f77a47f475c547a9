//! `kiosk documents import` (county office) and `kiosk licence print|render|status` (technicians).

use super::{EXIT_INVALID, Exit, load_config};
use crate::config::Config;
use crate::journal::{Journal, JournalSettings, SubjectKey, keys::load_or_create_secret};
use crate::licence::store::parse_import;
use crate::licence::template::{Template, Templates};
use crate::licence::{LicenceError, Licences, LocalStore, PdfFont, RenderInput, render};
use clap::Subcommand;
use cli_common::invalid;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Exit code when the printer is not ready or the job failed.
pub const EXIT_PRINTER: u8 = 3;

#[derive(Debug, Subcommand)]
pub enum DocumentsCommand {
    /// Import documents from a JSONL file (one JSON object per line) into the local store. Every bad
    /// line is reported and then nothing is imported; known ids are replaced.
    Import {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(value_name = "FILE.jsonl")]
        file: PathBuf,
    },
    /// How many documents the local store holds.
    Count {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum LicenceCommand {
    /// Print a document on the licence printer (the technician's path), journaled like a citizen's print.
    Print {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_name = "ID")]
        document: String,
        #[arg(long, default_value_t = 1)]
        copies: u32,
    },
    /// Render a template with data to a PDF file, without printing or journaling.
    Render {
        /// A built-in template type (business_licence, certificate_of_proof, generic_certificate) or a .toml file.
        #[arg(long, value_name = "T")]
        template: String,
        /// JSON object of the fields, or an import line with a "data" object.
        #[arg(long, value_name = "F.json")]
        data: PathBuf,
        #[arg(long, value_name = "X.pdf")]
        out: PathBuf,
        #[arg(long, value_name = "ID", default_value = "SAMPLE-0001")]
        id: String,
        /// A CJK font file; by default Noto CJK or WenQuanYi from /usr/share/fonts.
        #[arg(long, value_name = "FONT")]
        font: Option<PathBuf>,
    },
    /// Ask the licence printer for its state (Get-Printer-Attributes); exit 3 when it cannot print.
    Status {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

/// Imports a JSONL file into the configuration's local store; returns (added, replaced).
pub fn import_file(config: &Config, file: &Path) -> anyhow::Result<(usize, usize)> {
    let text = config::files::read_text(file, config::files::FileKind::Documents)
        .map_err(|e| invalid(format!("{}: cannot read the import file ({e}).", file.display())))?;
    let templates = Templates::builtin()?;
    let settings = JournalSettings::from_config(config);
    let key = SubjectKey::from_bytes(*load_or_create_secret(&settings.secret_path)?);
    let font = PdfFont::find(config.licence.font.as_deref(), config.licence.font_index).ok();
    let name = file.display().to_string();
    let docs = parse_import(&text, &name, &templates, &key, font.as_ref()).map_err(|errors| {
        invalid(format!(
            "{} line(s) are not valid, so nothing was imported:\n{}\nCorrect them and import the file again.",
            errors.len(),
            errors.join("\n")
        ))
    })?;
    let s = LocalStore::new(&config.licence.store_path).put(&docs, &name)?;
    Ok((s.added, s.replaced))
}

pub fn run_documents(cmd: DocumentsCommand) -> anyhow::Result<()> {
    match cmd {
        DocumentsCommand::Import { config, file } => {
            let config = load_config(&config)?;
            let (added, replaced) = import_file(&config, &file)?;
            println!(
                "{}: imported {} documents ({added} new, {replaced} replaced) into {}.",
                file.display(),
                added + replaced,
                config.licence.store_path.display()
            );
            Ok(())
        }
        DocumentsCommand::Count { config } => {
            let config = load_config(&config)?;
            let n = LocalStore::new(&config.licence.store_path).count()?;
            println!("{n}");
            Ok(())
        }
    }
}

fn printer_exit(e: LicenceError) -> anyhow::Error {
    let code = match e {
        LicenceError::Printer(_) => EXIT_PRINTER,
        LicenceError::CopyLimit { .. } | LicenceError::Source(_) | LicenceError::Render(_) => EXIT_INVALID,
        LicenceError::Journal(_) => 1,
    };
    Exit { code, message: e.to_string() }.into()
}

pub fn run_licence(cmd: LicenceCommand) -> anyhow::Result<()> {
    match cmd {
        LicenceCommand::Render { template, data, out, id, font } => {
            let t = if template.ends_with(".toml") {
                Template::load(Path::new(&template)).map_err(|e| invalid(e.to_string()))?
            } else {
                Templates::builtin()?.get(&template).map_err(|e| invalid(e.to_string()))?.clone()
            };
            let text = config::files::read_text(&data, config::files::FileKind::Documents)
                .map_err(|e| invalid(format!("{}: cannot read the data file ({e}).", data.display())))?;
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| invalid(format!("{}: not JSON ({e}).", data.display())))?;
            let object =
                value.get("data").unwrap_or(&value).as_object().ok_or_else(|| {
                    invalid(format!("{}: write a JSON object of the template's fields.", data.display()))
                })?;
            let mut fields = BTreeMap::new();
            for (k, v) in object {
                let s = v.as_str().map(str::to_string).or_else(|| v.as_number().map(|n| n.to_string()));
                let s = s.ok_or_else(|| invalid(format!("{}: field {k} must be text.", data.display())))?;
                fields.insert(k.clone(), s);
            }
            let font = PdfFont::find(font.as_deref(), None).map_err(|e| invalid(e.to_string()))?;
            let now = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai")?);
            let verify = format!("https://zwfw.example.invalid/verify/{id}");
            let input = RenderInput {
                document_id: &id,
                data: &fields,
                verify_url: &verify,
                kiosk_id: "render",
                printed_at: &now,
            };
            let pdf = render(&t, &input, &font).map_err(|e| invalid(e.to_string()))?;
            std::fs::write(&out, &pdf).map_err(|e| anyhow::anyhow!("cannot write {} ({e})", out.display()))?;
            println!("{}: {} ({} bytes, font {}).", out.display(), t.title_zh, pdf.len(), font.path.display());
            Ok(())
        }
        LicenceCommand::Status { config } => {
            let config = load_config(&config)?;
            let journal = Journal::open(JournalSettings::from_config(&config))?;
            let licences = Licences::from_config(&config, journal)?;
            let status = licences.printer.status().map_err(|f| Exit { code: EXIT_PRINTER, message: f.technician() })?;
            println!(
                "{}: {:?}, reasons [{}], media-ready [{}], \"{}\"",
                licences.printer.describe(),
                status.state,
                status.reasons.iter().map(|r| r.keyword()).collect::<Vec<_>>().join(", "),
                status.media_ready.join(", "),
                status.message
            );
            match status.fault() {
                Some(f) => Err(Exit { code: EXIT_PRINTER, message: f.technician() }.into()),
                None => Ok(()),
            }
        }
        LicenceCommand::Print { config, document, copies } => {
            let config = load_config(&config)?;
            let journal = Journal::open(JournalSettings::from_config(&config))?;
            let licences = Licences::from_config(&config, journal.clone())?;
            if let Some(why) = licences.unavailable() {
                return Err(invalid(why.to_string()));
            }
            let choice = licences.document(&document).map_err(printer_exit)?;
            eprintln!(
                "{} {} ({}): copies allowed {}, still allowed {}; printing {copies} on {}.",
                choice.title_zh,
                document,
                choice.number_masked,
                choice.document.copies_allowed,
                choice.remaining,
                licences.printer.describe()
            );
            let printed = licences
                .print(&choice.document, copies, "technician", |s| eprintln!("job: {}", s.keyword()))
                .map_err(printer_exit)?;
            journal.checkpoint()?;
            println!(
                "printed {document}: copies {}, job {}, print id {}; copies still allowed: {}.",
                printed.copies, printed.job_id, printed.print_id, printed.remaining
            );
            Ok(())
        }
    }
}
