//! Text from outside (the catalogue, the configuration, the platform's answers, imported files) made safe
//! to print, draw or echo: one rule for what may not pass, used by the ESC/POS encoder, the licence PDF,
//! the validators that refuse such text where it is written, and the CLI where it echoes it.

use std::borrow::Cow;

/// Whether `c` may not reach a printer, a PDF, a screen slip or a terminal: C0 and C1 control characters
/// (ESC, GS, DLE… are printer commands; ESC starts terminal sequences) and the invisible bidirectional
/// controls that reorder what a reader sees (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069).
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The first character of `text` that may not be printed, with its byte offset.
pub fn first_unprintable(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|(_, c)| is_unprintable(*c))
}

/// `text` as it may be printed: line breaks and tabs become spaces, every other unprintable character is
/// left out. Borrowed when there was nothing to change (the usual case).
pub fn printable(text: &str) -> Cow<'_, str> {
    if first_unprintable(text).is_none() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\n' | '\r' | '\t' => Some(' '),
                c if is_unprintable(c) => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// How a refused character is named in an error a person reads: its code point and, for the common
/// printer and terminal commands, its name.
pub fn describe(c: char) -> String {
    let name = match c {
        '\u{1B}' => " (ESC)",
        '\u{1D}' => " (GS)",
        '\u{1C}' => " (FS)",
        '\u{10}' => " (DLE)",
        '\u{00}' => " (NUL)",
        '\n' => " (a line break)",
        '\t' => " (a tab)",
        '\u{202E}' => " (RIGHT-TO-LEFT OVERRIDE)",
        '\u{202D}' => " (LEFT-TO-RIGHT OVERRIDE)",
        _ => "",
    };
    format!("U+{:04X}{name}", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printer_and_terminal_commands_and_bidi_overrides_are_left_out() {
        assert!(matches!(printable("临沭县 A001 ￥10"), Cow::Borrowed(_)));
        assert_eq!(printable("免费\u{1b}p\u{0}\u{19}\u{fa}\u{1d}V\u{41}"), "免费p\u{fa}VA");
        assert_eq!(printable("a\nb\tc\r"), "a b c ");
        assert_eq!(printable("\u{202e}gnp.exe\u{2066}x\u{2069}\u{200f}"), "gnp.exex");
        assert_eq!(printable("\u{85}\u{9b}31m"), "31m", "C1 controls, CSI among them");
        assert_eq!(first_unprintable("ab\u{1b}c"), Some((2, '\u{1b}')));
        assert_eq!(describe('\u{1b}'), "U+001B (ESC)");
        assert_eq!(describe('\u{202e}'), "U+202E (RIGHT-TO-LEFT OVERRIDE)");
    }
}
