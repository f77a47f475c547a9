//! Shared fixtures for the end-to-end tests: the built `kiosk` binary, temp folders and a private X server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (where `config/` and `target/` live).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_owned()
}

/// The `kiosk` binary: the one cargo built for this test (`CARGO_BIN_EXE_kiosk` when the support is part of
/// the kiosk package's e2e tests), or the one a benchmark names (`KIOSK_BIN`).
pub fn kiosk_bin() -> PathBuf {
    if let Some(bin) = option_env!("CARGO_BIN_EXE_kiosk") {
        return PathBuf::from(bin);
    }
    if let Some(bin) = std::env::var_os("KIOSK_BIN") {
        return PathBuf::from(bin);
    }
    panic!("KIOSK_BIN names no kiosk binary: set it to the binary to measure (scripts/bench does).")
}

/// The county's tool (`kiosk-county`): the one a benchmark names (`KIOSK_COUNTY_BIN`), or the one beside the
/// kiosk binary, which scripts/test builds before the tests; one older than any of its sources is refused
/// rather than tested.
pub fn county_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("KIOSK_COUNTY_BIN") {
        return PathBuf::from(bin);
    }
    let bin = kiosk_bin().with_file_name("kiosk-county");
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run `cargo build -p county --bin kiosk-county` first (scripts/test does).",
            bin.display()
        )
    });
    // The folders of the crates kiosk-county is built from (ARCHITECTURE.md's county row, and theirs).
    let root = workspace_root();
    let newest_source = [
        "crates/county",
        "crates/cli-common",
        "crates/config",
        "crates/net",
        "crates/journal",
        "crates/hall",
        "crates/vocabulary",
        "drivers",
    ]
    .iter()
    // Only what is compiled into the binary: a crate's tests, benches or manifest changing do not make
    // cargo relink it, and must not make it look stale.
    .flat_map(|d| ["src", "migrations", "build.rs"].map(|part| newest_file(&root.join(d).join(part))))
    .max()
    .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
    assert!(
        built >= newest_source,
        "{} is older than the sources it is built from: run `cargo build -p county --bin kiosk-county` (scripts/test does).",
        bin.display()
    );
    bin
}

/// The newest modification time of any file under `dir`.
fn newest_file(dir: &Path) -> std::time::SystemTime {
    if dir.is_file() {
        return dir.metadata().and_then(|m| m.modified()).unwrap_or(std::time::SystemTime::UNIX_EPOCH);
    }
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest_file(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::SystemTime::UNIX_EPOCH)
        };
        newest = newest.max(t);
    }
    newest
}

/// A `kiosk` command with a quiet log and no inherited display.
pub fn kiosk() -> Command {
    let mut cmd = Command::new(kiosk_bin());
    cmd.env("RUST_LOG", "warn").env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    cmd
}

/// A `kiosk-county` command with a quiet log.
pub fn county() -> Command {
    let mut cmd = Command::new(county_bin());
    cmd.env("RUST_LOG", "warn");
    cmd
}

