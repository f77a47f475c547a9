//! 好差评 on its own: the citizen rates a ticket served today, by its number, or the hall's service (five
//! GB/T 39734 levels, a reason for a negative one). The levels, reasons and thanks are the shared rating step
//! of [`super::core::Session`]; this flow finds what is rated.

use super::core::{Flow, Reason, StepInput, Transaction, Transition};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A ticket of today, or the hall?
    Choose,
    /// Typing the ticket's number; `failure` says why the last one cannot be rated.
    Number { text: String, failure: Option<Reason> },
    /// Looking the number up.
    Finding { number: String },
    /// The five levels, for this.
    Levels { transaction: Transaction },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The 好差评 tile.
    Open,
    RateTicket,
    RateHall,
    Key(String),
    Backspace,
    Clear,
    Submit,
    /// The number is a ticket served today and not rated yet.
    Found {
        ticket_id: String,
    },
    /// It cannot be rated (unknown today, not served yet, rated already).
    NotFound(Reason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Find today's ticket with this number; answers Found or NotFound.
    FindTicket(String),
}

pub use vocabulary::ticket_number::{can_become_number, is_ticket_number, split_number};

/// The standalone rating flow.
#[derive(Debug, Clone, Default)]
pub struct RateService;

impl Flow for RateService {
    type Step = Step;
    type Event = Event;
    type Work = Work;

    fn open(&mut self, event: Event) -> Option<(&'static str, Step, Vec<Work>)> {
        (event == Event::Open).then_some(("rating", Step::Choose, vec![]))
    }

    fn step(&mut self, step: &Step, input: StepInput<Event>) -> Transition<Step, Work> {
        let StepInput::Event(event) = input else { return Transition::Ignore };
        match (step, event) {
            (Step::Choose, Event::RateHall) => {
                Transition::Go(Step::Levels { transaction: Transaction::HallService }, vec![])
            }
            (Step::Choose, Event::RateTicket) => {
                Transition::Go(Step::Number { text: String::new(), failure: None }, vec![])
            }
            (Step::Number { text, .. }, Event::Key(k)) => {
                // One character at a time, and only what can still become a number.
                let next = format!("{text}{k}");
                if k.len() != 1 || split_number(&next).0.is_empty() || !can_become_number(&next) {
                    return Transition::Ignore;
                }
                Transition::Update(Step::Number { text: next, failure: None })
            }
            (Step::Number { text, .. }, Event::Backspace) => {
                let mut text = text.clone();
                text.pop();
                Transition::Update(Step::Number { text, failure: None })
            }
            (Step::Number { .. }, Event::Clear) => {
                Transition::Update(Step::Number { text: String::new(), failure: None })
            }
            (Step::Number { text, .. }, Event::Submit) if is_ticket_number(text) => {
                Transition::Go(Step::Finding { number: text.clone() }, vec![Work::FindTicket(text.clone())])
            }
            (Step::Finding { .. }, Event::Found { ticket_id }) => {
                Transition::Go(Step::Levels { transaction: Transaction::Ticket { ticket_id } }, vec![])
            }
            (Step::Finding { number }, Event::NotFound(why)) => {
                Transition::Go(Step::Number { text: number.clone(), failure: Some(why) }, vec![])
            }
            _ => Transition::Ignore,
        }
    }

    fn rating_offer(&self, step: &Step) -> Option<Transaction> {
        match step {
            Step::Levels { transaction } => Some(transaction.clone()),
            _ => None,
        }
    }

