//! `kiosk catalogue check|search|install`: the county office's tools for the service catalogue.

use super::load_config;
use crate::catalogue::store::{Fallback, install_into};
use crate::catalogue::{Catalogue, CatalogueError, is_partner_file, parse_catalogue, parse_partners};
use clap::Subcommand;
use cli_common::invalid;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// Check a catalogue file, or a partner-points file, or both (the partner file's item codes are then
    /// checked against the catalogue): exit 0 when valid, 2 with file:line:column, item and field when not.
    Check {
        file: PathBuf,
        /// A partner-points file to check with the catalogue.
        partners: Option<PathBuf>,
    },
    /// Search the catalogue as the kiosk's search page does.
    Search {
        query: String,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// The kiosk whose installed catalogue to search; the built-in sample without it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// A catalogue file to search instead.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Validate and install a new catalogue (and/or partner file) for the kiosk of this configuration. A
    /// running kiosk picks it up when the next citizen opens 事项查询, and journals its digest.
    Install {
        /// The catalogue file (or a partner-points file: it is recognised by its [partners] table).
        file: PathBuf,
        /// A partner-points file to install with it.
        partners: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

fn read(path: &Path) -> anyhow::Result<String> {
    config::files::read_text(path, config::files::FileKind::Catalogue)
        .map_err(|source| invalid(CatalogueError::Unreadable { file: path.to_owned(), source }))
}

pub fn run(cmd: CatalogueCommand) -> anyhow::Result<()> {
    match cmd {
        CatalogueCommand::Check { file, partners } => {
            let src = read(&file)?;
            if partners.is_none() && is_partner_file(&src) {
                let p = parse_partners(&src, &file, None).map_err(invalid)?;
                println!(
                    "{}: valid partner points, {} points, updated {}.",
                    file.display(),
                    p.points.len(),
                    p.header.updated
                );
                return Ok(());
            }
            let checked = parse_catalogue(&src, &file).map_err(invalid)?;
            println!(
                "{}: valid catalogue \"{}\", {} items, updated {}.",
                file.display(),
                checked.header().title,
                checked.items(),
                checked.header().updated
            );
            if let Some(pfile) = partners {
                let p = parse_partners(&read(&pfile)?, &pfile, Some(&checked)).map_err(invalid)?;
                println!("{}: valid partner points, {} points.", pfile.display(), p.points.len());
            }
            Ok(())
        }
        CatalogueCommand::Search { query, json, limit, config, file } => {
            let catalogue: std::sync::Arc<Catalogue> = match (file, config) {
                (Some(f), _) => Catalogue::from_sources(&read(&f)?, &f, None).map_err(invalid)?.into(),
                (None, Some(c)) => {
                    let config = load_config(&c)?;
                    let store = crate::catalogue::store::CatalogueStore::open(
                        &config.state_dir(),
                        crate::catalogue::store::Fallback::of(&config),
                    )
                    .map_err(invalid)?;
                    store.get()
                }
                (None, None) => Catalogue::sample().into(),
            };
            let found = catalogue.index.search(&query, limit.clamp(1, 1000));
            if !json {
                if found.hits.is_empty() {
                    println!("nothing found for \"{query}\"");
                }
                if found.approximate && !found.hits.is_empty() {
                    println!("nothing matches exactly; with one letter different:");
                }
            }
            for h in &found.hits {
                let it = &catalogue.items[h.item];
                if json {
                    let line = serde_json::json!({
                        "code": it.code, "name": it.name, "rank": h.rank.as_str(),
                        "department": catalogue.department_name(&it.department),
                        "category": it.category, "high_frequency": it.high_frequency,
                        "approximate": found.approximate,
                    });
                    println!("{line}");
                } else {
                    println!(
                        "{}\t{}\t{}\t{}",
                        it.code,
                        h.rank.as_str(),
                        it.name,
                        catalogue.department_name(&it.department)
                    );
                }
            }
            if !json {
                println!("{} of {} shown", found.hits.len(), found.total);
            }
            Ok(())
        }
        CatalogueCommand::Install { file, partners, config } => {
            let config = load_config(&config)?;
            let first = read(&file)?;
            let (catalogue, partners) = match (is_partner_file(&first), partners) {
                (true, None) => (None, Some(first)),
                (true, Some(_)) => {
                    return Err(invalid(format!(
                        "{} is a partner-points file; give the catalogue first.",
                        file.display()
                    )));
                }
                (false, p) => (Some(first), p.map(|p| read(&p)).transpose()?),
            };
            let dir = config.state_dir().join("catalogue");
            let fallback: Fallback = crate::catalogue::store::Fallback::of(&config);
            let c = install_into(&dir, &fallback, catalogue.as_deref(), partners.as_deref()).map_err(invalid)?;
            println!(
                "installed catalogue \"{}\" ({} items, {} partner points, updated {}), digest {}",
                c.header.title,
                c.items.len(),
                c.partners.points.len(),
                c.header.updated,
                c.digest
            );
            Ok(())
        }
    }
}
