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
    Done {
        number: String,
        waiting_ahead: u32,
    },
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
        number: String,
        waiting_ahead: u32,
    },
    TicketFailed(String),
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
    /// Clear personal data from models and memory, journal session_end.
    EndSession {
        reason: &'static str,
    },
}

/// Seconds the "continue?" countdown runs before the session ends.
pub const IDLE_COUNTDOWN_MS: u64 = 10_000;
/// How long the "take your ticket" screen stays before going home.
pub const DONE_SCREEN_MS: u64 = 12_000;

#[derive(Debug, Clone)]
pub struct Session {
    pub screen: Screen,
    idle_timeout_ms: u64,
    last_activity_ms: u64,
    /// When the idle countdown ends, while it runs.
    pub countdown_until_ms: Option<u64>,
    entered_ms: u64,
}

impl Session {
    pub fn new(idle_timeout_ms: u64) -> Session {
        Session { screen: Screen::Home, idle_timeout_ms, last_activity_ms: 0, countdown_until_ms: None, entered_ms: 0 }
    }

    /// Seconds left on the idle countdown, for the screen.
    pub fn countdown_s(&self, now_ms: u64) -> Option<u64> {
        self.countdown_until_ms.map(|until| until.saturating_sub(now_ms).div_ceil(1000))
    }

    fn go(&mut self, screen: Screen, now_ms: u64) {
        self.screen = screen;
        self.entered_ms = now_ms;
        self.last_activity_ms = now_ms;
        self.countdown_until_ms = None;
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
                self.last_activity_ms = now_ms;
                vec![]
            }
            Event::Continue => {
                self.last_activity_ms = now_ms;
                self.countdown_until_ms = None;
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
            Event::TicketPrinted { number, waiting_ahead } => {
                if matches!(self.screen, Screen::Printing { .. }) {
                    self.go(Screen::Done { number, waiting_ahead }, now_ms);
                }
                vec![]
            }
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
            Screen::Done { .. } if now_ms.saturating_sub(self.entered_ms) >= DONE_SCREEN_MS => {
                return self.end("completed", now_ms);
            }
            _ => {}
        }
        match self.countdown_until_ms {
            Some(until) if now_ms >= until => self.end("idle", now_ms),
            Some(_) => vec![],
            None => {
                if now_ms.saturating_sub(self.last_activity_ms) >= self.idle_timeout_ms {
                    self.countdown_until_ms = Some(now_ms + IDLE_COUNTDOWN_MS);
                }
                vec![]
            }
        }
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
        s.handle(Event::TicketPrinted { number: "A023".into(), waiting_ahead: 5 }, 2_000);
        assert_eq!(s.screen, Screen::Done { number: "A023".into(), waiting_ahead: 5 });
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
        assert_eq!(s.countdown_until_ms, None);
        s.handle(Event::Tick, 60_000);
        assert_eq!(s.countdown_s(60_000), Some(10));
        s.handle(Event::Continue, 65_000);
        assert_eq!(s.countdown_until_ms, None, "continue resets");
        s.handle(Event::Tick, 125_000);
        assert_eq!(s.countdown_s(126_000), Some(9));
        assert_eq!(s.handle(Event::Tick, 135_000), vec![Command::EndSession { reason: "idle" }]);
        assert_eq!(s.screen, Screen::Home);
        assert_eq!(s.handle(Event::Tick, 500_000), vec![], "home has no session to end");
    }

    #[test]
    fn touches_keep_the_session_alive_and_cancel_goes_home() {
        let mut s = Session::new(30_000);
        s.handle(Event::OpenTakeNumber, 0);
        s.handle(Event::Touch, 25_000);
        s.handle(Event::Tick, 50_000);
        assert_eq!(s.countdown_until_ms, None);
        assert_eq!(s.handle(Event::Cancel, 51_000), vec![Command::EndSession { reason: "cancelled" }]);
        assert_eq!(s.handle(Event::CardPresent, 52_000), vec![], "a card on the home screen starts nothing here");
    }
}