    fn busy(&self, step: &Step) -> bool {
        matches!(step, Step::Finding { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Command, EndReason, Input, Phase, Session, THANKS_SCREEN_MS};

    fn ev(s: &mut Session<RateService>, e: Event, now: u64) -> Vec<Command<Work>> {
        s.handle(Input::Flow(e), now)
    }

    #[test]
    fn the_hall_negative_asks_why_and_positive_thanks() {
        let mut s = Session::new(RateService, 60_000);
        assert_eq!(ev(&mut s, Event::Open, 0), vec![Command::StartSession { flow: "rating" }]);
        assert_eq!(s.handle(Input::Rate(4), 5), vec![], "nothing is rated before it is chosen");
        ev(&mut s, Event::RateHall, 10);
        assert_eq!(s.handle(Input::Rate(9), 20), vec![], "only the five levels");
        assert_eq!(s.handle(Input::Rate(2), 100), vec![]);
        assert_eq!(s.phase, Phase::RatingReasons { transaction: Transaction::HallService, level: 2 });
        assert_eq!(
            // A number that is not a telephone number is not kept.
            s.handle(Input::RateReason { reason: "attitude".into(), contact: Some("12ab".into()) }, 200),
            vec![Command::RecordEvaluation {
                transaction: Transaction::HallService,
                level: 2,
                reason: Some("attitude".into()),
                contact: None
            }]
        );
        assert_eq!(
            s.handle(Input::Tick, 200 + THANKS_SCREEN_MS),
            vec![Command::EndSession { reason: EndReason::Completed }]
        );
    }

    #[test]
    fn a_ticket_by_its_number() {
        let mut s = Session::new(RateService, 60_000);
        ev(&mut s, Event::Open, 0);
        ev(&mut s, Event::RateTicket, 10);
        for k in ["A", "0", "B", "2", "3", "x", "%"] {
            ev(&mut s, Event::Key(k.into()), 20);
        }
        assert_eq!(s.step(), Some(&Step::Number { text: "A023".into(), failure: None }), "letters, then digits");
        ev(&mut s, Event::Backspace, 30);
        assert_eq!(ev(&mut s, Event::Submit, 40), vec![Command::Work(Work::FindTicket("A02".into()))]);
        assert_eq!(s.handle(Input::Cancel, 45), vec![], "the look-up is followed to its answer");
        let why = Reason::TicketNotServed { number: "A02".into() };
        ev(&mut s, Event::NotFound(why.clone()), 50);
        assert_eq!(s.step(), Some(&Step::Number { text: "A02".into(), failure: Some(why) }));
        ev(&mut s, Event::Key("3".into()), 60);
        assert_eq!(s.step(), Some(&Step::Number { text: "A023".into(), failure: None }), "typing clears the failure");
        ev(&mut s, Event::Submit, 70);
        ev(&mut s, Event::Found { ticket_id: "k-20261126-A023".into() }, 80);
        let tx = Transaction::Ticket { ticket_id: "k-20261126-A023".into() };
        assert_eq!(
            s.handle(Input::Rate(5), 90),
            vec![Command::RecordEvaluation { transaction: tx, level: 5, reason: None, contact: None }]
        );
    }

    #[test]
    fn only_numbers_that_can_be_tickets_are_looked_up() {
        assert!(is_ticket_number("A023") && is_ticket_number("AB1") && is_ticket_number("D3001"));
        for bad in ["", "A", "023", "ABC1", "A12345", "a023", "A0B"] {
            assert!(!is_ticket_number(bad), "{bad}");
        }
        let mut s = Session::new(RateService, 60_000);
        ev(&mut s, Event::Open, 0);
        ev(&mut s, Event::RateTicket, 0);
        ev(&mut s, Event::Key("A".into()), 0);
        assert_eq!(ev(&mut s, Event::Submit, 0), vec![], "a letter alone is no number");
        for _ in 0..10 {
            ev(&mut s, Event::Key("9".into()), 0);
        }
        assert_eq!(s.step(), Some(&Step::Number { text: "A9999".into(), failure: None }), "at most four digits");
    }

    #[test]
    fn walking_away_ends_the_session() {
        let mut s = Session::new(RateService, 60_000);
        s.handle(Input::Flow(Event::Open), 0);
        s.handle(Input::Tick, 60_000);
        assert_eq!(s.idle.countdown_s(60_000), Some(10));
        assert_eq!(s.handle(Input::Tick, 70_000), vec![Command::EndSession { reason: EndReason::Idle }]);
        assert_eq!(s.phase, Phase::Home);
        assert_eq!(s.handle(Input::Cancel, 80_000), vec![], "nothing to end at home");
    }
}
