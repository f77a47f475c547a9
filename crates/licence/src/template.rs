//! Licence templates: the data-driven A4 layouts in assets/templates/licence (TOML), parsed and checked.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Placeholders every template may use besides its document's data fields.
pub const SPECIAL_FIELDS: [&str; 4] = ["document_id", "verify_url", "printed_at", "kiosk_id"];

/// The demo seal (a fictional office, marked 演示样章), used by the built-in templates.
pub const DEMO_SEAL: &[u8] = include_bytes!("../../../assets/templates/licence/seal-demo.png");

/// The templates built into the binary, as (file name, text).
pub const BUILTIN: [(&str, &str); 3] = [
    ("business_licence.toml", include_str!("../../../assets/templates/licence/business_licence.toml")),
    ("certificate_of_proof.toml", include_str!("../../../assets/templates/licence/certificate_of_proof.toml")),
    ("generic_certificate.toml", include_str!("../../../assets/templates/licence/generic_certificate.toml")),
];

/// Text alignment, as in the thermal templates.
pub use drivers::escpos::Align;

/// One thing drawn on the page. Millimetres from the top-left corner; a text's `y_mm` is its baseline.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Item {
    /// One line of text.
    Text {
        text: String,
        x_mm: f32,
        y_mm: f32,
        size_pt: f32,
        #[serde(default)]
        align: Align,
        #[serde(default)]
        color: Option<String>,
    },
    /// Running text wrapped to `width_mm`.
    Paragraph {
        text: String,
        x_mm: f32,
        y_mm: f32,
        width_mm: f32,
        size_pt: f32,
        #[serde(default = "default_line_height")]
        line_height: f32,
        #[serde(default = "default_max_lines")]
        max_lines: u32,
        #[serde(default)]
        color: Option<String>,
    },
    /// A label and its value; the value wraps within the rest of `width_mm`.
    Row {
        label: String,
        text: String,
        x_mm: f32,
        y_mm: f32,
        label_width_mm: f32,
        width_mm: f32,
        size_pt: f32,
        #[serde(default = "default_max_lines")]
        max_lines: u32,
    },
    /// A vector QR code of `content`.
    Qr { content: String, x_mm: f32, y_mm: f32, size_mm: f32 },
    /// The template's seal image, `size_mm` square, top-left at x, y.
    Seal { x_mm: f32, y_mm: f32, size_mm: f32 },
    /// A rectangle outline.
    Frame {
        x_mm: f32,
        y_mm: f32,
        width_mm: f32,
        height_mm: f32,
        line_pt: f32,
        #[serde(default)]
        color: Option<String>,
    },
}

fn default_line_height() -> f32 {
    1.6
}

fn default_max_lines() -> u32 {
    3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    #[serde(rename = "type")]
    doc_type: String,
    title_zh: String,
    title_en: String,
    number_field: String,
    required: Vec<String>,
    #[serde(default)]
    seal: Option<String>,
    #[serde(rename = "item")]
    items: Vec<Item>,
}

/// A checked template, ready to render.
#[derive(Debug, Clone)]
pub struct Template {
    pub doc_type: String,
    pub title_zh: String,
    pub title_en: String,
    /// The data field shown (masked) in the citizen's list.
    pub number_field: String,
    pub required: Vec<String>,
    pub items: Vec<Item>,
    /// PNG bytes of the seal, when the template has one.
    pub seal: Option<Vec<u8>>,
}

/// Why a template cannot be used. The message names the template and the item.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("The licence template {origin} is not valid TOML for a template: {detail}")]
    Parse { origin: String, detail: String },
    #[error("The licence template {origin}, item {item}: {what}")]
    Item { origin: String, item: usize, what: String },
    #[error("The licence template {origin}: {what}")]
    Template { origin: String, what: String },
    #[error("There is no licence template for documents of type \"{0}\"; the kiosk has: {1}.")]
    Unknown(String, String),
}

/// The `{name}` placeholders in `text`, in order.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

