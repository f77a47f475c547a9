//! Renders a licence template with a document's fields to a PDF/A-2b file (krilla), CJK font embedded and subset.

use super::template::{Align, Item, PAGE_HEIGHT_MM, PAGE_WIDTH_MM, Template, fill, parse_color};
use ab_glyph::{Font as _, ScaleFont as _};
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How the kiosk's own font (assets/fonts, built into the binary) is named where a font path is expected:
/// licences use it unless `[licence] font` names another.
pub const BUILT_IN_FONT: &str = "assets/fonts/wqy-microhei.ttc (built in)";

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("The font {path} cannot be used ({what}). Set [licence] font to a TrueType or OpenType CJK font.", path = .path.display())]
    BadFont { path: PathBuf, what: String },
    #[error(
        "The font {font} has no glyph for \"{ch}\" (U+{code:04X}) in {place}. Install a font that covers it (fonts-noto-cjk covers rare name characters) and set [licence] font; nothing was printed.",
        code = *.ch as u32
    )]
    MissingGlyph { font: String, ch: char, place: String },
    #[error("The document does not fit its template: {0}")]
    Data(String),
    #[error("The PDF could not be written ({0}).")]
    Pdf(String),
}

/// A loaded CJK font: bytes shared by the measurer (ab_glyph) and the PDF writer (krilla).
#[derive(Clone)]
pub struct PdfFont {
    data: drivers::escpos::raster::FontData,
    index: u32,
    pub path: PathBuf,
    pdf: Font,
}

impl std::fmt::Debug for PdfFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PdfFont({}#{})", self.path.display(), self.index)
    }
}

impl PdfFont {
    pub fn load(path: &Path, index: u32) -> Result<PdfFont, RenderError> {
        let bad = |what: String| RenderError::BadFont { path: path.to_path_buf(), what };
        let data: drivers::escpos::raster::FontData = if path == Path::new(BUILT_IN_FONT) {
            devices::fonts::kiosk_font()
        } else {
            drivers::escpos::raster::shared_font(path).map_err(|e| bad(format!("cannot read it: {e}")))?
        };
        ab_glyph::FontRef::try_from_slice_and_index((*data).as_ref(), index).map_err(|e| bad(e.to_string()))?;
        let pdf = Font::new(data.clone().into(), index).ok_or_else(|| bad("krilla cannot read it".into()))?;
        Ok(PdfFont { data, index, path: path.to_path_buf(), pdf })
    }

    /// Which font file (and face) would be used: the configured one, or the kiosk's own.
    pub fn locate(configured: Option<&Path>, index: Option<u32>) -> Result<(PathBuf, u32), RenderError> {
        Ok(match configured {
            Some(p) => (p.to_path_buf(), index.unwrap_or(0)),
            None => (PathBuf::from(BUILT_IN_FONT), index.unwrap_or(devices::fonts::KIOSK_FONT_FACE)),
        })
    }

    /// The configured font, or the kiosk's own.
    pub fn find(configured: Option<&Path>, index: Option<u32>) -> Result<PdfFont, RenderError> {
        let (path, index) = Self::locate(configured, index)?;
        PdfFont::load(&path, index)
    }

    fn face(&self) -> ab_glyph::FontRef<'_> {
        // Checked in `load`, so this cannot fail; fall back to face 0 to stay panic-free regardless.
        ab_glyph::FontRef::try_from_slice_and_index((*self.data).as_ref(), self.index)
            .or_else(|_| ab_glyph::FontRef::try_from_slice((*self.data).as_ref()))
            .expect("font parsed at load time")
    }

    /// The first character of `text` the font cannot draw.
    pub fn missing(&self, text: &str) -> Option<char> {
        let face = self.face();
        text.chars().find(|c| !c.is_whitespace() && !c.is_control() && face.glyph_id(*c).0 == 0)
    }

    fn advance(face: &ab_glyph::FontRef<'_>, c: char, size_pt: f32) -> f32 {
        let upem = face.units_per_em().unwrap_or(1000.0);
        face.h_advance_unscaled(face.glyph_id(c)) * size_pt / upem
    }

    /// Width of one line in points.
    pub fn width(&self, text: &str, size_pt: f32) -> f32 {
        let face = self.face();
        text.chars().map(|c| Self::advance(&face, c, size_pt)).sum()
    }

    /// Breaks `text` into lines no wider than `width_pt`. Chinese breaks between any two
    /// characters; closing punctuation never starts a line (it hangs at the end instead).
    pub fn wrap(&self, text: &str, size_pt: f32, width_pt: f32) -> Vec<String> {
        const NO_LINE_START: &str = "，。、；：？！）」』》〉】”’,.;:?!)%";
        let face = self.face();
        let mut lines = vec![];
        for para in text.split('\n') {
            let mut line = String::new();
            let mut w = 0.0;
            for c in para.chars() {
                let a = Self::advance(&face, c, size_pt);
                if w + a > width_pt && !line.is_empty() && !NO_LINE_START.contains(c) {
                    lines.push(std::mem::take(&mut line));
                    w = 0.0;
                }
                line.push(c);
                w += a;
            }
            lines.push(line);
        }
        lines
    }
}

