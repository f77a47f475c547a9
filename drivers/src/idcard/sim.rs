//! The SAM side of the protocol: fixture cards placed and removed, fault modes, optional pacing at the wire rate.

use super::card::IdCard;
use super::frame::{self, Decoder, Request, SamStatus};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the simulated SAM misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Answers nothing at all.
    Silent,
    /// Every reply has a wrong checksum.
    Checksum,
    /// Reads fail with this SW3 (31, 32, 33, 41) or select/find with 80/81.
    Sw3(u8),
    /// Noise before every reply.
    Garbage,
}

impl Fault {
    pub fn parse(s: &str) -> Option<Fault> {
        Some(match s {
            "none" => Fault::None,
            "silent" => Fault::Silent,
            "checksum" => Fault::Checksum,
            "garbage" => Fault::Garbage,
            sw if sw.starts_with("sw3-") => Fault::Sw3(u8::from_str_radix(&sw[4..], 16).ok()?),
            _ => return None,
        })
    }
}

/// The simulated SAM's state.
#[derive(Debug)]
pub struct SamSim {
    pub cards: Vec<IdCard>,
    /// Index of the card on the reader.
    pub placed: Option<usize>,
    pub fault: Fault,
    /// The next this many reads of a placed card fail (SW3 41), as a card moved during the read does.
    pub failing_reads: u32,
    selected: bool,
}

impl SamSim {
    pub fn new(cards: Vec<IdCard>) -> SamSim {
        SamSim { cards, placed: None, fault: Fault::None, failing_reads: 0, selected: false }
    }

    fn reply(sw3: u8, data: &[u8]) -> Vec<u8> {
        let mut body = vec![0x00, 0x00, sw3];
        body.extend_from_slice(data);
        frame::frame(&body)
    }

    /// The reply bytes to a request body (CMD PARA DATA); None when silent.
    pub fn respond(&mut self, body: &[u8]) -> Option<Vec<u8>> {
        if self.fault == Fault::Silent {
            return None;
        }
        let req = match body {
            [cmd, para, data @ ..] => Request::from_parts(*cmd, *para, data),
            _ => None,
        };
        let ok = SamStatus::Success.sw3();
        let fail = |s: SamStatus| Self::reply(s.sw3(), &[]);
        let mut out = match req {
            None => fail(SamStatus::CommandError),
            Some(Request::ResetSam | Request::SamStatus | Request::SetBaud(_) | Request::SetRfFrame(_)) => {
                Self::reply(ok, &[])
            }
            Some(Request::SamId) => Self::reply(
                ok,
                &[0x05, 0x00, 0x01, 0x00, 0x20, 0x26, 0x11, 0x25, 0x00, 0x00, 0x00, 0x01, 0x4C, 0x53, 0x4B, 0x31],
            ),
            Some(Request::FindCard) => match (self.placed, self.fault) {
                (Some(_), Fault::Sw3(0x80)) | (None, _) => fail(SamStatus::NoCard),
                (Some(_), _) => Self::reply(SamStatus::CardFound.sw3(), &[0, 0, 0, 0]),
            },
            Some(Request::SelectCard) => match (self.placed, self.fault) {
                (Some(_), Fault::Sw3(0x81)) | (None, _) => fail(SamStatus::SelectFailed),
                (Some(i), _) => {
                    self.selected = true;
                    Self::reply(ok, &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, i as u8])
                }
            },
            Some(r @ (Request::ReadText | Request::ReadTextWithFingerprint)) => match (self.placed, self.fault) {
                (_, Fault::Sw3(code)) if ![0x80, 0x81].contains(&code) => Self::reply(code, &[]),
                (Some(_), _) if self.failing_reads > 0 => {
                    self.failing_reads -= 1;
                    fail(SamStatus::CardReadFailed)
                }
                (Some(i), _) if self.selected => {
                    let text = self.cards[i].encode();
                    let photo = [0x57u8; 1024];
                    let mut data = vec![0x01, 0x00, 0x04, 0x00];
                    if r == Request::ReadTextWithFingerprint {
                        data.extend([0x04, 0x00]);
                    }
                    data.extend_from_slice(&text);
                    data.extend_from_slice(&photo);
                    if r == Request::ReadTextWithFingerprint {
                        data.extend_from_slice(&[0x46; 1024]);
                    }
                    Self::reply(ok, &data)
                }
                _ => fail(SamStatus::CardReadFailed),
            },
            Some(Request::ReadAddress) => fail(SamStatus::NoContent),
        };
        if self.fault == Fault::Checksum
            && let Some(last) = out.last_mut()
        {
            *last ^= 0x5A;
        }
        if self.fault == Fault::Garbage {
            let mut noisy = vec![0x13, 0xAA, 0x96, 0x00, 0xFF, 0xAA, 0xAA];
            noisy.extend(out);
            out = noisy;
        }
        Some(out)
    }

    pub fn place(&mut self, i: usize) -> bool {
        if i < self.cards.len() {
            self.placed = Some(i);
            self.selected = false;
            true
        } else {
            false
        }
    }

    pub fn remove(&mut self) {
        self.placed = None;
        self.selected = false;
    }
}

/// Serves the SAM on `port` until it closes; `paced` writes at the real 115200-baud rate (86.8 µs a byte).
pub fn serve(sim: Arc<Mutex<SamSim>>, port: impl Read + Write, paced: bool) -> std::io::Result<()> {
    serve_until(sim, port, paced, &owner::Stop::default())
}

/// [`serve`] that returns once `stop` is set; the port's read timeout bounds how long that takes.
pub fn serve_until(
    sim: Arc<Mutex<SamSim>>,
    mut port: impl Read + Write,
    paced: bool,
    stop: &owner::Stop,
) -> std::io::Result<()> {
    let mut dec = Decoder::default();
    let mut buf = [0u8; 1024];
    loop {
        if stop.is_set() {
            return Ok(());
        }
        let n = match crate::read_available(&mut port, &mut buf)? {
            Some(0) => return Ok(()),
            Some(n) => n,
            None => continue,
        };
        dec.feed(&buf[..n]);
        while let Some(body) = dec.next_body() {
            let Ok(body) = body else { continue };
            let reply = match sim.lock() {
                Ok(mut s) => s.respond(&body),
                Err(_) => None,
            };
            let Some(reply) = reply else { continue };
            if paced {
                for chunk in reply.chunks(32) {
                    port.write_all(chunk)?;
                    port.flush()?;
                    std::thread::sleep(Duration::from_nanos(86_806 * chunk.len() as u64));
                }
            } else {
                port.write_all(&reply)?;
                port.flush()?;
            }
        }
    }
}
