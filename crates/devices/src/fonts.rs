//! The kiosk's one font (assets/fonts), built into the binary once: the screen (registered with Slint by
//! `ui::font::register`, not imported by app.slint), the ticket printer's raster lines and the licence PDFs
//! draw with it, whatever fonts the machine has.

use drivers::escpos::raster::FontData;

/// WenQuanYi Micro Hei, a two-face collection; face 0 is the proportional one.
pub static KIOSK_FONT: &[u8] = include_bytes!("../../../assets/fonts/wqy-microhei.ttc");
/// The face the kiosk draws with.
pub const KIOSK_FONT_FACE: u32 = 0;
/// Its family name, as app.slint names it.
pub const KIOSK_FONT_FAMILY: &str = "WenQuanYi Micro Hei";

/// The font's bytes, shared without copying (they stay in the executable's mapped read-only data).
pub fn kiosk_font() -> FontData {
    std::sync::Arc::new(KIOSK_FONT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_font_is_the_one_the_screen_names_and_draws_chinese() {
        let face = ab_glyph::FontRef::try_from_slice_and_index(KIOSK_FONT, KIOSK_FONT_FACE).unwrap();
        use ab_glyph::Font;
        for c in "临沭县政务服务大厅取号 Take a number".chars().filter(|c| !c.is_whitespace()) {
            assert_ne!(face.glyph_id(c).0, 0, "{c} is missing");
        }
        let slint = include_str!("../../ui/ui/app.slint");
        assert!(slint.contains(&format!("default-font-family: \"{KIOSK_FONT_FAMILY}\"")));
        // One copy in the binary: a Slint `import` of the file would embed a second one (5.2 MB).
        assert!(!slint.contains("wqy-microhei.ttc\";"), "app.slint imports the font again");
    }
}
