//! Getting bytes to a thermal printer and its status back: the transport trait, TCP 9100, and the job protocol with timeouts.

use super::status::{self, PrinterStatus, StatusFault};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A byte link to a printer whose every read can time out.
pub trait Link: Read + Write + Send {
    fn set_read_timeout(&mut self, timeout: Duration) -> std::io::Result<()>;
    /// Drops bytes that arrived unasked (late answers), so the next status answer is fresh.
    fn discard_input(&mut self) -> std::io::Result<()>;
}

pub struct TcpLink(pub TcpStream);

impl TcpLink {
    pub fn connect(address: &str, timeout: Duration) -> std::io::Result<TcpLink> {
        let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, format!("{address} resolves to no address"));
        for addr in address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => {
                    s.set_nodelay(true)?;
                    s.set_write_timeout(Some(timeout))?;
                    return Ok(TcpLink(s));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl Read for TcpLink {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TcpLink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Link for TcpLink {
    fn set_read_timeout(&mut self, timeout: Duration) -> std::io::Result<()> {
        self.0.set_read_timeout(Some(timeout))
    }
    fn discard_input(&mut self) -> std::io::Result<()> {
        self.0.set_nonblocking(true)?;
        let mut buf = [0u8; 256];
        let result = loop {
            match self.0.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        self.0.set_nonblocking(false)?;
        result
    }
}

/// Why a job did not print.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("{} ({})", .0.technician(), .0.code())]
    Fault(StatusFault),
    #[error("The printer connection failed ({0}); the ticket was not printed.")]
    Io(#[from] std::io::Error),
}

impl PrintError {
    pub fn fault(&self) -> StatusFault {
        match self {
            PrintError::Fault(f) => *f,
            PrintError::Io(_) => StatusFault::NoAnswer,
        }
    }
}

/// Asks DLE EOT 1–4; silence within `timeout` or a malformed answer is a fault, never a hang.
pub fn query_status(link: &mut dyn Link, timeout: Duration) -> Result<PrinterStatus, StatusFault> {
    link.discard_input().map_err(|_| StatusFault::NoAnswer)?;
    link.set_read_timeout(timeout).map_err(|_| StatusFault::NoAnswer)?;
    let mut st = PrinterStatus::default();
    for n in 1..=4u8 {
        link.write_all(&status::request(n)).and_then(|()| link.flush()).map_err(|_| StatusFault::NoAnswer)?;
        let mut b = [0u8; 1];
        match link.read(&mut b) {
            Ok(1) => st.apply(n, b[0])?,
            _ => return Err(StatusFault::NoAnswer),
        }
    }
    Ok(st)
}

/// What a printed job left behind worth telling technicians.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobReport {
    pub paper_near_end: bool,
}

/// Status before (a fault → nothing is sent), the job, status after (a fault → the job failed).
pub fn print_job(link: &mut dyn Link, job: &[u8], timeout: Duration) -> Result<JobReport, PrintError> {
    let before = query_status(link, timeout).map_err(PrintError::Fault)?;
    if let Some(f) = before.fault() {
        return Err(PrintError::Fault(f));
    }
    link.write_all(job)?;
    link.flush()?;
    let after = query_status(link, timeout).map_err(PrintError::Fault)?;
    if let Some(f) = after.fault() {
        return Err(PrintError::Fault(f));
    }
    Ok(JobReport { paper_near_end: before.paper_near_end || after.paper_near_end })
}

/// A printer on a serial port (or the pty of the virtual printer).
pub struct SerialLink(pub serialport::TTYPort);

impl SerialLink {
    pub fn open(path: &str, baud: u32, timeout: Duration) -> std::io::Result<SerialLink> {
        serialport::new(path, baud).timeout(timeout).open_native().map(SerialLink).map_err(std::io::Error::from)
    }
}

impl Read for SerialLink {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for SerialLink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Link for SerialLink {
    fn set_read_timeout(&mut self, timeout: Duration) -> std::io::Result<()> {
        serialport::SerialPort::set_timeout(&mut self.0, timeout).map_err(std::io::Error::from)
    }
    fn discard_input(&mut self) -> std::io::Result<()> {
        serialport::SerialPort::clear(&self.0, serialport::ClearBuffer::Input).map_err(std::io::Error::from)
    }
}

/// A USB printer-class device file (`/dev/usb/lp0`), opened non-blocking so no read or write can hang.
pub struct DeviceFileLink {
    file: std::fs::File,
    timeout: Duration,
}

/// O_NONBLOCK on Linux (x86_64, aarch64, armv7 alike).
const O_NONBLOCK: i32 = 0o4000;

impl DeviceFileLink {
    pub fn open(path: &str, timeout: Duration) -> std::io::Result<DeviceFileLink> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new().read(true).write(true).custom_flags(O_NONBLOCK).open(path)?;
        Ok(DeviceFileLink { file, timeout })
    }

    /// Retries a non-blocking call until it makes progress or the timeout passes.
    fn with_deadline<T>(&mut self, mut op: impl FnMut(&mut std::fs::File) -> std::io::Result<T>) -> std::io::Result<T> {
        let deadline = std::time::Instant::now() + self.timeout;
        loop {
            match op(&mut self.file) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if std::time::Instant::now() >= deadline {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "the printer did not answer in time",
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                other => return other,
            }
        }
    }
}

impl Read for DeviceFileLink {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.with_deadline(|f| f.read(buf))
    }
}

impl Write for DeviceFileLink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.with_deadline(|f| f.write(buf))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Link for DeviceFileLink {
    fn set_read_timeout(&mut self, timeout: Duration) -> std::io::Result<()> {
        self.timeout = timeout;
        Ok(())
    }
    fn discard_input(&mut self) -> std::io::Result<()> {
        let mut buf = [0u8; 256];
        loop {
            match self.file.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}
