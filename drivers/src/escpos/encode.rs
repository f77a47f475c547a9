//! Documents to ESC/POS bytes for Chinese thermal printers: GB18030 text in Chinese mode, native or raster QR, cut. Pure.

use super::document::{Align, Block, Document, Size};
use super::raster::GlyphRasterizer;

/// What one printer model can do (per-model profile from the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Printable width in dots: 384 for 58 mm, 576 for 80 mm (8 dots/mm).
    pub width_dots: u32,
    /// Native `GS ( k` QR codes; otherwise the QR is sent as a raster image.
    pub native_qr: bool,
    /// The printer has a two-byte Chinese font; otherwise every line is drawn as a raster image.
    pub chinese_font: bool,
    pub cutter: bool,
    /// Dots left blank at each side (`GS L`, `GS W`): a thermal head's outermost dots print faintly or not at
    /// all on many models, and a guide's □ boxes and first characters sat on them.
    pub margin_dots: u32,
}

impl Profile {
    /// The margin the built-in profiles keep: 2 mm each side.
    pub const MARGIN_DOTS: u32 = 16;

    /// The width text and images are laid out in: the paper's, less the margins.
    pub fn print_width(&self) -> u32 {
        self.width_dots.saturating_sub(2 * self.margin_dots)
    }
}