/// Fills `{name}` placeholders from `fields`. The template check guarantees every name is known;
/// a missing one here is an error, never an empty gap on an official document. A value (from the platform
/// or an imported file) is filled in printable (`drivers::text::printable`): no control character or
/// bidirectional override reaches the document or the screen's preview.
pub fn fill(text: &str, fields: &BTreeMap<String, String>) -> Result<String, MissingField> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return Ok(out);
        };
        let name = &after[..close];
        let value = fields.get(name).ok_or_else(|| MissingField(name.to_owned()))?;
        out.push_str(&drivers::text::printable(value));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A placeholder with no value ([`fill`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the field \"{0}\" has no value")]
pub struct MissingField(pub String);

/// `#rrggbb` to RGB.
pub fn parse_color(c: &str) -> Option<(u8, u8, u8)> {
    let hex = c.strip_prefix('#')?;
    if hex.len() != 6 || !hex.is_ascii() {
        return None;
    }
    let v = u32::from_str_radix(hex, 16).ok()?;
    Some(((v >> 16) as u8, (v >> 8) as u8, v as u8))
}

pub const PAGE_WIDTH_MM: f32 = 210.0;
pub const PAGE_HEIGHT_MM: f32 = 297.0;

impl Template {
    /// Parses and checks a template. `origin` names it in errors; `seal_dir` is where a `seal`
    /// file is looked up (None for built-in templates, which use the demo seal).
    pub fn parse(text: &str, origin: &str, seal_dir: Option<&Path>) -> Result<Template, TemplateError> {
        let file: TemplateFile =
            toml::from_str(text).map_err(|e| TemplateError::Parse { origin: origin.into(), detail: e.to_string() })?;
        let whole = |what: String| TemplateError::Template { origin: origin.into(), what };
        if file.doc_type.is_empty() || !file.doc_type.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(whole(format!("type \"{}\" must be lower-case letters and _", file.doc_type)));
        }
        if !file.required.contains(&file.number_field) {
            return Err(whole(format!("number_field \"{}\" is not one of the required fields", file.number_field)));
        }
        let known = |name: &str| SPECIAL_FIELDS.contains(&name) || file.required.iter().any(|r| r == name);
        let mut has_seal_item = false;
        for (i, item) in file.items.iter().enumerate() {
            let bad = |what: String| TemplateError::Item { origin: origin.into(), item: i + 1, what };
            let (texts, x, y, w, h): (Vec<&str>, f32, f32, f32, f32) = match item {
                Item::Text { text, x_mm, y_mm, size_pt, color, .. } => {
                    check_size(*size_pt).map_err(&bad)?;
                    check_color(color.as_deref()).map_err(&bad)?;
                    (vec![text], *x_mm, *y_mm, 0.0, 0.0)
                }
                Item::Paragraph { text, x_mm, y_mm, width_mm, size_pt, line_height, max_lines, color } => {
                    check_size(*size_pt).map_err(&bad)?;
                    check_color(color.as_deref()).map_err(&bad)?;
                    if !(1.0..=3.0).contains(line_height) || *max_lines == 0 {
                        return Err(bad("line_height must be 1.0 to 3.0 and max_lines at least 1".into()));
                    }
                    (vec![text], *x_mm, *y_mm, *width_mm, 0.0)
                }
                Item::Row { label, text, x_mm, y_mm, label_width_mm, width_mm, size_pt, max_lines } => {
                    check_size(*size_pt).map_err(&bad)?;
                    if *label_width_mm <= 0.0 || label_width_mm >= width_mm || *max_lines == 0 {
                        return Err(bad("label_width_mm must be positive and less than width_mm".into()));
                    }
                    (vec![label, text], *x_mm, *y_mm, *width_mm, 0.0)
                }
                Item::Qr { content, x_mm, y_mm, size_mm } => (vec![content], *x_mm, *y_mm, *size_mm, *size_mm),
                Item::Seal { x_mm, y_mm, size_mm } => {
                    has_seal_item = true;
                    (vec![], *x_mm, *y_mm, *size_mm, *size_mm)
                }
                Item::Frame { x_mm, y_mm, width_mm, height_mm, line_pt, color } => {
                    check_color(color.as_deref()).map_err(&bad)?;
                    if !(0.1..=10.0).contains(line_pt) {
                        return Err(bad(format!("line_pt {line_pt} must be 0.1 to 10")));
                    }
                    (vec![], *x_mm, *y_mm, *width_mm, *height_mm)
                }
            };
            let on_page = |v: f32, max: f32| v.is_finite() && (0.0..=max).contains(&v);
            if !on_page(x, PAGE_WIDTH_MM)
                || !on_page(y, PAGE_HEIGHT_MM)
                || !on_page(x + w, PAGE_WIDTH_MM)
                || !on_page(y + h, PAGE_HEIGHT_MM)
                || w < 0.0
                || h < 0.0
            {
                return Err(bad(format!(
                    "it lies outside the A4 page ({PAGE_WIDTH_MM} × {PAGE_HEIGHT_MM} mm) or has a negative size"
                )));
            }
            for t in texts {
                if let Some(name) = placeholders(t).into_iter().find(|n| !known(n)) {
                    return Err(bad(format!(
                        "{{{name}}} is neither a required field nor one of {}",
                        SPECIAL_FIELDS.join(", ")
                    )));
                }
            }
        }
        let seal = match (&file.seal, seal_dir) {
            (None, _) if has_seal_item => return Err(whole("it has a seal item but no `seal` image".into())),
            (None, _) => None,
            (Some(_), None) => Some(DEMO_SEAL.to_vec()),
            (Some(name), Some(dir)) => {
                let path = dir.join(name);
                let bytes = std::fs::read(&path)
                    .map_err(|e| whole(format!("cannot read the seal image {} ({e})", path.display())))?;
                if !bytes.starts_with(b"\x89PNG") {
                    return Err(whole(format!("the seal image {} is not a PNG file", path.display())));
                }
                Some(bytes)
            }
        };
        Ok(Template {
            doc_type: file.doc_type,
            title_zh: file.title_zh,
            title_en: file.title_en,
            number_field: file.number_field,
            required: file.required,
            items: file.items,
            seal,
        })
    }

    /// Reads a template file; its seal is looked up next to it.
    pub fn load(path: &Path) -> Result<Template, TemplateError> {
        let origin = path.display().to_string();
        let text = config::files::read_text(path, config::files::FileKind::Template)
            .map_err(|e| TemplateError::Template { origin: origin.clone(), what: format!("cannot read it ({e})") })?;
        Template::parse(&text, &origin, Some(path.parent().unwrap_or(Path::new("."))))
    }

    /// Which required fields `data` lacks (or has empty).
    pub fn missing_fields(&self, data: &BTreeMap<String, String>) -> Vec<&str> {
        self.required
            .iter()
            .filter(|r| data.get(r.as_str()).is_none_or(|v| v.trim().is_empty()))
            .map(String::as_str)
            .collect()
    }
}

