//! The one masking rule: how a personal datum is shown wherever the kiosk shows it — on screen, in a
//! licence's preview, on a printed slip. A person's name keeps its first and last character (李*梅, 张*); a
//! number that identifies a person or their case (ID number, document number, credit code, case number)
//! keeps its first and last four; a telephone number its first three and last four. What the journal keeps
//! of an ID number follows `[journal] id_mask_keep` (docs/journal-format.md); the rule here is for what is
//! shown.

/// A person's name as shown: first and last characters kept (李小梅 → 李*梅, 张三 → 张*, 欧阳娜娜 → 欧**娜).
pub fn name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => std::iter::once(chars[0])
            .chain(std::iter::repeat_n('*', n - 2))
            .chain(std::iter::once(chars[n - 1]))
            .collect(),
    }
}

/// `s` with all but its first `head` and last `tail` characters replaced by `*` (all of it when too short).
pub fn keep(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    if head + tail >= chars.len() {
        return "*".repeat(chars.len());
    }
    chars.iter().enumerate().map(|(i, c)| if i < head || i >= chars.len() - tail { *c } else { '*' }).collect()
}

/// An identifying number as shown: its first and last four characters (2026****0123).
pub fn number(s: &str) -> String {
    keep(s, 4, 4)
}

/// A telephone number as shown and journaled: its first three and last four digits (138****8000).
pub fn phone(s: &str) -> String {
    keep(s, 3, 4)
}

/// `text` with every occurrence of each of `names` (at least two characters long) replaced by its masked
/// form: a free-text field ("兹证明张三丰，男，…") shows the holder as the name fields do.
pub fn names_in(text: &str, names: &[&str]) -> String {
    let mut out = text.to_owned();
    for n in names.iter().map(|n| n.trim()).filter(|n| n.chars().count() >= 2) {
        out = out.replace(n, &name(n));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_phones() {
        assert_eq!(name("李小梅"), "李*梅");
        assert_eq!(name("张三"), "张*");
        assert_eq!(name("欧阳娜娜"), "欧**娜");
        assert_eq!(number("202611200123"), "2026****0123");
        assert_eq!(number("91371329MA3DEMO01X"), "9137**********O01X");
        assert_eq!(number("1234567"), "*******", "too short to keep eight");
        assert_eq!(phone("13800138000"), "138****8000");
        assert_eq!(names_in("兹证明张三丰，男", &["张三丰", "李"]), "兹证明张*丰，男");
    }
}
