//! The hall's counter page and calling display (issue #31), served by the staff API beside the calls they
//! use: the pages themselves need no token (they hold nothing but code); everything they show comes from
//! the counter calls with the counter token the clerk (or the technician setting up the TV) gives them.
//! And the announcement each call is spoken with, sans-IO: its words in Chinese and in English.

/// The counter page (clerk's browser).
pub const COUNTER_HTML: &str = include_str!("pages/counter.html");
/// The calling display (the hall's TV).
pub const DISPLAY_HTML: &str = include_str!("pages/display.html");
/// The script both pages share.
pub const HALL_JS: &str = include_str!("pages/hall.js");
/// Their style.
pub const HALL_CSS: &str = include_str!("pages/hall.css");

/// Longest ticket number and counter an announcement takes.
pub const MAX_NUMBER: usize = 8;

/// What the hall hears for a call: "请 A 0 0 1 号到 3 号窗口办理" / "Number A 0 0 1, please go to counter 3."
/// The number letter by letter and digit by digit, as a caller reads it; a counter that is a number is
/// "N 号窗口", any other name is said as it is. Err: why the request is refused (a sentence).
pub fn announcement(number: &str, counter: &str, english: bool) -> Result<String, String> {
    let letters = number.chars().take_while(char::is_ascii_uppercase).count();
    let digits = number.chars().skip(letters).count();
    if number.is_empty()
        || number.chars().count() > MAX_NUMBER
        || !(1..=2).contains(&letters)
        || digits == 0
        || !number.chars().skip(letters).all(|c| c.is_ascii_digit())
    {
        return Err(format!(
            "`number` must be a ticket number such as A001 (one or two capital letters, then digits, at most {MAX_NUMBER} characters)."
        ));
    }
    if counter.is_empty()
        || counter.chars().count() > crate::counter::MAX_COUNTER
        || counter.chars().any(|c| c.is_control() || !(c.is_alphanumeric() || c == ' ' || c == '-'))
    {
        return Err(format!(
            "`counter` must be a window's name such as 3 or 窗口12 (letters, digits, spaces, at most {} characters).",
            crate::counter::MAX_COUNTER
        ));
    }
    let spoken: Vec<String> = number.chars().map(|c| c.to_string()).collect();
    let spoken = spoken.join(" ");
    let numeric = counter.chars().all(|c| c.is_ascii_digit());
    Ok(match (english, numeric) {
        (false, true) => format!("请 {spoken} 号到 {counter} 号窗口办理"),
        (false, false) => format!("请 {spoken} 号到 {counter} 办理"),
        (true, true) => format!("Number {spoken}, please go to counter {counter}."),
        (true, false) => format!("Number {spoken}, please go to {counter}."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_said_as_a_caller_says_it() {
        assert_eq!(announcement("A001", "3", false).unwrap(), "请 A 0 0 1 号到 3 号窗口办理");
        assert_eq!(announcement("B1001", "窗口12", false).unwrap(), "请 B 1 0 0 1 号到 窗口12 办理");
        assert_eq!(announcement("A001", "3", true).unwrap(), "Number A 0 0 1, please go to counter 3.");
        assert_eq!(announcement("D3001", "desk", true).unwrap(), "Number D 3 0 0 1, please go to desk.");
    }

    #[test]
    fn anything_else_is_refused_with_what_to_send() {
        for bad in ["", "a001", "A", "001", "ABC1", "A00000001", "A0x1", "A001\n"] {
            let e = announcement(bad, "3", false).unwrap_err();
            assert!(e.contains("`number`"), "{bad:?}: {e}");
        }
        for bad in ["", "3\u{7}", "<script>", &"9".repeat(40)] {
            let e = announcement("A001", bad, false).unwrap_err();
            assert!(e.contains("`counter`"), "{bad:?}: {e}");
        }
    }
}
