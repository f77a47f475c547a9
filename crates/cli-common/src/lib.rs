//! What the `kiosk` binary and the county tool share at their edge: the exit code of invalid input, the
//! error that carries an exit code and one sentence, logging (journald priorities under systemd) and the
//! private umask. Binaries only: `anyhow` is allowed here because only `main`s use it.

use std::process::ExitCode;

/// Exit code for invalid input (configuration, arguments, files) — nothing was changed.
pub const EXIT_INVALID: u8 = 2;

/// An error that ends the command with this code and this sentence.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

/// Invalid input: exit 2 with this sentence.
pub fn invalid(e: impl std::fmt::Display) -> anyhow::Error {
    Exit { code: EXIT_INVALID, message: e.to_string() }.into()
}

/// Runs a binary's `dispatch` as `name`: private files from the first one written, logging set up, and the
/// error turned into its exit code and a line on stderr.
pub fn run_main(name: &str, dispatch: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    // Everything the kiosk's tools write (journal and its WAL files, documents store, keys, exports, printed
    // samples) concerns people: readable by the user alone, from the moment it is created.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    end_quietly_on_a_closed_pipe();
    init_logging();
    match dispatch() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(exit) = err.downcast_ref::<Exit>() {
                eprintln!("{name}: {}", exit.message);
                return ExitCode::from(exit.code);
            }
            eprintln!("{name}: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The exit status of a command whose reader went away (`kiosk journal verify F | head -1`): the one a
/// shell shows for a program ended by SIGPIPE (128 + 13), as other Unix tools end.
pub const EXIT_CLOSED_PIPE: i32 = 141;

/// Rust ignores SIGPIPE, so `println!` to a closed pipe panics with a backtrace. A command whose reader
/// went away has nothing left to do: end it quietly with [`EXIT_CLOSED_PIPE`] instead. (SIGPIPE itself is
/// left ignored: the running kiosk's sockets must not kill it when a peer goes.) Other panics are reported
/// as before.
fn end_quietly_on_a_closed_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        let closed = (message.starts_with("failed printing to stdout")
            || message.starts_with("failed printing to stderr"))
            && message.contains("Broken pipe");
        if closed {
            std::process::exit(EXIT_CLOSED_PIPE);
        }
        report(info);
    }));
}

fn init_logging() {
    use std::io::Write;
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.format(|out, record| {
            let priority = match record.level() {
                log::Level::Error => 3,
                log::Level::Warn => 4,
                log::Level::Info => 6,
                log::Level::Debug | log::Level::Trace => 7,
            };
            writeln!(out, "<{priority}>{}: {}", record.target(), record.args())
        });
    }
    builder.init();
}
