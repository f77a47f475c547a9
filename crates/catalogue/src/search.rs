//! Search as you type over the catalogue: Chinese substrings, full pinyin, pinyin initials and any mix of
//! them ("bdc", "budongchan", "bdc证"), common names and material names, ranked, with one wrong initial
//! forgiven when nothing else matches.
//!
//! Each distinct string (a name, a common name, a material) is indexed once with every reading of every
//! character (the `pinyin` crate's heteronyms, so 重庆 is found by "cq" and 重新 by "cx", 银行 by "yh" and 行政
//! by "xz"). A query starts only where its first character can: postings by first letter or Hanzi keep a
//! keystroke well under a millisecond over thousands of items (scripts/bench measures it).

use super::Item;
use pinyin::ToPinyinMulti;
use std::collections::HashMap;
use vocabulary::is_han;

/// Why an item matched, best first: the order results are ranked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rank {
    /// The whole name (or short name).
    Exact,
    /// A whole common name (房产证 typed in full for 不动产登记): what the citizen calls the item.
    ExactCommonName,
    /// The start of the name.
    Prefix,
    /// Somewhere inside the name (Chinese, initials or pinyin).
    Inside,
    /// A common name (房产证 for 不动产权证书).
    CommonName,
    /// One of its materials.
    Material,
}

impl Rank {
    pub fn as_str(self) -> &'static str {
        match self {
            Rank::Exact => "exact",
            Rank::ExactCommonName => "exact_common_name",
            Rank::Prefix => "prefix",
            Rank::Inside => "inside",
            Rank::CommonName => "common_name",
            Rank::Material => "material",
        }
    }
}

/// One result: the item (an index into the catalogue's items) and why it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub item: usize,
    pub rank: Rank,
    /// Characters typed as only the start of their syllable (or an initial, or with a letter wrong): within
    /// a rank, fewer first, so "shen" puts 身 before 生 (sheng).
    pub partial: u16,
}

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Best first, at most the limit asked for.
    pub hits: Vec<Hit>,
    /// How many items matched in all.
    pub total: usize,
    /// Nothing matched exactly: these match with one letter of the query wrong.
    pub approximate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Name,
    CommonName,
    Material,
}

/// One distinct string, with the readings of each of its characters.
#[derive(Debug)]
struct Field {
    chars: Vec<char>,
    /// Per character: the lowercase ASCII strings that type it (its pinyin readings, or itself).
    readings: Vec<Vec<&'static str>>,
    owners: Vec<(u32, Source)>,
}

/// The search index of one catalogue.
#[derive(Debug, Default)]
pub struct Index {
    fields: Vec<Field>,
    /// Where a query may start: by a reading's first letter, or by the character itself.
    starts: HashMap<char, Vec<(u32, u16)>>,
    /// Per item: high frequency, and the name's length, for ties.
    items: Vec<(bool, u16)>,
}

/// Lowercase letters and digits as static strings, so a field's readings are all `&'static str`.
const ASCII: [&str; 36] = [
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w",
    "x", "y", "z", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
];

fn readings_of(c: char) -> Vec<&'static str> {
    if c.is_ascii_alphanumeric() {
        let c = c.to_ascii_lowercase();
        let i = if c.is_ascii_digit() { 26 + (c as u8 - b'0') } else { c as u8 - b'a' };
        return vec![ASCII[i as usize]];
    }
    let mut v: Vec<&'static str> = match c.to_pinyin_multi() {
        Some(multi) => multi.into_iter().map(plain).collect(),
        None => vec![],
    };
    v.dedup();
    v
}

/// A reading without tone marks, ü written v (as pinyin keyboards do).
fn plain(p: pinyin::Pinyin) -> &'static str {
    let s = p.plain();
    if s.contains('ü') {
        // A handful of syllables (lü, nü, lüe, nüe): leak them once, they are few and fixed.
        static CACHE: std::sync::OnceLock<std::sync::Mutex<HashMap<&'static str, &'static str>>> =
            std::sync::OnceLock::new();
        let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        return cache.entry(s).or_insert_with(|| Box::leak(s.replace('ü', "v").into_boxed_str()));
    }
    s
}

/// What a query is made of: lowercase letters and digits, and Chinese characters; everything else
/// (spaces, apostrophes between syllables, punctuation) is dropped.
pub fn normalize(query: &str) -> Vec<char> {
    query
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ü' { 'v' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || is_han(*c))
        .take(64)
        .collect()
}

