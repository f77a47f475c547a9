//! The virtual thermal printer: serves TCP like a port-9100 printer, answers DLE EOT with a chosen status,
//! and writes each job as a text transcript and a PNG at the paper's dot width.

use super::decode::{Command, Decoder, size_class};
use super::document::{Align, Size};
use super::status::PrinterStatus;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// The state the virtual printer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimStatus {
    Ok,
    NearEnd,
    PaperOut,
    CoverOpen,
    /// Answers nothing (a printer gone offline at paper end).
    Silent,
}

impl SimStatus {
    pub fn parse(s: &str) -> Option<SimStatus> {
        Some(match s {
            "ok" => SimStatus::Ok,
            "near-end" => SimStatus::NearEnd,
            "paper-out" => SimStatus::PaperOut,
            "cover-open" => SimStatus::CoverOpen,
            "silent" => SimStatus::Silent,
            _ => return None,
        })
    }

    fn printer_status(self) -> PrinterStatus {
        let mut st = PrinterStatus::default();
        match self {
            SimStatus::Ok | SimStatus::Silent => {}
            SimStatus::NearEnd => st.paper_near_end = true,
            SimStatus::PaperOut => st.paper_out = true,
            SimStatus::CoverOpen => st.cover_open = true,
        }
        st
    }
}

/// Shared handle: change the status while serving; count jobs.
#[derive(Clone)]
pub struct VirtualPrinter {
    pub status: Arc<Mutex<SimStatus>>,
    out_dir: PathBuf,
    width_dots: u32,
    jobs: Arc<AtomicU32>,
    /// Loaded with the first job's picture (shared with the rest of the process), not at start.
    font: Arc<std::sync::OnceLock<Option<Arc<Vec<u8>>>>>,
    /// The pictures being drawn, each on its own thread, joined when the last handle goes (or the next job
    /// finds them done).
    drawing: Arc<Mutex<Vec<owner::Owned>>>,
}

impl VirtualPrinter {
    pub fn new(out_dir: &Path, width_dots: u32, status: SimStatus) -> std::io::Result<VirtualPrinter> {
        std::fs::create_dir_all(out_dir)?;
        Ok(VirtualPrinter {
            status: Arc::new(Mutex::new(status)),
            out_dir: out_dir.to_owned(),
            width_dots,
            jobs: Arc::new(AtomicU32::new(0)),
            font: Arc::default(),
            drawing: Arc::default(),
        })
    }

    pub fn set_status(&self, s: SimStatus) {
        if let Ok(mut g) = self.status.lock() {
            *g = s;
        }
    }

    fn current(&self) -> SimStatus {
        self.status.lock().map(|g| *g).unwrap_or(SimStatus::Silent)
    }

    pub fn jobs_printed(&self) -> u32 {
        self.jobs.load(Ordering::SeqCst)
    }

    /// Accepts connections until the process ends, one thread each (`kiosk sim printer`).
    pub fn serve(&self, listener: TcpListener) {
        self.serve_until(listener, &owner::Stop::default());
    }

    /// [`VirtualPrinter::serve`] that ends at the first connection after `stop` is set (the stopper connects
    /// once to wake it; see [`Server::stop`]). Each connection has an owned thread; they are shut down and
    /// joined when this returns.
    pub fn serve_until(&self, listener: TcpListener, stop: &owner::Stop) {
        let mut connections: Vec<owner::Owned> = vec![];
        for stream in listener.incoming() {
            if stop.is_set() {
                break;
            }
            let Ok(stream) = stream else {
                // Out of file handles, say: try again shortly rather than spin.
                if stop.wait(std::time::Duration::from_millis(20)) {
                    break;
                }
                continue;
            };
            connections.retain(|c| !c.is_finished());
            // Status answers are single bytes: without this, Nagle holds them for the host's delayed ACK.
            let _ = stream.set_nodelay(true);
            let Ok(closer) = stream.try_clone() else { continue };
            let me = self.clone();
            let connection = owner::Owned::spawn("virtual-printer-conn", move |_| {
                if let Err(e) = me.handle(stream) {
                    log::debug!("virtual printer: connection ended: {e}");
                }
            });
            match connection {
                // Stopping shuts the socket down: a host that keeps its connection open does not hold us.
                Ok(c) => connections.push(c.waking_with(move || {
                    let _ = closer.shutdown(std::net::Shutdown::Both);
                })),
                Err(e) => log::warn!("virtual printer: cannot serve a connection: {e}"),
            }
        }
        connections.reverse();
        drop(connections);
    }