const PT_PER_MM: f32 = 72.0 / 25.4;

fn pt(mm: f32) -> f32 {
    mm * PT_PER_MM
}

/// The fields of one document as the template sees them: its data plus the special fields.
#[derive(Debug, Clone)]
pub struct RenderInput<'a> {
    pub document_id: &'a str,
    pub data: &'a BTreeMap<String, String>,
    pub verify_url: &'a str,
    pub kiosk_id: &'a str,
    /// Local time of printing: shown as "YYYY-MM-DD HH:MM" and the PDF's creation date.
    pub printed_at: &'a jiff::ZonedDateTime,
}

fn pdf_date(z: &jiff::ZonedDateTime) -> krilla::metadata::DateTime {
    let offset_s = z.offset().seconds();
    krilla::metadata::DateTime::new(z.year().clamp(0, 9999) as u16)
        .month(z.month() as u8)
        .day(z.day() as u8)
        .hour(z.hour() as u8)
        .minute(z.minute() as u8)
        .second(z.second() as u8)
        .utc_offset_hour((offset_s / 3600) as i8)
        .utc_offset_minute((offset_s.abs() % 3600 / 60) as u8)
}

/// What a page is made of, in points from its top-left corner: laid out once, painted by the PDF writer
/// and by the preview.
#[derive(Debug, Clone, PartialEq)]
enum Mark {
    /// One line of text; `y` is its baseline.
    Line {
        text: String,
        x: f32,
        y: f32,
        size: f32,
        color: (u8, u8, u8),
    },
    /// A QR code: `n` × `n` modules from (x, y).
    Qr {
        x: f32,
        y: f32,
        module: f32,
        n: usize,
        dark: Vec<bool>,
    },
    Seal {
        x: f32,
        y: f32,
        size: f32,
    },
    Frame {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        line: f32,
        color: (u8, u8, u8),
    },
}

fn rgb_of(c: Option<&str>) -> (u8, u8, u8) {
    c.and_then(parse_color).unwrap_or((0, 0, 0))
}

