//! What every citizen flow journals the same way: session start and end, the rating, and the rating choices.

use super::ChoiceItem;
use crate::flows::take_number::{NEGATIVE_REASONS, RATING_LEVELS};
use crate::journal::{EntryKind, Journal, NewEntry};
use slint::{ModelRc, VecModel};

/// Journals session_start for `flow` and returns the new session id.
pub fn start(journal: &Journal, flow: &str) -> String {
    let id = crate::secrets::random_bytes::<8>().map(hex::encode).unwrap_or_default();
    if let Err(e) =
        journal.append(NewEntry::new(EntryKind::SessionStart, serde_json::json!({ "flow": flow })).in_session(&id))
    {
        log::error!("session_start not journaled: {e}");
    }
    id
}

/// Journals session_end.
pub fn end(journal: &Journal, session_id: String, reason: &str) {
    if let Err(e) = journal
        .append(NewEntry::new(EntryKind::SessionEnd, serde_json::json!({ "reason": reason })).in_session(session_id))
    {
        log::error!("session_end not journaled: {e}");
    }
}

/// Journals a GB/T 39734 evaluation tied to `transaction`; levels 1 and 2 are flagged for follow-up.
pub fn evaluation(
    journal: &Journal,
    session_id: String,
    transaction: serde_json::Value,
    level: u8,
    reason: Option<String>,
) {
    let name = RATING_LEVELS.iter().find(|(l, ..)| *l == level).map_or("", |(_, zh, _)| zh);
    let payload = serde_json::json!({
        "transaction": transaction,
        "level": level, "level_name": name, "reason": reason,
        "channel": "kiosk", "follow_up": level <= 2,
    });
    if let Err(e) = journal.append(NewEntry::new(EntryKind::Evaluation, payload).in_session(session_id)) {
        log::error!("evaluation not journaled: {e}");
    }
}

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