    /// Serves one byte stream (a TCP connection or a pty) until it closes.
    pub fn handle(&self, stream: impl Read + Write) -> std::io::Result<()> {
        self.handle_until(stream, &owner::Stop::default())
    }

    /// [`VirtualPrinter::handle`] that also returns once `stop` is set (seen after the stream's read timeout).
    pub fn handle_until(&self, mut stream: impl Read + Write, stop: &owner::Stop) -> std::io::Result<()> {
        let mut decoder = Decoder::default();
        let mut job: Vec<Command> = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if stop.is_set() {
                return Ok(());
            }
            let n = match crate::read_available(&mut stream, &mut buf)? {
                Some(0) => return Ok(()),
                Some(n) => n,
                // A pty served with a read timeout: nothing arrived yet.
                None => continue,
            };
            decoder.feed(&buf[..n]);
            while let Some(cmd) = decoder.next_command() {
                match cmd {
                    Command::StatusRequest(k) => {
                        let st = self.current();
                        if st != SimStatus::Silent && (1..=4).contains(&k) {
                            stream.write_all(&[st.printer_status().answers()[usize::from(k - 1)]])?;
                            stream.flush()?;
                        }
                    }
                    Command::Cut => {
                        job.push(Command::Cut);
                        let st = self.current();
                        if st.printer_status().fault().is_some() || st == SimStatus::Silent {
                            log::info!("virtual printer: job dropped, printer is {st:?}");
                        } else {
                            self.write_job(&job)?;
                        }
                        job.clear();
                    }
                    other => {
                        job.push(other);
                        if job.len() >= MAX_JOB_COMMANDS {
                            self.write_job(&job)?;
                            job.clear();
                        }
                    }
                }
            }
        }
    }

    fn write_job(&self, job: &[Command]) -> std::io::Result<()> {
        self.jobs.fetch_add(1, Ordering::SeqCst);
        // Claim the next free job number: several printers (processes) may share one folder.
        let mut n = 1u32;
        let stem = loop {
            let stem = self.out_dir.join(format!("job-{n:04}"));
            match std::fs::OpenOptions::new().write(true).create_new(true).open(stem.with_extension("txt")) {
                Ok(mut f) => {
                    f.write_all(transcript(job).as_bytes())?;
                    break stem;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
                Err(e) => return Err(e),
            }
        };
        // Status is real time on a real printer: draw the picture off the connection's thread so the
        // next DLE EOT is answered at once. The PNG appears atomically (written, then renamed).
        let font = self
            .font
            .get_or_init(|| {
                let font = super::raster::find_cjk_font().and_then(|p| super::raster::shared_font(&p).ok());
                if font.is_none() {
                    log::warn!("virtual printer: no CJK font found (set KIOSK_FONT); PNGs will show boxes for text");
                }
                font
            })
            .clone();
        let (job, width) = (job.to_vec(), self.width_dots);
        let drawn = owner::Owned::spawn("virtual-printer-png", move |_| {
            let png = render_png(&job, width, font.as_deref().map(Vec::as_slice));
            let tmp = stem.with_extension("png.part");
            if std::fs::write(&tmp, png).and_then(|()| std::fs::rename(&tmp, stem.with_extension("png"))).is_err() {
                log::warn!("virtual printer: cannot write {}", stem.with_extension("png").display());
            }
        })?;
        if let Ok(mut drawing) = self.drawing.lock() {
            drawing.retain(|d| !d.is_finished());
            drawing.push(drawn);
        }
        Ok(())
    }
}

