//! The 256-byte card text: four layouts chosen by the marker at offset 248, typed fields, GB 11643 check digits.
//! Card data lives in memory only: it zeroes itself on drop and masks itself in Debug. Pure.

use zeroize::Zeroize;

/// Which document the card is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CardKind {
    /// Resident identity card (marker: space).
    Resident,
    /// Hong Kong / Macau / Taiwan residence permit (J).
    Permit,
    /// Foreign permanent resident ID card, 2017 (I).
    Foreign2017,
    /// Foreign permanent resident ID card, 2023 (Y).
    Foreign2023,
}

impl CardKind {
    pub fn marker(self) -> char {
        match self {
            CardKind::Resident => ' ',
            CardKind::Permit => 'J',
            CardKind::Foreign2017 => 'I',
            CardKind::Foreign2023 => 'Y',
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            CardKind::Resident => "居民身份证",
            CardKind::Permit => "港澳台居民居住证",
            CardKind::Foreign2017 | CardKind::Foreign2023 => "外国人永久居留身份证",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct CardDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl CardDate {
    pub fn parse(s: &str) -> Option<CardDate> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (year, month, day) = (s[..4].parse().ok()?, s[4..6].parse().ok()?, s[6..].parse().ok()?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        ((1..=12).contains(&month) && day >= 1 && day <= days[usize::from(month - 1)]).then_some(CardDate {
            year,
            month,
            day,
        })
    }

    /// Whole years from this date (a birth date) to `on`.
    pub fn years_until(self, on: CardDate) -> u32 {
        let mut years = u32::from(on.year.saturating_sub(self.year));
        if (on.month, on.day) < (self.month, self.day) {
            years = years.saturating_sub(1);
        }
        years
    }
}

impl std::fmt::Display for CardDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// End of validity: a date, or 长期 (no expiry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Validity {
    Until(CardDate),
    LongTerm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Gender {
    Unknown,
    Male,
    Female,
    Unspecified,
}

impl Gender {
    fn from_code(c: &str) -> Option<Gender> {
        Some(match c {
            "0" => Gender::Unknown,
            "1" => Gender::Male,
            "2" => Gender::Female,
            "9" => Gender::Unspecified,
            _ => return None,
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            Gender::Unknown => "0",
            Gender::Male => "1",
            Gender::Female => "2",
            Gender::Unspecified => "9",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
            Gender::Unknown | Gender::Unspecified => "未说明",
        }
    }
}

/// GB 3304 nation names, current forms (36 毛南, 46 德昂).
pub const NATIONS: [&str; 56] = [
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
];

pub fn nation_name(code: &str) -> Option<&'static str> {
    match code.parse::<usize>().ok()? {
        n @ 1..=56 => Some(NATIONS[n - 1]),
        97 => Some("其他"),
        98 => Some("外国血统中国籍人士"),
        _ => None,
    }
}

/// GB 11643 check character for the first 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(W) {
        sum += c.to_digit(10)? * w;
    }
    let check = (12 - sum % 11) % 11;
    Some(if check == 10 { 'X' } else { char::from_digit(check, 10)? })
}

/// True when `id` is 18 characters with a valid GB 11643 check character.
pub fn valid_id_number(id: &str) -> bool {
    id.len() == 18
        && id.is_char_boundary(17)
        && check_char(&id[..17]) == id[17..].chars().next().map(|c| c.to_ascii_uppercase())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the card text is {0} bytes; it must be 256")]
    Length(usize),
    #[error("the card text is not valid UCS-2 at byte {0}")]
    Ucs2(usize),
    #[error("the card type marker '{0}' at offset 248 is unknown; this reader or card is not supported")]
    UnknownKind(char),
    #[error("the {field} field \"{value}\" is not valid")]
    Field { field: &'static str, value: String },
    #[error("the ID number fails the GB 11643 check digit; the card data is corrupt")]
    CheckDigit,
}

/// A card as read. Never written anywhere; zeroed on drop; Debug shows it masked.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct IdCard {
    pub kind: CardKind,
    /// Chinese name (foreign cards: the Chinese name, possibly empty).
    pub name: String,
    pub english_name: String,
    pub gender: Gender,
    /// Nation (resident cards).
    pub nation: String,
    pub birth_date: CardDate,
    pub address: String,
    /// ID or permit number.
    pub id_number: String,
    pub authority: String,
    pub valid_from: CardDate,
    pub valid_to: Validity,
    /// J: pass number and issue count.
    pub pass_number: String,
    pub issue_count: String,
    /// Foreign cards: nationality code (ISO 3166 alpha-3).
    pub nationality: String,
}

impl Drop for IdCard {
    fn drop(&mut self) {
        self.name.zeroize();
        self.english_name.zeroize();
        self.nation.zeroize();
        self.address.zeroize();
        self.id_number.zeroize();
        self.authority.zeroize();
        self.pass_number.zeroize();
        self.issue_count.zeroize();
        self.nationality.zeroize();
    }
}

/// First `head` and last `tail` characters kept, the rest as `*`.
pub fn mask(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if head + tail >= chars.len() {
        return "*".repeat(chars.len());
    }
    chars.iter().enumerate().map(|(i, c)| if i < head || i >= chars.len() - tail { *c } else { '*' }).collect()
}

impl IdCard {
    pub fn masked_name(&self) -> String {
        let n = if self.name.is_empty() { &self.english_name } else { &self.name };
        let mut chars = n.chars();
        chars.next().map(|f| std::iter::once(f).chain(chars.map(|_| '*')).collect()).unwrap_or_default()
    }

