//! GA/T 467 SAM frames: requests to bytes, a streaming decoder that resynchronises on the preamble, and SW3 meanings. Pure.

pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// Largest LEN accepted: the 30 10 reply (text + photo + fingerprint) is under 2.4 KiB.
pub const MAX_LEN: usize = 4096;

/// A host → SAM command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    ResetSam,
    SamStatus,
    SamId,
    FindCard,
    SelectCard,
    /// 30 01: text and photo.
    ReadText,
    /// 30 10: text, photo and fingerprint.
    ReadTextWithFingerprint,
    /// 30 03: latest additional address.
    ReadAddress,
    /// 60 xx: UART rate code (00 115200 … 04 9600).
    SetBaud(u8),
    /// 61 FF n: maximum bytes per RF frame.
    SetRfFrame(u8),
}

impl Request {
    pub fn cmd_para(self) -> (u8, u8, Option<u8>) {
        match self {
            Request::ResetSam => (0x10, 0xFF, None),
            Request::SamStatus => (0x11, 0xFF, None),
            Request::SamId => (0x12, 0xFF, None),
            Request::FindCard => (0x20, 0x01, None),
            Request::SelectCard => (0x20, 0x02, None),
            Request::ReadText => (0x30, 0x01, None),
            Request::ReadTextWithFingerprint => (0x30, 0x10, None),
            Request::ReadAddress => (0x30, 0x03, None),
            Request::SetBaud(code) => (0x60, code, None),
            Request::SetRfFrame(n) => (0x61, 0xFF, Some(n)),
        }
    }

    /// Recognises a request from its CMD, PARA and data (the simulator's side).
    pub fn from_parts(cmd: u8, para: u8, data: &[u8]) -> Option<Request> {
        Some(match (cmd, para, data) {
            (0x10, 0xFF, []) => Request::ResetSam,
            (0x11, 0xFF, []) => Request::SamStatus,
            (0x12, 0xFF, []) => Request::SamId,
            (0x20, 0x01, []) => Request::FindCard,
            (0x20, 0x02, []) => Request::SelectCard,
            (0x30, 0x01, []) => Request::ReadText,
            (0x30, 0x10, []) => Request::ReadTextWithFingerprint,
            (0x30, 0x03, []) => Request::ReadAddress,
            (0x60, code, []) if code <= 4 => Request::SetBaud(code),
            (0x61, 0xFF, [n]) => Request::SetRfFrame(*n),
            _ => return None,
        })
    }

    /// Per-command timeout from vendor practice: 1 s for find/select and control, 3 s for reads.
    pub fn timeout_ms(self) -> u64 {
        match self {
            Request::ReadText | Request::ReadTextWithFingerprint | Request::ReadAddress => 3_000,
            _ => 1_000,
        }
    }
}

/// XOR of every byte from LEN_H up to the byte before CHK.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

/// Frames `body` (CMD PARA DATA for requests, SW1 SW2 SW3 DATA for replies).
pub fn frame(body: &[u8]) -> Vec<u8> {
    let len = body.len() + 1;
    let mut out = Vec::with_capacity(7 + len);
    out.extend_from_slice(&PREAMBLE);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(body);
    out.push(checksum(&out[5..]));
    out
}

pub fn encode(req: Request) -> Vec<u8> {
    let (cmd, para, data) = req.cmd_para();
    let mut body = vec![cmd, para];
    body.extend(data);
    frame(&body)
}

/// A decoded frame: the three status words and the data after them (for requests, SW1 SW2 are CMD PARA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub sw1: u8,
    pub sw2: u8,
    pub sw3: u8,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a frame's checksum is wrong (got {got:02X}, computed {want:02X}): noise on the line or a faulty reader")]
    Checksum { got: u8, want: u8 },
    #[error("a frame declares {0} bytes, more than any reader sends: skipped as noise")]
    Oversized(usize),
    #[error("a frame declares {0} bytes, too short for its command or status")]
    Undersized(usize),
}

/// Streaming decoder: feed any split of bytes, take frames (or errors for broken ones) in order.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Bytes dropped while looking for a preamble (noise), for diagnostics.
    pub noise: usize,
}

