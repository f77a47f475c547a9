//! Taking a queue number: category → (card, when the category needs one) → printing → done, with the idle rules.

/// What the citizen sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Home,
    Categories,
    /// Waiting for an ID card; `failure` says why the last attempt did not work.
    CardPrompt {
        prefix: String,
        failure: Option<String>,
    },
    Printing {
        prefix: String,
    },
    /// "Take your ticket", with the five-level rating (GB/T 39734) offered.
    Done {
        ticket_id: String,
        number: String,
        waiting_ahead: u32,
    },
    /// A negative rating asks why, from the standard's fixed list.
    RatingReasons {
        ticket_id: String,
        level: u8,
    },
    Thanks,
    /// A sentence for the citizen (printer fault, category closed, limit reached).
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    OpenTakeNumber,
    /// A category was tapped; `requires_id` from the configuration.
    Choose {
        prefix: String,
        requires_id: bool,
    },
    /// Back / cancel / home.
    Cancel,
    /// The reader holds a card (read successfully).
    CardPresent,
    CardFailed(String),
    TicketPrinted {
        ticket_id: String,
        number: String,
        waiting_ahead: u32,
    },
    TicketFailed(String),
    /// 5 非常满意 … 1 非常不满意.
    Rate(u8),
    /// The reason for a negative rating.
    RateReason(String),
    /// Any touch: the citizen is still there.
    Touch,
    /// "Continue" on the idle prompt.
    Continue,
    /// Time passes (sent every second).
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    StartSession,
    /// Issue and print; `with_card` takes the card on the reader for the subject and priority.
    Issue {
        prefix: String,
        with_card: bool,
    },
    /// Journal an evaluation tied to the transaction (the ticket).
    RecordEvaluation {
        ticket_id: String,
        level: u8,
        reason: Option<String>,
    },
    /// Clear personal data from models and memory, journal session_end.
    EndSession {
        reason: &'static str,
    },
}

pub use super::idle::IDLE_COUNTDOWN_MS;
use super::idle::IdleClock;
/// How long the "take your ticket" screen (with the rating offer) stays before going home.
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

#[derive(Debug, Clone)]
pub struct Session {
    pub screen: Screen,
    pub idle: IdleClock,
}

impl Session {
    pub fn new(idle_timeout_ms: u64) -> Session {
        Session { screen: Screen::Home, idle: IdleClock::new(idle_timeout_ms) }
    }

    fn go(&mut self, screen: Screen, now_ms: u64) {
        self.screen = screen;
        self.idle.entered(now_ms);
    }

    fn end(&mut self, reason: &'static str, now_ms: u64) -> Vec<Command> {
        if self.screen == Screen::Home {
            return vec![];
        }
        self.go(Screen::Home, now_ms);
        vec![Command::EndSession { reason }]
    }