/// Runs a command to completion, returning its output as text.
pub fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let Output { status, stdout, stderr } = cmd.stdin(Stdio::null()).output().expect("the command starts");
    (status.code(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

/// Polls `f` until it returns Some or `deadline` passes. A deadline, not a speed assertion.
pub fn wait_for<T>(deadline: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process that is killed when the test ends, pass or fail.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private Xvfb server on a free display number.
pub struct Xvfb {
    pub display: String,
    _child: KillOnDrop,
}

/// The X server's lock and socket for display `n`.
fn x_files(n: u32) -> (PathBuf, PathBuf) {
    (PathBuf::from(format!("/tmp/.X{n}-lock")), PathBuf::from(format!("/tmp/.X11-unix/X{n}")))
}

/// Whether display `n` is taken: its lock names a live process. A lock whose server died without removing
/// it (killed, or a crashed run) is removed with its socket, so stale files never use up the numbers.
fn display_taken(n: u32) -> bool {
    let (lock, socket) = x_files(n);
    match std::fs::read_to_string(&lock) {
        Ok(text) => match text.trim().parse::<u32>() {
            Ok(pid) if Path::new(&format!("/proc/{pid}")).exists() => true,
            _ => {
                let _ = std::fs::remove_file(&lock);
                let _ = std::fs::remove_file(&socket);
                false
            }
        },
        Err(_) => socket.exists(),
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM first: Xvfb then removes its lock and socket itself (a SIGKILL leaves them behind).
        let pid = self._child.0.id();
        if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = wait_for(Duration::from_secs(3), || self._child.0.try_wait().ok().flatten());
        let n: u32 = self.display.trim_start_matches(':').parse().unwrap_or(0);
        let (lock, socket) = x_files(n);
        if std::fs::read_to_string(&lock).ok().and_then(|t| t.trim().parse::<u32>().ok()) == Some(pid) {
            let _ = std::fs::remove_file(&lock);
            let _ = std::fs::remove_file(&socket);
        }
    }
}

impl Xvfb {
    pub fn start(width: u32, height: u32) -> Xvfb {
        for n in 40..240 {
            if display_taken(n) {
                continue;
            }
            let child = Command::new("Xvfb")
                .arg(format!(":{n}"))
                .args(["-screen", "0", &format!("{width}x{height}x24"), "-nolisten", "tcp", "-nolisten", "unix"])
                .args(["-listen", "unix"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb is installed (scripts/test installs the xvfb package)");
            let mut child = KillOnDrop(child);
            let pid = child.0.id();
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
            let up = wait_for(Duration::from_secs(10), || {
                if let Ok(Some(_)) = child.0.try_wait() {
                    return Some(false); // lost the race for this display number
                }
                // Ours only when the lock names our server: another test may have started one on the same
                // number a moment earlier.
                let owner = std::fs::read_to_string(&lock).ok()?.trim().parse::<u32>().ok()?;
                if owner != pid {
                    return Some(false);
                }
                socket.exists().then_some(true)
            });
            if up == Some(true) {
                return Xvfb { display: format!(":{n}"), _child: child };
            }
        }
        panic!("no free X display number between :40 and :239");
    }

    /// Screenshot of the whole screen as RGB rows.
    pub fn screenshot(&self, png_path: &Path) -> Option<Rgb> {
        let ok = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(png_path)
            .stderr(Stdio::null())
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
        Rgb::load(png_path)
    }
}

/// A decoded RGB image.
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<[u8; 3]>,
}

impl Rgb {
    pub fn load(path: &Path) -> Option<Rgb> {
        let mut decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).ok()?));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().ok()?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).ok()?;
        let channels = info.color_type.samples();
        let pixels = buf[..info.buffer_size()]
            .chunks(channels)
            .map(|p| match channels {
                1 | 2 => [p[0]; 3],
                _ => [p[0], p[1], p[2]],
            })
            .collect();
        Some(Rgb { width: info.width, height: info.height, pixels })
    }

    /// Fraction of pixels in the rectangle for which `pred` holds.
    pub fn fraction(&self, x0: u32, y0: u32, x1: u32, y1: u32, pred: impl Fn([u8; 3]) -> bool) -> f64 {
        let (x1, y1) = (x1.min(self.width), y1.min(self.height));
        let mut hit = 0u64;
        let mut all = 0u64;
        for y in y0..y1 {
            for x in x0..x1 {
                all += 1;
                hit += u64::from(pred(self.pixels[(y * self.width + x) as usize]));
            }
        }
        if all == 0 { 0.0 } else { hit as f64 / all as f64 }
    }
}

/// Writes config/kiosk.toml into `dir` with the journal and keys moved into `dir`; returns its path.
pub fn config_in(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(workspace_root().join("config/kiosk.toml")).expect("config/kiosk.toml");
    let text = text
        .replace("/var/lib/kiosk/journal.sqlite3", &dir.join("journal.sqlite3").to_string_lossy())
        .replace("/var/lib/kiosk/subject.key", &dir.join("subject.key").to_string_lossy())
        .replace("/var/lib/kiosk/checkpoint.ed25519", &dir.join("checkpoint.ed25519").to_string_lossy())
        .replace("/var/lib/kiosk/documents.sqlite3", &dir.join("documents.sqlite3").to_string_lossy());
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, text).expect("write the test configuration");
    path
}