    pub fn masked_id(&self) -> String {
        mask(&self.id_number, 3, 4)
    }

    /// Age in whole years on `today`.
    pub fn age_on(&self, today: CardDate) -> u32 {
        self.birth_date.years_until(today)
    }

    pub fn expired_on(&self, today: CardDate) -> bool {
        matches!(self.valid_to, Validity::Until(d) if d < today)
    }
}

impl std::fmt::Debug for IdCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdCard")
            .field("kind", &self.kind)
            .field("name", &self.masked_name())
            .field("id_number", &self.masked_id())
            .field("valid_to", &self.valid_to)
            .finish_non_exhaustive()
    }
}

fn ucs2_raw(text: &[u8], offset: usize, len: usize) -> Result<String, CardError> {
    let units: Vec<u16> = text[offset..offset + len].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16(&units).map_err(|_| CardError::Ucs2(offset))
}

fn ucs2(text: &[u8], offset: usize, len: usize) -> Result<String, CardError> {
    Ok(ucs2_raw(text, offset, len)?.trim_end_matches([' ', '\0']).trim().to_owned())
}

fn date(field: &'static str, s: String) -> Result<CardDate, CardError> {
    CardDate::parse(&s).ok_or(CardError::Field { field, value: s })
}

fn validity(s: String) -> Result<Validity, CardError> {
    if s == "长期" { Ok(Validity::LongTerm) } else { date("valid_to", s).map(Validity::Until) }
}

impl IdCard {
    /// Parses the 256-byte text block; refuses anything that does not check out.
    pub fn parse(text: &[u8]) -> Result<IdCard, CardError> {
        if text.len() != 256 {
            return Err(CardError::Length(text.len()));
        }
        let marker = ucs2(text, 248, 2)?.chars().next().unwrap_or(' ');
        let f = |o, l| ucs2(text, o, l);
        let gender = |s: String| Gender::from_code(&s).ok_or(CardError::Field { field: "gender", value: s });
        let card = match marker {
            ' ' | 'J' => {
                let kind = if marker == 'J' { CardKind::Permit } else { CardKind::Resident };
                let nation_code = f(32, 4)?;
                let nation = if kind == CardKind::Resident {
                    nation_name(&nation_code)
                        .ok_or(CardError::Field { field: "nation", value: nation_code })?
                        .to_owned()
                } else {
                    String::new()
                };
                let (pass_number, issue_count) =
                    if kind == CardKind::Permit { (f(220, 18)?, f(238, 4)?) } else { (String::new(), String::new()) };
                IdCard {
                    kind,
                    name: f(0, 30)?,
                    english_name: String::new(),
                    gender: gender(f(30, 2)?)?,
                    nation,
                    birth_date: date("birth_date", f(36, 16)?)?,
                    address: f(52, 70)?,
                    id_number: f(122, 36)?,
                    authority: f(158, 30)?,
                    valid_from: date("valid_from", f(188, 16)?)?,
                    valid_to: validity(f(204, 16)?)?,
                    pass_number,
                    issue_count,
                    nationality: String::new(),
                }
            }
            'I' => IdCard {
                kind: CardKind::Foreign2017,
                english_name: f(0, 120)?,
                gender: gender(f(120, 2)?)?,
                id_number: f(122, 30)?,
                nationality: f(152, 6)?,
                name: f(158, 30)?,
                valid_from: date("valid_from", f(188, 16)?)?,
                valid_to: validity(f(204, 16)?)?,
                birth_date: date("birth_date", f(220, 16)?)?,
                authority: f(240, 8)?,
                nation: String::new(),
                address: String::new(),
                pass_number: String::new(),
                issue_count: f(236, 4)?,
            },
            'Y' => IdCard {
                kind: CardKind::Foreign2023,
                name: f(0, 30)?,
                gender: gender(f(30, 2)?)?,
                issue_count: f(32, 4)?,
                birth_date: date("birth_date", f(36, 16)?)?,
                // A long English name is split at a word between two fields, each padded with spaces:
                // the parts are joined by one space.
                english_name: join_name_parts(&ucs2_raw(text, 52, 70)?, &ucs2_raw(text, 220, 22)?),
                id_number: f(122, 36)?,
                valid_from: date("valid_from", f(188, 16)?)?,
                valid_to: validity(f(204, 16)?)?,
                nationality: f(242, 6)?,
                nation: String::new(),
                address: String::new(),
                authority: String::new(),
                pass_number: String::new(),
            },
            other => return Err(CardError::UnknownKind(other)),
        };
        // 18-character numbers (resident, permit, 2023 foreign) carry a GB 11643 check character.
        if card.id_number.len() == 18 && card.kind != CardKind::Foreign2017 && !valid_id_number(&card.id_number) {
            return Err(CardError::CheckDigit);
        }
        if card.kind != CardKind::Foreign2017 && card.id_number.len() != 18 {
            return Err(CardError::Field { field: "id_number", value: mask(&card.id_number, 3, 4) });
        }
        Ok(card)
    }

