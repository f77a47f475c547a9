//! `kiosk sim`: device simulators that speak the real protocols (thermal printer, ID-card reader).

use super::{EXIT_INVALID, Exit, invalid};
use clap::Subcommand;
use drivers::escpos::virtual_printer::{SimStatus, VirtualPrinter};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// A virtual thermal printer on TCP: writes each job as .txt and .png, answers status as chosen.
    Printer {
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9100")]
        listen: String,
        /// Serve a new pseudo-terminal (a serial printer) instead of TCP; prints its path.
        #[arg(long)]
        pty: bool,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// ok, near-end, paper-out, cover-open or silent.
        #[arg(long, default_value = "ok")]
        status: String,
        /// 576 for 80 mm paper, 384 for 58 mm.
        #[arg(long, default_value_t = 576)]
        width_dots: u32,
    },
    /// A stand-in for the provincial platform's document API (docs/backend-api.md), serving the
    /// documents of an import-format JSONL file. Not the real platform: for tests and demos.
    Platform {
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
        listen: String,
        #[arg(long, value_name = "FILE.jsonl")]
        documents: PathBuf,
        /// Require this bearer token.
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// Folder of its TLS certificate (platform.crt, made for localhost and 127.0.0.1 when missing) and key.
        #[arg(long, value_name = "DIR")]
        cert_dir: PathBuf,
        /// Appointments and cases (JSON, times fixed or in minutes from the start); the demo's by default.
        #[arg(long, value_name = "FILE.json")]
        fixtures: Option<PathBuf>,
        /// Misbehave as the platform can: slow (5 s), error (500), wrong-token, malformed, unreachable.
        #[arg(long, value_enum, default_value = "none")]
        fault: crate::demo::standin::Fault,
    },
    /// The SAM of an ID-card reader on a pty (or a given port); cards placed and removed by stdin commands:
    /// `place N`, `remove`, `fault none|silent|checksum|garbage|sw3-41`, `list`.
    Idreader {
        /// Serve a new pseudo-terminal and print its path.
        #[arg(long, conflicts_with = "port")]
        pty: bool,
        /// Serve an existing serial port instead.
        #[arg(long, value_name = "PATH")]
        port: Option<String>,
        #[arg(long, value_name = "FIXTURES.toml")]
        cards: PathBuf,
        /// Place this card (index in the fixture file) at start.
        #[arg(long, value_name = "N")]
        place: Option<usize>,
        #[arg(long, default_value = "none")]
        fault: String,
        /// Send replies at the real 115200-baud rate.
        #[arg(long)]
        paced: bool,
    },
}

pub fn run_sim(cmd: SimCommand) -> anyhow::Result<()> {
    let (listen, pty, out, status, width_dots) = match cmd {
        SimCommand::Printer { listen, pty, out, status, width_dots } => (listen, pty, out, status, width_dots),
        SimCommand::Idreader { pty, port, cards, place, fault, paced } => {
            return idreader(pty, port, &cards, place, &fault, paced);
        }
        SimCommand::Platform { listen, documents, token, cert_dir, fault, fixtures } => {
            let fixtures = match fixtures {
                Some(f) => config::files::read_text(&f, config::files::FileKind::Documents).map_err(|e| Exit {
                    code: EXIT_INVALID,
                    message: format!("{}: cannot read the fixtures ({e}).", f.display()),
                })?,
                None => crate::demo::standin::SAMPLE_FIXTURES.to_owned(),
            };
            let text = config::files::read_text(&documents, config::files::FileKind::Documents).map_err(|e| Exit {
                code: EXIT_INVALID,
                message: format!("{}: cannot read the documents ({e}).", documents.display()),
            })?;
            let standin = crate::demo::standin::StandIn::from_jsonl(&text, token)
                .map_err(|e| Exit { code: EXIT_INVALID, message: format!("{}: {e}", documents.display()) })?
                .with_fixtures(&fixtures, jiff::Timestamp::now())
                .map_err(|e| Exit { code: EXIT_INVALID, message: format!("the fixtures: {e}") })?;
            let (cert, acceptor) = crate::demo::standin::certificate(&cert_dir)?;
            let listener = std::net::TcpListener::bind(&listen)
                .map_err(|e| anyhow::anyhow!("cannot listen on {listen} for the stand-in platform ({e})"))?;
            eprintln!(
                "stand-in provincial platform on https://{listen} (fault: {fault:?}); trust {} as [platform] ca_file",
                cert.display()
            );
            return Ok(crate::demo::standin::serve(std::sync::Arc::new(standin), fault, listener, acceptor)?);
        }
    };
    let status = SimStatus::parse(&status).ok_or_else(|| Exit {
        code: EXIT_INVALID,
        message: format!("--status {status}: use ok, near-end, paper-out, cover-open or silent."),
    })?;
    let printer = VirtualPrinter::new(&out, width_dots, status)?;
    if pty {
        let served = drivers::escpos::virtual_printer::spawn_pty(printer)?;
        eprintln!("virtual printer listening on {}, jobs go to {}", served.path, out.display());
        loop {
            std::thread::park();
        }
    }
    let listener = std::net::TcpListener::bind(&listen)
        .map_err(|e| Exit { code: EXIT_INVALID, message: format!("--listen {listen}: cannot listen there ({e}).") })?;
    eprintln!("virtual printer listening on {}, jobs go to {}", listener.local_addr()?, out.display());
    printer.serve(listener);
    Ok(())
}