impl Index {
    pub fn build<'a>(items: &'a [Item]) -> Index {
        let mut index = Index::default();
        let mut by_text: HashMap<&'_ str, u32> = HashMap::new();
        // English texts with their spaces taken out: owned here, indexed after the Chinese ones.
        let mut english: Vec<(u32, String, Source)> = Vec::new();
        for (n, item) in items.iter().enumerate() {
            let n = n as u32;
            index.items.push((item.high_frequency, item.name.chars().count().min(u16::MAX as usize) as u16));
            let mut add = |text: &'a str, source: Source| {
                let id = *by_text.entry(text).or_insert_with(|| {
                    let chars: Vec<char> = text.chars().take(u16::MAX as usize).collect();
                    let readings = chars.iter().map(|&c| readings_of(c)).collect();
                    index.fields.push(Field { chars, readings, owners: vec![] });
                    (index.fields.len() - 1) as u32
                });
                let owners = &mut index.fields[id as usize].owners;
                if !owners.contains(&(n, source)) {
                    owners.push((n, source));
                }
            };
            add(&item.name, Source::Name);
            if !item.short_name.is_empty() {
                add(&item.short_name, Source::Name);
            }
            for c in &item.common_names {
                add(c, Source::CommonName);
            }
            for m in &item.materials {
                add(&m.name, Source::Material);
            }
            // English, as a reader of English types it: letters only ("ID card" is found by "id", "idc",
            // "card").
            for (text, source) in [(&item.name_en, Source::Name), (&item.short_name_en, Source::Name)]
                .into_iter()
                .chain(item.common_names_en.iter().map(|c| (c, Source::CommonName)))
                .chain(item.materials.iter().map(|m| (&m.name_en, Source::Material)))
            {
                let letters: String = text.chars().filter(char::is_ascii_alphanumeric).collect();
                if !letters.is_empty() {
                    english.push((n, letters, source));
                }
            }
        }
        for (n, text, source) in &english {
            let id = *by_text.entry(text.as_str()).or_insert_with(|| {
                let chars: Vec<char> = text.chars().take(u16::MAX as usize).collect();
                let readings = chars.iter().map(|&c| readings_of(c)).collect();
                index.fields.push(Field { chars, readings, owners: vec![] });
                (index.fields.len() - 1) as u32
            });
            let owners = &mut index.fields[id as usize].owners;
            if !owners.contains(&(*n, *source)) {
                owners.push((*n, *source));
            }
        }
        for (f, field) in index.fields.iter().enumerate() {
            for (pos, (&c, readings)) in field.chars.iter().zip(&field.readings).enumerate() {
                let mut keys: Vec<char> = readings.iter().filter_map(|r| r.chars().next()).collect();
                keys.push(c.to_ascii_lowercase());
                keys.sort_unstable();
                keys.dedup();
                for k in keys {
                    index.starts.entry(k).or_default().push((f as u32, pos as u16));
                }
            }
        }
        index
    }

    /// The items matching `query`, best first, at most `limit` of them.
    pub fn search(&self, query: &str, limit: usize) -> Found {
        let q = normalize(query);
        if q.is_empty() {
            return Found::default();
        }
        let mut best: Vec<Option<(Rank, u16)>> = vec![None; self.items.len()];
        let mut memo = Memo::default();
        if let Some(starts) = self.starts.get(&q[0]) {
            for &(f, pos) in starts {
                let field = &self.fields[f as usize];
                memo.reset(field.chars.len(), q.len());
                if let Some(m) = match_at(field, pos as usize, &q, 0, 0, &mut memo) {
                    self.credit(field, pos as usize == 0, m, &mut best);
                }
            }
        }
        let mut approximate = false;
        // One wrong initial is forgiven, only when nothing matched and the query is long enough to mean it.
        if best.iter().all(Option::is_none) && q.len() >= 3 && q.iter().all(|c| c.is_ascii_lowercase()) {
            approximate = true;
            // With one letter wrong, either the first letter is right (a match starts where it does) or
            // the second is (a match starts one character before it).
            let first = self.starts.get(&q[0]).into_iter().flatten().copied();
            let second = self.starts.get(&q[1]).into_iter().flatten().filter(|(_, p)| *p > 0).map(|&(f, p)| (f, p - 1));
            for (f, pos) in first.chain(second) {
                let field = &self.fields[f as usize];
                memo.reset(field.chars.len(), q.len());
                if let Some(m) = match_at(field, pos as usize, &q, 0, 1, &mut memo) {
                    self.credit(field, pos == 0, m, &mut best);
                }
            }
        }
        let mut hits: Vec<Hit> = best
            .iter()
            .enumerate()
            .filter_map(|(item, r)| r.map(|(rank, partial)| Hit { item, rank, partial }))
            .collect();
        let total = hits.len();
        let key = |h: &Hit| {
            let (frequent, len) = self.items[h.item];
            (h.rank, h.partial, !frequent, len, h.item)
        };
        if hits.len() > limit {
            hits.select_nth_unstable_by_key(limit, key);
            hits.truncate(limit);
        }
        hits.sort_unstable_by_key(key);
        Found { hits, total, approximate }
    }

    fn credit(&self, field: &Field, at_start: bool, m: Match, best: &mut [Option<(Rank, u16)>]) {
        let to_end = usize::from(m.end) == field.chars.len();
        for &(item, source) in &field.owners {
            let rank = match source {
                Source::Name if at_start && to_end => Rank::Exact,
                Source::Name if at_start => Rank::Prefix,
                Source::Name => Rank::Inside,
                Source::CommonName if at_start && to_end => Rank::ExactCommonName,
                Source::CommonName => Rank::CommonName,
                Source::Material => Rank::Material,
            };
            let slot = &mut best[item as usize];
            if slot.is_none_or(|r| (rank, m.partial) < r) {
                *slot = Some((rank, m.partial));
            }
        }
    }
}

