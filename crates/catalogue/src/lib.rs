//! 事项查询's data: the service catalogue and the partner points (two TOML files, docs/catalogue-format.md),
//! parsed and validated with errors that name the file, line, column, item and field; the search index over
//! them ([`search`]); and the installed copy a running kiosk swaps atomically ([`store`]).

pub mod guide;
pub mod search;
pub mod store;

use config::{FieldPath, Located, line_column, locate_serde_error, parse_hours};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use vocabulary::has_han;

/// The sample catalogue and partner points shipped for the demo (config/), built into the binary.
pub const SAMPLE_CATALOGUE: &str = include_str!("../../../config/catalogue.toml");
pub const SAMPLE_PARTNERS: &str = include_str!("../../../config/partners.toml");

/// The kinds of matter (事项类型) a catalogue may name.
pub const KINDS: [&str; 10] = [
    "行政许可",
    "行政确认",
    "行政给付",
    "行政征收",
    "行政裁决",
    "行政奖励",
    "行政检查",
    "行政强制",
    "其他行政权力",
    "公共服务",
];

/// Why a catalogue or partner file was refused. Display gives one sentence a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{file}: cannot read the file ({source}). Check the path and that the kiosk user may read it.", file = .file.display())]
    Unreadable { file: std::path::PathBuf, source: std::io::Error },
    #[error("{}", .0)]
    Invalid(Box<Located>),
}

/// `[catalogue]`: about the whole file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub title: String,
    #[serde(default)]
    pub title_en: String,
    /// The date the catalogue was last changed (YYYY-MM-DD), shown on the search page.
    pub updated: String,
    /// A sample (plausible, made up): the search page says so.
    #[serde(default)]
    pub sample: bool,
    /// The online service address of an item, `{code}` replaced, for items without their own `online_url`.
    #[serde(default)]
    pub online_url: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub id: String,
    pub name: String,
    /// Shown on an English screen; without it, the Chinese name is.
    #[serde(default)]
    pub name_en: String,
}

/// A 一件事 bundle: several items a life event needs.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
}

/// Where in the county an item can be done.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// The county hall (this hall).
    County,
    /// A town's 便民服务中心.
    Town,
    /// A street's 便民服务中心.
    Street,
    /// A village's 便民服务站.
    Village,
}

/// Partner point types.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum PartnerType {
    Bank,
    Post,
    Shop,
    Telecom,
    Other,
}

/// How much of an item can be done online.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Online {
    /// 全程网办
    Full,
    /// 部分网办
    Partial,
    /// 线下办理
    Offline,
}

/// Whether the hall wants a material's original, a copy, or both.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    Original,
    Copy,
    OriginalAndCopy,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub name: String,
    pub form: Form,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub note_en: String,
}

impl Material {
    pub fn name_in(&self, english: bool) -> &str {
        pick(&self.name, &self.name_en, english)
    }
    pub fn note_in(&self, english: bool) -> &str {
        pick(&self.note, &self.note_en, english)
    }
}

/// The English text on an English screen when the file has one, else the Chinese (the catalogue's own
/// language, which every field has).
pub fn pick<'a>(zh: &'a str, en: &'a str, english: bool) -> &'a str {
    if english && !en.trim().is_empty() { en } else { zh }
}

fn one() -> u32 {
    1
}

/// One matter (事项).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub short_name: String,
    /// What people call it (房产证 for 不动产权证书): searched, shown under the name.
    #[serde(default)]
    pub common_names: Vec<String>,
    pub department: String,
    pub kind: String,
    pub levels: Vec<Level>,
    #[serde(default)]
    pub partner_types: Vec<PartnerType>,
    /// 法定办结时限, working days (0: on the spot).
    pub legal_days: u32,
    /// 承诺办结时限, working days (0: on the spot).
    pub promised_days: u32,
    pub fee: String,
    pub online: Online,
    #[serde(default)]
    pub online_url: String,
    #[serde(default)]
    pub high_frequency: bool,
    #[serde(default)]
    pub themes: Vec<String>,
    /// The queue category (prefix) whose counters serve it.
    pub category: String,
    #[serde(default)]
    pub materials: Vec<Material>,
    /// English: the name, short name, common names (searched, as the Chinese ones are) and fee.
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub short_name_en: String,
    #[serde(default)]
    pub common_names_en: Vec<String>,
    #[serde(default)]
    pub fee_en: String,
}

