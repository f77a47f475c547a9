//! Ticket numbers as citizens see and type them: one or two capital letters, then up to four digits.

/// A ticket number's letters and what follows them ("A023" → "A", "023"): the prefix is the leading
/// ASCII capitals.
pub fn split_number(text: &str) -> (&str, &str) {
    text.split_at(text.chars().take_while(char::is_ascii_uppercase).count())
}

/// Whether `text` can still become a ticket number as typed: up to two letters, then up to four digits.
pub fn can_become_number(text: &str) -> bool {
    let (letters, digits) = split_number(text);
    letters.len() <= 2 && digits.len() <= 4 && digits.chars().all(|c| c.is_ascii_digit())
}

/// Whether `text` can be a ticket number: one or two letters, then one to four digits.
pub fn is_ticket_number(text: &str) -> bool {
    let (letters, digits) = split_number(text);
    can_become_number(text) && !letters.is_empty() && !digits.is_empty()
}