/// The best match found from each place (character, query position, typos left), for one field and query.
/// Each slot carries the generation it was written in, so starting on another field is a counter's step, not
/// a pass over the table (a search starts thousands of times per keystroke).
#[derive(Default)]
struct Memo {
    best: Vec<(u32, Option<Match>)>,
    generation: u32,
    width: usize,
}

impl Memo {
    fn reset(&mut self, chars: usize, query: usize) {
        self.width = query + 1;
        let len = (chars + 1) * self.width * 2;
        if self.best.len() < len {
            self.best.resize(len, (0, None));
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Once in four billion starts: every slot's stamp could be mistaken for the new generation.
            self.best.iter_mut().for_each(|b| b.0 = 0);
            self.generation = 1;
        }
    }
    fn slot(&self, at: usize, qp: usize, typos: u8) -> usize {
        (at * self.width + qp) * 2 + typos as usize
    }
    fn known(&self, slot: usize) -> Option<Option<Match>> {
        let (generation, best) = self.best[slot];
        (generation == self.generation).then_some(best)
    }
}

/// How a query matched a field from a start: where the match ends, and how many characters were typed as
/// only part of their syllable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Match {
    /// Fields are at most u16::MAX characters (the index cuts them there), so the memo stays small.
    end: u16,
    partial: u16,
}

impl Match {
    /// Better: reaching the field's end (a whole name), then fewer partly typed syllables.
    fn better(self, other: Option<Match>, len: u16) -> Match {
        match other {
            Some(o) if ((o.end != len), o.partial) < ((self.end != len), self.partial) => o,
            _ => self,
        }
    }
}

