//! The rating choices every page that rates shows, by their codes from the one list in `flows::core`; the
//! UI words them (Texts.choice).

use super::ChoiceItem;
use slint::{ModelRc, VecModel};
use vocabulary::{NEGATIVE_REASONS, RATING_LEVELS};

/// The five rating levels as buttons.
pub fn levels() -> ModelRc<ChoiceItem> {
    let items: Vec<ChoiceItem> =
        RATING_LEVELS.iter().map(|(level, ..)| ChoiceItem { code: level.to_string().into() }).collect();
    ModelRc::new(VecModel::from(items))
}

/// The reasons a negative rating offers, as buttons.
pub fn reasons() -> ModelRc<ChoiceItem> {
    let items: Vec<ChoiceItem> = NEGATIVE_REASONS.iter().map(|(code, _)| ChoiceItem { code: (*code).into() }).collect();
    ModelRc::new(VecModel::from(items))
}