/// Lays a document out on its template: every line placed and wrapped, every QR encoded; refuses a
/// missing field, a glyph the font lacks and text that does not fit.
fn layout(template: &Template, input: &RenderInput<'_>, font: &PdfFont) -> Result<Vec<Mark>, RenderError> {
    let missing = template.missing_fields(input.data);
    if !missing.is_empty() {
        return Err(RenderError::Data(format!(
            "document {} ({}) lacks {}",
            input.document_id,
            template.doc_type,
            missing.join(", ")
        )));
    }
    let mut fields = input.data.clone();
    fields.insert("document_id".into(), input.document_id.into());
    fields.insert("verify_url".into(), input.verify_url.into());
    fields.insert("kiosk_id".into(), input.kiosk_id.into());
    fields.insert("printed_at".into(), input.printed_at.strftime("%Y-%m-%d %H:%M").to_string());
    let font_name = font.path.display().to_string();
    let mut marks = vec![];
    for (i, item) in template.items.iter().enumerate() {
        let place = |what: &str| format!("item {} ({what}) of template {}", i + 1, template.doc_type);
        let text_of = |t: &str, what: &str| -> Result<String, RenderError> {
            let s = fill(t, &fields).map_err(|e| RenderError::Data(format!("{}: {e}", place(what))))?;
            if let Some(ch) = font.missing(&s) {
                return Err(RenderError::MissingGlyph { font: font_name.clone(), ch, place: place(what) });
            }
            Ok(s)
        };
        let line = |text: &str, x: f32, y: f32, size: f32, color| Mark::Line { text: text.into(), x, y, size, color };
        match item {
            Item::Text { text, x_mm, y_mm, size_pt, align, color: c } => {
                let s = text_of(text, "text")?;
                let w = font.width(&s, *size_pt);
                let x = match align {
                    Align::Left => pt(*x_mm),
                    Align::Center => pt(*x_mm) - w / 2.0,
                    Align::Right => pt(*x_mm) - w,
                };
                marks.push(line(&s, x, pt(*y_mm), *size_pt, rgb_of(c.as_deref())));
            }
            Item::Paragraph { text, x_mm, y_mm, width_mm, size_pt, line_height, max_lines, color: c } => {
                let s = text_of(text, "paragraph")?;
                let lines = font.wrap(&s, *size_pt, pt(*width_mm));
                if lines.len() > *max_lines as usize {
                    return Err(RenderError::Data(format!(
                        "{}: the text needs {} lines and the template allows {max_lines}",
                        place("paragraph"),
                        lines.len()
                    )));
                }
                for (n, l) in lines.iter().enumerate() {
                    let y = pt(*y_mm) + n as f32 * size_pt * line_height;
                    marks.push(line(l, pt(*x_mm), y, *size_pt, rgb_of(c.as_deref())));
                }
            }
            Item::Row { label, text, x_mm, y_mm, label_width_mm, width_mm, size_pt, max_lines } => {
                let l = text_of(label, "row label")?;
                let s = text_of(text, "row")?;
                marks.push(line(&l, pt(*x_mm), pt(*y_mm), *size_pt, (0, 0, 0)));
                let lines = font.wrap(&s, *size_pt, pt(width_mm - label_width_mm));
                if lines.len() > *max_lines as usize {
                    return Err(RenderError::Data(format!(
                        "{}: \"{l}\" needs {} lines and the template allows {max_lines}",
                        place("row"),
                        lines.len()
                    )));
                }
                for (n, v) in lines.iter().enumerate() {
                    let y = pt(*y_mm) + n as f32 * size_pt * 1.5;
                    marks.push(line(v, pt(x_mm + label_width_mm), y, *size_pt, (0, 0, 0)));
                }
            }
            Item::Qr { content, x_mm, y_mm, size_mm } => {
                let s = fill(content, &fields).map_err(|e| RenderError::Data(format!("{}: {e}", place("qr"))))?;
                let code = qrcode::QrCode::with_error_correction_level(s.as_bytes(), qrcode::EcLevel::M)
                    .map_err(|e| RenderError::Data(format!("{}: {e}", place("qr"))))?;
                let n = code.width();
                // A quiet zone of 2 modules inside the square keeps scanners happy next to other ink.
                let module = pt(*size_mm) / (n as f32 + 4.0);
                let dark = code.to_colors().iter().map(|c| *c == qrcode::Color::Dark).collect();
                marks.push(Mark::Qr { x: pt(*x_mm) + 2.0 * module, y: pt(*y_mm) + 2.0 * module, module, n, dark });
            }
            Item::Seal { x_mm, y_mm, size_mm } => {
                if template.seal.is_some() {
                    marks.push(Mark::Seal { x: pt(*x_mm), y: pt(*y_mm), size: pt(*size_mm) });
                }
            }
            Item::Frame { x_mm, y_mm, width_mm, height_mm, line_pt, color: c } => marks.push(Mark::Frame {
                x: pt(*x_mm),
                y: pt(*y_mm),
                w: pt(*width_mm),
                h: pt(*height_mm),
                line: *line_pt,
                color: rgb_of(c.as_deref()),
            }),
        }
    }
    Ok(marks)
}

/// A small picture of a document's first page, for the copies screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub width: u32,
    pub height: u32,
    /// RGBA, row by row.
    pub rgba: Vec<u8>,
}

