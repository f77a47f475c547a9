//! The services whose back ends are not connected yet — case progress (case number on a digit pad), appointment check-in (ID card) — as flows that take the citizen's input
//! and then say plainly that the service is not available here yet. No data is made up.

use super::core::{Flow, StepInput, Transition};

/// Which service, and so which way the citizen enters what they look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// 办件查询: the case number, digits.
    CaseProgress,
    /// 预约签到: the ID card.
    Appointment,
}

impl Service {
    /// Longest entry accepted.
    pub fn max_len(self) -> usize {
        match self {
            Service::CaseProgress => 24,
            Service::Appointment => 0,
        }
    }

    pub fn accepts(self, c: char) -> bool {
        match self {
            Service::CaseProgress => c.is_ascii_digit(),
            Service::Appointment => false,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Service::CaseProgress => "case_progress",
            Service::Appointment => "appointment",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
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
    /// One of the two tiles.
    Open(Service),
    Key(char),
    Backspace,
    Clear,
    Submit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Take the card off the reader and drop it (zeroed): nothing of it is needed yet.
    DiscardCard,
}

/// The two look-up services that are not connected yet.
#[derive(Debug, Clone, Default)]
pub struct Lookup;

impl Flow for Lookup {
    type Step = Step;
    type Event = Event;
    type Work = Work;

    fn open(&mut self, event: Event) -> Option<(&'static str, Step, Vec<Work>)> {
        let Event::Open(service) = event else { return None };
        let step = if service == Service::Appointment {
            Step::CardPrompt { service }
        } else {
            Step::Entry { service, text: String::new() }
        };
        Some((service.name(), step, vec![]))
    }

    fn step(&mut self, step: &Step, input: StepInput<Event>) -> Transition<Step, Work> {
        match (step, input) {
            (Step::Entry { service, text }, StepInput::Event(e)) => {
                let (service, mut text) = (*service, text.clone());
                match e {
                    Event::Key(c) if service.accepts(c) && text.chars().count() < service.max_len() => text.push(c),
                    Event::Key(_) => {}
                    Event::Backspace => {
                        text.pop();
                    }
                    Event::Clear => text.clear(),
                    Event::Submit if !text.is_empty() => {
                        return Transition::Go(Step::NotAvailable { service }, vec![]);
                    }
                    Event::Submit | Event::Open(_) => return Transition::Ignore,
                }
                Transition::Update(Step::Entry { service, text })
            }
            (Step::CardPrompt { service }, StepInput::CardPlaced) => {
                Transition::Go(Step::NotAvailable { service: *service }, vec![Work::DiscardCard])
            }
            _ => Transition::Ignore,
        }
    }

    fn wants_card(&self, step: &Step) -> bool {
        matches!(step, Step::CardPrompt { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::core::{Command, EndReason, Input, Phase, Session};

    fn ev(s: &mut Session<Lookup>, e: Event, now: u64) -> Vec<Command<Work>> {
        s.handle(Input::Flow(e), now)
    }

    #[test]
    fn case_numbers_are_digits_and_appointments_start_with_the_card() {
        let mut s = Session::new(Lookup, 60_000);
        ev(&mut s, Event::Open(Service::CaseProgress), 0);
        for c in "12A3".chars() {
            ev(&mut s, Event::Key(c), 10);
        }
        assert_eq!(s.phase, Phase::Step(Step::Entry { service: Service::CaseProgress, text: "123".into() }));
        assert_eq!(ev(&mut s, Event::Submit, 12), vec![]);
        assert_eq!(s.phase, Phase::Step(Step::NotAvailable { service: Service::CaseProgress }));
        s.handle(Input::Cancel, 14);
        ev(&mut s, Event::Open(Service::CaseProgress), 16);
        assert_eq!(ev(&mut s, Event::Submit, 17), vec![], "nothing to look up yet");
        assert!(matches!(s.step(), Some(Step::Entry { .. })));
        for _ in 0..30 {
            ev(&mut s, Event::Key('7'), 18);
        }
        assert!(matches!(s.step(), Some(Step::Entry { text, .. }) if text.len() == Service::CaseProgress.max_len()));
        ev(&mut s, Event::Backspace, 19);
        assert!(
            matches!(s.step(), Some(Step::Entry { text, .. }) if text.len() == Service::CaseProgress.max_len() - 1)
        );
        ev(&mut s, Event::Clear, 20);
        assert_eq!(s.phase, Phase::Step(Step::Entry { service: Service::CaseProgress, text: String::new() }));
        s.handle(Input::Cancel, 30);
        ev(&mut s, Event::Open(Service::Appointment), 40);
        assert!(s.wants_card());
        assert_eq!(s.handle(Input::CardPlaced, 50), vec![Command::Work(Work::DiscardCard)]);
        assert_eq!(s.phase, Phase::Step(Step::NotAvailable { service: Service::Appointment }));
        s.handle(Input::Tick, 60_050);
        assert_eq!(s.handle(Input::Tick, 70_050), vec![Command::EndSession { reason: EndReason::Idle }]);
    }
}
