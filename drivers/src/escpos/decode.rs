//! ESC/POS bytes back to commands: the virtual printer's side of exactly the commands the encoder sends. Pure.

use super::document::{Align, Size};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Init,
    ChineseMode(bool),
    Align(Align),
    Bold(bool),
    /// `GS !` size (width and height multipliers).
    Size {
        width: u8,
        height: u8,
    },
    /// `FS !` Chinese print mode byte.
    ChineseSize(u8),
    /// A line of text (decoded from GB18030) ended by LF.
    Line(String),
    /// Stored QR payload printed (`GS ( k` fn 80 then fn 81).
    Qr(String),
    /// `GS v 0` raster: width in bytes, height in dots, bits MSB first.
    Raster {
        width_bytes: u16,
        height: u16,
        bits: Vec<u8>,
    },
    Feed(u8),
    Cut,
    /// `GS L`: the left margin, in dots.
    LeftMargin(u16),
    /// `GS W`: the print area's width, in dots.
    PrintWidth(u16),
    /// `DLE EOT n`: the host asks for status; the printer answers at once.
    StatusRequest(u8),
    /// A byte sequence this decoder does not know (kept so nothing is silently lost).
    Unknown(Vec<u8>),
}

/// Streaming decoder: feed bytes, take commands; bytes of an unfinished command wait for more.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    text: Vec<u8>,
    qr_store: Option<String>,
}

/// Limits that keep a hostile stream from growing buffers without bound.
const MAX_TEXT_LINE: usize = 4096;
const MAX_RASTER: usize = 1 << 20;

impl Decoder {
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet decoded.
    pub fn pending(&self) -> usize {
        self.buf.len() + self.text.len()
    }

    /// The next complete command, or None until more bytes arrive.
    pub fn next_command(&mut self) -> Option<Command> {
        loop {
            let (cmd, used) = match self.parse() {
                Parsed::Incomplete => return None,
                Parsed::Text(n) => {
                    let byte = self.buf[0];
                    self.buf.drain(..n);
                    if byte == b'\n' {
                        let line = std::mem::take(&mut self.text);
                        let (s, _, _) = encoding_rs::GB18030.decode(&line);
                        return Some(Command::Line(s.into_owned()));
                    }
                    self.text.push(byte);
                    if self.text.len() > MAX_TEXT_LINE {
                        let line = std::mem::take(&mut self.text);
                        let (s, _, _) = encoding_rs::GB18030.decode(&line);
                        return Some(Command::Line(s.into_owned()));
                    }
                    continue;
                }
                Parsed::Cmd(cmd, used) => (cmd, used),
                Parsed::Skip(used) => {
                    self.buf.drain(..used);
                    continue;
                }
            };
            self.buf.drain(..used);
            return Some(cmd);
        }
    }

