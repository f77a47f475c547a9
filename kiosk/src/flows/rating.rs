//! 好差评 on its own: the citizen rates the hall's service (five GB/T 39734 levels, a reason for a negative
//! one), without a transaction of this kiosk to tie it to.

use super::idle::IdleClock;
use super::take_number::THANKS_SCREEN_MS;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Home,
    Levels,
    Reasons { level: u8 },
    Thanks,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Open,
    Rate(u8),
    RateReason(String),
    Cancel,
    Touch,
    Continue,
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    StartSession,
    RecordEvaluation { level: u8, reason: Option<String> },
    EndSession { reason: &'static str },
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
        match (event, &self.screen) {
            (Event::Open, Screen::Home) => {
                self.go(Screen::Levels, now_ms);
                vec![Command::StartSession]
            }
            (Event::Rate(level), Screen::Levels) if (1..=5).contains(&level) => {
                if level <= 2 {
                    self.go(Screen::Reasons { level }, now_ms);
                    vec![]
                } else {
                    self.go(Screen::Thanks, now_ms);
                    vec![Command::RecordEvaluation { level, reason: None }]
                }
            }
            (Event::RateReason(reason), Screen::Reasons { level }) => {
                let level = *level;
                self.go(Screen::Thanks, now_ms);
                vec![Command::RecordEvaluation { level, reason: Some(reason) }]
            }
            (Event::Cancel, _) => self.end("cancelled", now_ms),
            (Event::Touch, _) => {
                self.idle.touch(now_ms);
                vec![]
            }
            (Event::Continue, _) => {
                self.idle.resume(now_ms);
                vec![]
            }
            (Event::Tick, Screen::Home) => vec![],
            (Event::Tick, Screen::Thanks) if self.idle.on_screen_ms(now_ms) >= THANKS_SCREEN_MS => {
                self.end("completed", now_ms)
            }
            (Event::Tick, _) => {
                if self.idle.expired(now_ms) {
                    self.end("idle", now_ms)
                } else {
                    vec![]
                }
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_rating_asks_why_and_a_positive_one_thanks() {
        let mut s = Session::new(60_000);
        assert_eq!(s.handle(Event::Open, 0), vec![Command::StartSession]);
        assert_eq!(s.handle(Event::Rate(9), 10), vec![], "only the five levels");
        assert_eq!(s.handle(Event::Rate(2), 100), vec![]);
        assert_eq!(s.screen, Screen::Reasons { level: 2 });
        assert_eq!(
            s.handle(Event::RateReason("attitude".into()), 200),
            vec![Command::RecordEvaluation { level: 2, reason: Some("attitude".into()) }]
        );
        assert_eq!(s.handle(Event::Tick, 200 + THANKS_SCREEN_MS), vec![Command::EndSession { reason: "completed" }]);
        s.handle(Event::Open, 10_000);
        assert_eq!(s.handle(Event::Rate(5), 10_100), vec![Command::RecordEvaluation { level: 5, reason: None }]);
    }

    #[test]
    fn walking_away_ends_the_session() {
        let mut s = Session::new(60_000);
        s.handle(Event::Open, 0);
        s.handle(Event::Tick, 60_000);
        assert_eq!(s.idle.countdown_s(60_000), Some(10));
        assert_eq!(s.handle(Event::Tick, 70_000), vec![Command::EndSession { reason: "idle" }]);
        assert_eq!(s.screen, Screen::Home);
        assert_eq!(s.handle(Event::Cancel, 80_000), vec![], "nothing to end at home");
    }
}
