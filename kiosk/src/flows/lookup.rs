//! The services whose back ends are not connected yet — find a service (pinyin initials), case progress
//! (case number on a digit pad), appointment check-in (ID card) — as flows that take the citizen's input
//! and then say plainly that the service is not available here yet. No data is made up.

use super::idle::IdleClock;

/// Which service, and so which way the citizen enters what they look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// 事项查询: the first letters of the item's pinyin, A–Z.
    FindService,
    /// 办件查询: the case number, digits.
    CaseProgress,
    /// 预约签到: the ID card.
    Appointment,
}

impl Service {
    /// Longest entry accepted.
    pub fn max_len(self) -> usize {
        match self {
            Service::FindService => 8,
            Service::CaseProgress => 24,
            Service::Appointment => 0,
        }
    }

    pub fn accepts(self, c: char) -> bool {
        match self {
            Service::FindService => c.is_ascii_uppercase(),
            Service::CaseProgress => c.is_ascii_digit(),
            Service::Appointment => false,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Service::FindService => "find_service",
            Service::CaseProgress => "case_progress",
            Service::Appointment => "appointment",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Home,
    Entry {
        service: Service,
        text: String,
    },
    CardPrompt {
        service: Service,
    },
    /// The input was taken; the service behind it is not connected at this kiosk.
    NotAvailable {
        service: Service,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Open(Service),
    Key(char),
    Backspace,
    Clear,
    Submit,
    CardRead,
    Cancel,
    Touch,
    Continue,
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    StartSession { service: Service },
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
        match (event, &mut self.screen) {
            (Event::Open(service), Screen::Home) => {
                let screen = if service == Service::Appointment {
                    Screen::CardPrompt { service }
                } else {
                    Screen::Entry { service, text: String::new() }
                };
                self.go(screen, now_ms);
                vec![Command::StartSession { service }]
            }
            (Event::Key(c), Screen::Entry { service, text }) => {
                if service.accepts(c) && text.chars().count() < service.max_len() {
                    text.push(c);
                }
                self.idle.touch(now_ms);
                vec![]
            }
            (Event::Backspace, Screen::Entry { text, .. }) => {
                text.pop();
                self.idle.touch(now_ms);
                vec![]
            }
            (Event::Clear, Screen::Entry { text, .. }) => {
                text.clear();
                self.idle.touch(now_ms);
                vec![]
            }
            (Event::Submit, Screen::Entry { service, text }) if !text.is_empty() => {
                let service = *service;
                self.go(Screen::NotAvailable { service }, now_ms);
                vec![]
            }
            (Event::CardRead, Screen::CardPrompt { service }) => {
                let service = *service;
                self.go(Screen::NotAvailable { service }, now_ms);
                vec![]
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
    fn initials_take_letters_only_up_to_the_limit() {
        let mut s = Session::new(60_000);
        assert_eq!(
            s.handle(Event::Open(Service::FindService), 0),
            vec![Command::StartSession { service: Service::FindService }]
        );
        assert_eq!(s.handle(Event::Submit, 10), vec![]);
        assert!(matches!(s.screen, Screen::Entry { .. }), "nothing to look up yet");
        for c in "BDC1xABCDEFGH".chars() {
            s.handle(Event::Key(c), 20);
        }
        assert_eq!(s.screen, Screen::Entry { service: Service::FindService, text: "BDCABCDE".into() });
        s.handle(Event::Backspace, 30);
        s.handle(Event::Submit, 40);
        assert_eq!(s.screen, Screen::NotAvailable { service: Service::FindService });
        assert_eq!(s.handle(Event::Cancel, 50), vec![Command::EndSession { reason: "cancelled" }]);
    }

    #[test]
    fn case_numbers_are_digits_and_appointments_start_with_the_card() {
        let mut s = Session::new(60_000);
        s.handle(Event::Open(Service::CaseProgress), 0);
        for c in "12A3".chars() {
            s.handle(Event::Key(c), 10);
        }
        assert_eq!(s.screen, Screen::Entry { service: Service::CaseProgress, text: "123".into() });
        s.handle(Event::Clear, 20);
        assert_eq!(s.screen, Screen::Entry { service: Service::CaseProgress, text: String::new() });
        s.handle(Event::Cancel, 30);
        s.handle(Event::Open(Service::Appointment), 40);
        assert_eq!(s.screen, Screen::CardPrompt { service: Service::Appointment });
        s.handle(Event::CardRead, 50);
        assert_eq!(s.screen, Screen::NotAvailable { service: Service::Appointment });
        s.handle(Event::Tick, 60_050);
        assert_eq!(s.handle(Event::Tick, 70_050), vec![Command::EndSession { reason: "idle" }]);
    }
}
