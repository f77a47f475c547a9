//! 预约签到 as a flow: the ID card on the reader or the appointment code on a digit pad → today's
//! appointments, each with what can be done now (check in; too early: when to come back; too late: a
//! normal ticket instead; already checked in) → a priority ticket in the appointment's category. Pure: the
//! worker asks the platform (or the day's imported file when it cannot be reached) and sorts each
//! appointment into its window.

use super::core::{EndReason, Flow, Named, PadKey, Reason, StepInput, Transition};
use super::take_number::Issued;
use platform::appointments::{Appointment, Window, is_code};

/// Longest code typed.
pub const MAX_CODE: usize = 20;

/// An appointment with what can be done with it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub appointment: Appointment,
    pub window: Window,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The card prompt, with a digit pad for the appointment code.
    Identify {
        code: String,
        failure: Option<Reason>,
    },
    /// Asking the platform.
    Looking,
    /// Today's appointments; `offline` when they come from the day's imported file.
    List {
        shown: Vec<Shown>,
        offline: bool,
    },
    /// Checking in and printing the priority ticket.
    CheckingIn {
        code: String,
    },
    Done {
        issued: Issued,
        /// The matter, in Chinese and (when the platform has it) English.
        item_name: Named,
        code: String,
    },
    Failed {
        reason: Reason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The 预约签到 tile.
    Open,
    Pad(PadKey),
    /// 查询 with the code typed.
    Submit,
    Found {
        shown: Vec<Shown>,
        offline: bool,
    },
    LookupFailed(Reason),
    /// 签到 on one appointment.
    CheckIn(String),
    CheckedIn {
        issued: Issued,
        item_name: Named,
    },
    CheckInFailed(Reason),
    /// 普通取号 for an appointment missed: the session ends and take-a-number opens in its category.
    NormalTicket(String),
    /// From a failure: take a number instead (the session hands over to take-a-number).
    TakeTicket,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Read the card on the reader and find its holder's appointments today.
    FindByCard,
    FindByCode(String),
    /// Issue a priority ticket in the category, print it, journal the check-in and tell the platform.
    CheckIn {
        appointment: Appointment,
        offline: bool,
    },
}

#[derive(Debug, Clone, Default)]
pub struct AppointmentCheckIn;

impl AppointmentCheckIn {
    /// The appointment `code` on the list step, if it can be checked in now.
    fn open_one<'a>(step: &'a Step, code: &str) -> Option<(&'a Appointment, bool)> {
        let Step::List { shown, offline } = step else { return None };
        shown
            .iter()
            .find(|s| s.appointment.code == code && s.window == Window::Open)
            .map(|s| (&s.appointment, *offline))
    }

    /// The category of a missed appointment on the list step (for 普通取号).
    pub fn missed_category(step: &Step, code: &str) -> Option<String> {
        let Step::List { shown, .. } = step else { return None };
        shown
            .iter()
            .find(|s| s.appointment.code == code && s.window == Window::TooLate)
            .map(|s| s.appointment.category.clone())
    }
}

impl Flow for AppointmentCheckIn {
    type Step = Step;
    type Event = Event;
    type Work = Work;

    fn open(&mut self, event: Event) -> Option<(&'static str, Step, Vec<Work>)> {
        (event == Event::Open).then(|| ("appointment", Step::Identify { code: String::new(), failure: None }, vec![]))
    }

    fn step(&mut self, step: &Step, input: StepInput<Event>) -> Transition<Step, Work> {
        let event = match (step, input) {
            (Step::Identify { .. }, StepInput::CardPlaced) => {
                return Transition::Go(Step::Looking, vec![Work::FindByCard]);
            }
            (Step::Identify { code, failure }, StepInput::CardTrouble(news)) => {
                return Transition::Update(Step::Identify {
                    code: code.clone(),
                    failure: news.shown(failure.as_ref()),
                });
            }
            (_, StepInput::Event(e)) => e,
            _ => return Transition::Ignore,
        };
        match (step, event) {
            (Step::Identify { code, .. }, Event::Pad(key)) => match key.apply(code, MAX_CODE) {
                Some(code) => Transition::Update(Step::Identify { code, failure: None }),
                None => Transition::Ignore,
            },
            (Step::Identify { code, .. }, Event::Submit) if is_code(code) => {
                Transition::Go(Step::Looking, vec![Work::FindByCode(code.clone())])
            }
            (Step::Looking, Event::Found { shown, offline }) => {
                if shown.is_empty() {
                    Transition::Go(
                        Step::Identify { code: String::new(), failure: Some(Reason::NoAppointments) },
                        vec![],
                    )
                } else {
                    Transition::Go(Step::List { shown, offline }, vec![])
                }
            }
            (Step::Looking, Event::LookupFailed(reason)) => match reason {
                // A card that cannot be used: say why at the prompt, and let another be placed.
                Reason::CardExpired | Reason::CardUnreadable => {
                    Transition::Go(Step::Identify { code: String::new(), failure: Some(reason) }, vec![])
                }
                reason => Transition::Go(Step::Failed { reason }, vec![]),
            },
            (Step::List { .. }, Event::CheckIn(code)) => match Self::open_one(step, &code) {
                Some((a, offline)) => {
                    Transition::Go(Step::CheckingIn { code }, vec![Work::CheckIn { appointment: a.clone(), offline }])
                }
                None => Transition::Ignore,
            },
            (Step::List { .. }, Event::NormalTicket(code)) => match Self::missed_category(step, &code) {
                Some(_) => Transition::End(EndReason::HandedOver),
                None => Transition::Ignore,
            },
            (Step::CheckingIn { code }, Event::CheckedIn { issued, item_name }) => {
                Transition::Go(Step::Done { issued, item_name, code: code.clone() }, vec![])
            }
            (Step::CheckingIn { .. }, Event::CheckInFailed(reason)) => Transition::Go(Step::Failed { reason }, vec![]),
            // Not a dead end: a ticket for the counters (or 帮办代办 at night) is always there.
            (Step::Failed { .. }, Event::TakeTicket) => Transition::End(EndReason::HandedOver),
            _ => Transition::Ignore,
        }
    }

