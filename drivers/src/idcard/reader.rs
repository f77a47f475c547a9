//! The reader task: talks to the SAM over a serial port, polls for cards, reports insertions, removals and faults.

use super::card::IdCard;
use super::frame::{self, Decoder, Request, SamStatus};
use super::reply::{Reply, ReplyError, interpret};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    #[error("the reader did not answer {0:?} in time")]
    Timeout(Request),
    #[error("the serial port failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Reply(#[from] ReplyError),
    #[error("the reader sent a broken frame: {0}")]
    Frame(#[from] frame::FrameError),
}

/// The SAM's identity and state at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamInfo {
    pub sam_id: String,
}

/// A byte link to a SAM that can drop what it has received and not yet read.
pub trait SamLink: Read + Write {
    /// Drops every received byte not yet read; how many there were.
    fn discard_input(&mut self) -> std::io::Result<usize>;
}

impl SamLink for serialport::TTYPort {
    fn discard_input(&mut self) -> std::io::Result<usize> {
        use serialport::SerialPort;
        let waiting = self.bytes_to_read().map_err(std::io::Error::from)?;
        self.clear(serialport::ClearBuffer::Input).map_err(std::io::Error::from)?;
        Ok(waiting as usize)
    }
}

/// One conversation with a SAM over a serial link.
pub struct Sam<L> {
    link: L,
    decoder: Decoder,
    /// Bytes exchanged so far (for the wire-time benchmark).
    pub bytes_exchanged: usize,
}

impl<L: SamLink> Sam<L> {
    pub fn new(link: L) -> Self {
        Sam { link, decoder: Decoder::default(), bytes_exchanged: 0 }
    }

    /// Sends `req` and waits (up to its timeout) for the reply.
    ///
    /// GA/T 467 replies carry no command: a reply is matched to the request it follows. So whatever is still
    /// on the line when a request goes out (the late reply to one that timed out, half a frame) is dropped
    /// first; a card-found reply, which only FindCard can get, is skipped as a late one when it answers
    /// anything else; and the deadline is looked at only after reading, so a reply that was already waiting
    /// while this thread was held up (a starved box, a slow USB-serial hop) is taken, not called a timeout.
    pub fn call(&mut self, req: Request) -> Result<Reply, ReaderError> {
        self.discard_stale()?;
        let mut buf = [0u8; 2048];
        let bytes = frame::encode(req);
        self.link.write_all(&bytes)?;
        self.link.flush()?;
        self.bytes_exchanged += bytes.len();
        let deadline = Instant::now() + Duration::from_millis(req.timeout_ms());
        loop {
            while let Some(f) = self.decoder.next_frame() {
                let f = f?;
                self.bytes_exchanged += 8 + f.data.len() + 2;
                if req != Request::FindCard && SamStatus::from_sw3(f.sw3) == SamStatus::CardFound {
                    log::debug!("a late card-found reply skipped while waiting for {req:?}");
                    continue;
                }
                return Ok(interpret(req, &f)?);
            }
            // Judged before the read: a read that began after the deadline and found nothing ends the wait;
            // one that found bytes (however late this thread got to it) is used.
            let expired = Instant::now() >= deadline;
            match crate::read_available(&mut self.link, &mut buf)? {
                Some(0) => return Err(ReaderError::Io(std::io::ErrorKind::UnexpectedEof.into())),
                Some(n) => self.decoder.feed(&buf[..n]),
                None if expired => return Err(ReaderError::Timeout(req)),
                None => {}
            }
        }
    }

    /// Drops every byte already received and any half-decoded frame: nothing on the line before a request
    /// can be its reply.
    fn discard_stale(&mut self) -> Result<(), ReaderError> {
        let dropped = std::mem::take(&mut self.decoder).pending() + self.link.discard_input()?;
        if dropped > 0 {
            log::debug!("{dropped} stale byte(s) dropped before a request to the SAM");
        }
        Ok(())
    }

    /// Reset, status and ID: what `kiosk doctor` reports.
    pub fn init(&mut self) -> Result<SamInfo, ReaderError> {
        self.call(Request::ResetSam)?;
        self.call(Request::SamStatus)?;
        let sam_id = match self.call(Request::SamId)? {
            Reply::SamId(id) => id.iter().map(|b| format!("{b:02X}")).collect(),
            _ => String::new(),
        };
        Ok(SamInfo { sam_id })
    }