fn check_size(size_pt: f32) -> Result<(), String> {
    if (5.0..=72.0).contains(&size_pt) { Ok(()) } else { Err(format!("size_pt {size_pt} must be 5 to 72")) }
}

fn check_color(c: Option<&str>) -> Result<(), String> {
    match c {
        Some(c) if parse_color(c).is_none() => Err(format!("color \"{c}\" must be #rrggbb")),
        _ => Ok(()),
    }
}

/// The kiosk's templates by document type.
#[derive(Debug, Clone)]
pub struct Templates(BTreeMap<String, Template>);

impl Templates {
    /// The built-in templates (checked by a unit test, so this cannot fail in a released binary).
    pub fn builtin() -> Result<Templates, TemplateError> {
        let mut map = BTreeMap::new();
        for (name, text) in BUILTIN {
            let t = Template::parse(text, &format!("assets/templates/licence/{name}"), None)?;
            map.insert(t.doc_type.clone(), t);
        }
        Ok(Templates(map))
    }

    pub fn get(&self, doc_type: &str) -> Result<&Template, TemplateError> {
        // The asked type is echoed escaped: it may come from an imported file.
        self.0
            .get(doc_type)
            .ok_or_else(|| TemplateError::Unknown(doc_type.escape_debug().to_string(), self.types().join(", ")))
    }