impl Decoder {
    /// Bytes received and not yet taken as a frame (a frame still arriving, or the start of one).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next frame as a reply (SW1 SW2 SW3 data).
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        self.next_body().map(|r| {
            r.and_then(|body| match body.as_slice() {
                [sw1, sw2, sw3, data @ ..] => Ok(Frame { sw1: *sw1, sw2: *sw2, sw3: *sw3, data: data.to_vec() }),
                _ => Err(FrameError::Undersized(body.len() + 1)),
            })
        })
    }

    /// The next frame's body: the bytes between LEN and CHK (a request's CMD PARA DATA).
    pub fn next_body(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        let Some(start) = self.buf.windows(5).position(|w| w == PREAMBLE) else {
            // Keep a possible partial preamble at the end.
            let keep = self.buf.len().min(4);
            let drop = self.buf.len() - keep;
            self.noise += drop;
            self.buf.drain(..drop);
            return None;
        };
        if start > 0 {
            self.noise += start;
            self.buf.drain(..start);
        }
        if self.buf.len() < 7 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([self.buf[5], self.buf[6]]));
        if !(3..=MAX_LEN).contains(&len) {
            // Not a real frame: skip this preamble and look for the next one.
            self.buf.drain(..1);
            self.noise += 1;
            return Some(Err(if len > MAX_LEN { FrameError::Oversized(len) } else { FrameError::Undersized(len) }));
        }
        if self.buf.len() < 7 + len {
            return None;
        }
        let whole: Vec<u8> = self.buf.drain(..7 + len).collect();
        let want = checksum(&whole[5..6 + len]);
        let got = whole[6 + len];
        if got != want {
            return Some(Err(FrameError::Checksum { got, want }));
        }
        Some(Ok(whole[7..6 + len].to_vec()))
    }
}

/// The SAM's status byte, SW3, with its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamStatus {
    Success,
    CardFound,
    ChecksumError,
    LengthError,
    CommandError,
    NotAuthorised,
    Unrecognised,
    CardAuthFailed,
    SamAuthFailed,
    VerificationError,
    UnknownCardType,
    CardReadFailed,
    RandomFailed,
    SelfTestFailed,
    SamNotAuthorised,
    NoCard,
    SelectFailed,
    NoContent,
    Other(u8),
}

impl SamStatus {
    pub fn from_sw3(b: u8) -> SamStatus {
        match b {
            0x90 => SamStatus::Success,
            0x9F => SamStatus::CardFound,
            0x10 => SamStatus::ChecksumError,
            0x11 => SamStatus::LengthError,
            0x21 => SamStatus::CommandError,
            0x23 => SamStatus::NotAuthorised,
            0x24 => SamStatus::Unrecognised,
            0x31 => SamStatus::CardAuthFailed,
            0x32 => SamStatus::SamAuthFailed,
            0x33 => SamStatus::VerificationError,
            0x40 => SamStatus::UnknownCardType,
            0x41 => SamStatus::CardReadFailed,
            0x47 => SamStatus::RandomFailed,
            0x60 => SamStatus::SelfTestFailed,
            0x66 => SamStatus::SamNotAuthorised,
            0x80 => SamStatus::NoCard,
            0x81 => SamStatus::SelectFailed,
            0x91 => SamStatus::NoContent,
            other => SamStatus::Other(other),
        }
    }

    pub fn sw3(self) -> u8 {
        match self {
            SamStatus::Success => 0x90,
            SamStatus::CardFound => 0x9F,
            SamStatus::ChecksumError => 0x10,
            SamStatus::LengthError => 0x11,
            SamStatus::CommandError => 0x21,
            SamStatus::NotAuthorised => 0x23,
            SamStatus::Unrecognised => 0x24,
            SamStatus::CardAuthFailed => 0x31,
            SamStatus::SamAuthFailed => 0x32,
            SamStatus::VerificationError => 0x33,
            SamStatus::UnknownCardType => 0x40,
            SamStatus::CardReadFailed => 0x41,
            SamStatus::RandomFailed => 0x47,
            SamStatus::SelfTestFailed => 0x60,
            SamStatus::SamNotAuthorised => 0x66,
            SamStatus::NoCard => 0x80,
            SamStatus::SelectFailed => 0x81,
            SamStatus::NoContent => 0x91,
            SamStatus::Other(b) => b,
        }
    }

    pub fn meaning(self) -> String {
        match self {
            SamStatus::Success => "success".into(),
            SamStatus::CardFound => "card found".into(),
            SamStatus::ChecksumError => "the SAM received a frame with a bad checksum".into(),
            SamStatus::LengthError => "the SAM received a frame with a bad length".into(),
            SamStatus::CommandError => "the SAM does not know the command".into(),
            SamStatus::NotAuthorised => "operation not authorised".into(),
            SamStatus::Unrecognised => "unrecognised error".into(),
            SamStatus::CardAuthFailed => "the card failed to authenticate the SAM".into(),
            SamStatus::SamAuthFailed => "the SAM failed to authenticate the card".into(),
            SamStatus::VerificationError => "information verification error".into(),
            SamStatus::UnknownCardType => "unrecognised card type".into(),
            SamStatus::CardReadFailed => "reading the card failed".into(),
            SamStatus::RandomFailed => "random-number generation failed".into(),
            SamStatus::SelfTestFailed => "the SAM failed its self-test and accepts no commands".into(),
            SamStatus::SamNotAuthorised => "the SAM is not authorised".into(),
            SamStatus::NoCard => "no card on the reader".into(),
            SamStatus::SelectFailed => "selecting the card failed".into(),
            SamStatus::NoContent => "no content for this item".into(),
            SamStatus::Other(b) => format!("unknown status {b:02X}"),
        }
    }

