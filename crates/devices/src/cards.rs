//! The card rules, in one place for every flow: a card read for a service is checked (an expired card is
//! refused) and journaled the same way — `card_read` with its purpose, or `card_read_failed` with the
//! reason — with the subject HMAC and the masked number only.

use drivers::idcard::{CardDate, IdCard};
use journal::payload::{CardRead, CardReadFailed};
use journal::{Journal, JournalError, NewEntry};
use vocabulary::Reason;

/// Why a card that was read cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardRefusal {
    Expired,
}

impl CardRefusal {
    /// Its name in the journal.
    pub fn code(self) -> &'static str {
        match self {
            CardRefusal::Expired => "expired",
        }
    }

    /// What the citizen is told.
    pub fn reason(self) -> Reason {
        match self {
            CardRefusal::Expired => Reason::CardExpired,
        }
    }
}

/// A card the rules let through, as the journal knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmittedCard {
    pub subject: String,
    pub id_masked: String,
    pub age: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CardRuleError {
    #[error("The card was refused: it has expired; use a valid card.")]
    Refused(CardRefusal),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// The local date at `now` in `tz`, as card dates are written.
pub fn today(now: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> CardDate {
    let d = now.to_zoned_datetime(tz.clone()).date();
    CardDate { year: d.year() as u16, month: d.month() as u8, day: d.day() as u8 }
}

/// Checks `card` for `purpose` on `today` and journals the outcome in `session_id`; a ticket's `priority`
/// goes into the `card_read` entry.
pub fn admit(
    journal: &Journal,
    card: &IdCard,
    today: CardDate,
    purpose: journal::payload::CardPurpose,
    priority: Option<bool>,
    id_mask_keep: (u8, u8),
    session_id: &str,
) -> Result<AdmittedCard, CardRuleError> {
    let subject = journal.subject_key().subject(&card.id_number);
    let id_masked = journal::mask_id_number(&card.id_number, id_mask_keep);
    if card.expired_on(today) {
        let refusal = CardRefusal::Expired;
        let entry: NewEntry = CardReadFailed {
            subject: Some(subject),
            id_masked: Some(id_masked),
            card_kind: Some(card.kind),
            purpose: Some(purpose),
            reason: refusal.code().to_owned(),
        }
        .into();
        journal.append(entry.in_session(session_id))?;
        return Err(CardRuleError::Refused(refusal));
    }
    let entry: NewEntry =
        CardRead { subject: subject.clone(), id_masked: id_masked.clone(), card_kind: card.kind, purpose, priority }
            .into();
    journal.append(entry.in_session(session_id))?;
    Ok(AdmittedCard { subject, id_masked, age: card.age_on(today) })
}