/// Matches `q[qp..]` against the field from character `at`, each character typed as itself or as a prefix
/// of one of its readings (so initials, full pinyin and a mix all match). Returns the best match: one that
/// reaches the field's end if any does, then the one with the fewest syllables typed only in part.
fn match_at(field: &Field, at: usize, q: &[char], qp: usize, typos: u8, memo: &mut Memo) -> Option<Match> {
    if qp == q.len() {
        return Some(Match { end: at as u16, partial: 0 });
    }
    if at == field.chars.len() {
        return None;
    }
    let slot = memo.slot(at, qp, typos);
    if let Some(known) = memo.known(slot) {
        return known;
    }
    let len = field.chars.len() as u16;
    let mut best: Option<Match> = None;
    let offer = |best: &mut Option<Match>, m: Option<Match>, extra: u16| {
        if let Some(m) = m {
            let m = Match { end: m.end, partial: m.partial + extra };
            *best = Some(best.map_or(m, |b| b.better(Some(m), len)));
        }
    };
    // Nothing beats a match to the field's end with every syllable typed whole: stop looking once found.
    let perfect = |b: &Option<Match>| b.is_some_and(|m| m.end == len && m.partial == 0);
    let c = q[qp];
    if field.chars[at] == c || field.chars[at].to_ascii_lowercase() == c {
        offer(&mut best, match_at(field, at + 1, q, qp + 1, typos, memo), 0);
    }
    if c.is_ascii_lowercase() && !perfect(&best) {
        'readings: for reading in &field.readings[at] {
            let common = reading.bytes().zip(q[qp..].iter()).take_while(|(r, c)| *r as char == **c).count();
            // The longest typed part first: a whole syllable is the likelier perfect match.
            for k in (1..=common).rev() {
                // A whole syllable costs nothing; its start (an initial, "shen" for sheng) counts as partial.
                let extra = u16::from(k < reading.len());
                offer(&mut best, match_at(field, at + 1, q, qp + k, typos, memo), extra);
                if perfect(&best) {
                    break 'readings;
                }
            }
        }
        // One letter typed wrong stands for this character's initial.
        if typos > 0 && !field.readings[at].is_empty() && !perfect(&best) {
            offer(&mut best, match_at(field, at + 1, q, qp + 1, typos - 1, memo), 1);
        }
    }
    memo.best[slot] = (memo.generation, best);
    best
}

#[cfg(test)]
mod tests {
    use super::super::Catalogue;
    use super::*;

    fn names(c: &Catalogue, q: &str, n: usize) -> Vec<String> {
        c.index.search(q, n).hits.iter().map(|h| c.items[h.item].name.clone()).collect()
    }

    fn item(name: &str, common: &[&str], materials: &[&str], frequent: bool) -> Item {
        let mut it = Catalogue::sample().items[0].clone();
        it.name = name.into();
        it.short_name.clear();
        it.common_names = common.iter().map(|s| s.to_string()).collect();
        it.materials.truncate(1);
        it.materials[0].name = materials.first().copied().unwrap_or("申请表").into();
        it.high_frequency = frequent;
        it
    }

    #[test]
    fn every_way_of_typing_finds_real_estate_registration() {
        let c = Catalogue::sample();
        for q in ["bdc", "BDC", "budongchan", "budongc", "bdchan", "bdc证", "不动产", "动产登", "bu dong chan"] {
            let found = names(&c, q, 10);
            assert!(found.iter().any(|n| n == "不动产登记"), "{q}: {found:?}");
        }
        assert_eq!(names(&c, "bdc", 1), ["不动产登记"], "high frequency and shortest first among prefixes");
        assert_eq!(names(&c, "不动产登记", 1), ["不动产登记"], "the exact name first");
        let found = c.index.search("bdc证", 50);
        assert!(found.hits.iter().all(|h| c.items[h.item].name.contains('证')
            || c.items[h.item].common_names.iter().any(|n| n.contains('证'))
            || c.items[h.item].materials.iter().any(|m| m.name.contains('证'))));
    }

    #[test]
    fn common_names_and_materials_are_searched() {
        let c = Catalogue::sample();
        let hits = c.index.search("房产证", 5).hits;
        let first = &c.items[hits[0].item];
        assert_eq!((first.name.as_str(), hits[0].rank), ("不动产登记", Rank::ExactCommonName));
        assert_eq!(names(&c, "准生证", 1), ["生育登记"]);
        assert!(names(&c, "社保", 3).contains(&"社会保障卡申领".to_string()));
        let hits = c.index.search("契税完税凭证", 300).hits;
        assert!(!hits.is_empty() && hits.iter().all(|h| h.rank == Rank::Material), "{hits:?}");
    }

    #[test]
    fn polyphones_are_found_by_each_reading() {
        let items = vec![
            item("重庆市户籍迁入", &[], &[], false),
            item("重新申领驾驶证", &[], &[], false),
            item("银行开户证明", &[], &[], false),
            item("行政复议申请", &[], &[], false),
        ];
        let index = Index::build(&items);
        let first = |q: &str| index.search(q, 1).hits.first().map(|h| items[h.item].name.clone());
        assert_eq!(first("cq").as_deref(), Some("重庆市户籍迁入"));
        assert_eq!(first("chongqing").as_deref(), Some("重庆市户籍迁入"));
        assert_eq!(first("cxsl").as_deref(), Some("重新申领驾驶证"));
        assert_eq!(first("yh").as_deref(), Some("银行开户证明"));
        assert_eq!(first("yinhang").as_deref(), Some("银行开户证明"));
        assert_eq!(first("xz").as_deref(), Some("行政复议申请"));
        assert_eq!(first("xingzheng").as_deref(), Some("行政复议申请"));
    }

