//! What a SAM reply means for the request it answers: typed results, or an error naming the SW3 status. Pure.

use super::card::{CardError, IdCard};
use super::frame::{Frame, Request, SamStatus};

/// A successful, typed reply.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Done,
    SamId([u8; 16]),
    CardPresent,
    NoCard,
    Selected {
        serial: [u8; 8],
    },
    /// Text parsed into a card; the photo and fingerprint are dropped here and never leave the driver.
    CardData(Box<IdCard>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("the reader reported: {} (SW3 {:02X})", .0.meaning(), .0.sw3())]
    Sam(SamStatus),
    #[error("the reader's reply is malformed: {0}")]
    Malformed(&'static str),
    #[error("the card data cannot be read: {0}")]
    Card(#[from] CardError),
}

/// Interprets `frame` as the answer to `req`.
pub fn interpret(req: Request, frame: &Frame) -> Result<Reply, ReplyError> {
    let status = SamStatus::from_sw3(frame.sw3);
    match req {
        Request::FindCard => match status {
            SamStatus::CardFound => Ok(Reply::CardPresent),
            SamStatus::NoCard => Ok(Reply::NoCard),
            s => Err(ReplyError::Sam(s)),
        },
        Request::SelectCard => match status {
            SamStatus::Success => {
                let serial = frame.data.get(..8).ok_or(ReplyError::Malformed("the select reply has no card serial"))?;
                Ok(Reply::Selected { serial: serial.try_into().map_err(|_| ReplyError::Malformed("serial"))? })
            }
            s => Err(ReplyError::Sam(s)),
        },
        Request::SamId => match status {
            SamStatus::Success => {
                let id =
                    frame.data.get(..16).ok_or(ReplyError::Malformed("the SAM ID reply is shorter than 16 bytes"))?;
                Ok(Reply::SamId(id.try_into().map_err(|_| ReplyError::Malformed("SAM ID"))?))
            }
            s => Err(ReplyError::Sam(s)),
        },
        Request::ReadText | Request::ReadTextWithFingerprint => {
            if status != SamStatus::Success {
                return Err(ReplyError::Sam(status));
            }
            let d = &frame.data;
            let n = if req == Request::ReadText { 2 } else { 3 };
            if d.len() < 2 * n {
                return Err(ReplyError::Malformed("the card data reply has no length fields"));
            }
            let text_len = usize::from(u16::from_be_bytes([d[0], d[1]]));
            let lens: usize = (0..n).map(|i| usize::from(u16::from_be_bytes([d[2 * i], d[2 * i + 1]]))).sum();
            if text_len != 256 || d.len() < 2 * n + lens {
                return Err(ReplyError::Malformed("the card data lengths do not match the reply"));
            }
            let card = IdCard::parse(&d[2 * n..2 * n + 256])?;
            Ok(Reply::CardData(Box::new(card)))
        }
        _ => {
            if status == SamStatus::Success {
                Ok(Reply::Done)
            } else {
                Err(ReplyError::Sam(status))
            }
        }
    }
}

/// Reads a card from one hex-encoded 30 01 or 30 10 reply frame (whitespace ignored, noise before the preamble tolerated).
pub fn decode_hex_reply(hex: &str) -> Result<IdCard, HexReplyError> {
    let digits: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.len().is_multiple_of(2) || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(HexReplyError::NotHex);
    }
    let bytes: Vec<u8> =
        (0..digits.len()).step_by(2).filter_map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok()).collect();
    let mut dec = super::frame::Decoder::default();
    dec.feed(&bytes);
    let frame = match dec.next_frame() {
        Some(Ok(f)) => f,
        Some(Err(e)) => return Err(HexReplyError::Broken(e.to_string())),
        None => return Err(HexReplyError::NoFrame),
    };
    // 30 10 replies carry three length fields; try the layout the lengths fit.
    let with_fp = frame.data.len() >= 6 && {
        let l = |i: usize| usize::from(u16::from_be_bytes([frame.data[i], frame.data[i + 1]]));
        6 + l(0) + l(2) + l(4) == frame.data.len()
    };
    let req = if with_fp { Request::ReadTextWithFingerprint } else { Request::ReadText };
    match interpret(req, &frame) {
        Ok(Reply::CardData(card)) => Ok(*card),
        Ok(_) => Err(HexReplyError::NotCardData),
        Err(e) => Err(HexReplyError::Reply(e)),
    }
}

/// Why a hex-encoded reply frame gives no card ([`decode_hex_reply`]).
#[derive(Debug, thiserror::Error)]
pub enum HexReplyError {
    #[error("the input is not hex digits (an even number of 0-9 A-F, whitespace allowed)")]
    NotHex,
    #[error("the frame is broken: {0}")]
    Broken(String),
    #[error("no complete frame (AA AA AA 96 69 …) in the input")]
    NoFrame,
    #[error("the frame is not a card data reply")]
    NotCardData,
    #[error(transparent)]
    Reply(ReplyError),
}