    /// The 256-byte text block for this card (the simulator's side of `parse`).
    pub fn encode(&self) -> [u8; 256] {
        let mut t = [0u8; 256];
        for c in t.chunks_mut(2) {
            c.copy_from_slice(&[0x20, 0x00]);
        }
        let mut put = |offset: usize, len: usize, s: &str| {
            let mut o = offset;
            for u in s.encode_utf16() {
                if o + 2 > offset + len {
                    break;
                }
                t[o..o + 2].copy_from_slice(&u.to_le_bytes());
                o += 2;
            }
        };
        let d = |d: CardDate| format!("{:04}{:02}{:02}", d.year, d.month, d.day);
        let v = match self.valid_to {
            Validity::LongTerm => "长期".to_owned(),
            Validity::Until(x) => d(x),
        };
        match self.kind {
            CardKind::Resident | CardKind::Permit => {
                put(0, 30, &self.name);
                put(30, 2, self.gender.code());
                if self.kind == CardKind::Resident {
                    let code = NATIONS.iter().position(|n| *n == self.nation).map_or(97, |i| i + 1);
                    put(32, 4, &format!("{code:02}"));
                }
                put(36, 16, &d(self.birth_date));
                put(52, 70, &self.address);
                put(122, 36, &self.id_number);
                put(158, 30, &self.authority);
                put(188, 16, &d(self.valid_from));
                put(204, 16, &v);
                if self.kind == CardKind::Permit {
                    put(220, 18, &self.pass_number);
                    put(238, 4, &self.issue_count);
                }
            }
            CardKind::Foreign2017 => {
                put(0, 120, &self.english_name);
                put(120, 2, self.gender.code());
                put(122, 30, &self.id_number);
                put(152, 6, &self.nationality);
                put(158, 30, &self.name);
                put(188, 16, &d(self.valid_from));
                put(204, 16, &v);
                put(220, 16, &d(self.birth_date));
                put(236, 4, &self.issue_count);
                put(240, 8, &self.authority);
            }
            CardKind::Foreign2023 => {
                put(0, 30, &self.name);
                put(30, 2, self.gender.code());
                put(32, 4, &self.issue_count);
                put(36, 16, &d(self.birth_date));
                let (a, b) = split_name(&self.english_name, 35);
                put(52, 70, a);
                put(122, 36, &self.id_number);
                put(188, 16, &d(self.valid_from));
                put(204, 16, &v);
                put(220, 22, b);
                put(242, 6, &self.nationality);
            }
        }
        put(248, 2, &self.kind.marker().to_string());
        t
    }
}

/// Splits a name that does not fit `n` characters at its last space within them (the card writes the parts
/// to two fields); a name without such a space is cut at `n`.
fn split_name(s: &str, n: usize) -> (&str, &str) {
    let Some((cut, _)) = s.char_indices().nth(n) else { return (s, "") };
    match s[..=cut].rfind(' ') {
        Some(space) if space > 0 => (&s[..space], &s[space + 1..]),
        _ => s.split_at(cut),
    }
}