/// A kiosk configuration in `root/kiosk-N` (kiosk id linshu-county-0N) that takes part in the hall queue
/// at `db` with offline band `band` (category A numbers 1–949, so a band from 950 is clear of it), checked
/// by `kiosk config check`.
pub fn hall_config(root: &Path, n: u32, db: &str, band: [u32; 2], retry_seconds: u32) -> PathBuf {
    let dir = root.join(format!("kiosk-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = config_in(&dir);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("id = \"linshu-county-01\"", &format!("id = \"linshu-county-0{n}\""))
        .replace("first = 1\nlast = 999", "first = 1\nlast = 949")
        .replace(
            "[queue]\n",
            &format!(
                "[queue]\nshared = {{ db = \"{db}\", hall = \"linshu-county\", offline_band = [{}, {}], retry_seconds = {retry_seconds} }}\n",
                band[0], band[1]
            ),
        );
    assert!(text.contains("last = 949") && text.contains("shared = {"), "the example configuration changed shape");
    std::fs::write(&config, text).unwrap();
    let (code, _, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_eq!(code, Some(0), "{err}");
    config
}

/// A [`hall_config`] kiosk whose staff API listens on a port of its own (a counter reaches the hall through
/// it, with [`serve_staff_api`]): the configuration and the port.
pub fn hall_config_serving(root: &Path, n: u32, db: &str, band: [u32; 2], retry_seconds: u32) -> (PathBuf, u16) {
    let config = hall_config(root, n, db, band, retry_seconds);
    let port = free_port();
    let text = std::fs::read_to_string(&config)
        .expect("the configuration")
        .replace("listen = \"127.0.0.1:8080\"", &format!("listen = \"127.0.0.1:{port}\""));
    std::fs::write(&config, text).expect("write the configuration");
    (config, port)
}

/// `kiosk admin serve --demo` for `config`, once it listens on `port`.
pub fn serve_staff_api(config: &Path, port: u16) -> KillOnDrop {
    let child = kiosk().args(["admin", "serve", "--demo", "--config"]).arg(config).spawn().expect("admin serve");
    wait_for(Duration::from_secs(20), || std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        .expect("the staff API listens");
    KillOnDrop(child)
}

/// Starts `kiosk sim printer` with `args` (e.g. `["--listen", "127.0.0.1:0"]` or `["--pty"]`) writing jobs to `out`;
/// returns the process and the address or pty path it says it listens on.
pub fn sim_printer(out: &Path, status: &str, args: &[&str]) -> (KillOnDrop, String) {
    let mut child = kiosk()
        .args(["sim", "printer", "--status", status, "--out"])
        .arg(out)
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .expect("kiosk sim printer starts");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stderr.take().expect("stderr")), &mut line)
        .expect("the printer says where it listens");
    let addr = line
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (KillOnDrop(child), addr)
}

/// CUPS's `ippeveprinter` as the licence printer, on a private D-Bus bus (it refuses to start without
/// DNS-SD), with A4 loaded and received jobs kept as files in `spool`.
pub struct IppEve {
    _printer: KillOnDrop,
    _dbus: KillOnDrop,
    pub uri: String,
    pub spool: PathBuf,
}

/// A free TCP port on loopback (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl IppEve {
    /// Starts a printer in `dir`; `command` is ippeveprinter's `-c` program (fault injection).
    pub fn start(dir: &Path, command: Option<&Path>) -> IppEve {
        let spool = dir.join("spool");
        std::fs::create_dir_all(&spool).expect("spool folder");
        let sock = dir.join("bus.sock");
        let dbus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", &format!("--address=unix:path={}", sock.display())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus; scripts/test installs it)");
        let dbus = KillOnDrop(dbus);
        wait_for(Duration::from_secs(5), || sock.exists().then_some(())).expect("the private D-Bus socket");
        // media-ready A4 (the default is Letter) and PDF in; with -a the formats come from the file too.
        let conf = dir.join("a4.conf");
        std::fs::write(
            &conf,
            "ATTR keyword media-default iso_a4_210x297mm\nATTR keyword media-ready iso_a4_210x297mm\nATTR mimeMediaType document-format-supported application/pdf,image/pwg-raster\n\
             ATTR keyword media-supported iso_a4_210x297mm,na_letter_8.5x11in\n\
             ATTR keyword sides-supported one-sided,two-sided-long-edge\nATTR rangeOfInteger copies-supported 1-99\n",
        )
        .expect("printer attributes file");
        let port = free_port();
        let mut cmd = Command::new("ippeveprinter");
        cmd.env("DBUS_SYSTEM_BUS_ADDRESS", format!("unix:path={}", sock.display()))
            .args(["-r", "off", "-p", &port.to_string(), "-n", "localhost", "-k", "-a"])
            .arg(&conf)
            .arg("-d")
            .arg(&spool);
        if let Some(c) = command {
            cmd.arg("-c").arg(c);
        }
        let log = std::fs::File::create(dir.join("ippeveprinter.log")).expect("log file");
        let child = cmd
            .arg("KioskA4")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("ippeveprinter (Debian package cups-ipp-utils; scripts/test installs it)");
        let printer = KillOnDrop(child);
        wait_for(Duration::from_secs(10), || std::net::TcpStream::connect(("127.0.0.1", port)).ok())
            .expect("ippeveprinter listening");
        IppEve { _printer: printer, _dbus: dbus, uri: format!("ipp://127.0.0.1:{port}/ipp/print"), spool }
    }

    /// The documents the printer received, oldest first.
    pub fn jobs(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.spool)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
            .unwrap_or_default();
        files.sort();
        files
    }
}