    pub fn types(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (left, top, right, bottom) in mm.
    type Area = (f32, f32, f32, f32);

    fn meets(a: Area, b: Area) -> bool {
        a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
    }

    #[test]
    fn the_demo_seals_label_stays_clear_of_the_text() {
        // Where seal-demo.png draws 演示样章: the middle of its width, 62–74 % down.
        let label = |x: f32, y: f32, s: f32| (x + 0.30 * s, y + 0.62 * s, x + 0.70 * s, y + 0.74 * s);
        const PT: f32 = 0.3528;
        for name in Templates::builtin().unwrap().types() {
            let t = Templates::builtin().unwrap().get(name).unwrap().clone();
            let seals: Vec<Area> = t
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Seal { x_mm, y_mm, size_mm } => Some(label(*x_mm, *y_mm, *size_mm)),
                    _ => None,
                })
                .collect();
            for item in &t.items {
                let Item::Text { text, x_mm, y_mm, size_pt, align, .. } = item else { continue };
                // A placeholder's value is not known here: give it room for a long authority's name.
                let holes = placeholders(text);
                let written: usize = holes.iter().map(|h| h.chars().count() + 2).sum();
                let chars = text.chars().count() - written + holes.len() * 12;
                let w = chars as f32 * size_pt * PT;
                let left = match align {
                    Align::Left => *x_mm,
                    Align::Center => x_mm - w / 2.0,
                    Align::Right => x_mm - w,
                };
                let area = (left, y_mm - size_pt * PT, left + w, y_mm + 0.25 * size_pt * PT);
                for s in &seals {
                    assert!(!meets(*s, area), "{name}: 演示样章 {s:?} covers \"{text}\" {area:?}");
                }
            }
        }
    }

    #[test]
    fn builtin_templates_parse() {
        let t = Templates::builtin().unwrap();
        assert_eq!(t.types(), ["business_licence", "certificate_of_proof", "generic_certificate"]);
        assert!(t.get("business_licence").unwrap().seal.is_some());
        let e = t.get("driving_licence").unwrap_err().to_string();
        assert!(e.contains("driving_licence") && e.contains("business_licence"), "{e}");
    }

    #[test]
    fn a_value_with_control_or_bidi_characters_is_filled_in_printable() {
        let fields = BTreeMap::from([("name".to_owned(), "张\u{202e}三\u{1b}[31m".to_owned())]);
        assert_eq!(fill("姓名：{name}", &fields).unwrap(), "姓名：张三[31m");
    }

    #[test]
    fn fill_and_placeholders() {
        let f = BTreeMap::from([("name".to_string(), "临沭".to_string())]);
        assert_eq!(fill("名称：{name}。", &f).unwrap(), "名称：临沭。");
        assert_eq!(fill("{nope}", &f).unwrap_err(), MissingField("nope".into()));
        assert_eq!(placeholders("{a} and {b}"), ["a", "b"]);
    }

    #[test]
    fn bad_templates_say_where() {
        let base = "type = \"t\"\ntitle_zh = \"x\"\ntitle_en = \"x\"\nnumber_field = \"n\"\nrequired = [\"n\"]\n";
        let e = Template::parse(
            &format!("{base}[[item]]\nkind = \"text\"\ntext = \"{{who}}\"\nx_mm = 1\ny_mm = 1\nsize_pt = 10\n"),
            "t.toml",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("t.toml, item 1") && e.contains("{who}"), "{e}");
        let e = Template::parse(
            &format!("{base}[[item]]\nkind = \"qr\"\ncontent = \"x\"\nx_mm = 200\ny_mm = 1\nsize_mm = 30\n"),
            "t.toml",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("outside the A4 page"), "{e}");
        let e =
            Template::parse(&format!("{base}[[item]]\nkind = \"circle\"\n"), "t.toml", None).unwrap_err().to_string();
        assert!(e.contains("t.toml") && e.contains("circle"), "{e}");
        let e = Template::parse(
            &format!("{base}[[item]]\nkind = \"seal\"\nx_mm = 1\ny_mm = 1\nsize_mm = 30\n"),
            "t.toml",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no `seal` image"), "{e}");
    }
}
