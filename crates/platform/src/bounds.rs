//! What the kiosk accepts from the platform: every answer is checked against these bounds at the edge,
//! before it reaches a flow or the screen (docs/backend-api.md states them). An answer outside them is
//! `PlatformError::Malformed`, named; text inside them is made printable (no control or bidirectional
//! characters), so a broken or hostile platform can neither exhaust the kiosk nor draw what it cannot.

use crate::PlatformError;

/// The largest answer read for a list of appointments, cases or addresses.
pub const MAX_LIST_ANSWER: usize = 1 << 20;
/// The largest answer read for a citizen's documents (their data fields).
pub const MAX_DOCUMENTS_ANSWER: usize = 8 << 20;
/// Rows in one list answer (a citizen's appointments today, cases, saved addresses, documents).
pub const MAX_ROWS: usize = 50;
/// A name the citizen reads (a matter, a step, a masked address, a document type).
pub const MAX_NAME_CHARS: usize = 100;
/// An identifier (a document id, a request id, an address id).
pub const MAX_ID_CHARS: usize = 64;
/// Data fields of one document, and the characters of one field's value.
pub const MAX_FIELDS: usize = 64;
pub const MAX_VALUE_CHARS: usize = 500;

/// Refuses a list longer than [`MAX_ROWS`].
pub fn rows<T>(what: &str, list: &[T]) -> Result<(), PlatformError> {
    if list.len() > MAX_ROWS {
        return Err(PlatformError::Malformed(format!("{} {what} in one answer (at most {MAX_ROWS})", list.len())));
    }
    Ok(())
}

/// `text` made printable, refused when longer than `max` characters; `what` names it in the error.
pub fn text(what: &str, text: String, max: usize) -> Result<String, PlatformError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(PlatformError::Malformed(format!("{what} is {chars} characters long (at most {max})")));
    }
    Ok(match drivers::text::printable(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(clean) => clean,
    })
}

/// An optional English name, bounded as any name: empty when absent, and when it holds Chinese characters
/// (the platform put the Chinese where the English goes): an English screen then shows the Chinese name, as
/// it would without one, and the log says so.
pub fn english(what: &str, name: Option<String>) -> Result<String, PlatformError> {
    let Some(name) = name else { return Ok(String::new()) };
    let name = text(what, name, MAX_NAME_CHARS)?;
    if vocabulary::has_han(&name) {
        log::warn!("platform: {what} \"{name}\" is not English; the Chinese name is shown instead");
        return Ok(String::new());
    }
    Ok(name.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_english_name_is_bounded_and_one_in_chinese_is_not_shown() {
        assert_eq!(english("n", None).unwrap(), "");
        assert_eq!(english("n", Some(" Real estate registration ".into())).unwrap(), "Real estate registration");
        assert_eq!(english("n", Some("不动产登记".into())).unwrap(), "", "the Chinese name is shown instead");
        let long = english("case 1: item_name_en", Some("a".repeat(101))).unwrap_err().to_string();
        assert!(long.contains("case 1: item_name_en is 101 characters long (at most 100)"), "{long}");
    }

    #[test]
    fn long_lists_and_long_names_are_refused_and_control_characters_dropped() {
        assert!(rows("appointments", &[0u8; 50]).is_ok());
        let e = rows("appointments", &[0u8; 51]).unwrap_err().to_string();
        assert!(e.contains("51 appointments in one answer (at most 50)"), "{e}");
        let e = text("item_name", "名".repeat(200_000), MAX_NAME_CHARS).unwrap_err().to_string();
        assert!(e.contains("item_name is 200000 characters long (at most 100)"), "{e}");
        assert_eq!(text("x", "不动产\u{1b}[2J登记\u{202e}".into(), 100).unwrap(), "不动产[2J登记");
    }
}