impl Profile {
    /// The built-in profiles, by the `model` name in the configuration.
    pub fn named(model: &str, paper_width_mm: u32) -> Option<Profile> {
        let width_dots = if paper_width_mm == 58 { 384 } else { 576 };
        match model {
            "generic-80" | "generic-58" => Some(Profile {
                width_dots,
                native_qr: true,
                chinese_font: true,
                cutter: true,
                margin_dots: Self::MARGIN_DOTS,
            }),
            "raster-qr" => Some(Profile {
                width_dots,
                native_qr: false,
                chinese_font: true,
                cutter: true,
                margin_dots: Self::MARGIN_DOTS,
            }),
            // Models without a Chinese font (or that garble it): every line and the QR as images.
            "raster-only" => Some(Profile {
                width_dots,
                native_qr: false,
                chinese_font: false,
                cutter: true,
                margin_dots: Self::MARGIN_DOTS,
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error(
        "The text \"{text}\" has the character '{ch}' (U+{code:04X}), which two-byte Chinese printer fonts lack; this printer model cannot print it yet."
    )]
    OutsideTwoByteFont { text: String, ch: char, code: u32 },
    #[error("The QR payload is too long for a QR code ({0} bytes).")]
    QrTooLong(usize),
    #[error(
        "This printer model has no Chinese font and no CJK font is installed to draw the text; install fonts-noto-cjk."
    )]
    NoChineseFont,
}

pub const ESC: u8 = 0x1B;
pub const GS: u8 = 0x1D;
pub const FS: u8 = 0x1C;

/// Encodes text as two-byte GB18030 (GBK range), refusing anything that would need four bytes.
pub fn gb18030(text: &str) -> Result<Vec<u8>, EncodeError> {
    // U+00A5 ¥ becomes a four-byte sequence printers show as junk; the full-width ￥ is A3 A4.
    let text = text.replace('\u{a5}', "\u{ffe5}");
    let mut out = Vec::with_capacity(text.len());
    for ch in text.chars() {
        let mut buf = [0u8; 4];
        let s = ch.encode_utf8(&mut buf);
        let (bytes, _, _) = encoding_rs::GB18030.encode(s);
        if bytes.len() > 2 {
            return Err(EncodeError::OutsideTwoByteFont { text: text.clone(), ch, code: ch as u32 });
        }
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

fn align_byte(a: Align) -> u8 {
    match a {
        Align::Left => 0,
        Align::Center => 1,
        Align::Right => 2,
    }
}

/// `GS !` value: width multiplier − 1 in the high nibble, height − 1 in the low nibble.
pub fn size_byte(s: Size) -> u8 {
    let m = s.scale() - 1;
    (m << 4) | m
}

/// `FS !` value for Chinese characters: 0x04 double width, 0x08 double height.
fn chinese_size_byte(s: Size) -> u8 {
    if s == Size::Normal { 0x00 } else { 0x0C }
}

pub fn encode(doc: &Document, profile: &Profile) -> Result<Vec<u8>, EncodeError> {
    encode_with(doc, profile, None)
}

/// Like [`encode`]; a line with a character outside the two-byte font (a rare name character,
/// CJK extension B) is sent as a raster image drawn by `raster` instead of being refused.
pub fn encode_with(
    doc: &Document,
    profile: &Profile,
    raster: Option<&GlyphRasterizer>,
) -> Result<Vec<u8>, EncodeError> {
    if !profile.chinese_font && raster.is_none() {
        return Err(EncodeError::NoChineseFont);
    }
    let mut out = vec![ESC, b'@', FS, b'&'];
    // The print area: `GS L` left margin, `GS W` its width (both in dots, little-endian).
    let (left, area) =
        (profile.margin_dots.min(u32::from(u16::MAX)) as u16, profile.print_width().min(u32::from(u16::MAX)) as u16);
    out.extend_from_slice(&[GS, b'L', (left & 0xFF) as u8, (left >> 8) as u8]);
    out.extend_from_slice(&[GS, b'W', (area & 0xFF) as u8, (area >> 8) as u8]);
    for block in &doc.blocks {
        match block {
            Block::Text { text, align, size, bold } => {
                // Whatever the text's source, it cannot carry a command to the printer: the stream holds
                // only the commands chosen here (crate::text says what is left out).
                let text = &*crate::text::printable(text);
                // Raster-only models draw every line; others only lines their font lacks.
                let font_text = if profile.chinese_font { gb18030(text) } else { Err(EncodeError::NoChineseFont) };
                let encoded = match (font_text, raster) {
                    (Ok(bytes), _) => bytes,
                    (Err(EncodeError::NoChineseFont), Some(r)) => {
                        push_raster(&mut out, &r.line(text, *size, *align, profile.print_width()));
                        continue;
                    }
                    (Err(EncodeError::OutsideTwoByteFont { .. }), Some(r)) => {
                        push_raster(&mut out, &r.line(text, *size, *align, profile.print_width()));
                        continue;
                    }
                    (Err(e), _) => return Err(e),
                };
                out.extend_from_slice(&[ESC, b'a', align_byte(*align)]);
                out.extend_from_slice(&[ESC, b'E', u8::from(*bold)]);
                out.extend_from_slice(&[FS, b'!', chinese_size_byte(*size)]);
                out.extend_from_slice(&[GS, b'!', size_byte(*size)]);
                out.extend_from_slice(&encoded);
                out.push(b'\n');
                out.extend_from_slice(&[GS, b'!', 0, FS, b'!', 0, ESC, b'E', 0]);
            }
            Block::Qr { data, align } => {
                out.extend_from_slice(&[ESC, b'a', align_byte(*align)]);
                if profile.native_qr {
                    native_qr(&mut out, data)?;
                } else {
                    raster_qr(&mut out, data, profile.print_width())?;
                }
            }
            Block::Feed(n) => out.extend_from_slice(&[ESC, b'd', *n]),
            Block::Cut => {
                if profile.cutter {
                    // Feed to the cutter, then a partial cut.
                    out.extend_from_slice(&[GS, b'V', 66, 0]);
                }
            }
        }
    }
    Ok(out)
}

/// A full-width `GS v 0` image (alignment is already inside the image).
fn push_raster(out: &mut Vec<u8>, line: &super::raster::RasterLine) {
    out.extend_from_slice(&[ESC, b'a', 0, GS, b'v', b'0', 0]);
    out.extend_from_slice(&line.width_bytes.to_le_bytes());
    out.extend_from_slice(&line.height.to_le_bytes());
    out.extend_from_slice(&line.bits);
}

/// `GS ( k`: model 2, module size 6, error correction M, store, print.
fn native_qr(out: &mut Vec<u8>, data: &str) -> Result<(), EncodeError> {
    let bytes = data.as_bytes();
    let len = bytes.len() + 3;
    if len > 7089 {
        return Err(EncodeError::QrTooLong(bytes.len()));
    }
    out.extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, 6]);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, 49]);
    out.extend_from_slice(&[GS, b'(', b'k', (len & 0xFF) as u8, (len >> 8) as u8, 49, 80, 48]);
    out.extend_from_slice(bytes);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
    Ok(())
}