    pub fn handle(&mut self, event: Event, now_ms: u64) -> Vec<Command> {
        match event {
            Event::Touch => {
                self.idle.touch(now_ms);
                vec![]
            }
            Event::Continue => {
                self.idle.resume(now_ms);
                vec![]
            }
            Event::Tick => self.tick(now_ms),
            Event::Cancel => match self.screen {
                // Printing cannot be cancelled: the number is already journaled.
                Screen::Printing { .. } => vec![],
                _ => self.end("cancelled", now_ms),
            },
            Event::OpenTakeNumber => {
                if self.screen != Screen::Home {
                    return vec![];
                }
                self.go(Screen::Categories, now_ms);
                vec![Command::StartSession]
            }
            Event::Choose { prefix, requires_id } => {
                if self.screen != Screen::Categories {
                    return vec![];
                }
                if requires_id {
                    self.go(Screen::CardPrompt { prefix, failure: None }, now_ms);
                    vec![]
                } else {
                    self.go(Screen::Printing { prefix: prefix.clone() }, now_ms);
                    vec![Command::Issue { prefix, with_card: false }]
                }
            }
            Event::CardPresent => match &self.screen {
                Screen::CardPrompt { prefix, .. } => {
                    let prefix = prefix.clone();
                    self.go(Screen::Printing { prefix: prefix.clone() }, now_ms);
                    vec![Command::Issue { prefix, with_card: true }]
                }
                _ => vec![],
            },
            Event::CardFailed(why) => {
                if let Screen::CardPrompt { prefix, .. } = &self.screen {
                    let prefix = prefix.clone();
                    self.go(Screen::CardPrompt { prefix, failure: Some(why) }, now_ms);
                }
                vec![]
            }
            Event::TicketPrinted { ticket_id, number, waiting_ahead } => {
                if matches!(self.screen, Screen::Printing { .. }) {
                    self.go(Screen::Done { ticket_id, number, waiting_ahead }, now_ms);
                }
                vec![]
            }
            Event::Rate(level) => match &self.screen {
                Screen::Done { ticket_id, .. } if (1..=5).contains(&level) => {
                    let ticket_id = ticket_id.clone();
                    if level <= 2 {
                        self.go(Screen::RatingReasons { ticket_id, level }, now_ms);
                        vec![]
                    } else {
                        self.go(Screen::Thanks, now_ms);
                        vec![Command::RecordEvaluation { ticket_id, level, reason: None }]
                    }
                }
                _ => vec![],
            },
            Event::RateReason(reason) => match &self.screen {
                Screen::RatingReasons { ticket_id, level } => {
                    let (ticket_id, level) = (ticket_id.clone(), *level);
                    self.go(Screen::Thanks, now_ms);
                    vec![Command::RecordEvaluation { ticket_id, level, reason: Some(reason) }]
                }
                _ => vec![],
            },
            Event::TicketFailed(message) => {
                if matches!(self.screen, Screen::Printing { .. }) {
                    self.go(Screen::Failed { message }, now_ms);
                }
                vec![]
            }
        }
    }