/// One line per printed element, with its style: what tests and technicians read.
pub fn transcript(job: &[Command]) -> String {
    let mut out = String::new();
    let (mut align, mut bold, mut size) = (Align::Left, false, Size::Normal);
    for cmd in job {
        match cmd {
            Command::Align(a) => align = *a,
            Command::Bold(b) => bold = *b,
            Command::Size { width, .. } => size = size_class(*width),
            Command::Init => (align, bold, size) = (Align::Left, false, Size::Normal),
            Command::Line(text) => {
                let a = match align {
                    Align::Left => "left",
                    Align::Center => "center",
                    Align::Right => "right",
                };
                let s = match size {
                    Size::Normal => "x1",
                    Size::Double => "x2",
                    Size::Quad => "x4",
                };
                out.push_str(&format!("[{a} {s}{}] {text}\n", if bold { " bold" } else { "" }));
            }
            Command::Qr(data) => out.push_str(&format!("[qr] {data}\n")),
            Command::Raster { width_bytes, height, .. } => {
                out.push_str(&format!("[raster {}x{}]\n", u32::from(*width_bytes) * 8, height))
            }
            Command::Feed(n) => out.push_str(&format!("[feed {n}]\n")),
            Command::Cut => out.push_str("[cut]\n"),
            Command::Unknown(bytes) => out.push_str(&format!("[unknown {}]\n", hex(bytes))),
            Command::LeftMargin(d) => out.push_str(&format!("[margin {d}]\n")),
            Command::PrintWidth(d) => out.push_str(&format!("[width {d}]\n")),
            Command::ChineseMode(_) | Command::ChineseSize(_) | Command::StatusRequest(_) => {}
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect::<Vec<_>>().join(" ")
}

use super::raster::LINE_DOTS;
const QR_MODULE_DOTS: u32 = 6;

/// Renders a job to a 1-bit-looking grayscale PNG at the paper's dot width, as a printer lays it out: inside
/// the print area (`GS L`, `GS W`), a text line wrapped where it meets the area's right edge.
pub fn render_png(job: &[Command], width: u32, font: Option<&[u8]>) -> Vec<u8> {
    let font = font.and_then(|f| ab_glyph::FontRef::try_from_slice_and_index(f, 0).ok());
    let mut canvas = Canvas { width, rows: Vec::new() };
    let (mut align, mut size, mut bold) = (Align::Left, Size::Normal, false);
    let (mut left, mut area) = (0u32, width);
    let mut y = 16u32;
    for cmd in job {
        // Where an element of width `w` starts on the paper.
        let at = |align: Align, w: u32, left: u32, area: u32| left + x_for(align, w, area);
        match cmd {
            Command::Align(a) => align = *a,
            Command::Size { width: w, .. } => size = size_class(*w),
            Command::Bold(b) => bold = *b,
            Command::Init => {
                (align, size, bold) = (Align::Left, Size::Normal, false);
                (left, area) = (0, width);
            }
            Command::LeftMargin(d) => left = u32::from(*d).min(width),
            Command::PrintWidth(d) => area = u32::from(*d),
            Command::Line(text) => {
                let area = area.min(width.saturating_sub(left)).max(1);
                let px = (LINE_DOTS * u32::from(size.scale())) as f32;
                let h = px as u32 + 6;
                if let Some(font) = &font {
                    for piece in wrap(text, area, |t| super::raster::text_width(font, t, px)) {
                        canvas.ensure(y + h);
                        let x = at(align, super::raster::text_width(font, &piece, px) as u32, left, area);
                        // Emphasis as a thermal head prints it: each line struck again a dot or two to the right.
                        let strikes = if bold { 1 + u32::from(size.scale()).div_ceil(2) } else { 1 };
                        for dx0 in 0..strikes {
                            super::raster::draw_text(font, &piece, px, (x + dx0) as f32, y as f32, |dx, dy| {
                                canvas.set(dx, dy)
                            });
                        }
                        y += h;
                    }
                } else {
                    // No font: a box per character so layout is still visible.
                    let cw = px as u32 / 2;
                    for piece in wrap(text, area, |t| (cw * t.chars().count() as u32) as f32) {
                        canvas.ensure(y + h);
                        let x0 = at(align, cw * piece.chars().count() as u32, left, area);
                        for (i, _) in piece.chars().enumerate() {
                            let cx = x0 + i as u32 * cw;
                            for d in 0..cw.saturating_sub(2) {
                                canvas.set(i64::from(cx + d), i64::from(y));
                                canvas.set(i64::from(cx + d), i64::from(y + px as u32 - 1));
                            }
                        }
                        y += h;
                    }
                }
            }
            Command::Qr(data) => {
                if let Ok(code) = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M) {
                    let m = code.width() as u32;
                    let side = m * QR_MODULE_DOTS;
                    let x0 = at(align, side, left, area);
                    canvas.ensure(y + side + 12);
                    let colors = code.to_colors();
                    for my in 0..m {
                        for mx in 0..m {
                            if colors[(my * m + mx) as usize] == qrcode::Color::Dark {
                                for dy in 0..QR_MODULE_DOTS {
                                    for dx in 0..QR_MODULE_DOTS {
                                        canvas.set(
                                            i64::from(x0 + mx * QR_MODULE_DOTS + dx),
                                            i64::from(y + my * QR_MODULE_DOTS + dy),
                                        );
                                    }
                                }
                            }
                        }
                    }
                    y += side + 12;
                }
            }
            Command::Raster { width_bytes, height, bits } => {
                let w = u32::from(*width_bytes) * 8;
                let x0 = at(align, w, left, area);
                canvas.ensure(y + u32::from(*height));
                for ry in 0..u32::from(*height) {
                    for rx in 0..w {
                        let byte = bits[(ry * u32::from(*width_bytes) + rx / 8) as usize];
                        if byte & (0x80 >> (rx % 8)) != 0 {
                            canvas.set(i64::from(x0 + rx), i64::from(y + ry));
                        }
                    }
                }
                y += u32::from(*height);
            }
            Command::Feed(n) => y += u32::from(*n) * LINE_DOTS,
            Command::Cut => {
                y += 8;
                canvas.ensure(y + 2);
                for x in (0..width).step_by(8) {
                    for d in 0..4 {
                        canvas.set(i64::from(x + d), i64::from(y));
                    }
                }
                y += 2;
            }
            _ => {}
        }
    }
    canvas.ensure(y + 16);
    canvas.png()
}

/// `text` cut into pieces no wider than `area` (by `width_of`), as a printer wraps a line at its print
/// area's edge: by character (Chinese has no spaces to break at); a character wider than the area alone.
fn wrap(text: &str, area: u32, width_of: impl Fn(&str) -> f32) -> Vec<String> {
    let area = area as f32;
    let mut pieces = vec![];
    let (mut piece, mut used) = (String::new(), 0f32);
    // Each character measured once (a line is at most MAX_TEXT_LINE bytes; kerning is not worth more).
    for c in text.chars() {
        let w = width_of(c.encode_utf8(&mut [0u8; 4]));
        if used + w > area && !piece.is_empty() {
            pieces.push(std::mem::take(&mut piece));
            used = 0.0;
        }
        piece.push(c);
        used += w;
    }
    if !piece.is_empty() || pieces.is_empty() {
        pieces.push(piece);
    }
    pieces
}

fn x_for(align: Align, w: u32, width: u32) -> u32 {
    match align {
        Align::Left => 0,
        Align::Center => width.saturating_sub(w) / 2,
        Align::Right => width.saturating_sub(w),
    }
}

const MAX_ROWS: u32 = 40_000;
/// Commands held for one job before it is written out even without a cut.
const MAX_JOB_COMMANDS: usize = 100_000;

struct Canvas {
    width: u32,
    rows: Vec<Vec<u8>>,
}

impl Canvas {
    fn ensure(&mut self, h: u32) {
        // A job longer than 5 m of paper is no ticket: stop growing rather than exhaust memory.
        let h = h.min(MAX_ROWS);
        while self.rows.len() < h as usize {
            self.rows.push(vec![255; self.width as usize]);
        }
    }
    fn set(&mut self, x: i64, y: i64) {
        if x >= 0 && y >= 0 && (x as u32) < self.width && y < i64::from(MAX_ROWS) {
            self.ensure(y as u32 + 1);
            self.rows[y as usize][x as usize] = 0;
        }
    }
    fn png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width, self.rows.len() as u32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            if let Ok(mut w) = enc.write_header() {
                let data: Vec<u8> = self.rows.concat();
                let _ = w.write_image_data(&data);
            }
        }
        out
    }
}

