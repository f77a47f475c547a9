//! Fixture cards for the simulator, from TOML: fictional people, checked like real card data.

use super::card::{CardDate, CardKind, Gender, IdCard, Validity};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureFile {
    card: Vec<Fixture>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    kind: CardKind,
    #[serde(default)]
    name: String,
    #[serde(default)]
    english_name: String,
    gender: String,
    #[serde(default)]
    nation: String,
    birth_date: String,
    #[serde(default)]
    address: String,
    id_number: String,
    #[serde(default)]
    authority: String,
    valid_from: String,
    valid_to: String,
    #[serde(default)]
    pass_number: String,
    #[serde(default)]
    issue_count: String,
    #[serde(default)]
    nationality: String,
}

/// Loads fixture cards; each must survive the same parsing a real card's text goes through.
pub fn load(toml_text: &str) -> Result<Vec<IdCard>, String> {
    let file: FixtureFile = toml::from_str(toml_text).map_err(|e| format!("the fixture file is not valid: {e}"))?;
    file.card
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let bad = |what: &str| format!("card {i}: {what}");
            let date = |s: &str| CardDate::parse(s).ok_or_else(|| bad(&format!("\"{s}\" is not a YYYYMMDD date")));
            let gender = match f.gender.as_str() {
                "0" => Gender::Unknown,
                "1" => Gender::Male,
                "2" => Gender::Female,
                "9" => Gender::Unspecified,
                g => return Err(bad(&format!("gender \"{g}\" is not 0, 1, 2 or 9"))),
            };
            let card = IdCard {
                kind: f.kind,
                name: f.name,
                english_name: f.english_name,
                gender,
                nation: f.nation,
                birth_date: date(&f.birth_date)?,
                address: f.address,
                id_number: f.id_number,
                authority: f.authority,
                valid_from: date(&f.valid_from)?,
                valid_to: if f.valid_to == "长期" { Validity::LongTerm } else { Validity::Until(date(&f.valid_to)?) },
                pass_number: f.pass_number,
                issue_count: f.issue_count,
                nationality: f.nationality,
            };
            IdCard::parse(&card.encode()).map_err(|e| bad(&e.to_string()))
        })
        .collect()
}