    fn tick(&mut self, now_ms: u64) -> Vec<Command> {
        match self.screen {
            Screen::Home | Screen::Printing { .. } => return vec![],
            Screen::Done { .. } if self.idle.on_screen_ms(now_ms) >= DONE_SCREEN_MS => {
                return self.end("completed", now_ms);
            }
            Screen::Thanks if self.idle.on_screen_ms(now_ms) >= THANKS_SCREEN_MS => {
                return self.end("completed", now_ms);
            }
            _ => {}
        }
        if self.idle.expired(now_ms) { self.end("idle", now_ms) } else { vec![] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(s: &mut Session, prefix: &str, requires_id: bool, now: u64) -> Vec<Command> {
        s.handle(Event::Choose { prefix: prefix.into(), requires_id }, now)
    }

    #[test]
    fn a_ticket_without_a_card() {
        let mut s = Session::new(60_000);
        assert_eq!(s.handle(Event::OpenTakeNumber, 0), vec![Command::StartSession]);
        assert_eq!(choose(&mut s, "A", false, 1_000), vec![Command::Issue { prefix: "A".into(), with_card: false }]);
        assert_eq!(s.handle(Event::Cancel, 1_500), vec![], "printing cannot be cancelled");
        s.handle(Event::TicketPrinted { ticket_id: "t1".into(), number: "A023".into(), waiting_ahead: 5 }, 2_000);
        assert_eq!(s.screen, Screen::Done { ticket_id: "t1".into(), number: "A023".into(), waiting_ahead: 5 });
        assert_eq!(s.handle(Event::Tick, 2_000 + DONE_SCREEN_MS), vec![Command::EndSession { reason: "completed" }]);
        assert_eq!(s.screen, Screen::Home);
    }

    #[test]
    fn a_ticket_with_a_card_and_a_failed_read_first() {
        let mut s = Session::new(60_000);
        s.handle(Event::OpenTakeNumber, 0);
        assert_eq!(choose(&mut s, "B", true, 1_000), vec![]);
        s.handle(Event::CardFailed("读卡失败 Read failed".into()), 2_000);
        assert_eq!(s.screen, Screen::CardPrompt { prefix: "B".into(), failure: Some("读卡失败 Read failed".into()) });
        assert_eq!(s.handle(Event::CardPresent, 3_000), vec![Command::Issue { prefix: "B".into(), with_card: true }]);
        s.handle(Event::TicketFailed("The printer is out of paper".into()), 4_000);
        assert!(matches!(s.screen, Screen::Failed { .. }));
    }

    #[test]
    fn idle_asks_to_continue_then_ends_the_session() {
        let mut s = Session::new(60_000);
        s.handle(Event::OpenTakeNumber, 0);
        assert_eq!(s.handle(Event::Tick, 59_000), vec![]);
        assert_eq!(s.idle.countdown_until_ms, None);
        s.handle(Event::Tick, 60_000);
        assert_eq!(s.idle.countdown_s(60_000), Some(10));
        s.handle(Event::Continue, 65_000);
        assert_eq!(s.idle.countdown_until_ms, None, "continue resets");
        s.handle(Event::Tick, 125_000);
        assert_eq!(s.idle.countdown_s(126_000), Some(9));
        assert_eq!(s.handle(Event::Tick, 135_000), vec![Command::EndSession { reason: "idle" }]);
        assert_eq!(s.screen, Screen::Home);
        assert_eq!(s.handle(Event::Tick, 500_000), vec![], "home has no session to end");
    }

    #[test]
    fn ratings_are_tied_to_the_ticket_and_negative_ones_ask_why() {
        let mut s = Session::new(60_000);
        s.handle(Event::OpenTakeNumber, 0);
        choose(&mut s, "A", false, 0);
        s.handle(Event::TicketPrinted { ticket_id: "t1".into(), number: "A001".into(), waiting_ahead: 0 }, 1_000);
        assert_eq!(
            s.handle(Event::Rate(4), 2_000),
            vec![Command::RecordEvaluation { ticket_id: "t1".into(), level: 4, reason: None }]
        );
        assert_eq!(s.screen, Screen::Thanks);
        assert_eq!(s.handle(Event::Rate(4), 2_100), vec![], "one evaluation per transaction");
        assert_eq!(s.handle(Event::Tick, 2_000 + THANKS_SCREEN_MS), vec![Command::EndSession { reason: "completed" }]);

        s.handle(Event::OpenTakeNumber, 10_000);
        choose(&mut s, "A", false, 10_000);
        s.handle(Event::TicketPrinted { ticket_id: "t2".into(), number: "A002".into(), waiting_ahead: 1 }, 11_000);
        assert_eq!(s.handle(Event::Rate(9), 11_500), vec![], "no such level");
        assert_eq!(s.handle(Event::Rate(1), 12_000), vec![]);
        assert_eq!(s.screen, Screen::RatingReasons { ticket_id: "t2".into(), level: 1 });
        assert_eq!(
            s.handle(Event::RateReason("slow".into()), 13_000),
            vec![Command::RecordEvaluation { ticket_id: "t2".into(), level: 1, reason: Some("slow".into()) }]
        );
    }

    #[test]
    fn touches_keep_the_session_alive_and_cancel_goes_home() {
        let mut s = Session::new(30_000);
        s.handle(Event::OpenTakeNumber, 0);
        s.handle(Event::Touch, 25_000);
        s.handle(Event::Tick, 50_000);
        assert_eq!(s.idle.countdown_until_ms, None);
        assert_eq!(s.handle(Event::Cancel, 51_000), vec![Command::EndSession { reason: "cancelled" }]);
        assert_eq!(s.handle(Event::CardPresent, 52_000), vec![], "a card on the home screen starts nothing here");
    }
}