/// A virtual printer listening on its own thread, which [`Server::stop`] (or a drop) ends.
#[derive(Debug)]
pub struct Server {
    pub addr: std::net::SocketAddr,
    thread: owner::Owned,
}

impl Server {
    /// Starts a virtual printer on `addr`.
    pub fn start(addr: &str, printer: VirtualPrinter) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        let thread = owner::Owned::spawn("virtual-printer", move |life| printer.serve_until(listener, &life.stop))?
            // Wake the blocking accept; it sees the stop and returns.
            .waking_with(move || {
                let _ = std::net::TcpStream::connect_timeout(&local, std::time::Duration::from_secs(1));
            });
        Ok(Server { addr: local, thread })
    }

    /// Stops accepting, ends the open connections and waits for the threads.
    pub fn stop(&mut self) {
        self.thread.stop();
    }
}

/// The virtual printer served on a new pseudo-terminal: the path a host opens as its serial port, and the
/// owner of the serving thread (dropping it closes the pty and joins the thread).
pub struct PtyServer {
    pub path: String,
    // Dropped first: the pty's far end closes, so the serving read ends.
    slave: Option<serialport::TTYPort>,
    thread: owner::Owned,
}

impl PtyServer {
    pub fn stop(&mut self) {
        self.slave.take();
        self.thread.stop();
    }
}