/// Staff tokens that are not the example's demo ones, by role.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub counter: String,
    pub staff: String,
    pub technician: String,
    pub pin: String,
}

/// Replaces the demo tokens and PIN in the configuration at `config` with fresh ones (so `kiosk run`
/// starts), and sets `[admin] listen` to `listen`; returns the new credentials.
pub fn fresh_credentials(config: &Path, listen: &str) -> Credentials {
    let creds = Credentials {
        counter: "counter-token-for-tests-0001".into(),
        staff: "staff-token-for-tests-00002".into(),
        technician: "technician-token-for-tests-3".into(),
        pin: "135790".into(),
    };
    let text = std::fs::read_to_string(config).expect("the configuration");
    let mut text = text.replace("listen = \"127.0.0.1:8080\"", &format!("listen = \"{listen}\""));
    for (demo, fresh) in [
        ("demo-counter-token", &creds.counter),
        ("demo-staff-token", &creds.staff),
        ("demo-technician-token", &creds.technician),
    ] {
        text = text.replace(&kiosk::secrets::token_hash(demo), &kiosk::secrets::token_hash(fresh));
    }
    let salt = [7u8; 16];
    text = text.replace(kiosk::config::DEMO_PIN_HASH, &kiosk::secrets::pin_hash(&creds.pin, &salt));
    std::fs::write(config, text).expect("write the configuration");
    creds
}

/// One raw HTTP/1.1 exchange on a fresh connection; returns the status (0 when nothing listens or the
/// server closed without answering) and the body as JSON (Null when it is not).
pub fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return (0, serde_json::Value::Null) };
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let _ = write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    parse_response(&resp)
}

/// Status and JSON body of a raw HTTP/1.1 response.
pub fn parse_response(resp: &[u8]) -> (u16, serde_json::Value) {
    let text = String::from_utf8_lossy(resp);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

/// Starts `kiosk sim idreader --pty` with the demo cards and `args` (e.g. `["--place", "1"]`,
/// `["--fault", "silent"]`); returns the process (its stdin takes `place N`, `fault MODE`) and the pty path.
pub fn sim_reader(args: &[&str]) -> (KillOnDrop, String) {
    let mut child = kiosk()
        .args(["sim", "idreader", "--pty", "--cards"])
        .arg(workspace_root().join("config/cards.toml"))
        .args(args)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kiosk sim idreader starts");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stderr.take().expect("stderr")), &mut line)
        .expect("the reader says its pty");
    let path = line.trim().rsplit(' ').next().unwrap_or_default().to_owned();
    assert!(path.starts_with("/dev/pts/"), "no pty in {line:?}");
    (KillOnDrop(child), path)
}

/// Decodes 64 hex digits.
pub fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).expect("64 hex digits");
    out
}

/// What a capable tamperer does: recompute digests and hashes from `seq` on.
pub fn rehash_from(conn: &rusqlite::Connection, from: i64) {
    use kiosk::journal::chain::{entry_hash, payload_digest};
    let rows: Vec<kiosk::journal::Entry> = conn
        .prepare(&format!("SELECT {} FROM entries WHERE seq >= ?1 ORDER BY seq", kiosk::journal::ENTRY_COLUMNS))
        .unwrap()
        .query_map([from], kiosk::journal::schema_entry_from_row)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev: String = conn.query_row("SELECT hash FROM entries WHERE seq = ?1", [from - 1], |r| r.get(0)).unwrap();
    for e in rows {
        let digest = payload_digest(e.payload.as_deref().unwrap());
        let hash = hex::encode(entry_hash(&hex32(&prev), &e.chain_fields(digest)));
        conn.execute(
            "UPDATE entries SET payload_digest = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![hex::encode(digest), prev, hash, e.seq as i64],
        )
        .unwrap();
        prev = hash;
    }
}