    #[test]
    fn ranking_follows_exact_prefix_inside_common_material() {
        let items = vec![
            item("材料补正", &[], &["护照"], true),     // material
            item("证件办理", &["护照办理"], &[], true), // common name
            item("普通护照签发", &[], &[], false),      // inside
            item("护照签发", &[], &[], false),          // prefix
            item("护照", &[], &[], false),              // exact
            item("护照加注", &[], &[], true),           // prefix, frequent: before the other prefix
        ];
        let index = Index::build(&items);
        let found = index.search("hz", 10);
        let order: Vec<(&str, Rank)> = found.hits.iter().map(|h| (items[h.item].name.as_str(), h.rank)).collect();
        assert_eq!(
            order,
            [
                ("护照", Rank::Exact),
                ("护照加注", Rank::Prefix),
                ("护照签发", Rank::Prefix),
                ("普通护照签发", Rank::Inside),
                ("证件办理", Rank::CommonName),
                ("材料补正", Rank::Material),
            ]
        );
        assert_eq!(found.total, 6);
        assert_eq!(index.search("hz", 2).hits.len(), 2);
    }

    /// Issue #30: the full pinyin of a common name did not put its item first, and a reading that merely
    /// starts with the typed syllable ranked as high as an exact one.
    #[test]
    fn a_whole_syllable_ranks_above_its_start_and_a_whole_common_name_above_both() {
        let items = vec![
            item("生育登记", &[], &[], true),            // sheng: "shen" is only its start
            item("身份证补领", &[], &[], false),         // shen: the whole syllable
            item("房产证遗失补办", &[], &[], true),      // its name starts with 房产证
            item("不动产登记", &["房产证"], &[], false), // 房产证 is what citizens call it
            item("税务登记", &[], &[], false),
            item("税收完税证明", &["完税证明"], &[], false),
        ];
        let index = Index::build(&items);
        let order =
            |q: &str| -> Vec<&str> { index.search(q, 10).hits.iter().map(|h| items[h.item].name.as_str()).collect() };
        assert_eq!(order("shen")[..2], ["身份证补领", "生育登记"], "shen is 身, only the start of sheng");
        assert_eq!(order("sheng")[..1], ["生育登记"]);
        assert_eq!(order("fangchanzheng")[..2], ["不动产登记", "房产证遗失补办"], "the whole common name first");
        assert_eq!(order("房产证")[..2], ["不动产登记", "房产证遗失补办"]);
        assert_eq!(order("fcz")[..2], ["不动产登记", "房产证遗失补办"], "initials of the whole common name too");
        assert_eq!(order("wanshuizhengming")[..1], ["税收完税证明"]);
        // Typed whole, the shorter frequent prefix match still comes after the exact syllables.
        assert_eq!(order("shuiwu")[..1], ["税务登记"]);
        let hits = index.search("shen", 10).hits;
        assert_eq!((hits[0].rank, hits[0].partial, hits[1].rank, hits[1].partial), (Rank::Prefix, 0, Rank::Prefix, 1));
    }

    #[test]
    fn one_wrong_initial_is_forgiven_only_when_nothing_matches() {
        let c = Catalogue::sample();
        // 不动产登记 typed with one initial wrong: b-d-x for b-d-c.
        let found = c.index.search("bdxdj", 5);
        assert!(found.approximate, "{found:?}");
        assert_eq!(c.items[found.hits[0].item].name, "不动产登记");
        let found = c.index.search("bdcdj", 5);
        assert!(!found.approximate);
        assert!(c.index.search("qqqqqqqq", 5).hits.is_empty());
        assert!(!c.index.search("zz", 5).approximate, "two letters are never guessed at");
    }

    #[test]
    fn nothing_typed_or_nothing_searchable_finds_nothing() {
        let c = Catalogue::sample();
        assert_eq!(c.index.search("", 5), Found::default());
        assert_eq!(c.index.search("  '-!", 5), Found::default());
        assert!(c.index.search(&"a".repeat(10_000), 5).hits.is_empty());
    }
}