    pub fn is_ok(self) -> bool {
        matches!(self, SamStatus::Success | SamStatus::CardFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_match_the_reference_bytes() {
        let hex = |r| encode(r).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ");
        assert_eq!(hex(Request::ResetSam), "AA AA AA 96 69 00 03 10 FF EC");
        assert_eq!(hex(Request::SamStatus), "AA AA AA 96 69 00 03 11 FF ED");
        assert_eq!(hex(Request::SamId), "AA AA AA 96 69 00 03 12 FF EE");
        assert_eq!(hex(Request::FindCard), "AA AA AA 96 69 00 03 20 01 22");
        assert_eq!(hex(Request::SelectCard), "AA AA AA 96 69 00 03 20 02 21");
        assert_eq!(hex(Request::ReadText), "AA AA AA 96 69 00 03 30 01 32");
        assert_eq!(hex(Request::ReadTextWithFingerprint), "AA AA AA 96 69 00 03 30 10 23");
    }

    #[test]
    fn the_reference_find_reply_decodes() {
        let mut d = Decoder::default();
        d.feed(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x08, 0x00, 0x00, 0x9F, 0x00, 0x00, 0x00, 0x00, 0x97]);
        let f = d.next_frame().unwrap().unwrap();
        assert_eq!((f.sw3, f.data.len()), (0x9F, 4));
        assert_eq!(SamStatus::from_sw3(f.sw3), SamStatus::CardFound);
    }

    #[test]
    fn every_request_round_trips() {
        for r in [
            Request::ResetSam,
            Request::SamStatus,
            Request::SamId,
            Request::FindCard,
            Request::SelectCard,
            Request::ReadText,
            Request::ReadTextWithFingerprint,
            Request::ReadAddress,
            Request::SetBaud(3),
            Request::SetRfFrame(80),
        ] {
            let mut d = Decoder::default();
            d.feed(&encode(r));
            let body = d.next_body().unwrap().unwrap();
            assert_eq!(Request::from_parts(body[0], body[1], &body[2..]), Some(r));
        }
    }

    #[test]
    fn every_sw3_code_round_trips() {
        for b in 0..=255u8 {
            assert_eq!(SamStatus::from_sw3(b).sw3(), b);
        }
        assert_eq!(SamStatus::from_sw3(0x41).meaning(), "reading the card failed");
    }

    #[test]
    fn frames_split_at_every_byte_with_noise_between() {
        let reply = frame(&[0x00, 0x00, 0x90, 1, 2, 3, 4, 5, 6, 7, 8]);
        let mut stream = vec![0x13, 0xAA, 0x00, 0x96];
        stream.extend(&reply);
        stream.extend([0xAA, 0xAA, 0x55]);
        stream.extend(&reply);
        for split in 0..stream.len() {
            let mut d = Decoder::default();
            let mut got = Vec::new();
            d.feed(&stream[..split]);
            while let Some(f) = d.next_frame() {
                got.push(f);
            }
            d.feed(&stream[split..]);
            while let Some(f) = d.next_frame() {
                got.push(f);
            }
            assert_eq!(got.len(), 2, "split {split}: {got:?}");
            assert!(got.iter().all(|f| f.as_ref().is_ok_and(|f| f.data == [1, 2, 3, 4, 5, 6, 7, 8])));
        }
    }

    #[test]
    fn oversized_len_and_wrong_chk_are_errors_then_resync() {
        let mut d = Decoder::default();
        d.feed(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF]);
        d.feed(&frame(&[0, 0, 0x90]));
        assert_eq!(d.next_frame(), Some(Err(FrameError::Oversized(0xFFFF))));
        assert!(d.next_frame().unwrap().is_ok());
        let mut bad = frame(&[0, 0, 0x90, 1]);
        *bad.last_mut().unwrap() ^= 0xFF;
        d.feed(&bad);
        assert!(matches!(d.next_frame(), Some(Err(FrameError::Checksum { .. }))));
        assert_eq!(d.next_frame(), None);
    }
}
