//! The rating choices every page that rates shows, from the one list in `flows::core`.

use super::ChoiceItem;
use crate::flows::core::{NEGATIVE_REASONS, RATING_LEVELS};
use slint::{ModelRc, VecModel};

/// The five rating levels as buttons.
pub fn levels() -> ModelRc<ChoiceItem> {
    let items: Vec<ChoiceItem> = RATING_LEVELS
        .iter()
        .map(|(level, zh, en)| ChoiceItem { code: level.to_string().into(), label: format!("{zh} {en}").into() })
        .collect();
    ModelRc::new(VecModel::from(items))
}

/// The reasons a negative rating offers, as buttons.
pub fn reasons() -> ModelRc<ChoiceItem> {
    let items: Vec<ChoiceItem> = NEGATIVE_REASONS
        .iter()
        .map(|(code, label)| ChoiceItem { code: (*code).into(), label: (*label).into() })
        .collect();
    ModelRc::new(VecModel::from(items))
}