impl Item {
    pub fn name_in(&self, english: bool) -> &str {
        pick(&self.name, &self.name_en, english)
    }
    pub fn fee_in(&self, english: bool) -> &str {
        pick(&self.fee, &self.fee_en, english)
    }
    /// The common names in the screen's language (the Chinese ones when the file has no English).
    pub fn common_names_in(&self, english: bool) -> &[String] {
        if english && !self.common_names_en.is_empty() { &self.common_names_en } else { &self.common_names }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    catalogue: Header,
    #[serde(default, rename = "department")]
    departments: Vec<Department>,
    #[serde(default, rename = "theme")]
    themes: Vec<Theme>,
    #[serde(default, rename = "item")]
    items: Vec<Item>,
}

/// `[partners]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct PartnersHeader {
    pub updated: String,
    #[serde(default)]
    pub sample: bool,
}

/// A partner point (bank branch, post office, shop) that handles some items.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Point {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: PartnerType,
    pub town: String,
    pub address: String,
    /// "HH:MM-HH:MM".
    pub hours: String,
    #[serde(default)]
    pub phone: String,
    /// Items it handles beyond those that name its type.
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub town_en: String,
    #[serde(default)]
    pub address_en: String,
}

impl Point {
    pub fn name_in(&self, english: bool) -> &str {
        pick(&self.name, &self.name_en, english)
    }
    pub fn town_in(&self, english: bool) -> &str {
        pick(&self.town, &self.town_en, english)
    }
    pub fn address_in(&self, english: bool) -> &str {
        pick(&self.address, &self.address_en, english)
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PartnersFile {
    partners: PartnersHeader,
    #[serde(default, rename = "point")]
    points: Vec<Point>,
}

/// The partner points, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partners {
    pub header: PartnersHeader,
    pub points: Vec<Point>,
}

/// A catalogue, validated, with its search index.
#[derive(Debug)]
pub struct Catalogue {
    pub header: Header,
    pub departments: Vec<Department>,
    pub themes: Vec<Theme>,
    pub items: Vec<Item>,
    pub partners: Partners,
    /// SHA-256 of the catalogue file's bytes, then the partner file's (hex): what the journal records.
    pub digest: String,
    by_code: HashMap<String, usize>,
    pub index: search::Index,
}

/// A problem at a field of a file.
struct Problem {
    path: FieldPath,
    message: String,
}

fn problem(path: FieldPath, message: impl Into<String>) -> Problem {
    Problem { path, message: message.into() }
}

/// Every text of the file is shown, printed on guides or spoken: none may hold a control character or a
/// bidirectional override (one ESC in a fee once split a printed guide and opened the cash drawer).
fn refuse_unprintable(src: &str, file: &Path) -> Result<(), CatalogueError> {
    match config::locate::unprintable_field(src) {
        Some((path, c)) => Err(located(src, file, problem(path, config::locate::unprintable_message(c)))),
        None => Ok(()),
    }
}

fn located(src: &str, file: &Path, p: Problem) -> CatalogueError {
    let index = config::SpanIndex::new(src);
    let span = index.span_of(&p.path).unwrap_or(0..0);
    let (line, column) = line_column(src, span.start);
    CatalogueError::Invalid(Box::new(Located {
        file: file.to_owned(),
        line,
        column,
        field: p.path.to_string(),
        message: p.message,
    }))
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok()
}

fn valid_id(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Parses and validates a catalogue file; `file` is used only in messages.
pub fn parse_catalogue(src: &str, file: &Path) -> Result<CatalogueFileChecked, CatalogueError> {
    let parsed: CatalogueFile = toml::from_str(src)
        .map_err(|e| CatalogueError::Invalid(Box::new(locate_serde_error(src, file, &e, "config/catalogue.toml"))))?;
    refuse_unprintable(src, file)?;
    check_catalogue(&parsed).and_then(|()| check_english(&parsed)).map_err(|p| located(src, file, p))?;
    Ok(CatalogueFileChecked(parsed))
}

/// A catalogue file that has passed [`parse_catalogue`].
#[derive(Debug, Clone)]
pub struct CatalogueFileChecked(CatalogueFile);

impl CatalogueFileChecked {
    pub fn items(&self) -> usize {
        self.0.items.len()
    }
    pub fn header(&self) -> &Header {
        &self.0.catalogue
    }
}

/// Parses and validates a partner file; the item codes it names must be in `catalogue` when given.
pub fn parse_partners(
    src: &str,
    file: &Path,
    catalogue: Option<&CatalogueFileChecked>,
) -> Result<Partners, CatalogueError> {
    let parsed: PartnersFile = toml::from_str(src)
        .map_err(|e| CatalogueError::Invalid(Box::new(locate_serde_error(src, file, &e, "config/partners.toml"))))?;
    let codes: Option<HashSet<&str>> = catalogue.map(|c| c.0.items.iter().map(|i| i.code.as_str()).collect());
    refuse_unprintable(src, file)?;
    check_partners(&parsed, codes.as_ref())
        .and_then(|()| check_english_points(&parsed))
        .map_err(|p| located(src, file, p))?;
    Ok(Partners { header: parsed.partners, points: parsed.points })
}

/// Which kind of file this TOML is: a catalogue (`[catalogue]`) or partner points (`[partners]`).
pub fn is_partner_file(src: &str) -> bool {
    toml::from_str::<toml::Table>(src).is_ok_and(|t| t.contains_key("partners") && !t.contains_key("catalogue"))
}

impl Catalogue {
    /// Builds the catalogue from both files' text (validated), with its digest and index.
    pub fn from_sources(
        catalogue_src: &str,
        catalogue_file: &Path,
        partners_src: Option<(&str, &Path)>,
    ) -> Result<Catalogue, CatalogueError> {
        let checked = parse_catalogue(catalogue_src, catalogue_file)?;
        let partners = match partners_src {
            Some((src, file)) => parse_partners(src, file, Some(&checked))?,
            None => Partners::default(),
        };
        let mut h = Sha256::new();
        h.update(catalogue_src.as_bytes());
        if let Some((src, _)) = partners_src {
            h.update(src.as_bytes());
        }
        Ok(Catalogue::new(checked, partners, hex::encode(h.finalize())))
    }

    fn new(checked: CatalogueFileChecked, partners: Partners, digest: String) -> Catalogue {
        let f = checked.0;
        let by_code = f.items.iter().enumerate().map(|(i, it)| (it.code.clone(), i)).collect();
        let index = search::Index::build(&f.items);
        Catalogue {
            header: f.catalogue,
            departments: f.departments,
            themes: f.themes,
            items: f.items,
            partners,
            digest,
            by_code,
            index,
        }
    }

    /// The shipped sample (demo, tests).
    pub fn sample() -> Catalogue {
        Catalogue::from_sources(
            SAMPLE_CATALOGUE,
            Path::new("config/catalogue.toml"),
            Some((SAMPLE_PARTNERS, Path::new("config/partners.toml"))),
        )
        .expect("the sample catalogue is valid")
    }

    pub fn item(&self, code: &str) -> Option<&Item> {
        self.by_code.get(code).map(|&i| &self.items[i])
    }

    pub fn department_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.departments.iter().find(|d| d.id == id).map_or(id, |d| d.name.as_str())
    }

    pub fn theme_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.themes.iter().find(|t| t.id == id).map_or(id, |t| t.name.as_str())
    }