/// Draws the page as the printer will print it, `width_px` wide (the same layout as the PDF).
pub fn preview(
    template: &Template,
    input: &RenderInput<'_>,
    font: &PdfFont,
    width_px: u32,
) -> Result<Preview, RenderError> {
    let marks = layout(template, input, font)?;
    let scale = width_px as f32 / pt(PAGE_WIDTH_MM);
    let (w, h) = (width_px, (pt(PAGE_HEIGHT_MM) * scale).round() as u32);
    let mut rgba = vec![255u8; (w * h * 4) as usize];
    let mut paint = |x: i64, y: i64, (r, g, b): (u8, u8, u8), alpha: f32| {
        if x < 0 || y < 0 || x >= i64::from(w) || y >= i64::from(h) {
            return;
        }
        let at = ((y as u32 * w + x as u32) * 4) as usize;
        let a = alpha.clamp(0.0, 1.0);
        for (i, c) in [r, g, b].into_iter().enumerate() {
            rgba[at + i] = (f32::from(c) * a + f32::from(rgba[at + i]) * (1.0 - a)).round() as u8;
        }
    };
    let face = font.face();
    let seal = template.seal.as_deref().and_then(decode_png);
    for mark in &marks {
        match mark {
            Mark::Line { text, x, y, size, color } => {
                let sf = face.as_scaled(ab_glyph::PxScale::from(size * scale));
                let mut pen = x * scale;
                for c in text.chars() {
                    let g = sf.scaled_glyph(c);
                    let advance = sf.h_advance(g.id);
                    let g = ab_glyph::Glyph { position: ab_glyph::point(pen, y * scale), ..g };
                    if let Some(outline) = face.outline_glyph(g) {
                        let b = outline.px_bounds();
                        outline.draw(|gx, gy, cov| {
                            paint(b.min.x as i64 + i64::from(gx), b.min.y as i64 + i64::from(gy), *color, cov);
                        });
                    }
                    pen += advance;
                }
            }
            Mark::Qr { x, y, module, n, dark } => {
                for (idx, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
                    let (x0, y0) = (x + (idx % n) as f32 * module, y + (idx / n) as f32 * module);
                    fill_rect(&mut paint, x0 * scale, y0 * scale, module * scale, module * scale, (0, 0, 0));
                }
            }
            Mark::Seal { x, y, size } => {
                let Some((sw, sh, pixels)) = &seal else { continue };
                let side = (size * scale).max(1.0) as i64;
                for dy in 0..side {
                    for dx in 0..side {
                        let (sx, sy) = ((dx * i64::from(*sw) / side) as u32, (dy * i64::from(*sh) / side) as u32);
                        let p = &pixels[((sy * sw + sx) * 4) as usize..][..4];
                        let at = ((x * scale) as i64 + dx, (y * scale) as i64 + dy);
                        paint(at.0, at.1, (p[0], p[1], p[2]), f32::from(p[3]) / 255.0);
                    }
                }
            }
            Mark::Frame { x, y, w: fw, h: fh, line, color } => {
                let t = (line * scale).max(1.0);
                let (x, y, fw, fh) = (x * scale, y * scale, fw * scale, fh * scale);
                fill_rect(&mut paint, x, y, fw, t, *color);
                fill_rect(&mut paint, x, y + fh - t, fw, t, *color);
                fill_rect(&mut paint, x, y, t, fh, *color);
                fill_rect(&mut paint, x + fw - t, y, t, fh, *color);
            }
        }
    }
    Ok(Preview { width: w, height: h, rgba })
}

fn fill_rect(paint: &mut impl FnMut(i64, i64, (u8, u8, u8), f32), x: f32, y: f32, w: f32, h: f32, c: (u8, u8, u8)) {
    for py in y.floor() as i64..(y + h).ceil() as i64 {
        for px in x.floor() as i64..(x + w).ceil() as i64 {
            paint(px, py, c, 1.0);
        }
    }
}

/// A PNG as (width, height, RGBA); None for one that does not decode.
fn decode_png(bytes: &[u8]) -> Option<(u32, u32, Vec<u8>)> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8() | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).ok()?;
    let (w, h) = (info.width, info.height);
    let rgba = match info.color_type {
        png::ColorType::Rgba => buf[..(w * h * 4) as usize].to_vec(),
        png::ColorType::GrayscaleAlpha => {
            buf[..(w * h * 2) as usize].chunks(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect()
        }
        _ => return None,
    };
    Some((w, h, rgba))
}