/// A stand-in for speech-dispatcher on a Unix socket: answers SSIP as the daemon does and keeps every
/// command line and every text it was asked to speak, in order.
pub struct FakeSpeechd {
    pub path: PathBuf,
    pub lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    pub texts: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl FakeSpeechd {
    pub fn start(dir: &Path) -> FakeSpeechd {
        use std::io::{BufRead, Write};
        let path = dir.join("speechd.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind the fake speech-dispatcher");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let texts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (l, t) = (lines.clone(), texts.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (l, t) = (l.clone(), t.clone());
                std::thread::spawn(move || {
                    let mut out = stream.try_clone().expect("clone the socket");
                    let mut reader = std::io::BufReader::new(stream);
                    let mut speaking: Option<Vec<String>> = None;
                    let mut line = String::new();
                    while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                        let text = line.trim_end_matches(['\r', '\n']).to_string();
                        line.clear();
                        let reply: &[u8] = match speaking.as_mut() {
                            Some(block) if text == "." => {
                                let said = block.join("\n");
                                t.lock().unwrap().push(said);
                                speaking = None;
                                b"225-1\r\n225 OK MESSAGE QUEUED\r\n"
                            }
                            Some(block) => {
                                block.push(text.strip_prefix('.').map(str::to_string).unwrap_or(text));
                                continue;
                            }
                            None => {
                                l.lock().unwrap().push(text.clone());
                                match text.as_str() {
                                    "SPEAK" => {
                                        speaking = Some(vec![]);
                                        b"230 OK RECEIVING DATA\r\n"
                                    }
                                    "QUIT" => b"231 HAPPY HACKING\r\n",
                                    _ => b"200 OK\r\n",
                                }
                            }
                        };
                        if out.write_all(reply).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        FakeSpeechd { path, lines, texts }
    }

    pub fn texts(&self) -> Vec<String> {
        self.texts.lock().unwrap().clone()
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

/// Turns on TLS for the staff API of the configuration at `config` (certificate and key beside it) and
/// makes them with `kiosk admin gen-cert`; returns gen-cert's output and the pin (`sha256:…`) it printed.
pub fn staff_api_tls(config: &Path) -> (String, String) {
    let dir = config.parent().expect("the configuration's folder");
    let (cert, key) = (dir.join("admin-cert.pem"), dir.join("admin-key.pem"));
    let text = std::fs::read_to_string(config).expect("the configuration").replace(
        "# tls_cert = \"/etc/kiosk/admin-cert.pem\"\n# tls_key = \"/etc/kiosk/admin-key.pem\"",
        &format!("tls_cert = \"{}\"\ntls_key = \"{}\"", cert.display(), key.display()),
    );
    std::fs::write(config, text).expect("write the configuration");
    let (code, out, err) = run(kiosk().args(["admin", "gen-cert", "--config"]).arg(config));
    assert_eq!(code, Some(0), "kiosk admin gen-cert: {err}");
    let pin = out.lines().find_map(|l| l.strip_prefix("pin:")).expect("a pin line").trim().to_owned();
    (out, pin)
}

/// A throwaway PostgreSQL cluster (Debian's package) in `dir`: its own data folder and Unix socket, no TCP,
/// superuser `kiosk` without a password. Run as root, the server runs as the `postgres` user (it refuses
/// root). Stopped, immediately, when dropped.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    pub port: u16,
    as_root: bool,
    options: String,
}

impl Postgres {
    /// The newest installed server's programs (/usr/lib/postgresql/N/bin).
    fn bin_dir() -> PathBuf {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (scripts/test installs Debian's postgresql)")
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
            .filter(|(_, p)| p.join("pg_ctl").exists())
            .collect();
        versions.sort();
        versions.pop().expect("a PostgreSQL server under /usr/lib/postgresql").1
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// Creates and starts a cluster under `dir` (made reachable for the postgres user when run as root),
    /// without fsync: the tests check what is stored, not what survives a power cut.
    pub fn start(dir: &Path) -> Postgres {
        Self::start_with(dir, "-c fsync=off -c full_page_writes=off")
    }

    /// A cluster with PostgreSQL's default durability (the load benchmark) plus `options`.
    pub fn start_durable(dir: &Path, options: &str) -> Postgres {
        Self::start_with(dir, options)
    }

    fn start_with(dir: &Path, options: &str) -> Postgres {
        use std::os::unix::fs::PermissionsExt;
        let as_root = rustix::process::geteuid().is_root();
        let base = dir.join("pg");
        std::fs::create_dir_all(&base).unwrap();
        let pg = Postgres {
            bin: Self::bin_dir(),
            data: base.join("data"),
            socket_dir: base.join("run"),
            port: free_port(),
            as_root,
            options: options.to_owned(),
        };
        std::fs::create_dir_all(&pg.socket_dir).unwrap();
        if as_root {
            // The postgres user must reach its folders through the test's private temporary folder.
            for d in [dir, base.as_path()] {
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            let owned = Command::new("chown").args(["postgres:postgres"]).arg(&base).arg(&pg.socket_dir).status();
            assert!(owned.is_ok_and(|s| s.success()), "chown to the postgres user");
        }
        let out = pg
            .command("initdb")
            .arg("-D")
            .arg(&pg.data)
            .args(["-A", "trust", "-U", "kiosk", "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8"])
            .output()
            .expect("initdb runs");
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        pg.start_server();
        pg
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start_server(&self) {
        let options =
            format!("-p {} -k {} -c listen_addresses='' {}", self.port, self.socket_dir.display(), self.options);
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-o", &options, "-l"])
            .arg(self.data.join("server.log"))
            .args(["-w", "-t", "60", "start"])
            .output()
            .expect("pg_ctl runs");
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default()
        );
    }

    /// Stops the server at once (connections are cut, as when the hall's database machine fails).
    pub fn stop_server(&self) {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output()
            .expect("pg_ctl runs");
        assert!(out.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Freezes the server with SIGSTOP, the postmaster and every backend (an open connection included): it
    /// keeps its sockets, the kernel still accepts and acknowledges, and nothing answers — a hung database
    /// machine as a client sees it. [`Postgres::thaw`] (or drop) lets it go on.
    pub fn freeze(&self) {
        self.signal_all(rustix::process::Signal::STOP);
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) {
        self.signal_all(rustix::process::Signal::CONT);
    }

    /// The postmaster's process id (the first line of postmaster.pid), with its children.
    fn processes(&self) -> Vec<i32> {
        let Ok(pidfile) = std::fs::read_to_string(self.data.join("postmaster.pid")) else { return Vec::new() };
        let Some(postmaster) = pidfile.lines().next().and_then(|l| l.trim().parse::<i32>().ok()) else {
            return Vec::new();
        };
        let mut all = vec![postmaster];
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // "pid (comm) state ppid …": the command may hold spaces, so read after its closing parenthesis.
            let ppid = stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1)?.parse::<i32>().ok());
            if ppid == Some(postmaster) {
                all.push(pid);
            }
        }
        all
    }

    fn signal_all(&self, signal: rustix::process::Signal) {
        for pid in self.processes() {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(pid, signal);
            }
        }
    }

    /// The server's Unix socket (for a test's proxy in front of it).
    pub fn socket_path(&self) -> PathBuf {
        self.socket_dir.join(format!(".s.PGSQL.{}", self.port))
    }

    /// A cluster that also listens on 127.0.0.1 with TLS: a certificate for 127.0.0.1 issued by a CA made
    /// here (the county's). Returns the cluster and the CA's PEM file; [`Postgres::tls_url`] is its address.
    pub fn start_tls(dir: &Path) -> (Postgres, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let tls = dir.join("pg-tls");
        std::fs::create_dir_all(&tls).unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Linshu county test CA");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&key, &issuer).unwrap();
        let (ca_file, cert_file, key_file) = (tls.join("ca.pem"), tls.join("server.pem"), tls.join("server.key"));
        std::fs::write(&ca_file, ca.pem()).unwrap();
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&tls, std::fs::Permissions::from_mode(0o755)).unwrap();
        if rustix::process::geteuid().is_root() {
            let owned = Command::new("chown").args(["postgres:postgres"]).arg(&cert_file).arg(&key_file).status();
            assert!(owned.is_ok_and(|s| s.success()), "chown the server's key to the postgres user");
        }
        let options = format!(
            "-c fsync=off -c listen_addresses=127.0.0.1 -c log_connections=on -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            cert_file.display(),
            key_file.display()
        );
        (Self::start_with(dir, &options), ca_file)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default()
    }

    /// The TLS address of a [`Postgres::start_tls`] cluster.
    pub fn tls_url(&self) -> String {
        format!("host=127.0.0.1 port={} user=kiosk dbname=postgres", self.port)
    }

    /// `kiosk-county fleet migrate` on this cluster (the fleet tables, views and hall counters).
    pub fn migrate(&self) {
        let (code, out, err) = run(county().args(["fleet", "migrate", "--db", &self.url()]));
        assert_eq!(code, Some(0), "kiosk-county fleet migrate: {out}{err}");
    }

    /// The address the kiosk and the fleet commands take (libpq key=value words).
    pub fn url(&self) -> String {
        format!("host={} port={} user=kiosk dbname=postgres", self.socket_dir.display(), self.port)
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls).expect("connect to the test PostgreSQL")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // A frozen server would not hear pg_ctl's stop.
        self.thaw();
        let _ = self.command("pg_ctl").arg("-D").arg(&self.data).args(["-m", "immediate", "stop"]).output();
    }
}

/// A kiosk of the county fleet with its own journal, TLS certificate and staff token, served by
/// `kiosk admin serve` on demand (the fleet test and the fleet load benchmark).
pub struct FleetKiosk {
    pub id: String,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub port: u16,
    pub pin: String,
    pub root_key: String,
    pub token_file: PathBuf,
    pub server: Option<KillOnDrop>,
}

impl FleetKiosk {
    pub fn new(root: &Path, id: &str) -> FleetKiosk {
        let dir = root.join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let config = config_in(&dir);
        let creds = fresh_credentials(&config, &format!("127.0.0.1:{port}"));
        let text =
            std::fs::read_to_string(&config).unwrap().replace("id = \"linshu-county-01\"", &format!("id = \"{id}\""));
        std::fs::write(&config, text).unwrap();
        let pin = staff_api_tls(&config).1;
        let token_file = dir.join("staff.token");
        std::fs::write(&token_file, format!("{}\n", creds.staff)).unwrap();
        let mut k =
            FleetKiosk { id: id.into(), dir, config, port, pin, root_key: String::new(), token_file, server: None };
        k.append(vec![kiosk::journal::NewEntry::new(
            kiosk::journal::EntryKind::Boot,
            serde_json::json!({ "version": "test" }),
        )]);
        let (code, key, err) = run(kiosk().args(["journal", "pubkey", "--config"]).arg(&k.config));
        assert_eq!(code, Some(0), "{err}");
        k.root_key = key.trim().to_owned();
        k
    }

    pub fn settings(&self) -> kiosk::journal::JournalSettings {
        kiosk::journal::JournalSettings::from_config(&kiosk::config::Config::load(&self.config).unwrap())
    }

    /// Writes entries with the kiosk's own journal (the server must be stopped: one writer).
    pub fn append(&mut self, entries: Vec<kiosk::journal::NewEntry>) {
        assert!(self.server.is_none());
        let journal = kiosk::journal::Journal::open(self.settings()).unwrap();
        for chunk in entries.chunks(500) {
            let chunk = chunk.to_vec();
            journal.transact(move |_| Ok((chunk, ()))).unwrap();
        }
        journal.close();
    }

    pub fn serve(&mut self) {
        let child = kiosk().args(["admin", "serve", "--config"]).arg(&self.config).spawn().unwrap();
        self.server = Some(KillOnDrop(child));
        let endpoint = kiosk::admin::client::Endpoint::parse(&format!("https://127.0.0.1:{}", self.port)).unwrap();
        let pin = kiosk::admin::tls::parse_pin(&self.pin).unwrap();
        let token = zeroize::Zeroizing::new(std::fs::read_to_string(&self.token_file).unwrap().trim().to_owned());
        let mut client = kiosk::admin::client::StaffClient::new(endpoint, Some(pin), token).unwrap();
        wait_for(Duration::from_secs(20), || client.get("/api/v1/journal?limit=1").ok().filter(|(s, _)| *s == 200))
            .expect("the staff API answers");
    }

    pub fn stop(&mut self) {
        self.server = None;
        std::thread::sleep(Duration::from_millis(200));
    }

    pub fn fleet_entry(&self, town: &str) -> String {
        format!(
            "[[kiosk]]\nid = \"{}\"\ntown = \"{town}\"\nurl = \"https://127.0.0.1:{}\"\npin = \"{}\"\ntoken_file = \"{}\"\nroot_key = \"{}\"\n\n",
            self.id,
            self.port,
            self.pin,
            self.token_file.display(),
            self.root_key
        )
    }
}

/// The 99th percentile of `times` (the benchmarks' figure): the time 99 % of them took at most.
pub fn p99(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[(times.len() * 99).div_ceil(100).saturating_sub(1)]
}

/// Debian's ChromeDriver driving headless Chromium over WebDriver (plain HTTP and JSON): the hall's counter
/// page and calling display are used as a person would, by clicking and reading.
pub struct ChromeDriver {
    _driver: KillOnDrop,
    port: u16,
    profiles: PathBuf,
}

/// One browser window of a [`ChromeDriver`].
pub struct Browser {
    port: u16,
    session: String,
}

/// A WebDriver request to the driver on `port` (its Host must be local, or it refuses): status and JSON.
fn webdriver(port: u16, method: &str, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("ChromeDriver listens");
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let body = if method == "GET" { String::new() } else { body.to_string() };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send to ChromeDriver");
    // ChromeDriver keeps the connection open whatever the request says: read the head, then the body by
    // its length.
    let mut resp = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = resp.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return parse_response(&resp),
            Ok(n) => resp.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&resp[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while resp.len() < head_end + length {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => resp.extend_from_slice(&chunk[..n]),
        }
    }
    parse_response(&resp)
}

impl ChromeDriver {
    pub fn start(dir: &Path) -> ChromeDriver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; scripts/test installs it)");
        let driver = KillOnDrop(child);
        wait_for(Duration::from_secs(20), || std::net::TcpStream::connect(("127.0.0.1", port)).ok())
            .expect("ChromeDriver listens");
        ChromeDriver { _driver: driver, port, profiles: dir.to_owned() }
    }

    /// A new headless window of `width` × `height` that plays sound without a click (a TV has no one to
    /// click).
    pub fn open(&self, name: &str, width: u32, height: u32) -> Browser {
        let profile = self.profiles.join(format!("chromium-{name}"));
        let caps = serde_json::json!({ "capabilities": { "alwaysMatch": { "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     "--autoplay-policy=no-user-gesture-required", "--mute-audio",
                     format!("--window-size={width},{height}"), format!("--user-data-dir={}", profile.display())]
        }}}});
        let (status, body) = webdriver(self.port, "POST", "/session", &caps);
        assert_eq!(status, 200, "a Chromium session: {body}");
        Browser { port: self.port, session: body["value"]["sessionId"].as_str().unwrap().to_owned() }
    }
}

