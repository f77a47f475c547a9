//! Maps between byte offsets in a TOML file, line:column positions and dotted field paths.
//!
//! serde tells us *what* is wrong; this module tells the technician *where*,
//! so every configuration error can name the line, the column and the field.

use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a field path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A field path such as `queue.categories[1].prefix`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn key(mut self, k: &str) -> Self {
        self.0.push(Segment::Key(k.to_owned()));
        self
    }

    pub fn index(mut self, i: usize) -> Self {
        self.0.push(Segment::Index(i));
        self
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if n == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..floor_char_boundary(src, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A parsed document that can answer "where is this field?" and "which field is here?".
pub struct SpanIndex<'i> {
    root: Option<Spanned<DeTable<'i>>>,
}

impl<'i> SpanIndex<'i> {
    pub fn new(src: &'i str) -> Self {
        Self { root: DeTable::parse(src).ok() }
    }

    /// The span of a field's value, or of the nearest ancestor that exists
    /// (a missing field is reported at the table that should hold it).
    pub fn span_of(&self, path: &FieldPath) -> Option<Range<usize>> {
        let root = self.root.as_ref()?;
        let mut best = root.span();
        let mut table: Option<&DeTable<'i>> = Some(root.get_ref());
        let mut value: Option<&Spanned<DeValue<'i>>> = None;
        for seg in &path.0 {
            let next = match (seg, table, value) {
                (Segment::Key(k), Some(t), _) => t.get(k.as_str()),
                (Segment::Key(k), None, Some(v)) => v.get_ref().get(k.as_str()),
                (Segment::Index(i), _, Some(v)) => v.get_ref().get(*i),
                _ => None,
            };
            let Some(next) = next else { break };
            best = next.span();
            table = None;
            value = Some(next);
        }
        Some(best)
    }

    /// The deepest field whose key or value contains `offset`.
    pub fn path_at(&self, offset: usize) -> FieldPath {
        let mut best = FieldPath::default();
        if let Some(root) = &self.root {
            // Implicit parent tables (`[[queue.categories]]` creates `queue`) carry
            // spans that need not enclose their children, so search every branch.
            search_table(root.get_ref(), offset, &mut FieldPath::default(), &mut best);
        }
        best
    }
}

/// The first string of the TOML text `src` (a value, in any table or array) that holds a character that may
/// not be printed or echoed (`drivers::text::is_unprintable`: control characters, bidirectional overrides),
/// with its field and the character. Every string of our TOML files is a name, a text, a path or an address;
/// none has a use for them, and a printer or a terminal would obey them.
pub fn unprintable_field(src: &str) -> Option<(FieldPath, char)> {
    let root = DeTable::parse(src).ok()?;
    let mut path = FieldPath::default();
    unprintable_in_table(root.get_ref(), &mut path)
}

fn unprintable_in_table(t: &DeTable<'_>, path: &mut FieldPath) -> Option<(FieldPath, char)> {
    for (k, v) in t.iter() {
        path.0.push(Segment::Key(k.get_ref().to_string()));
        if let Some((_, c)) = drivers::text::first_unprintable(k.get_ref()) {
            return Some((path.clone(), c));
        }
        if let Some(found) = unprintable_in_value(v.get_ref(), path) {
            return Some(found);
        }
        path.0.pop();
    }
    None
}

fn unprintable_in_value(v: &DeValue<'_>, path: &mut FieldPath) -> Option<(FieldPath, char)> {
    match v {
        DeValue::String(s) => drivers::text::first_unprintable(s).map(|(_, c)| (path.clone(), c)),
        DeValue::Table(t) => unprintable_in_table(t, path),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.0.push(Segment::Index(i));
                if let Some(found) = unprintable_in_value(item.get_ref(), path) {
                    return Some(found);
                }
                path.0.pop();
            }
            None
        }
        _ => None,
    }
}

/// The sentence for a field [`unprintable_field`] found.
pub fn unprintable_message(c: char) -> String {
    format!(
        "This text holds the invisible character {}, which a printer or a terminal would take as a command \
         (or which reorders what a reader sees); remove it.",
        drivers::text::describe(c)
    )
}

fn search_table(t: &DeTable<'_>, offset: usize, path: &mut FieldPath, best: &mut FieldPath) {
    for (k, v) in t.iter() {
        path.0.push(Segment::Key(k.get_ref().to_string()));
        if (k.span().contains(&offset) || v.span().contains(&offset)) && path.0.len() > best.0.len() {
            *best = path.clone();
        }
        if !k.span().contains(&offset) {
            search_value(v.get_ref(), offset, path, best);
        }
        path.0.pop();
    }
}

fn search_value(v: &DeValue<'_>, offset: usize, path: &mut FieldPath, best: &mut FieldPath) {
    match v {
        DeValue::Table(t) => search_table(t, offset, path, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.0.push(Segment::Index(i));
                if item.span().contains(&offset) && path.0.len() > best.0.len() {
                    *best = path.clone();
                }
                search_value(item.get_ref(), offset, path, best);
                path.0.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let src = "a = 1\nname = \"临沭\" x";
        let off = src.find('x').unwrap();
        assert_eq!(line_column(src, off), (2, 13));
    }

    #[test]
    fn finds_array_of_tables_fields() {
        let src = "[[queue.categories]]\nprefix = \"A\"\n[[queue.categories]]\nprefix = \"B\"\n";
        let idx = SpanIndex::new(src);
        let path = FieldPath::default().key("queue").key("categories").index(1).key("prefix");
        let span = idx.span_of(&path).unwrap();
        assert_eq!(&src[span.clone()], "\"B\"");
        assert_eq!(idx.path_at(span.start).to_string(), "queue.categories[1].prefix");
    }
}