    fn wants_card(&self, step: &Step) -> bool {
        matches!(step, Step::Identify { .. })
    }

    fn busy(&self, step: &Step) -> bool {
        matches!(step, Step::Looking | Step::CheckingIn { .. })
    }

    fn lingers_ms(&self, step: &Step) -> Option<u64> {
        matches!(step, Step::Done { .. }).then_some(super::core::DONE_SCREEN_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Command, Input, Phase, Session};
    use jiff::Timestamp;

    fn appointment(code: &str, category: &str, checked_in: bool) -> Appointment {
        Appointment {
            code: code.into(),
            item_name: "不动产登记".into(),
            item_name_en: String::new(),
            category: category.into(),
            start: Timestamp::UNIX_EPOCH,
            checked_in,
        }
    }

    fn ev(s: &mut Session<AppointmentCheckIn>, e: Event) -> Vec<Command<Work>> {
        s.handle(Input::Flow(e), 100)
    }

    #[test]
    fn a_card_finds_todays_appointments_and_one_in_its_window_is_checked_in() {
        let mut s = Session::new(AppointmentCheckIn, 60_000);
        assert_eq!(s.handle(Input::Flow(Event::Open), 0), vec![Command::StartSession { flow: "appointment" }]);
        assert!(s.wants_card());
        assert_eq!(s.handle(Input::CardPlaced, 10), vec![Command::Work(Work::FindByCard)]);
        assert!(s.flow.busy(s.step().unwrap()));
        let shown = vec![
            Shown { appointment: appointment("20261127001", "B", false), window: Window::Open },
            Shown { appointment: appointment("20261127002", "C", false), window: Window::TooLate },
            Shown {
                appointment: appointment("20261127003", "A", false),
                window: Window::TooEarly(Timestamp::UNIX_EPOCH),
            },
        ];
        ev(&mut s, Event::Found { shown: shown.clone(), offline: false });
        assert_eq!(ev(&mut s, Event::CheckIn("20261127003".into())), vec![], "too early");
        assert_eq!(ev(&mut s, Event::CheckIn("20261127002".into())), vec![], "too late");
        assert_eq!(ev(&mut s, Event::NormalTicket("20261127001".into())), vec![], "not missed");
        assert_eq!(
            ev(&mut s, Event::CheckIn("20261127001".into())),
            vec![Command::Work(Work::CheckIn { appointment: shown[0].appointment.clone(), offline: false })]
        );
        let issued = Issued { number: "B1001".into(), ..Issued::default() };
        ev(&mut s, Event::CheckedIn { issued: issued.clone(), item_name: Named::zh("不动产登记") });
        assert_eq!(
            s.step(),
            Some(&Step::Done { issued, item_name: Named::zh("不动产登记"), code: "20261127001".into() })
        );
        // Issue #30 item 8: the rating was asked right after the check-in ticket, before the citizen was
        // served; the ticket is rated from 好差评 once it has been served.
        assert_eq!(s.flow.rating_offer(s.step().unwrap()), None);
        assert_eq!(s.handle(crate::core::Input::Rate(1), 100), vec![]);
        assert!(matches!(s.step(), Some(Step::Done { .. })));
    }

    #[test]
    fn a_code_is_digits_and_a_missed_appointment_hands_over_to_a_normal_ticket() {
        let mut s = Session::new(AppointmentCheckIn, 60_000);
        ev(&mut s, Event::Open);
        for c in "2026x1".chars() {
            ev(&mut s, Event::Pad(PadKey::Key(c)));
        }
        assert_eq!(ev(&mut s, Event::Submit), vec![], "six digits at least");
        for c in "127001".chars() {
            ev(&mut s, Event::Pad(PadKey::Key(c)));
        }
        assert_eq!(ev(&mut s, Event::Submit), vec![Command::Work(Work::FindByCode("20261127001".into()))]);
        ev(&mut s, Event::LookupFailed(Reason::PlatformUnavailable));
        assert_eq!(s.step(), Some(&Step::Failed { reason: Reason::PlatformUnavailable }));
        // Issue #30 item 5: not a dead end — a ticket instead, the session handing over to take-a-number.
        assert_eq!(ev(&mut s, Event::TakeTicket), vec![Command::EndSession { reason: EndReason::HandedOver }]);

        let mut s = Session::new(AppointmentCheckIn, 60_000);
        ev(&mut s, Event::Open);
        s.handle(Input::CardPlaced, 10);
        ev(&mut s, Event::Found { shown: vec![], offline: true });
        assert_eq!(
            s.step(),
            Some(&Step::Identify { code: String::new(), failure: Some(Reason::NoAppointments) }),
            "nothing today: said at the prompt"
        );
        s.handle(Input::CardPlaced, 20);
        ev(
            &mut s,
            Event::Found {
                shown: vec![Shown { appointment: appointment("20261127002", "C", false), window: Window::TooLate }],
                offline: true,
            },
        );
        assert_eq!(AppointmentCheckIn::missed_category(s.step().unwrap(), "20261127002").as_deref(), Some("C"));
        assert_eq!(
            ev(&mut s, Event::NormalTicket("20261127002".into())),
            vec![Command::EndSession { reason: EndReason::HandedOver }]
        );
        assert_eq!(s.phase, Phase::Home);
    }
}