    /// Whether a card lies on the reader.
    pub fn card_present(&mut self) -> Result<bool, ReaderError> {
        Ok(matches!(self.call(Request::FindCard)?, Reply::CardPresent))
    }

    /// Find, select and read; None when no card is on the reader.
    pub fn read_card(&mut self) -> Result<Option<IdCard>, ReaderError> {
        if !self.card_present()? {
            return Ok(None);
        }
        self.call(Request::SelectCard)?;
        match self.call(Request::ReadText)? {
            Reply::CardData(card) => Ok(Some(*card)),
            _ => Err(ReplyError::Malformed("no card data in the read reply").into()),
        }
    }
}

/// What the reader task reports.
#[derive(Debug)]
pub enum ReaderEvent {
    Ready(SamInfo),
    CardInserted(Box<IdCard>),
    /// A card is on the reader but could not be read (wrong type, SW3 error, bad data) in
    /// [`CardWatch::ATTEMPTS`] tries: the citizen should lift it and put it back.
    CardReadFailed(String),
    CardRemoved,
    /// The reader is gone or not answering; retried with backoff.
    Fault(String),
    Recovered,
}

/// Opens the port at `path` and reads cards until `events` is dropped. Never panics on device bytes.
pub fn run_reader(path: &str, baud: u32, poll: Duration, events: std::sync::mpsc::Sender<ReaderEvent>) {
    let never = std::sync::atomic::AtomicBool::new(false);
    run_reader_until(path, baud, poll, events, &owner::Stop::default(), &never, &|| {});
}

/// Waits `d`, woken at once when `stop` is set; true when stopping. `alive` is told first: every turn of
/// the reader's loop naps, so this is where its owner shows a watchdog it is not stuck.
fn nap(d: Duration, stop: &owner::Stop, alive: &dyn Fn()) -> bool {
    alive();
    stop.wait(d)
}

/// What the reader does about the card on it, poll by poll (sans-IO: presence in, what to do out). A card
/// that fails to read is tried again at the next polls while it lies there, and given up on (reported once)
/// after [`CardWatch::ATTEMPTS`]; a card already read, or given up on, is read again when asked (a step that
/// wants a card opened while it lay there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CardWatch {
    placement: Placement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Placement {
    #[default]
    Absent,
    /// On the reader, not read yet; `failures` reads have failed.
    Reading {
        failures: u32,
    },
    Read,
    GaveUp,
}

/// What to do after a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Nothing,
    Read,
    Removed,
}

impl CardWatch {
    /// Reads of one placement before the citizen is asked to lift the card and put it back.
    pub const ATTEMPTS: u32 = 3;

    /// A poll found the card `present` (or not); `read_again` says a step asked for the card afresh.
    pub fn poll(&mut self, present: bool, read_again: bool) -> Next {
        match (present, self.placement) {
            (false, Placement::Absent) => Next::Nothing,
            (false, _) => {
                self.placement = Placement::Absent;
                Next::Removed
            }
            (true, Placement::Absent) => {
                self.placement = Placement::Reading { failures: 0 };
                Next::Read
            }
            (true, Placement::Reading { .. }) => Next::Read,
            (true, Placement::Read | Placement::GaveUp) if read_again => {
                self.placement = Placement::Reading { failures: 0 };
                Next::Read
            }
            (true, _) => Next::Nothing,
        }
    }

    /// The read succeeded.
    pub fn read(&mut self) {
        self.placement = Placement::Read;
    }

    /// The read failed: true when this was the last attempt (report it; no more reads until the card is
    /// lifted or asked for again).
    pub fn failed(&mut self) -> bool {
        let failures = match self.placement {
            Placement::Reading { failures } => failures + 1,
            _ => Self::ATTEMPTS,
        };
        if failures >= Self::ATTEMPTS {
            self.placement = Placement::GaveUp;
            true
        } else {
            self.placement = Placement::Reading { failures };
            false
        }
    }
}