/// The two fields of a split English name, padding dropped, joined by one space.
fn join_name_parts(first: &str, second: &str) -> String {
    let pad: &[char] = &[' ', '\0'];
    let (a, b) = (first.trim_matches(pad), second.trim_matches(pad));
    if b.is_empty() { a.to_owned() } else { format!("{a} {b}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn resident() -> IdCard {
        IdCard {
            kind: CardKind::Resident,
            name: "张三丰".into(),
            english_name: String::new(),
            gender: Gender::Male,
            nation: "汉".into(),
            birth_date: CardDate { year: 1950, month: 3, day: 7 },
            address: "山东省临沂市临沭县临沭街道示例路1号".into(),
            id_number: format!("37132919500307101{}", check_char("37132919500307101").unwrap()),
            authority: "临沭县公安局".into(),
            valid_from: CardDate { year: 2015, month: 1, day: 1 },
            valid_to: Validity::LongTerm,
            pass_number: String::new(),
            issue_count: String::new(),
            nationality: String::new(),
        }
    }

    #[test]
    fn check_digits() {
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert!(valid_id_number("11010519491231002X"));
        assert!(!valid_id_number("110105194912310021"));
    }

    #[test]
    fn every_layout_round_trips_through_the_text_block() {
        let mut j = resident();
        j.kind = CardKind::Permit;
        j.nation = String::new();
        j.id_number = format!("81000019900101123{}", check_char("81000019900101123").unwrap());
        j.pass_number = "H12345678".into();
        j.issue_count = "01".into();
        let mut i = resident();
        i.kind = CardKind::Foreign2017;
        i.nation = String::new();
        i.address = String::new();
        i.english_name = "SMITH, JOHN".into();
        i.id_number = "USA110090101001".into();
        i.nationality = "USA".into();
        i.authority = "1500".into();
        i.issue_count = "01".into();
        let mut y = resident();
        y.kind = CardKind::Foreign2023;
        y.nation = String::new();
        y.address = String::new();
        y.authority = String::new();
        y.english_name = "GARCIA MARQUEZ, ANA LUCIA MARIA DE LA PAZ".into();
        // A name split at a word, each part padded, as a real card writes it: one space between the parts.
        assert_eq!(
            join_name_parts("GARCIA MARQUEZ, ANA LUCIA MARIA   ", "DE LA PAZ   "),
            "GARCIA MARQUEZ, ANA LUCIA MARIA DE LA PAZ"
        );
        assert_eq!(
            split_name("GARCIA MARQUEZ, ANA LUCIA MARIA DELAPAZ", 35),
            ("GARCIA MARQUEZ, ANA LUCIA MARIA", "DELAPAZ")
        );
        y.id_number = format!("93315619900101123{}", check_char("93315619900101123").unwrap());
        y.nationality = "ESP".into();
        y.issue_count = "00".into();
        for card in [resident(), j, i, y] {
            let parsed = IdCard::parse(&card.encode()).unwrap();
            assert_eq!(parsed, card, "{:?}", card.kind);
        }
    }

    #[test]
    fn a_wrong_check_digit_or_bad_text_is_refused() {
        let mut c = resident();
        c.id_number.replace_range(17.., "0");
        if valid_id_number(&c.id_number) {
            c.id_number.replace_range(17.., "1");
        }
        assert_eq!(IdCard::parse(&c.encode()), Err(CardError::CheckDigit));
        let mut t = resident().encode();
        t[0] = 0x00;
        t[1] = 0xD8; // a lone high surrogate
        assert_eq!(IdCard::parse(&t), Err(CardError::Ucs2(0)));
        let mut t = resident().encode();
        t[248] = b'Q';
        assert_eq!(IdCard::parse(&t), Err(CardError::UnknownKind('Q')));
        assert_eq!(IdCard::parse(&[0; 10]), Err(CardError::Length(10)));
    }

    #[test]
    fn debug_is_masked() {
        let c = resident();
        let d = format!("{c:?}");
        assert!(d.contains("张**") && d.contains("371***********"), "{d}");
        assert!(!d.contains("张三丰") && !d.contains(&c.id_number), "{d}");
        assert_eq!(c.age_on(CardDate { year: 2026, month: 3, day: 6 }), 75);
        assert_eq!(c.age_on(CardDate { year: 2026, month: 3, day: 7 }), 76);
        assert_eq!(nation_name("36"), Some("毛南"));
        assert_eq!(nation_name("46"), Some("德昂"));
    }
}
