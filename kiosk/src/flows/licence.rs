//! Printing a licence: card → the holder's documents → copies → printing → done (with the rating offer),
//! with the idle rules; taking the card away before printing ends the session.

use super::idle::IdleClock;
use super::take_number::{DONE_SCREEN_MS, THANKS_SCREEN_MS};

/// One document as the list shows it (no personal data beyond the masked number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSummary {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub number_masked: String,
    pub remaining: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Home,
    /// Waiting for the card; `failure` says why the last card did not do.
    CardPrompt {
        failure: Option<String>,
    },
    /// Looking up the holder's documents.
    Loading,
    Documents {
        documents: Vec<DocumentSummary>,
    },
    Copies {
        documents: Vec<DocumentSummary>,
        chosen: usize,
        copies: u32,
    },
    Printing {
        document_id: String,
        copies: u32,
        /// The job's state keyword as the printer reports it, for the progress line.
        stage: String,
    },
    Done {
        print_id: String,
        copies: u32,
        remaining: u32,
    },
    RatingReasons {
        print_id: String,
        level: u8,
    },
    Thanks,
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Open,
    /// A card was read; `problem` is the sentence when it cannot be used (expired, wrong type).
    CardRead {
        problem: Option<String>,
    },
    CardFailed(String),
    CardRemoved,
    DocumentsLoaded(Vec<DocumentSummary>),
    LookupFailed(String),
    Choose(String),
    More,
    Fewer,
    Confirm,
    /// Back one step (documents ← copies); from the documents list, home.
    Back,
    Cancel,
    JobState(String),
    Printed {
        print_id: String,
        copies: u32,
        remaining: u32,
    },
    PrintFailed(String),
    Rate(u8),
    RateReason(String),
    Touch,
    Continue,
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    StartSession,
    /// Look up the holder's documents, answering with DocumentsLoaded / LookupFailed.
    Lookup,
    Print {
        document_id: String,
        copies: u32,
    },
    RecordEvaluation {
        print_id: String,
        level: u8,
        reason: Option<String>,
    },
    EndSession {
        reason: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct Session {
    pub screen: Screen,
    pub idle: IdleClock,
}

impl Session {
    pub fn new(idle_timeout_ms: u64) -> Session {
        Session { screen: Screen::Home, idle: IdleClock::new(idle_timeout_ms) }
    }

    /// Whether the flow is waiting for a card to appear on the reader.
    pub fn wants_card(&self) -> bool {
        matches!(self.screen, Screen::CardPrompt { .. })
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
            Event::Open if self.screen == Screen::Home => {
                self.go(Screen::CardPrompt { failure: None }, now_ms);
                vec![Command::StartSession]
            }
            Event::Open => vec![],
            Event::CardRead { problem } => match (&self.screen, problem) {
                (Screen::CardPrompt { .. }, None) => {
                    self.go(Screen::Loading, now_ms);
                    vec![Command::Lookup]
                }
                (Screen::CardPrompt { .. }, Some(p)) => {
                    self.go(Screen::CardPrompt { failure: Some(p) }, now_ms);
                    vec![]
                }
                _ => vec![],
            },
            Event::CardFailed(why) => {
                if self.wants_card() {
                    self.go(Screen::CardPrompt { failure: Some(why) }, now_ms);
                }
                vec![]
            }
            Event::CardRemoved => match self.screen {
                // The card is the citizen's authority for what is on screen: without it, nothing stays.
                Screen::Loading | Screen::Documents { .. } | Screen::Copies { .. } => self.end("card_removed", now_ms),
                _ => vec![],
            },
            Event::DocumentsLoaded(documents) => {
                if self.screen == Screen::Loading {
                    self.go(Screen::Documents { documents }, now_ms);
                }
                vec![]
            }
            Event::LookupFailed(message) => {
                if self.screen == Screen::Loading {
                    self.go(Screen::Failed { message }, now_ms);
                }
                vec![]
            }
            Event::Choose(id) => {
                if let Screen::Documents { documents } = &self.screen
                    && let Some(chosen) = documents.iter().position(|d| d.id == id && d.remaining > 0)
                {
                    let documents = documents.clone();
                    self.go(Screen::Copies { documents, chosen, copies: 1 }, now_ms);
                }
                vec![]
            }
            Event::More | Event::Fewer => {
                if let Screen::Copies { documents, chosen, copies } = &mut self.screen {
                    let max = documents[*chosen].remaining.max(1);
                    *copies =
                        if event == Event::More { (*copies + 1).min(max) } else { copies.saturating_sub(1).max(1) };
                    self.idle.touch(now_ms);
                }
                vec![]
            }
            Event::Confirm => {
                if let Screen::Copies { documents, chosen, copies } = &self.screen {
                    let (document_id, copies) = (documents[*chosen].id.clone(), *copies);
                    self.go(
                        Screen::Printing { document_id: document_id.clone(), copies, stage: String::new() },
                        now_ms,
                    );
                    return vec![Command::Print { document_id, copies }];
                }
                vec![]
            }
            Event::Back => match &self.screen {
                Screen::Copies { documents, .. } => {
                    let documents = documents.clone();
                    self.go(Screen::Documents { documents }, now_ms);
                    vec![]
                }
                Screen::Printing { .. } => vec![],
                _ => self.end("cancelled", now_ms),
            },
            Event::Cancel => match self.screen {
                // A job sent to the printer is followed to its end; the citizen waits for the paper.
                Screen::Printing { .. } => vec![],
                _ => self.end("cancelled", now_ms),
            },
            Event::JobState(stage) => {
                if let Screen::Printing { stage: s, .. } = &mut self.screen {
                    *s = stage;
                }
                vec![]
            }
            Event::Printed { print_id, copies, remaining } => {
                if matches!(self.screen, Screen::Printing { .. }) {
                    self.go(Screen::Done { print_id, copies, remaining }, now_ms);
                }
                vec![]
            }
            Event::PrintFailed(message) => {
                if matches!(self.screen, Screen::Printing { .. }) {
                    self.go(Screen::Failed { message }, now_ms);
                }
                vec![]
            }
            Event::Rate(level) => match &self.screen {
                Screen::Done { print_id, .. } if (1..=5).contains(&level) => {
                    let print_id = print_id.clone();
                    if level <= 2 {
                        self.go(Screen::RatingReasons { print_id, level }, now_ms);
                        vec![]
                    } else {
                        self.go(Screen::Thanks, now_ms);
                        vec![Command::RecordEvaluation { print_id, level, reason: None }]
                    }
                }
                _ => vec![],
            },
            Event::RateReason(reason) => match &self.screen {
                Screen::RatingReasons { print_id, level } => {
                    let (print_id, level) = (print_id.clone(), *level);
                    self.go(Screen::Thanks, now_ms);
                    vec![Command::RecordEvaluation { print_id, level, reason: Some(reason) }]
                }
                _ => vec![],
            },
        }
    }

    fn tick(&mut self, now_ms: u64) -> Vec<Command> {
        let since = self.idle.on_screen_ms(now_ms);
        match self.screen {
            Screen::Home | Screen::Printing { .. } | Screen::Loading => return vec![],
            Screen::Done { .. } if since >= DONE_SCREEN_MS => return self.end("completed", now_ms),
            Screen::Thanks if since >= THANKS_SCREEN_MS => return self.end("completed", now_ms),
            _ => {}
        }
        if self.idle.expired(now_ms) { self.end("idle", now_ms) } else { vec![] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::idle::IDLE_COUNTDOWN_MS;

    fn doc(id: &str, remaining: u32) -> DocumentSummary {
        DocumentSummary {
            id: id.into(),
            title_zh: "营业执照（副本）".into(),
            title_en: "Business licence (copy)".into(),
            number_masked: "9137**********O01X".into(),
            remaining,
        }
    }

    fn to_documents(s: &mut Session) {
        assert_eq!(s.handle(Event::Open, 0), vec![Command::StartSession]);
        assert_eq!(s.handle(Event::CardRead { problem: None }, 100), vec![Command::Lookup]);
        s.handle(Event::DocumentsLoaded(vec![doc("BL-1", 2), doc("P-1", 0)]), 200);
    }

    #[test]
    fn print_two_copies_then_rate() {
        let mut s = Session::new(60_000);
        to_documents(&mut s);
        s.handle(Event::Choose("P-1".into()), 300);
        assert!(matches!(s.screen, Screen::Documents { .. }), "a document with no copies left cannot be chosen");
        s.handle(Event::Choose("BL-1".into()), 300);
        for _ in 0..5 {
            s.handle(Event::More, 400);
        }
        assert!(matches!(s.screen, Screen::Copies { copies: 2, .. }), "copies stop at what is allowed");
        s.handle(Event::Fewer, 450);
        s.handle(Event::More, 460);
        assert_eq!(s.handle(Event::Confirm, 500), vec![Command::Print { document_id: "BL-1".into(), copies: 2 }]);
        assert_eq!(s.handle(Event::Cancel, 600), vec![], "a job in flight is not abandoned");
        assert_eq!(s.handle(Event::CardRemoved, 650), vec![], "taking the card while printing is fine");
        s.handle(Event::JobState("processing".into()), 700);
        assert!(matches!(&s.screen, Screen::Printing { stage, .. } if stage == "processing"));
        s.handle(Event::Printed { print_id: "p1".into(), copies: 2, remaining: 0 }, 800);
        s.handle(Event::Rate(1), 900);
        assert_eq!(
            s.handle(Event::RateReason("slow".into()), 1_000),
            vec![Command::RecordEvaluation { print_id: "p1".into(), level: 1, reason: Some("slow".into()) }]
        );
        assert_eq!(s.handle(Event::Tick, 1_000 + THANKS_SCREEN_MS), vec![Command::EndSession { reason: "completed" }]);
    }

    #[test]
    fn card_problems_and_removal() {
        let mut s = Session::new(60_000);
        s.handle(Event::Open, 0);
        s.handle(Event::CardRead { problem: Some("证件已过期".into()) }, 100);
        assert_eq!(s.screen, Screen::CardPrompt { failure: Some("证件已过期".into()) });
        s.handle(Event::CardFailed("读卡失败".into()), 200);
        assert_eq!(s.screen, Screen::CardPrompt { failure: Some("读卡失败".into()) });
        assert_eq!(s.handle(Event::CardRemoved, 250), vec![], "no card yet: nothing to end");
        s.handle(Event::CardRead { problem: None }, 300);
        s.handle(Event::DocumentsLoaded(vec![doc("BL-1", 1)]), 400);
        s.handle(Event::Choose("BL-1".into()), 500);
        assert_eq!(s.handle(Event::CardRemoved, 600), vec![Command::EndSession { reason: "card_removed" }]);
        assert_eq!(s.screen, Screen::Home);
    }

    #[test]
    fn lookup_failure_back_and_idle() {
        let mut s = Session::new(60_000);
        s.handle(Event::Open, 0);
        s.handle(Event::CardRead { problem: None }, 100);
        s.handle(Event::LookupFailed("暂时无法查询".into()), 200);
        assert_eq!(s.screen, Screen::Failed { message: "暂时无法查询".into() });
        assert_eq!(s.handle(Event::Back, 300), vec![Command::EndSession { reason: "cancelled" }]);
        let mut s = Session::new(60_000);
        to_documents(&mut s);
        s.handle(Event::Choose("BL-1".into()), 300);
        s.handle(Event::Back, 400);
        assert!(matches!(s.screen, Screen::Documents { .. }));
        assert_eq!(s.handle(Event::Tick, 60_400), vec![]);
        assert_eq!(s.idle.countdown_s(60_400), Some(10));
        s.handle(Event::Continue, 61_000);
        assert_eq!(s.idle.countdown_s(61_000), None);
        s.handle(Event::Tick, 121_000);
        assert_eq!(s.handle(Event::Tick, 121_000 + IDLE_COUNTDOWN_MS), vec![Command::EndSession { reason: "idle" }]);
    }
}
