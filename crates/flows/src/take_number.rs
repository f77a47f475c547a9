//! Taking a queue number: category → (card, when the category needs one) → printing → done. No rating is
//! offered here: nothing has been served yet (the ticket's QR and the 好差评 tile rate it once it has).
//! Session and idle come from [`super::core::Session`].

use super::core::{DONE_SCREEN_MS, Flow, Named, Reason, StepInput, Transition};

/// One category as the citizen sees it: names, people waiting, open or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryView {
    pub prefix: String,
    pub name_zh: String,
    pub name_en: String,
    pub waiting: u32,
    /// None when open; why not (with the next opening) when closed.
    pub closed: Option<Reason>,
    pub requires_id: bool,
    /// Shows its number on screen when the ticket printer cannot print.
    pub on_screen: bool,
}

/// What the citizen sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The categories, empty until the waiting counts have been read.
    Categories {
        categories: Vec<CategoryView>,
        /// Why the category another service asked for cannot be taken now (closed: when it opens), said above
        /// the list instead of the list alone.
        notice: Option<Reason>,
    },
    /// Waiting for an ID card; `failure` says why the last card did not do.
    CardPrompt {
        prefix: String,
        failure: Option<Reason>,
    },
    Printing {
        prefix: String,
    },
    /// "Take your ticket": the number, the people ahead, where to wait and about how long.
    Done(Issued),
    /// A sentence for the citizen (printer fault, category closed, limit reached). `reprint`: the ticket that
    /// was issued but not printed, which 重新打印 prints again (same number, same place in the queue).
    Failed {
        message: Reason,
        reprint: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The 取号 tile.
    Open,
    /// 取号办理 from an item's page (事项查询): straight to this category once the categories are read; the
    /// list, saying why, when it is closed.
    OpenFor(String),
    CategoriesLoaded(Vec<CategoryView>),
    /// A category was tapped.
    Choose(String),
    /// The card on the reader cannot be used (expired, unreadable): place another.
    CardRefused(Reason),
    TicketPrinted(Issued),
    TicketFailed(Reason),
    /// The ticket was issued (it has its number and its place) but the printer did not print it.
    TicketNotPrinted {
        message: Reason,
        ticket_id: String,
    },
    /// 重新打印 on the failed screen.
    Reprint,
}

/// A printed ticket as the citizen is told about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Issued {
    pub ticket_id: String,
    pub number: String,
    pub waiting_ahead: u32,
    /// Where to wait (empty when the category does not say).
    pub window: Named,
    pub wait_minutes: u32,
    /// A priority ticket (elderly, an appointment's check-in): called first, and said so.
    pub priority: bool,
    /// The hall's queue did not answer: `waiting_ahead` counts this kiosk's tickets only (said so).
    pub counted_here_only: bool,
    /// Shown on screen instead of printed (the printer could not print): its verification code ("" printed)
    /// and what its QR code holds.
    pub shown_code: String,
    pub shown_qr: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Read the categories' waiting counts and opening state.
    LoadCategories,
    /// Issue and print; `with_card` takes the card on the reader for the subject and priority.
    Issue { prefix: String, with_card: bool },
    /// Print again a ticket issued but not printed.
    Reprint { ticket_id: String },
}

/// The take-a-number flow.
#[derive(Debug, Clone, Default)]
pub struct TakeNumber {
    /// The category asked for by another service (取号办理), chosen as soon as the categories are read.
    wanted: Option<String>,
}

impl Flow for TakeNumber {
    type Step = Step;
    type Event = Event;
    type Work = Work;

    fn open(&mut self, event: Event) -> Option<(&'static str, Step, Vec<Work>)> {
        self.wanted = match event {
            Event::Open => None,
            Event::OpenFor(prefix) => Some(prefix),
            _ => return None,
        };
        Some(("take_number", Step::Categories { categories: vec![], notice: None }, vec![Work::LoadCategories]))
    }