impl Drop for PtyServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves the virtual printer on a new pseudo-terminal.
pub fn spawn_pty(printer: VirtualPrinter) -> std::io::Result<PtyServer> {
    let (mut master, slave) = serialport::TTYPort::pair().map_err(std::io::Error::from)?;
    let path = serialport::SerialPort::name(&slave).ok_or_else(|| std::io::Error::other("the pty has no name"))?;
    // Short reads, so the serving thread sees its stop soon after it is set.
    serialport::SerialPort::set_timeout(&mut master, std::time::Duration::from_millis(200))
        .map_err(std::io::Error::from)?;
    let thread = owner::Owned::spawn("virtual-printer-pty", move |life| {
        if let Err(e) = printer.handle_until(master, &life.stop) {
            log::warn!("virtual printer pty: {e}");
        }
    })?;
    Ok(PtyServer { path, slave: Some(slave), thread })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dark_pixels(png_bytes: &[u8]) -> usize {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf[..info.buffer_size()].iter().filter(|&&p| p < 128).count()
    }

    #[test]
    fn bold_lines_print_heavier_than_plain_ones() {
        let font = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/fonts/wqy-microhei.ttc")).unwrap();
        let line = |bold: bool| {
            let job = [Command::Init, Command::Bold(bold), Command::Line("临沭县 A023".into())];
            dark_pixels(&render_png(&job, 576, Some(&font)))
        };
        let (plain, bold) = (line(false), line(true));
        assert!(plain > 100, "the line was drawn: {plain}");
        assert!(bold as f64 > plain as f64 * 1.2, "bold {bold} vs plain {plain} dark dots");
        // Init ends emphasis.
        let job = [Command::Bold(true), Command::Init, Command::Line("临沭县 A023".into())];
        assert_eq!(dark_pixels(&render_png(&job, 576, Some(&font))), plain);
    }
}