/// Renders one document to PDF/A-2b bytes.
pub fn render(template: &Template, input: &RenderInput<'_>, font: &PdfFont) -> Result<Vec<u8>, RenderError> {
    let marks = layout(template, input, font)?;
    let mut fields = input.data.clone();
    fields.insert("document_id".into(), input.document_id.into());
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_B)
        .finish()
        .map_err(|e| RenderError::Pdf(format!("{e:?}")))?;
    let settings = SerializeSettings { configuration, ..SerializeSettings::default() };
    let mut document = Document::new_with(settings);
    let title = fill(&format!("{} {{document_id}}", template.title_zh), &fields)
        .map_err(|e| RenderError::Data(e.to_string()))?;
    document.set_metadata(
        Metadata::new()
            .title(title)
            .language("zh-CN".into())
            .creator("kiosk (self-service licence printing)".into())
            .producer(format!("kiosk {}", env!("CARGO_PKG_VERSION")))
            .creation_date(pdf_date(input.printed_at)),
    );
    let page_settings = PageSettings::from_wh(pt(PAGE_WIDTH_MM), pt(PAGE_HEIGHT_MM))
        .ok_or_else(|| RenderError::Pdf("bad page size".into()))?;
    let mut page = document.start_page_with(page_settings);
    let mut surface = page.surface();

    for mark in marks {
        match mark {
            Mark::Line { text, x, y, size, color: (r, g, b) } => {
                surface.set_fill(Some(Fill { paint: rgb::Color::new(r, g, b).into(), ..Fill::default() }));
                surface.set_stroke(None);
                surface.draw_text(Point::from_xy(x, y), font.pdf.clone(), size, &text, false, TextDirection::Auto);
            }
            Mark::Qr { x, y, module, n, dark } => {
                let mut pb = PathBuilder::new();
                for (idx, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
                    let (cx, cy) = ((idx % n) as f32, (idx / n) as f32);
                    if let Some(r) = Rect::from_xywh(x + cx * module, y + cy * module, module, module) {
                        pb.push_rect(r);
                    }
                }
                if let Some(path) = pb.finish() {
                    surface.set_stroke(None);
                    surface.set_fill(Some(Fill { paint: rgb::Color::black().into(), ..Fill::default() }));
                    surface.draw_path(&path);
                }
            }
            Mark::Seal { x, y, size } => {
                let Some(png) = &template.seal else { continue };
                let image = Image::from_png(png.clone().into(), false)
                    .map_err(|e| RenderError::Data(format!("the seal image is unusable ({e})")))?;
                let size = Size::from_wh(size, size).ok_or_else(|| RenderError::Data("a seal of zero size".into()))?;
                surface.push_transform(&Transform::from_translate(x, y));
                surface.draw_image(image, size);
                surface.pop();
            }
            Mark::Frame { x, y, w, h, line, color: (r, g, b) } => {
                let mut pb = PathBuilder::new();
                if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                    pb.push_rect(rect);
                }
                if let Some(path) = pb.finish() {
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke {
                        paint: rgb::Color::new(r, g, b).into(),
                        width: line,
                        ..Stroke::default()
                    }));
                    surface.draw_path(&path);
                }
            }
        }
    }
    surface.finish();
    page.finish();
    document.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Templates;

    pub fn demo_data() -> BTreeMap<String, String> {
        [
            ("name", "临沭县示例农业科技有限公司"),
            ("credit_code", "91371329MA3EXAMPLE"),
            ("company_type", "有限责任公司（自然人投资或控股）"),
            ("legal_representative", "王建国"),
            ("registered_capital", "伍佰万元整"),
            ("established", "2019年03月18日"),
            ("term", "2019年03月18日 至 长期"),
            ("address", "山东省临沂市临沭县示例路88号"),
            (
                "scope",
                "农业技术推广服务；农产品初加工；谷物种植。（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
            ),
            ("authority", "临沭县行政审批服务局"),
            ("issue_date", "2024年05月06日"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The demo business licence's fields, as a kiosk would print them.
    pub fn demo_input<'a>(data: &'a BTreeMap<String, String>, at: &'a jiff::ZonedDateTime) -> RenderInput<'a> {
        RenderInput {
            document_id: "BL-0001",
            data,
            verify_url: "https://verify.example.invalid/BL-0001",
            kiosk_id: "linshu-county-01",
            printed_at: at,
        }
    }

    pub fn night() -> jiff::ZonedDateTime {
        "2026-11-25T03:00:00+08:00[Asia/Shanghai]".parse().unwrap()
    }

    #[test]
    fn the_preview_draws_the_page_as_it_prints() {
        let font = PdfFont::find(None, None).expect("the built-in font");
        let t = Templates::builtin().unwrap();
        let (data, night) = (demo_data(), night());
        let input = demo_input(&data, &night);
        let p = preview(t.get("business_licence").unwrap(), &input, &font, 420).unwrap();
        assert_eq!((p.width, p.height), (420, 594), "A4 proportions");
        if let Some(path) = std::env::var_os("PREVIEW_PNG") {
            let mut enc = png::Encoder::new(std::fs::File::create(path).unwrap(), p.width, p.height);
            enc.set_color(png::ColorType::Rgba);
            enc.write_header().unwrap().write_image_data(&p.rgba).unwrap();
        }
        assert_eq!(p.rgba.len(), 420 * 594 * 4);
        let px = |x: u32, y: u32| &p.rgba[((y * 420 + x) * 4) as usize..][..3];
        let count = |x0: u32, y0: u32, x1: u32, y1: u32, f: &dyn Fn(&[u8]) -> bool| {
            (y0..y1).flat_map(|y| (x0..x1).map(move |x| (x, y))).filter(|&(x, y)| f(px(x, y))).count()
        };
        let ink = |c: &[u8]| c.iter().all(|v| *v < 160);
        let red = |c: &[u8]| {
            let (r, g, b) = (i32::from(c[0]), i32::from(c[1]), i32::from(c[2]));
            r > 120 && r > g + 50 && r > b + 50
        };
        // 营业执照 in large red type, the rows in black, the seal's red at the bottom right; white margins.
        assert!(count(100, 100, 320, 140, &red) > 300, "the title is drawn");
        assert!(count(50, 190, 300, 400, &ink) > 300, "the rows are drawn");
        assert!(count(260, 470, 360, 560, &red) > 300, "the seal is drawn");
        assert_eq!(count(0, 0, 420, 10, &ink), 0, "the top margin is blank");
        // The same layout refuses what the PDF refuses.
        let mut short = data.clone();
        short.remove("name");
        let input = RenderInput { data: &short, ..input };
        assert!(matches!(preview(t.get("business_licence").unwrap(), &input, &font, 420), Err(RenderError::Data(_))));
    }

    #[test]
    fn business_licence_renders_a_pdf_with_the_font_subset() {
        let Ok(font) = PdfFont::find(None, None) else {
            panic!("no CJK font installed: scripts/test installs fonts-wqy-microhei");
        };
        let t = Templates::builtin().unwrap();
        let (data, night) = (demo_data(), night());
        let input = demo_input(&data, &night);
        let pdf = render(t.get("business_licence").unwrap(), &input, &font).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // Subset: far smaller than the 5 MB font file.
        assert!(pdf.len() < 400_000, "{} bytes", pdf.len());
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("pdfaid:part") || text.contains("pdfaid"), "PDF/A identification missing");
    }

    #[test]
    fn missing_fields_and_overflow_are_errors() {
        let font = PdfFont::find(None, None).unwrap();
        let t = Templates::builtin().unwrap();
        let mut data = demo_data();
        data.remove("scope");
        let input = RenderInput { document_id: "X", data: &data, verify_url: "u", kiosk_id: "k", printed_at: &night() };
        let e = render(t.get("business_licence").unwrap(), &input, &font).unwrap_err().to_string();
        assert!(e.contains("lacks scope"), "{e}");
        let mut data = demo_data();
        data.insert("scope".into(), "很长的经营范围".repeat(60));
        let input = RenderInput { document_id: "X", data: &data, verify_url: "u", kiosk_id: "k", printed_at: &night() };
        let e = render(t.get("business_licence").unwrap(), &input, &font).unwrap_err().to_string();
        assert!(e.contains("经 营 范 围") && e.contains("allows 6"), "{e}");
    }

    #[test]
    fn wrapping_keeps_punctuation_off_line_starts() {
        let font = PdfFont::find(None, None).unwrap();
        let w = font.width("一二三四", 10.0);
        let lines = font.wrap("一二三四，五六", 10.0, w + 0.1);
        assert_eq!(lines, ["一二三四，", "五六"]);
    }
}