    fn step(&mut self, step: &Step, input: StepInput<Event>) -> Transition<Step, Work> {
        match (step, input) {
            (Step::Categories { .. }, StepInput::Event(Event::CategoriesLoaded(categories))) => {
                // The category asked for: closed now, the list says so and when it opens.
                let notice = self
                    .wanted
                    .as_ref()
                    .and_then(|w| categories.iter().find(|c| &c.prefix == w).and_then(|c| c.closed.clone()));
                let loaded = Step::Categories { categories, notice };
                match self.wanted.take() {
                    Some(prefix) => match self.step(&loaded, StepInput::Event(Event::Choose(prefix))) {
                        Transition::Ignore => Transition::Update(loaded),
                        chosen => chosen,
                    },
                    None => Transition::Update(loaded),
                }
            }
            (Step::Categories { categories, .. }, StepInput::Event(Event::Choose(prefix))) => {
                let Some(c) = categories.iter().find(|c| c.prefix == prefix && c.closed.is_none()) else {
                    return Transition::Ignore;
                };
                if c.requires_id {
                    Transition::Go(Step::CardPrompt { prefix, failure: None }, vec![])
                } else {
                    Transition::Go(
                        Step::Printing { prefix: prefix.clone() },
                        vec![Work::Issue { prefix, with_card: false }],
                    )
                }
            }
            (Step::CardPrompt { prefix, failure }, StepInput::CardTrouble(news)) => {
                Transition::Update(Step::CardPrompt { prefix: prefix.clone(), failure: news.shown(failure.as_ref()) })
            }
            (Step::CardPrompt { prefix, .. }, StepInput::CardPlaced) => {
                let prefix = prefix.clone();
                Transition::Go(Step::Printing { prefix: prefix.clone() }, vec![Work::Issue { prefix, with_card: true }])
            }
            (Step::Printing { prefix }, StepInput::Event(Event::CardRefused(why))) => {
                Transition::Go(Step::CardPrompt { prefix: prefix.clone(), failure: Some(why) }, vec![])
            }
            (Step::Printing { .. }, StepInput::Event(Event::TicketPrinted(issued))) => {
                Transition::Go(Step::Done(issued), vec![])
            }
            (Step::Printing { .. }, StepInput::Event(Event::TicketFailed(message))) => {
                Transition::Go(Step::Failed { message, reprint: None }, vec![])
            }
            (Step::Printing { .. }, StepInput::Event(Event::TicketNotPrinted { message, ticket_id })) => {
                Transition::Go(Step::Failed { message, reprint: Some(ticket_id) }, vec![])
            }
            (Step::Failed { reprint: Some(ticket_id), .. }, StepInput::Event(Event::Reprint)) => Transition::Go(
                Step::Printing { prefix: String::new() },
                vec![Work::Reprint { ticket_id: ticket_id.clone() }],
            ),
            _ => Transition::Ignore,
        }
    }

    fn lingers_ms(&self, step: &Step) -> Option<u64> {
        matches!(step, Step::Done(_)).then_some(DONE_SCREEN_MS)
    }

    fn busy(&self, step: &Step) -> bool {
        matches!(step, Step::Printing { .. })
    }

