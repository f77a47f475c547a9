//! Text drawn as dots with a CJK font: raster lines for characters a printer's two-byte font lacks, and the virtual printer's glyphs.

use super::document::{Align, Size};
use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use std::path::PathBuf;

/// Base glyph height in dots (the printers' 24×24 Chinese font).
pub const LINE_DOTS: u32 = 24;

/// Finds a CJK font: $KIOSK_FONT, then Noto Sans CJK (production), then WenQuanYi Micro Hei.
pub fn find_cjk_font() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("KIOSK_FONT").map(PathBuf::from).into_iter().collect();
    candidates.extend(
        [
            "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
            "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
            "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        ]
        .map(PathBuf::from),
    );
    candidates.into_iter().find(|p| p.is_file())
}

/// The bytes of a font file, read once per process and shared: the ticket rasterizer, the virtual
/// printer and the licence PDFs all use the same CJK font, and a Noto CJK collection is tens of MB.
pub fn shared_font(path: &std::path::Path) -> std::io::Result<std::sync::Arc<Vec<u8>>> {
    use std::sync::{Arc, Mutex};
    static FONTS: Mutex<Vec<(PathBuf, Arc<Vec<u8>>)>> = Mutex::new(Vec::new());
    let mut fonts = FONTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, bytes)) = fonts.iter().find(|(p, _)| p == path) {
        return Ok(bytes.clone());
    }
    let bytes = Arc::new(std::fs::read(path)?);
    fonts.push((path.to_path_buf(), bytes.clone()));
    Ok(bytes)
}

/// Width in pixels of `text` at `px`.
pub fn text_width(font: &FontRef<'_>, text: &str, px: f32) -> f32 {
    let sf = font.as_scaled(PxScale::from(px));
    text.chars().map(|c| sf.h_advance(sf.glyph_id(c))).sum()
}

/// Draws `text` with its top-left at (x, top); `set` receives each dark dot.
pub fn draw_text(font: &FontRef<'_>, text: &str, px: f32, x: f32, top: f32, mut set: impl FnMut(i64, i64)) {
    let sf = font.as_scaled(PxScale::from(px));
    let mut x = x;
    for c in text.chars() {
        let g = sf.scaled_glyph(c);
        let adv = sf.h_advance(g.id);
        let g = ab_glyph::Glyph { position: ab_glyph::point(x, top + sf.ascent()), ..g };
        if let Some(outline) = font.outline_glyph(g) {
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cov| {
                if cov > 0.45 {
                    set(b.min.x as i64 + i64::from(gx), b.min.y as i64 + i64::from(gy));
                }
            });
        }
        x += adv;
    }
}

/// A `GS v 0` image of one line of text, as wide as the paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RasterLine {
    pub width_bytes: u16,
    pub height: u16,
    pub bits: Vec<u8>,
}

/// A font's bytes, shared without copying: a file read once ([`shared_font`]) or data built into the binary
/// (the kiosk's own font, mapped with the executable rather than read into the heap).
pub type FontData = std::sync::Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Renders lines of text to dots with a font's glyphs.
pub struct GlyphRasterizer {
    font: FontData,
    index: u32,
}

impl std::fmt::Debug for GlyphRasterizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GlyphRasterizer({} bytes of font, face {})", (*self.font).as_ref().len(), self.index)
    }
}

impl GlyphRasterizer {
    /// A rasterizer on face `index` of `font` (a collection holds several faces); None when it is no font.
    pub fn new(font: FontData, index: u32) -> Option<GlyphRasterizer> {
        FontRef::try_from_slice_and_index((*font).as_ref(), index).ok()?;
        Some(GlyphRasterizer { font, index })
    }

    /// The system's CJK font, if one is installed (face 0).
    pub fn find() -> Option<GlyphRasterizer> {
        Self::new(shared_font(&find_cjk_font()?).ok()?, 0)
    }

    pub fn font(&self) -> Option<FontRef<'_>> {
        FontRef::try_from_slice_and_index((*self.font).as_ref(), self.index).ok()
    }

    pub fn line(&self, text: &str, size: Size, align: Align, width_dots: u32) -> RasterLine {
        let px = (LINE_DOTS * u32::from(size.scale())) as f32;
        let height = px as u32 + 4;
        let width_bytes = width_dots.div_ceil(8);
        let mut bits = vec![0u8; (width_bytes * height) as usize];
        if let Some(font) = self.font() {
            let w = text_width(&font, text, px) as u32;
            let x = match align {
                Align::Left => 0,
                Align::Center => width_dots.saturating_sub(w) / 2,
                Align::Right => width_dots.saturating_sub(w),
            };
            draw_text(&font, text, px, x as f32, 2.0, |dx, dy| {
                if dx >= 0 && dy >= 0 && (dx as u32) < width_dots && (dy as u32) < height {
                    bits[(dy as u32 * width_bytes + dx as u32 / 8) as usize] |= 0x80 >> (dx as u32 % 8);
                }
            });
        }
        RasterLine { width_bytes: width_bytes as u16, height: height as u16, bits }
    }
}