    /// A department's name in the screen's language.
    pub fn department_name_in<'a>(&'a self, id: &'a str, english: bool) -> &'a str {
        self.departments.iter().find(|d| d.id == id).map_or(id, |d| pick(&d.name, &d.name_en, english))
    }

    pub fn theme_name_in<'a>(&'a self, id: &'a str, english: bool) -> &'a str {
        self.themes.iter().find(|t| t.id == id).map_or(id, |t| pick(&t.name, &t.name_en, english))
    }

    /// A town's name (as [`Catalogue::towns`] gives it) in the screen's language: the English its partner
    /// points write.
    pub fn town_name_in<'a>(&'a self, town: &'a str, english: bool) -> &'a str {
        self.partners.points.iter().find(|p| p.town == town).map_or(town, |p| p.town_in(english))
    }

    /// The online service address of an item, if it can be done online.
    pub fn online_url(&self, item: &Item) -> Option<String> {
        if item.online == Online::Offline {
            return None;
        }
        let url = if item.online_url.is_empty() { &self.header.online_url } else { &item.online_url };
        (!url.is_empty()).then(|| url.replace("{code}", &item.code))
    }

    /// The partner points that handle an item: by their type, or by naming it.
    pub fn points_for<'a>(&'a self, item: &'a Item) -> impl Iterator<Item = &'a Point> + 'a {
        self.partners
            .points
            .iter()
            .filter(move |p| item.partner_types.contains(&p.kind) || p.items.contains(&item.code))
    }

    /// The towns (and streets) the partner points are in, in the file's order, each once: the places a
    /// citizen picks as "where I live" on an item's page.
    pub fn towns(&self) -> Vec<&str> {
        let mut towns: Vec<&str> = vec![];
        for p in &self.partners.points {
            if !towns.contains(&p.town.as_str()) {
                towns.push(&p.town);
            }
        }
        towns
    }

    /// The item's partner points in `town` (all of them when `None`), then, when `town` is given, none else.
    pub fn points_in<'a>(&'a self, item: &'a Item, town: Option<&'a str>) -> impl Iterator<Item = &'a Point> + 'a {
        self.points_for(item).filter(move |p| town.is_none_or(|t| p.town == t))
    }

    /// Indices of items, high-frequency first then by code, that pass `keep`.
    pub fn list(&self, keep: impl Fn(&Item) -> bool) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.items.len()).filter(|&i| keep(&self.items[i])).collect();
        v.sort_by(|&a, &b| {
            let (a, b) = (&self.items[a], &self.items[b]);
            b.high_frequency.cmp(&a.high_frequency).then_with(|| a.code.cmp(&b.code))
        });
        v
    }
}