    fn wants_card(&self, step: &Step) -> bool {
        matches!(step, Step::CardPrompt { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Command, EndReason, Input, Phase, Session};

    fn category(prefix: &str, requires_id: bool, closed: bool) -> CategoryView {
        CategoryView {
            prefix: prefix.into(),
            name_zh: "综合业务".into(),
            name_en: "General".into(),
            waiting: 2,
            closed: closed.then_some(Reason::QueueUnavailable),
            requires_id,
            on_screen: true,
        }
    }

    fn opened() -> Session<TakeNumber> {
        let mut s = Session::new(TakeNumber::default(), 60_000);
        assert_eq!(
            s.handle(Input::Flow(Event::Open), 0),
            vec![Command::StartSession { flow: "take_number" }, Command::Work(Work::LoadCategories)]
        );
        assert_eq!(s.handle(Input::Flow(Event::Choose("A".into())), 1), vec![], "nothing to choose before the list");
        s.handle(
            Input::Flow(Event::CategoriesLoaded(vec![
                category("A", false, false),
                category("B", true, false),
                category("C", false, true),
            ])),
            2,
        );
        s
    }

    fn choose(s: &mut Session<TakeNumber>, prefix: &str, now: u64) -> Vec<Command<Work>> {
        s.handle(Input::Flow(Event::Choose(prefix.into())), now)
    }

    #[test]
    fn a_ticket_without_a_card() {
        let mut s = opened();
        assert_eq!(choose(&mut s, "C", 500), vec![], "a closed category cannot be chosen");
        assert_eq!(
            choose(&mut s, "A", 1_000),
            vec![Command::Work(Work::Issue { prefix: "A".into(), with_card: false })]
        );
        assert_eq!(s.handle(Input::Cancel, 1_500), vec![], "printing cannot be cancelled");
        let issued = Issued {
            ticket_id: "t1".into(),
            number: "A023".into(),
            waiting_ahead: 5,
            window: Named::new("1–3 号窗口", "windows 1–3"),
            wait_minutes: 25,
            priority: false,
            counted_here_only: false,
            shown_code: String::new(),
            shown_qr: String::new(),
        };
        s.handle(Input::Flow(Event::TicketPrinted(issued.clone())), 2_000);
        assert_eq!(s.phase, Phase::Step(Step::Done(issued)));
        assert_eq!(
            s.handle(Input::Tick, 2_000 + DONE_SCREEN_MS),
            vec![Command::EndSession { reason: EndReason::Completed }]
        );
        assert_eq!(s.phase, Phase::Home);
    }

    /// Issue #30 item 5: a ticket issued but not printed (paper out) is offered again with 重新打印 — the same
    /// number and place — instead of only "go to the service desk"; a failure with no ticket offers no retry.
    #[test]
    fn a_ticket_that_did_not_print_can_be_printed_again() {
        let mut s = opened();
        choose(&mut s, "A", 1_000);
        let not_printed =
            Reason::TicketNotPrinted { number: "A023".into(), trouble: crate::core::PrinterTrouble::PaperOut };
        s.handle(Input::Flow(Event::TicketNotPrinted { message: not_printed.clone(), ticket_id: "t1".into() }), 2_000);
        assert_eq!(s.step(), Some(&Step::Failed { message: not_printed, reprint: Some("t1".into()) }));
        assert_eq!(
            s.handle(Input::Flow(Event::Reprint), 3_000),
            vec![Command::Work(Work::Reprint { ticket_id: "t1".into() })]
        );
        assert!(matches!(s.step(), Some(Step::Printing { .. })));
        assert_eq!(s.handle(Input::Flow(Event::Reprint), 3_100), vec![], "one reprint at a time");
        let issued = Issued { ticket_id: "t1".into(), number: "A023".into(), ..Issued::default() };
        s.handle(Input::Flow(Event::TicketPrinted(issued.clone())), 4_000);
        assert_eq!(s.step(), Some(&Step::Done(issued)));

        let mut s = opened();
        choose(&mut s, "A", 1_000);
        s.handle(Input::Flow(Event::TicketFailed(Reason::QueueUnavailable)), 2_000);
        assert_eq!(s.handle(Input::Flow(Event::Reprint), 3_000), vec![], "nothing was issued to print again");
    }

    /// Issue #30 item 2: the card prompt says when the reader is down (and stops saying it when it is back)
    /// and when the card on it cannot be read, instead of "place your card" for ever.
    #[test]
    fn the_card_prompt_shows_the_reader_down_and_an_unreadable_card() {
        let mut s = Session::new(TakeNumber::default(), 60_000);
        s.handle(Input::Flow(Event::Open), 0);
        s.handle(Input::Flow(Event::CategoriesLoaded(vec![category("B", true, false)])), 10);
        s.handle(Input::Flow(Event::Choose("B".into())), 20);
        let prompt = |f: Option<Reason>| Some(Step::CardPrompt { prefix: "B".into(), failure: f });
        assert_eq!(s.step().cloned(), prompt(None));
        s.handle(Input::ReaderDown, 30);
        assert_eq!(s.step().cloned(), prompt(Some(Reason::ReaderUnavailable)));
        s.handle(Input::ReaderBack, 40);
        assert_eq!(s.step().cloned(), prompt(None));
        s.handle(Input::CardUnreadable, 50);
        assert_eq!(s.step().cloned(), prompt(Some(Reason::CardUnreadable)));
    }

    #[test]
    fn a_ticket_with_a_card_and_a_refused_card_first() {
        let mut s = opened();
        assert_eq!(choose(&mut s, "B", 1_000), vec![]);
        assert!(s.wants_card());
        assert_eq!(
            s.handle(Input::CardPlaced, 2_000),
            vec![Command::Work(Work::Issue { prefix: "B".into(), with_card: true })]
        );
        let expired = Reason::CardExpired;
        s.handle(Input::Flow(Event::CardRefused(expired.clone())), 2_500);
        assert_eq!(s.phase, Phase::Step(Step::CardPrompt { prefix: "B".into(), failure: Some(expired) }));
        s.handle(Input::CardPlaced, 3_000);
        s.handle(Input::Flow(Event::TicketFailed(Reason::TicketFailed)), 4_000);
        assert!(matches!(s.phase, Phase::Step(Step::Failed { .. })));
    }

    #[test]
    fn opened_for_a_category_it_goes_straight_on_or_shows_why_not() {
        let loaded = || {
            Event::CategoriesLoaded(vec![
                category("A", false, false),
                category("B", true, false),
                category("C", false, true),
            ])
        };
        let mut s = Session::new(TakeNumber::default(), 60_000);
        s.handle(Input::Flow(Event::OpenFor("B".into())), 0);
        s.handle(Input::Flow(loaded()), 1);
        assert_eq!(s.phase, Phase::Step(Step::CardPrompt { prefix: "B".into(), failure: None }));
        s.handle(Input::Cancel, 2);
        s.handle(Input::Flow(Event::OpenFor("A".into())), 3);
        assert_eq!(
            s.handle(Input::Flow(loaded()), 4),
            vec![Command::Work(Work::Issue { prefix: "A".into(), with_card: false })]
        );
        s.handle(Input::Flow(Event::TicketFailed(Reason::TicketFailed)), 5);
        s.handle(Input::Cancel, 6);
        // Closed: the categories, with why (issue #30 item 5: the list came with no reason said).
        s.handle(Input::Flow(Event::OpenFor("C".into())), 7);
        s.handle(Input::Flow(loaded()), 8);
        assert!(matches!(s.step(), Some(Step::Categories { categories, notice: Some(Reason::QueueUnavailable) })
            if categories.len() == 3));
        s.handle(Input::Cancel, 9);
        // The tile afterwards asks again.
        s.handle(Input::Flow(Event::Open), 10);
        s.handle(Input::Flow(loaded()), 11);
        assert!(matches!(s.step(), Some(Step::Categories { notice: None, .. })), "opened from its tile: no notice");
    }

    #[test]
    fn no_rating_right_after_taking_a_number() {
        // Nothing has been served yet: the citizen rates the ticket later (its QR, the 好差评 tile).
        let mut s = opened();
        choose(&mut s, "A", 0);
        let issued = Issued { ticket_id: "t1".into(), number: "A001".into(), ..Issued::default() };
        s.handle(Input::Flow(Event::TicketPrinted(issued)), 1_000);
        assert_eq!(s.handle(Input::Rate(4), 2_000), vec![]);
        assert!(matches!(s.phase, Phase::Step(Step::Done(_))));
        assert_eq!(
            s.handle(Input::Tick, 1_000 + DONE_SCREEN_MS),
            vec![Command::EndSession { reason: EndReason::Completed }]
        );
    }
}