/// The QR as a `GS v 0` raster image, for models that print native QR commands as text.
fn raster_qr(out: &mut Vec<u8>, data: &str, width_dots: u32) -> Result<(), EncodeError> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| EncodeError::QrTooLong(data.len()))?;
    let modules = code.width() as u32;
    let quiet = 4;
    let scale = (width_dots / 2 / (modules + 2 * quiet)).max(1);
    let side = (modules + 2 * quiet) * scale;
    let colors = code.to_colors();
    let row_bytes = side.div_ceil(8);
    out.extend_from_slice(&[GS, b'v', b'0', 0]);
    out.extend_from_slice(&[(row_bytes & 0xFF) as u8, (row_bytes >> 8) as u8, (side & 0xFF) as u8, (side >> 8) as u8]);
    for y in 0..side {
        let mut row = vec![0u8; row_bytes as usize];
        for x in 0..side {
            let (mx, my) = ((x / scale) as i64 - quiet as i64, (y / scale) as i64 - quiet as i64);
            let dark = mx >= 0
                && my >= 0
                && (mx as u32) < modules
                && (my as u32) < modules
                && colors[(my as u32 * modules + mx as u32) as usize] == qrcode::Color::Dark;
            if dark {
                row[(x / 8) as usize] |= 0x80 >> (x % 8);
            }
        }
        out.extend_from_slice(&row);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_is_two_byte_gb18030() {
        assert_eq!(gb18030("取号").unwrap(), vec![0xC8, 0xA1, 0xBA, 0xC5]);
        assert_eq!(gb18030("¥5").unwrap(), vec![0xA3, 0xA4, b'5']);
        let err = gb18030("王\u{20000}").unwrap_err();
        assert!(matches!(err, EncodeError::OutsideTwoByteFont { code: 0x20000, .. }));
    }

    #[test]
    fn a_line_outside_the_two_byte_font_becomes_a_raster_image() {
        let doc = Document {
            blocks: vec![Block::Text { text: "龚㐀".into(), align: Align::Center, size: Size::Normal, bold: false }],
        };
        let profile = Profile::named("generic-80", 80).unwrap();
        assert!(matches!(encode(&doc, &profile), Err(EncodeError::OutsideTwoByteFont { code: 0x3400, .. })));
        let r = GlyphRasterizer::find().expect("a CJK font is installed (scripts/test installs fonts-wqy-microhei)");
        let bytes = encode_with(&doc, &profile, Some(&r)).unwrap();
        let at = bytes.windows(4).position(|w| w == [GS, b'v', b'0', 0]).expect("GS v 0");
        let (wb, h) =
            (u16::from_le_bytes([bytes[at + 4], bytes[at + 5]]), u16::from_le_bytes([bytes[at + 6], bytes[at + 7]]));
        assert_eq!(wb, 68, "the print area: 576 dots less a 16-dot margin each side");
        assert_eq!(h, 28);
        let image = &bytes[at + 8..at + 8 + usize::from(wb) * usize::from(h)];
        assert!(image.iter().any(|&b| b != 0), "龚 is drawn");
    }

    /// Issue #30 item 7: printed slips had no margin (a guide's □ boxes and first characters sat on the head's
    /// outermost dots). Every document now sets its print area first: `GS L` 16 dots, `GS W` the rest.
    #[test]
    fn every_document_sets_a_margin_and_its_print_area_first() {
        use crate::escpos::decode::{Command, Decoder};
        let doc = Document {
            blocks: vec![Block::Text {
                text: "□ 身份证".into(), align: Align::Left, size: Size::Normal, bold: false
            }],
        };
        for (mm, area) in [(80, 544), (58, 352)] {
            let bytes = encode(&doc, &Profile::named("generic-80", mm).unwrap()).unwrap();
            let mut decoder = Decoder::default();
            decoder.feed(&bytes);
            let cmds: Vec<Command> = std::iter::from_fn(|| decoder.next_command()).collect();
            assert_eq!(cmds[2..4], [Command::LeftMargin(16), Command::PrintWidth(area)], "{mm} mm: {cmds:?}");
        }
    }

    /// Text carrying printer commands (ESC @ to start a second job, the drawer kick ESC p, a cut GS V) is
    /// printed as text without them: decoded back, the stream holds one job and only the encoder's commands.
    #[test]
    fn text_cannot_carry_a_printer_command() {
        use crate::escpos::decode::{Command, Decoder};
        let hostile = "免费\u{1b}@\u{1b}p\u{0}\u{19}\u{fa}\u{1d}V\u{41}\u{0}\n\u{202e}收费";
        let doc = Document {
            blocks: vec![
                Block::Text { text: hostile.into(), align: Align::Left, size: Size::Normal, bold: false },
                Block::Cut,
            ],
        };
        let bytes = encode(&doc, &Profile::named("generic-80", 80).unwrap()).unwrap();
        let mut decoder = Decoder::default();
        decoder.feed(&bytes);
        let commands: Vec<Command> = std::iter::from_fn(|| decoder.next_command()).collect();
        assert_eq!(commands.iter().filter(|c| **c == Command::Init).count(), 1, "one job: {commands:?}");
        assert_eq!(commands.iter().filter(|c| **c == Command::Cut).count(), 1, "one cut: {commands:?}");
        assert!(
            !commands.iter().any(|c| matches!(c, Command::Unknown(_))),
            "no command the encoder did not choose: {commands:?}"
        );
        assert!(commands.contains(&Command::Line("免费@p\u{fa}VA 收费".into())), "{commands:?}");
        assert_eq!(decoder.pending(), 0);
    }

    #[test]
    fn a_ticket_starts_in_chinese_mode_and_ends_with_a_cut() {
        let doc = Document {
            blocks: vec![
                Block::Text { text: "A023".into(), align: Align::Center, size: Size::Quad, bold: true },
                Block::Cut,
            ],
        };
        let bytes = encode(&doc, &Profile::named("generic-80", 80).unwrap()).unwrap();
        assert_eq!(&bytes[..4], &[ESC, b'@', FS, b'&']);
        assert!(bytes.windows(3).any(|w| w == [GS, b'!', 0x33]));
        assert_eq!(&bytes[bytes.len() - 4..], &[GS, b'V', 66, 0]);
    }
}

#[cfg(test)]
mod profile_tests {
    use super::*;

    #[test]
    fn a_raster_only_model_prints_no_text_bytes() {
        let doc = Document {
            blocks: vec![
                Block::Text { text: "综合业务 A001".into(), align: Align::Center, size: Size::Double, bold: false },
                Block::Qr { data: "x".into(), align: Align::Center },
            ],
        };
        let profile = Profile::named("raster-only", 58).unwrap();
        assert_eq!(encode(&doc, &profile), Err(EncodeError::NoChineseFont));
        let r = GlyphRasterizer::find().expect("a CJK font is installed (scripts/test installs fonts-wqy-microhei)");
        let bytes = encode_with(&doc, &profile, Some(&r)).unwrap();
        assert!(!bytes.windows(2).any(|w| w == [FS, b'!']), "no Chinese-mode text commands");
        assert_eq!(bytes.windows(4).filter(|w| *w == [GS, b'v', b'0', 0]).count(), 2, "the line and the QR as images");
        assert!(!bytes.windows(3).any(|w| w == [GS, b'(', b'k']), "no native QR");
    }
}
