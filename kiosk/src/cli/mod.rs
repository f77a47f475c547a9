//! The `kiosk` subcommands: parse arguments, call the library, turn errors into exit codes and sentences.

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod admin;
mod appointments;
mod catalogue;
mod idcard;
mod journal;
mod licence;
mod outbox;
#[cfg(feature = "demo")]
mod sim;
mod snapshot;
mod ticket;
pub use licence::import_file;
pub use ticket::simulated_printer;

pub use cli_common::{EXIT_INVALID, Exit, invalid};

#[derive(Debug, Parser)]
#[command(name = "kiosk", version, about = "Self-service kiosk for a 24-hour government service hall.", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the kiosk with simulated devices and the built-in demo configuration.
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Draw the home page with the software renderer into a PNG, without a display (a box's build is
    /// compared with the x86 build's picture this way).
    Snapshot {
        /// The configuration to draw (its hall name, orientation, logo); the demo's without it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The time the home screen's clock shows, so two pictures can be compared.
        #[arg(long, default_value = "2026-11-25 03:00")]
        clock: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Run the kiosk with a configuration file.
    Run {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Work with configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// County staff's tools for the transaction journal.
    #[command(subcommand)]
    Journal(journal::JournalCommand),
    /// Moved to the county's tool: `kiosk-county fleet …` (package kiosk-county).
    #[command(hide = true)]
    Fleet {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Queue tickets without the UI.
    #[command(subcommand)]
    Ticket(ticket::TicketCommand),
    /// Device simulators that speak the real protocols.
    #[cfg(feature = "demo")]
    #[command(subcommand)]
    Sim(sim::SimCommand),
    /// Technicians' tools for the ID-card reader.
    #[command(subcommand)]
    Idcard(idcard::IdcardCommand),
    /// The county office's tools for the local document store.
    #[command(subcommand)]
    Documents(licence::DocumentsCommand),
    /// Licence printing without the UI: print, render, printer status.
    #[command(subcommand)]
    Licence(licence::LicenceCommand),
    /// Check each device, the journal, disk, clock, configuration and certificate: OK / WARN / FAIL with
    /// what to do; exit 0, 1 or 2 for the worst. Run it with the kiosk stopped (it holds the serial ports).
    Doctor {
        #[arg(long, value_name = "FILE")]
        config: std::path::PathBuf,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
        /// Also print a test page on the ticket printer.
        #[arg(long)]
        test_print: bool,
    },
    /// 预约签到's stand-in for the platform: the day's appointments imported from a file.
    #[command(subcommand)]
    Appointments(appointments::AppointmentsCommand),
    /// The outbox to the platform (ratings, 一事一评): status, and one delivery pass.
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// The service catalogue 事项查询 searches: check, search, install.
    #[command(subcommand)]
    Catalogue(catalogue::CatalogueCommand),
    /// Make hashes for the [admin] section.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Technicians' check of the voice: say a sentence through the configured engine, or write it to a WAV
    /// file with espeak-ng as the kiosk would speak it.
    Voice {
        /// The configuration whose [voice] section to use; the built-in defaults without it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Write the speech to this WAV file (espeak-ng) instead of speaking it.
        #[arg(long, value_name = "FILE")]
        wav: Option<PathBuf>,
        /// Speak it with the English voice.
        #[arg(long)]
        english: bool,
        /// Speak it slowly, as elder mode does.
        #[arg(long)]
        slow: bool,
        /// What to say.
        text: String,
    },
}

#[cfg(feature = "demo")]
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Folder for the demo's journal, keys and printed output.
    #[arg(long, value_name = "DIR", default_value = "kiosk-demo")]
    pub state_dir: PathBuf,
    /// Print licences on this IPP printer (e.g. CUPS's ippeveprinter) instead of filing PDFs in the demo folder.
    #[arg(long, value_name = "URI")]
    pub licence_printer: Option<String>,
    /// Show the screen in portrait (1080×1920), as on a standing kiosk.
    #[arg(long)]
    pub portrait: bool,
    /// Start in elder mode (larger type and targets; the voice speaks on its own).
    #[arg(long)]
    pub elder: bool,
    /// speech-dispatcher's socket, for a daemon other than the session's own.
    #[arg(long, value_name = "PATH")]
    pub voice_socket: Option<PathBuf>,
    /// How the demo's stand-in for the provincial platform behaves (none, slow, error, wrong-token, malformed,
    /// unreachable), to see what a citizen is told when the platform fails.
    #[arg(long, value_enum, default_value = "none")]
    pub platform_fault: crate::demo::standin::Fault,
    /// Open every queue category round the clock (the demo's 不动产登记 and 社保医保 counters otherwise keep
    /// office hours, as a hall's do, and refuse numbers at night).
    #[arg(long)]
    pub all_hours: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file: exit 0 when valid, 2 with the reason on stderr when not.
    Check { file: PathBuf },
}

/// An error that has already been explained to the user and carries its exit code.
pub fn main() -> ExitCode {
    cli_common::run_main("kiosk", || dispatch(Cli::parse()))
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Config(ConfigCommand::Check { file }) => {
            let config = load_config(&file)?;
            for warning in config.demo_credentials() {
                eprintln!("warning: {warning}");
            }
            // A journal that exists must have its own key file (two configurations naming one is refused).
            let settings = crate::journal::JournalSettings::from_config(&config);
            if settings.path.exists() && settings.signing_key_path.exists() {
                let conn = crate::journal::open_read_only(&settings.path)?;
                if let Some(what) = crate::journal::foreign_key_file(&conn, &settings.signing_key_path)? {
                    return Err(Exit {
                        code: EXIT_INVALID,
                        message: format!(
                            "{}: [journal] signing_key_path {}: {what}.",
                            file.display(),
                            settings.signing_key_path.display()
                        ),
                    }
                    .into());
                }
            }
            println!(
                "{}: valid configuration for kiosk {} ({}), {} queue categories.",
                file.display(),
                config.kiosk.id,
                config.kiosk.hall_name,
                config.queue.categories.len()
            );
            Ok(())
        }
        Command::Run { config: file } => {
            let config = load_config(&file)?;
            let demo = config.demo_credentials();
            if !demo.is_empty() {
                return Err(Exit {
                    code: EXIT_INVALID,
                    message: format!(
                        "{} still has the example's demo credentials, which anyone can look up; nothing was started.\n  {}",
                        file.display(),
                        demo.join("\n  ")
                    ),
                }
                .into());
            }
            crate::app::run(config)
        }
        #[cfg(feature = "demo")]
        Command::Demo(args) => {
            // The demo opens a window (winit): without a display, say how to give it one rather than leave
            // the citizen-facing software's first impression to winit's error.
            let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
            // The window is an X11 one (winit's X11 backend only: a Wayland desktop runs it through XWayland).
            if !set("DISPLAY") {
                let why = if set("WAYLAND_DISPLAY") {
                    "kiosk demo opens an X11 window, and this Wayland session has no X server (DISPLAY is not \
                     set). Enable XWayland in the desktop's settings, or run it under Xvfb: \
                     xvfb-run -a -s \"-screen 0 1920x1080x24\" kiosk demo"
                } else {
                    "kiosk demo opens a window, and there is no display here (DISPLAY is not set). Run it in a \
                     desktop session, or without a screen under Xvfb: xvfb-run -a -s \"-screen 0 1920x1080x24\" \
                     kiosk demo"
                };
                return Err(Exit { code: EXIT_INVALID, message: why.into() }.into());
            }
            std::fs::create_dir_all(&args.state_dir)
                .map_err(|e| anyhow::anyhow!("cannot create the demo folder {} ({e})", args.state_dir.display()))?;
            let state_dir = std::fs::canonicalize(&args.state_dir)?;
            eprintln!("kiosk demo: state (journal, keys, printed tickets) goes to {}", state_dir.display());
            let mut config = Config::demo(&state_dir);
            if let Some(uri) = args.licence_printer {
                drivers::ipp::parse_uri(&uri)
                    .map_err(|e| Exit { code: EXIT_INVALID, message: format!("--licence-printer: {e}") })?;
                config.devices.licence_printer.uri = uri;
            }
            if args.portrait {
                config.ui.orientation = crate::config::Orientation::Portrait;
            }
            config.ui.elder_mode |= args.elder;
            if args.all_hours {
                config.queue.categories.iter_mut().for_each(crate::config::CategoryConfig::open_round_the_clock);
            }
            if args.voice_socket.is_some() {
                config.voice.socket = args.voice_socket;
                config.voice.engine = crate::config::VoiceEngine::SpeechDispatcher;
            }
            // A stand-in for the provincial platform on loopback, over TLS, with the sample appointments.
            let standin = crate::demo::standin::StandIn::from_jsonl(crate::licence::SAMPLE_DOCUMENTS, None)
                .and_then(|s| s.with_fixtures(crate::demo::standin::SAMPLE_FIXTURES, jiff::Timestamp::now()))
                .map_err(anyhow::Error::msg)?;
            let running = crate::demo::standin::spawn(standin, args.platform_fault, &state_dir.join("platform"))?;
            config.platform.url = Some(format!("https://127.0.0.1:{}", running.port));
            config.platform.ca_file = Some(running.cert);
            // A plain generated mark for the home screen (a county names its own logo file).
            let logo = state_dir.join("logo.svg");
            std::fs::write(&logo, crate::app::DEMO_LOGO)?;
            config.ui.logo = Some(logo);
            // The fictional documents of the fixture card holders, so licence printing works out of the box.
            let samples = state_dir.join("sample-documents.jsonl");
            std::fs::write(&samples, crate::licence::SAMPLE_DOCUMENTS)?;
            import_file(&config, &samples)?;
            crate::app::run(config)
        }
        Command::Snapshot { config, clock, out } => snapshot::run(config.as_deref(), &clock, &out),
        Command::Voice { config, wav, english, slow, text } => {
            let settings = match config {
                Some(path) => load_config(&path)?.voice,
                None => crate::config::VoiceSection::default(),
            };
            if text.trim().is_empty() {
                return Err(
                    Exit { code: EXIT_INVALID, message: "Nothing to say: give the sentence to speak.".into() }.into()
                );
            }
            let spoken = crate::voice::Spoken { text, english, slow };
            match wav {
                Some(path) => {
                    crate::voice::render_wav(&settings, &spoken, &path).map_err(anyhow::Error::msg)?;
                    println!("wrote {}", path.display());
                }
                None => crate::voice::say_and_wait(&settings, &spoken).map_err(anyhow::Error::msg)?,
            }
            Ok(())
        }
        Command::Doctor { config, json, test_print } => {
            let config = load_config(&config)?;
            let checks = crate::doctor::run(&config, test_print);
            let worst = crate::doctor::worst(&checks);
            if json {
                println!("{}", serde_json::json!({ "worst": worst, "checks": checks }));
            } else {
                print!("{}", crate::doctor::render(&checks));
            }
            if worst == crate::doctor::Level::Ok {
                Ok(())
            } else {
                Err(Exit {
                    code: worst.exit_code(),
                    message: format!("doctor: the worst finding is {}.", worst.as_str()),
                }
                .into())
            }
        }
        Command::Admin(cmd) => admin::run(cmd),
        Command::Catalogue(cmd) => catalogue::run(cmd),
        Command::Journal(cmd) => journal::run(cmd),
        Command::Fleet { args } => Err(invalid(format!(
            "`kiosk fleet` has moved to the county's tool: run `kiosk-county fleet {}` (Debian package kiosk-county).",
            args.join(" ")
        ))),
        Command::Ticket(cmd) => ticket::run_ticket(cmd),
        #[cfg(feature = "demo")]
        Command::Sim(cmd) => sim::run_sim(cmd),
        Command::Idcard(cmd) => idcard::run(cmd),
        Command::Documents(cmd) => licence::run_documents(cmd),
        Command::Appointments(cmd) => appointments::run(cmd),
        Command::Outbox(cmd) => outbox::run(cmd),
        Command::Licence(cmd) => licence::run_licence(cmd),
    }
}

/// Loads a configuration or explains why not, with exit code 2.
pub fn load_config(path: &std::path::Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(|e| Exit { code: EXIT_INVALID, message: e.to_string() }.into())
}