/// [`run_reader`] that also returns (closing the port) within about 50 ms of `stop` being set (a wait wakes
/// at once; a read in progress ends at its 50 ms timeout): the kiosk's
/// reader owner stops this way at shutdown. Setting `read_again` reads the card on the reader afresh (it is
/// cleared when seen).
pub fn run_reader_until(
    path: &str,
    baud: u32,
    poll: Duration,
    events: std::sync::mpsc::Sender<ReaderEvent>,
    stop: &owner::Stop,
    read_again: &std::sync::atomic::AtomicBool,
    alive: &dyn Fn(),
) {
    let mut backoff = Duration::from_millis(500);
    let mut faulted = false;
    loop {
        let opened = serialport::new(path, baud).timeout(Duration::from_millis(50)).open_native();
        let port = match opened {
            Ok(p) => p,
            Err(e) => {
                if !faulted && events.send(ReaderEvent::Fault(format!("cannot open {path}: {e}"))).is_err() {
                    return;
                }
                faulted = true;
                if nap(backoff, stop, alive) {
                    return;
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        let mut sam = Sam::new(port);
        let outcome = (|| -> Result<(), ReaderError> {
            let info = sam.init()?;
            if faulted {
                let _ = events.send(ReaderEvent::Recovered);
                faulted = false;
            }
            backoff = Duration::from_millis(500);
            if events.send(ReaderEvent::Ready(info)).is_err() {
                return Ok(());
            }
            let mut watch = CardWatch::default();
            loop {
                let present = sam.card_present()?;
                let again = read_again.swap(false, std::sync::atomic::Ordering::SeqCst);
                let ev = match watch.poll(present, again) {
                    Next::Nothing => None,
                    Next::Removed => Some(ReaderEvent::CardRemoved),
                    Next::Read => {
                        let read = (|| {
                            sam.call(Request::SelectCard)?;
                            match sam.call(Request::ReadText)? {
                                Reply::CardData(card) => Ok(card),
                                _ => Err(ReaderError::Reply(ReplyError::Malformed("no card data"))),
                            }
                        })();
                        match read {
                            Ok(card) => {
                                watch.read();
                                Some(ReaderEvent::CardInserted(card))
                            }
                            // A card moved during the read, a scratched chip: tried again at the next polls.
                            Err(e @ (ReaderError::Reply(_) | ReaderError::Frame(_))) => watch.failed().then(|| {
                                ReaderEvent::CardReadFailed(format!("{e} ({} attempts)", CardWatch::ATTEMPTS))
                            }),
                            Err(e) => return Err(e),
                        }
                    }
                };
                if let Some(ev) = ev
                    && events.send(ev).is_err()
                {
                    return Ok(());
                }
                if nap(poll, stop, alive) {
                    return Ok(());
                }
            }
        })();
        match outcome {
            Ok(()) => return,
            Err(e) => {
                if !faulted && events.send(ReaderEvent::Fault(e.to_string())).is_err() {
                    return;
                }
                faulted = true;
                if nap(backoff, stop, alive) {
                    return;
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_is_read_once_per_placement_and_removal_is_told_once() {
        let mut w = CardWatch::default();
        assert_eq!(w.poll(false, false), Next::Nothing);
        assert_eq!(w.poll(true, false), Next::Read);
        w.read();
        assert_eq!(w.poll(true, false), Next::Nothing, "read once while it lies there");
        assert_eq!(w.poll(false, false), Next::Removed);
        assert_eq!(w.poll(false, false), Next::Nothing);
    }

    /// Issue #30 item 2: a card that failed to read was never read again while it lay there.
    #[test]
    fn a_failed_read_is_tried_again_then_given_up_once_until_the_card_is_lifted() {
        let mut w = CardWatch::default();
        assert_eq!(w.poll(true, false), Next::Read);
        assert!(!w.failed(), "first failure: try again");
        assert_eq!(w.poll(true, false), Next::Read);
        assert!(!w.failed());
        assert_eq!(w.poll(true, false), Next::Read);
        assert!(w.failed(), "the third failure is reported");
        assert_eq!(w.poll(true, false), Next::Nothing, "and then left alone");
        assert_eq!(w.poll(false, false), Next::Removed);
        assert_eq!(w.poll(true, false), Next::Read, "put back: read afresh");
        w.read();
    }

    #[test]
    fn a_card_already_read_or_given_up_on_is_read_again_when_asked() {
        let mut w = CardWatch::default();
        w.poll(true, false);
        w.read();
        assert_eq!(w.poll(true, true), Next::Read);
        for _ in 0..CardWatch::ATTEMPTS {
            w.failed();
        }
        assert_eq!(w.poll(true, false), Next::Nothing);
        assert_eq!(w.poll(true, true), Next::Read, "given up, asked again: tried again");
        assert_eq!(w.poll(false, true), Next::Removed, "asked with no card: nothing to read");
    }
}