    fn parse(&mut self) -> Parsed {
        let b = &self.buf;
        let Some(&first) = b.first() else { return Parsed::Incomplete };
        let need = |n: usize| b.len() >= n;
        match first {
            0x1B => {
                if !need(2) {
                    return Parsed::Incomplete;
                }
                match b[1] {
                    b'@' => Parsed::Cmd(Command::Init, 2),
                    b'a' | b'E' | b'd' if !need(3) => Parsed::Incomplete,
                    b'a' => Parsed::Cmd(
                        Command::Align(match b[2] {
                            1 | b'1' => Align::Center,
                            2 | b'2' => Align::Right,
                            _ => Align::Left,
                        }),
                        3,
                    ),
                    b'E' => Parsed::Cmd(Command::Bold(b[2] & 1 == 1), 3),
                    b'd' => Parsed::Cmd(Command::Feed(b[2]), 3),
                    _ => Parsed::Cmd(Command::Unknown(b[..2].to_vec()), 2),
                }
            }
            0x1C => {
                if !need(2) {
                    return Parsed::Incomplete;
                }
                match b[1] {
                    b'&' => Parsed::Cmd(Command::ChineseMode(true), 2),
                    b'.' => Parsed::Cmd(Command::ChineseMode(false), 2),
                    b'!' if !need(3) => Parsed::Incomplete,
                    b'!' => Parsed::Cmd(Command::ChineseSize(b[2]), 3),
                    _ => Parsed::Cmd(Command::Unknown(b[..2].to_vec()), 2),
                }
            }
            0x1D => {
                if !need(2) {
                    return Parsed::Incomplete;
                }
                match b[1] {
                    b'!' if !need(3) => Parsed::Incomplete,
                    b'!' => Parsed::Cmd(Command::Size { width: (b[2] >> 4) + 1, height: (b[2] & 0x0F) + 1 }, 3),
                    b'L' | b'W' if !need(4) => Parsed::Incomplete,
                    b'L' => Parsed::Cmd(Command::LeftMargin(u16::from(b[2]) | (u16::from(b[3]) << 8)), 4),
                    b'W' => Parsed::Cmd(Command::PrintWidth(u16::from(b[2]) | (u16::from(b[3]) << 8)), 4),
                    b'V' => {
                        if !need(3) {
                            return Parsed::Incomplete;
                        }
                        // GS V m (m = 0/1/48/49) or GS V m n (m = 65/66).
                        if matches!(b[2], 65 | 66) {
                            if !need(4) { Parsed::Incomplete } else { Parsed::Cmd(Command::Cut, 4) }
                        } else {
                            Parsed::Cmd(Command::Cut, 3)
                        }
                    }
                    b'(' => {
                        if !need(5) {
                            return Parsed::Incomplete;
                        }
                        let len = usize::from(b[3]) | (usize::from(b[4]) << 8);
                        if !need(5 + len) {
                            return Parsed::Incomplete;
                        }
                        let body = &b[5..5 + len];
                        let cmd = match (b[2], body) {
                            (b'k', [49, 80, 48, data @ ..]) => {
                                self.qr_store = Some(String::from_utf8_lossy(data).into_owned());
                                None
                            }
                            (b'k', [49, 81, 48]) => Some(Command::Qr(self.qr_store.clone().unwrap_or_default())),
                            (b'k', [49, 65 | 67 | 69, ..]) => None,
                            _ => Some(Command::Unknown(b[..5 + len].to_vec())),
                        };
                        match cmd {
                            Some(c) => Parsed::Cmd(c, 5 + len),
                            None => Parsed::Skip(5 + len),
                        }
                    }
                    b'v' => {
                        if !need(8) {
                            return Parsed::Incomplete;
                        }
                        let wb = u16::from(b[4]) | (u16::from(b[5]) << 8);
                        let h = u16::from(b[6]) | (u16::from(b[7]) << 8);
                        let size = usize::from(wb) * usize::from(h);
                        if size > MAX_RASTER {
                            return Parsed::Cmd(Command::Unknown(b[..8].to_vec()), 8);
                        }
                        if !need(8 + size) {
                            return Parsed::Incomplete;
                        }
                        Parsed::Cmd(
                            Command::Raster { width_bytes: wb, height: h, bits: b[8..8 + size].to_vec() },
                            8 + size,
                        )
                    }
                    _ => Parsed::Cmd(Command::Unknown(b[..2].to_vec()), 2),
                }
            }
            0x10 => {
                if !need(3) {
                    return Parsed::Incomplete;
                }
                if b[1] == 0x04 {
                    Parsed::Cmd(Command::StatusRequest(b[2]), 3)
                } else {
                    Parsed::Cmd(Command::Unknown(b[..2].to_vec()), 2)
                }
            }
            b'\r' => Parsed::Skip(1),
            _ => Parsed::Text(1),
        }
    }
}

enum Parsed {
    Incomplete,
    Text(usize),
    Cmd(Command, usize),
    Skip(usize),
}

/// Size from a `GS !` command as the document's size class.
pub fn size_class(width: u8) -> Size {
    match width {
        1 => Size::Normal,
        2 | 3 => Size::Double,
        _ => Size::Quad,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Block, Document, Profile, encode};
    use super::*;

    #[test]
    fn decodes_what_the_encoder_sends_split_at_every_byte() {
        let doc = Document {
            blocks: vec![
                Block::Text {
                    text: "临沭县 综合业务".into(), align: Align::Center, size: Size::Double, bold: true
                },
                Block::Qr { data: "https://example.invalid/t/1".into(), align: Align::Center },
                Block::Cut,
            ],
        };
        let bytes = encode(&doc, &Profile::named("generic-80", 80).unwrap()).unwrap();
        for split in 0..bytes.len() {
            let mut d = Decoder::default();
            let mut cmds = Vec::new();
            d.feed(&bytes[..split]);
            while let Some(c) = d.next_command() {
                cmds.push(c);
            }
            d.feed(&bytes[split..]);
            while let Some(c) = d.next_command() {
                cmds.push(c);
            }
            assert!(cmds.contains(&Command::Line("临沭县 综合业务".into())), "split {split}: {cmds:?}");
            assert!(cmds.contains(&Command::Qr("https://example.invalid/t/1".into())));
            assert_eq!(cmds.last(), Some(&Command::Cut));
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u32 = 12345;
        let mut d = Decoder::default();
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            d.feed(&[(x & 0xFF) as u8]);
            while d.next_command().is_some() {}
        }
    }
}