fn check_catalogue(f: &CatalogueFile) -> Result<(), Problem> {
    let root = FieldPath::default();
    let h = root.clone().key("catalogue");
    if blank(&f.catalogue.title) {
        return Err(problem(h.key("title"), "The catalogue's title is empty; write the name staff know it by."));
    }
    if !is_date(&f.catalogue.updated) {
        return Err(problem(
            h.key("updated"),
            format!("\"{}\" is not a date; write the day it was last changed as YYYY-MM-DD.", f.catalogue.updated),
        ));
    }
    check_url(&f.catalogue.online_url).map_err(|m| problem(h.clone().key("online_url"), m))?;
    let mut departments = HashSet::new();
    for (i, d) in f.departments.iter().enumerate() {
        let p = root.clone().key("department").index(i);
        if !valid_id(&d.id, 32) {
            return Err(problem(
                p.key("id"),
                format!("The department id \"{}\" must be 1 to 32 of a-z, 0-9, '-' or '_'.", d.id),
            ));
        }
        if !departments.insert(d.id.as_str()) {
            return Err(problem(
                p.key("id"),
                format!("The department id \"{}\" is used twice; ids must be unique.", d.id),
            ));
        }
        if blank(&d.name) {
            return Err(problem(p.key("name"), format!("Department \"{}\" has no name.", d.id)));
        }
    }
    let mut themes = HashSet::new();
    for (i, t) in f.themes.iter().enumerate() {
        let p = root.clone().key("theme").index(i);
        if !valid_id(&t.id, 32) {
            return Err(problem(
                p.key("id"),
                format!("The theme id \"{}\" must be 1 to 32 of a-z, 0-9, '-' or '_'.", t.id),
            ));
        }
        if !themes.insert(t.id.as_str()) {
            return Err(problem(p.key("id"), format!("The theme id \"{}\" is used twice; ids must be unique.", t.id)));
        }
        if blank(&t.name) {
            return Err(problem(p.key("name"), format!("Theme \"{}\" has no name.", t.id)));
        }
    }
    if f.items.is_empty() {
        return Err(problem(root.key("item"), "The catalogue has no items; add at least one [[item]]."));
    }
    let mut codes = HashSet::new();
    for (i, it) in f.items.iter().enumerate() {
        let p = root.clone().key("item").index(i);
        let who =
            if it.name.is_empty() { format!("item {}", it.code) } else { format!("item {} ({})", it.code, it.name) };
        let fail = |field: &str, msg: String| Err(problem(p.clone().key(field), format!("{who}: {msg}")));
        if !valid_id(&it.code, 40) {
            return fail("code", "the code must be 1 to 40 of A-Z, a-z, 0-9, '-' or '_'.".into());
        }
        if !codes.insert(it.code.as_str()) {
            return fail("code", "this code is used by an earlier item too; codes must be unique.".into());
        }
        if blank(&it.name) || it.name.chars().count() > 60 {
            return fail("name", "the name must be 1 to 60 characters.".into());
        }
        if it.short_name.chars().count() > 30 {
            return fail("short_name", "the short name must be at most 30 characters.".into());
        }
        if let Some(n) = it.common_names.iter().position(|c| blank(c) || c.chars().count() > 30) {
            return Err(problem(
                p.clone().key("common_names").index(n),
                format!("{who}: each common name must be 1 to 30 characters."),
            ));
        }
        if !departments.contains(it.department.as_str()) {
            return fail(
                "department",
                format!(
                    "\"{}\" is not a department of this file; add it as a [[department]] or correct the id.",
                    it.department
                ),
            );
        }
        if !KINDS.contains(&it.kind.as_str()) {
            return fail("kind", format!("\"{}\" is not a kind of matter; use one of {}.", it.kind, KINDS.join("、")));
        }
        if it.levels.is_empty() {
            return fail("levels", "say where it can be done: one or more of county, town, street, village.".into());
        }
        if it.legal_days > 365 || it.promised_days > it.legal_days {
            return fail(
                "promised_days",
                format!(
                    "the promised time ({} working days) must not be longer than the legal time ({}), which is at most 365.",
                    it.promised_days, it.legal_days
                ),
            );
        }
        if blank(&it.fee) {
            return fail("fee", "say what it costs, e.g. \"不收费\" or \"80 元\".".into());
        }
        check_url(&it.online_url).map_err(|m| problem(p.clone().key("online_url"), format!("{who}: {m}")))?;
        if it.online != Online::Offline && it.online_url.is_empty() && f.catalogue.online_url.is_empty() {
            return fail(
                "online_url",
                "it can be done online but no address is given here or in [catalogue] online_url.".into(),
            );
        }
        if let Some(n) = it.themes.iter().position(|t| !themes.contains(t.as_str())) {
            return Err(problem(
                p.clone().key("themes").index(n),
                format!(
                    "{who}: \"{}\" is not a theme of this file; add it as a [[theme]] or correct the id.",
                    it.themes[n]
                ),
            ));
        }
        if it.category.len() != 1 || !it.category.chars().all(|c| c.is_ascii_uppercase()) {
            return fail(
                "category",
                format!("\"{}\" is not a queue category prefix; write one letter A-Z.", it.category),
            );
        }
        for (m, mat) in it.materials.iter().enumerate() {
            let mp = p.clone().key("materials").index(m);
            if blank(&mat.name) || mat.name.chars().count() > 40 {
                return Err(problem(
                    mp.key("name"),
                    format!("{who}: material {} needs a name of 1 to 40 characters.", m + 1),
                ));
            }
            if !(1..=20).contains(&mat.count) {
                return Err(problem(
                    mp.key("count"),
                    format!("{who}: material \"{}\" must be wanted 1 to 20 times, not {}.", mat.name, mat.count),
                ));
            }
        }
    }
    Ok(())
}