/// `kiosk sim idreader`: the SAM simulator on a pty or a port, with cards placed and removed from stdin.
fn idreader(
    pty: bool,
    port: Option<String>,
    cards: &std::path::Path,
    place: Option<usize>,
    fault: &str,
    paced: bool,
) -> anyhow::Result<()> {
    let text = config::files::read_text(cards, config::files::FileKind::Frames)
        .map_err(|e| invalid(format!("{}: cannot read the fixture file ({e}).", cards.display())))?;
    let cards = drivers::idcard::fixtures::load(&text).map_err(|e| invalid(format!("{}: {e}.", cards.display())))?;
    let mut sim = drivers::idcard::sim::SamSim::new(cards);
    sim.fault = drivers::idcard::sim::Fault::parse(fault)
        .ok_or_else(|| invalid(format!("--fault {fault}: use none, silent, checksum, garbage or sw3-XX.")))?;
    if let Some(i) = place
        && !sim.place(i)
    {
        return Err(invalid(format!("--place {i}: the fixture file has {} cards.", sim.cards.len())));
    }
    let sim = std::sync::Arc::new(std::sync::Mutex::new(sim));
    let served = sim.clone();
    let _keep_open;
    // Short reads, so the serving thread sees its stop soon after stdin ends.
    let short = std::time::Duration::from_millis(200);
    let _serving = if pty {
        let (master, slave) = serialport::TTYPort::pair().map_err(|e| anyhow::anyhow!("cannot create a pty: {e}"))?;
        let path = serialport::SerialPort::name(&slave).unwrap_or_default();
        let mut master = master;
        serialport::SerialPort::set_timeout(&mut master, short)?;
        _keep_open = slave;
        eprintln!("ID reader simulator on {path}");
        owner::Owned::spawn("id-reader-sim", move |life| {
            let _ = drivers::idcard::sim::serve_until(served, master, paced, &life.stop);
        })?
    } else if let Some(p) = port {
        let link = serialport::new(&p, 115_200).timeout(short).open_native()?;
        eprintln!("ID reader simulator on {p}");
        owner::Owned::spawn("id-reader-sim", move |life| {
            let _ = drivers::idcard::sim::serve_until(served, link, paced, &life.stop);
        })?
    } else {
        return Err(invalid("Give --pty or --port PATH."));
    };
    // Commands on stdin: the technician (or a test) places and removes cards.
    for line in std::io::BufRead::lines(std::io::stdin().lock()) {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let Ok(mut s) = sim.lock() else { break };
        let reply = match words.as_slice() {
            ["place", n] => match n.parse::<usize>() {
                Ok(i) if s.place(i) => format!("placed card {i}"),
                _ => format!("no card {n}; there are {}", s.cards.len()),
            },
            ["remove"] => {
                s.remove();
                "removed".into()
            }
            ["fault", f] => match drivers::idcard::sim::Fault::parse(f) {
                Some(f) => {
                    s.fault = f;
                    format!("fault {f:?}")
                }
                None => "unknown fault".into(),
            },
            ["list"] => s
                .cards
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{i}: {:?} {}", c.kind, c.masked_name()))
                .collect::<Vec<_>>()
                .join("\n"),
            [] => continue,
            _ => "commands: place N, remove, fault MODE, list".into(),
        };
        // The operator may have closed stderr; a lost acknowledgement must not stop the simulator.
        let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("{reply}\n"));
    }
    // stdin closed (e.g. under a test harness): keep serving until killed.
    loop {
        std::thread::park();
    }
}