impl Browser {
    fn call(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let (status, answer) = webdriver(self.port, method, &format!("/session/{}{path}", self.session), &body);
        assert_eq!(status, 200, "WebDriver {method} {path}: {answer}");
        answer["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", serde_json::json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page; what it returns.
    pub fn run(&self, script: &str, args: serde_json::Value) -> serde_json::Value {
        self.call("POST", "/execute/sync", serde_json::json!({ "script": script, "args": args }))
    }

    /// The text of the element `css` shows now ("" when there is none or it is hidden).
    pub fn text(&self, css: &str) -> String {
        self.run(
            "const e = document.querySelector(arguments[0]); return e && !e.closest('[hidden]') ? e.innerText : '';",
            serde_json::json!([css]),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Clicks the element `css` as a person would (WebDriver's click: it must be shown and enabled).
    pub fn click(&self, css: &str) {
        let found = self.call("POST", "/element", serde_json::json!({ "using": "css selector", "value": css }));
        let id = found.as_object().and_then(|o| o.values().next()).and_then(|v| v.as_str()).expect("an element id");
        self.call("POST", &format!("/element/{id}/click"), serde_json::json!({}));
    }

    /// Waits (up to `limit`) until the element `css` shows text containing `want`; the text at the end.
    pub fn wait_text(&self, css: &str, want: &str, limit: Duration) -> Result<String, String> {
        wait_for(limit, || {
            let t = self.text(css);
            t.contains(want).then_some(t)
        })
        .ok_or_else(|| self.text(css))
    }

    /// A PNG of the window.
    pub fn screenshot(&self, png: &Path) {
        let data = self.call("GET", "/screenshot", serde_json::Value::Null);
        std::fs::write(png, base64_decode(data.as_str().unwrap())).expect("write the screenshot");
    }
}

/// Standard base64 (WebDriver's screenshots), decoded; padding and line breaks skipped.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let (mut out, mut acc, mut bits) = (Vec::with_capacity(text.len() * 3 / 4), 0u32, 0);
    for v in text.bytes().filter_map(value) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = webdriver(self.port, "DELETE", &format!("/session/{}", self.session), &serde_json::Value::Null);
    }
}