/// The sentence for an online address that is not one: a problem's message, placed by its caller.
fn check_url(url: &str) -> Result<(), String> {
    if url.is_empty() || (url.starts_with("https://") && url.len() <= 200 && !url.contains(char::is_whitespace)) {
        Ok(())
    } else {
        Err(format!("\"{url}\" is not an https:// address of at most 200 characters."))
    }
}

fn english_problem(path: FieldPath, value: &str) -> Problem {
    problem(
        path,
        format!(
            "\"{value}\" is an English field but holds Chinese characters; write it in English, or leave the field out and the Chinese is shown."
        ),
    )
}

/// Every `*_en` field of a catalogue is English: no Chinese character in it.
fn check_english(f: &CatalogueFile) -> Result<(), Problem> {
    let root = FieldPath::default();
    if has_han(&f.catalogue.title_en) {
        return Err(english_problem(root.key("catalogue").key("title_en"), &f.catalogue.title_en));
    }
    for (i, d) in f.departments.iter().enumerate() {
        if has_han(&d.name_en) {
            return Err(english_problem(root.clone().key("department").index(i).key("name_en"), &d.name_en));
        }
    }
    for (i, t) in f.themes.iter().enumerate() {
        if has_han(&t.name_en) {
            return Err(english_problem(root.clone().key("theme").index(i).key("name_en"), &t.name_en));
        }
    }
    for (i, it) in f.items.iter().enumerate() {
        let p = root.clone().key("item").index(i);
        for (field, value) in [("name_en", &it.name_en), ("short_name_en", &it.short_name_en), ("fee_en", &it.fee_en)] {
            if has_han(value) {
                return Err(english_problem(p.clone().key(field), value));
            }
        }
        if let Some(n) = it.common_names_en.iter().position(|c| has_han(c)) {
            return Err(english_problem(p.clone().key("common_names_en").index(n), &it.common_names_en[n]));
        }
        for (m, mat) in it.materials.iter().enumerate() {
            for (field, value) in [("name_en", &mat.name_en), ("note_en", &mat.note_en)] {
                if has_han(value) {
                    return Err(english_problem(p.clone().key("materials").index(m).key(field), value));
                }
            }
        }
    }
    Ok(())
}

