//! 好差评 on its own: the citizen rates the hall's service (five GB/T 39734 levels, a reason for a negative
//! one), without a transaction of this kiosk to tie it to. The levels, reasons and thanks are the shared
//! rating step of [`super::core::Session`]; this flow only opens it.

use super::core::{Flow, StepInput, Transaction, Transition};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Levels,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The 好差评 tile.
    Open,
}

/// The standalone rating flow; it has no work of its own.
#[derive(Debug, Clone, Default)]
pub struct RateService;

impl Flow for RateService {
    type Step = Step;
    type Event = Event;
    type Work = ();

    fn open(&mut self, _event: Event) -> Option<(&'static str, Step, Vec<()>)> {
        Some(("rating", Step::Levels, vec![]))
    }

    fn step(&mut self, _step: &Step, _input: StepInput<Event>) -> Transition<Step, ()> {
        Transition::Ignore
    }

    fn rating_offer(&self, _step: &Step) -> Option<Transaction> {
        Some(Transaction::HallService)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::core::{Command, EndReason, Input, Phase, Session, THANKS_SCREEN_MS};

    #[test]
    fn a_negative_rating_asks_why_and_a_positive_one_thanks() {
        let mut s = Session::new(RateService, 60_000);
        assert_eq!(s.handle(Input::Flow(Event::Open), 0), vec![Command::StartSession { flow: "rating" }]);
        assert_eq!(s.handle(Input::Rate(9), 10), vec![], "only the five levels");
        assert_eq!(s.handle(Input::Rate(2), 100), vec![]);
        assert_eq!(s.phase, Phase::RatingReasons { transaction: Transaction::HallService, level: 2 });
        assert_eq!(
            s.handle(Input::RateReason("attitude".into()), 200),
            vec![Command::RecordEvaluation {
                transaction: Transaction::HallService,
                level: 2,
                reason: Some("attitude".into())
            }]
        );
        assert_eq!(
            s.handle(Input::Tick, 200 + THANKS_SCREEN_MS),
            vec![Command::EndSession { reason: EndReason::Completed }]
        );
        s.handle(Input::Flow(Event::Open), 10_000);
        assert_eq!(
            s.handle(Input::Rate(5), 10_100),
            vec![Command::RecordEvaluation { transaction: Transaction::HallService, level: 5, reason: None }]
        );
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
