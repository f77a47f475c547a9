//! The kiosk's shared vocabulary, at the bottom of the crate graph: what a citizen is told (typed
//! [`Reason`]s the UI words), why a session ended, what a rating is about, ticket numbers, digit-pad keys,
//! and credential hashes. No IO, no clock, no dependency on any other kiosk crate.

pub mod mask;

/// A Han (Chinese) character: what an English text must not hold, and what the pinyin search reads.
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Whether `s` holds a Han character.
pub fn has_han(s: &str) -> bool {
    s.chars().any(is_han)
}
pub mod secrets;
pub mod ticket_number;

/// How long a "done" screen that offers the rating stays before going home.
pub const DONE_SCREEN_MS: u64 = 20_000;
/// How long "thank you" stays.
pub const THANKS_SCREEN_MS: u64 = 3_000;

/// The five levels of GB/T 39734-2020, best first, as (level, zh, en).
pub const RATING_LEVELS: [(u8, &str, &str); 5] = [
    (5, "非常满意", "Very satisfied"),
    (4, "满意", "Satisfied"),
    (3, "基本满意", "Fairly satisfied"),
    (2, "不满意", "Dissatisfied"),
    (1, "非常不满意", "Very dissatisfied"),
];

/// Reasons a negative rating offers (after the standard's annex of negative-review content).
pub const NEGATIVE_REASONS: [(&str, &str); 5] = [
    ("slow", "办理效率低 Too slow"),
    ("attitude", "服务态度差 Poor attitude"),
    ("guidance", "指引不清楚 Unclear guidance"),
    ("equipment", "设备有故障 Equipment problem"),
    ("other", "其他问题 Something else"),
];

/// Why a session ended; journaled as its snake_case name in `session_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The citizen pressed back, cancel or home.
    Cancelled,
    /// Nobody answered the "continue?" countdown.
    Idle,
    /// The service was done and its closing screen has shown long enough.
    Completed,
    /// The card that authorised what was on screen was taken away.
    CardRemoved,
    /// The kiosk is stopping (SIGTERM, SIGINT, window closed).
    Shutdown,
    /// The citizen went straight on to another service (取号办理 from an item's page): the next session is
    /// the same citizen's, so the language and mode stay.
    HandedOver,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Cancelled => "cancelled",
            EndReason::Idle => "idle",
            EndReason::Completed => "completed",
            EndReason::CardRemoved => "card_removed",
            EndReason::Shutdown => "shutdown",
            EndReason::HandedOver => "handed_over",
        }
    }
}

/// What a rating is about: journaled as the evaluation's `transaction`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transaction {
    Ticket {
        ticket_id: String,
    },
    LicencePrint {
        print_id: String,
    },
    /// 好差评 on its own: the hall's service, no transaction of this kiosk.
    HallService,
    /// 预约签到: the appointment checked in.
    AppointmentCheckIn {
        code: String,
    },
    /// 办件查询: the case looked up (and posted home, if it was).
    CaseQuery {
        case_number: String,
    },
    /// 事项查询: a guide printed.
    GuidePrint {
        code: String,
    },
}

/// A name or time the kiosk holds in both of its languages (a category's name, an opening time): data
/// that a sentence names, not a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Named {
    pub zh: String,
    pub en: String,
}

impl Named {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Named {
        Named { zh: zh.into(), en: en.into() }
    }

    /// A name that has only its Chinese form.
    pub fn zh(zh: impl Into<String>) -> Named {
        Named { zh: zh.into(), en: String::new() }
    }

    /// The name on a screen in that language: the English when there is one, else the Chinese.
    pub fn pick(&self, english: bool) -> &str {
        if english && !self.en.trim().is_empty() { &self.en } else { &self.zh }
    }
}

/// Why the ticket printer cannot print, as the citizen is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterTrouble {
    PaperOut,
    CoverOpen,
    Cutter,
    Unavailable,
    Broken,
}

/// Why the licence printer cannot print, as the citizen is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum A4Trouble {
    PaperOut,
    Jam,
    Toner,
    CoverOpen,
    Unavailable,
    JobFailed,
}

/// What the kiosk tells a citizen about a situation, typed: the UI words it through the translation
/// catalogue (crates/ui/ui/texts.slint), so no sentence is written in Rust and a language is one catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    CardExpired,
    CardUnreadable,
    /// The ID-card reader does not answer (its fault is journaled; the assistance call is offered).
    ReaderUnavailable,
    CategoryClosed {
        name: Named,
        opens: Named,
    },
    NumbersExhausted {
        name: Named,
        first: String,
        last: String,
    },
    DailyLimit {
        name: Named,
        limit: u32,
    },
    QueueUnavailable,
    Printer(PrinterTrouble),
    TicketNotPrinted {
        number: String,
        trouble: PrinterTrouble,
    },
    TicketFailed,
    A4(A4Trouble),
    /// Licences cannot be drawn at all (the configured font is unusable).
    LicenceUnavailable,
    NoDocuments,
    LookupUnavailable,
    DocumentGone,
    CopyLimit {
        allowed: u32,
    },
    LicenceFailed,
    /// 好差评 by number: no ticket with this number today.
    TicketUnknown {
        number: String,
    },
    /// It has not been served yet (rated once it is).
    TicketNotServed {
        number: String,
    },
    /// It has been rated already.
    TicketRated {
        number: String,
    },
    /// The provincial platform cannot be reached (and nothing local can stand in).
    PlatformUnavailable,
    /// No appointment today for this card or code.
    NoAppointments,
    /// No case with this number, or none for this card.
    NoCases,
    /// The applicant has no saved address to post the result to.
    NoAddresses,
}

/// A key of an on-screen digit pad (an appointment code, a case number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadKey {
    Key(char),
    Backspace,
    Clear,
}

impl PadKey {
    /// `text` after this key, at most `max` digits; `None` when the key changes nothing (not a digit, full).
    pub fn apply(self, text: &str, max: usize) -> Option<String> {
        let mut t = text.to_owned();
        match self {
            PadKey::Key(c) if c.is_ascii_digit() && t.len() < max => t.push(c),
            PadKey::Key(_) => return None,
            PadKey::Backspace => {
                t.pop();
            }
            PadKey::Clear => t.clear(),
        }
        Some(t)
    }
}