fn check_english_points(f: &PartnersFile) -> Result<(), Problem> {
    for (i, pt) in f.points.iter().enumerate() {
        for (field, value) in [("name_en", &pt.name_en), ("town_en", &pt.town_en), ("address_en", &pt.address_en)] {
            if has_han(value) {
                return Err(english_problem(FieldPath::default().key("point").index(i).key(field), value));
            }
        }
    }
    Ok(())
}

fn check_partners(f: &PartnersFile, codes: Option<&HashSet<&str>>) -> Result<(), Problem> {
    let root = FieldPath::default();
    if !is_date(&f.partners.updated) {
        return Err(problem(
            root.clone().key("partners").key("updated"),
            format!("\"{}\" is not a date; write the day it was last changed as YYYY-MM-DD.", f.partners.updated),
        ));
    }
    let mut ids = HashSet::new();
    for (i, pt) in f.points.iter().enumerate() {
        let p = root.clone().key("point").index(i);
        let who = format!("point {} ({})", pt.id, pt.name);
        let fail = |field: &str, msg: String| Err(problem(p.clone().key(field), format!("{who}: {msg}")));
        if !valid_id(&pt.id, 32) {
            return fail("id", "the id must be 1 to 32 of a-z, 0-9, '-' or '_'.".into());
        }
        if !ids.insert(pt.id.as_str()) {
            return fail("id", "this id is used by an earlier point too; ids must be unique.".into());
        }
        for (field, value) in [("name", &pt.name), ("town", &pt.town), ("address", &pt.address)] {
            if blank(value) {
                return fail(field, format!("the {field} is empty."));
            }
        }
        if parse_hours(&pt.hours).is_none() {
            return fail("hours", format!("\"{}\" is not opening hours; write them as HH:MM-HH:MM.", pt.hours));
        }
        if let Some(codes) = codes
            && let Some(n) = pt.items.iter().position(|c| !codes.contains(c.as_str()))
        {
            return Err(problem(
                p.clone().key("items").index(n),
                format!("{who}: \"{}\" is not an item of the catalogue.", pt.items[n]),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_big_enough() {
        let c = Catalogue::sample();
        assert!(c.items.len() >= 300, "{}", c.items.len());
        assert!(c.departments.len() >= 15);
        assert!(c.themes.len() >= 10);
        assert!(c.partners.points.len() >= 40);
        let towns: HashSet<&str> = c.partners.points.iter().map(|p| p.town.as_str()).collect();
        assert!(towns.len() >= 10, "{towns:?}");
        for t in &c.themes {
            assert!(c.items.iter().any(|i| i.themes.contains(&t.id)), "theme {} has no items", t.id);
        }
        assert!(c.header.sample && c.partners.header.sample);
    }

    fn err(src: &str) -> String {
        match parse_catalogue(src, Path::new("c.toml")) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn errors_name_the_item_field_line_and_column() {
        let bad = SAMPLE_CATALOGUE.replacen("count = 1\n", "count = 0\n", 1);
        let e = err(&bad);
        assert!(e.contains("item[0].materials[0].count") && e.contains("371329-GA-001"), "{e}");
        let (line, _) = line_column(&bad, bad.find("count = 0").unwrap());
        assert!(e.starts_with(&format!("c.toml:{line}:")), "{e}");
        let e = err(&SAMPLE_CATALOGUE.replacen("department = \"ga\"", "department = \"nope\"", 1));
        assert!(e.contains("item[0].department") && e.contains("\"nope\""), "{e}");
        let e = err(&SAMPLE_CATALOGUE.replacen("kind = \"公共服务\"", "kind = \"随便\"", 1));
        assert!(e.contains("item[0].kind"), "{e}");
        let e = err(&SAMPLE_CATALOGUE.replacen("online = \"offline\"", "online = \"sometimes\"", 1));
        assert!(e.contains("item[0].online") && e.contains("sometimes"), "{e}");
        let e = err(&SAMPLE_CATALOGUE.replacen("code = \"371329-GA-002\"", "code = \"371329-GA-001\"", 1));
        assert!(e.contains("item[1].code") && e.contains("unique"), "{e}");
        let e = err(&SAMPLE_CATALOGUE.replacen("updated = \"2026-11-20\"", "updated = \"yesterday\"", 1));
        assert!(e.contains("catalogue.updated"), "{e}");
        let e = err("[catalogue]\ntitle = \"x\"\nupdated = \"2026-01-01\"\n[[item]]\ncode = ");
        assert!(e.starts_with("c.toml:5:"), "{e}");
    }

    #[test]
    fn partner_points_must_name_known_items() {
        let c = parse_catalogue(SAMPLE_CATALOGUE, Path::new("c.toml")).unwrap();
        let bad = SAMPLE_PARTNERS.replacen("371329-RS-003", "NO-SUCH-ITEM", 1);
        let e = parse_partners(&bad, Path::new("p.toml"), Some(&c)).unwrap_err().to_string();
        assert!(e.contains("NO-SUCH-ITEM") && e.contains("items[0]"), "{e}");
        let bad = SAMPLE_PARTNERS.replacen("08:30-17:00", "8.30 till 5", 1);
        let e = parse_partners(&bad, Path::new("p.toml"), None).unwrap_err().to_string();
        assert!(e.contains("point[0].hours"), "{e}");
        assert!(is_partner_file(SAMPLE_PARTNERS) && !is_partner_file(SAMPLE_CATALOGUE));
    }
}
