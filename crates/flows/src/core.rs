//! What every citizen flow shares, written once: the session around a flow's own steps — opening from a home
//! tile, idle and the "continue?" countdown, cancel, the GB/T 39734 rating step, the closing screens, and
//! shutdown. A flow implements [`Flow`] (its steps and their transitions); [`Session`] runs it. Pure: inputs and
//! `now` in, [`Command`]s out.

use super::idle::IdleClock;

pub use vocabulary::{
    A4Trouble, DONE_SCREEN_MS, EndReason, NEGATIVE_REASONS, Named, PadKey, PrinterTrouble, RATING_LEVELS, Reason,
    THANKS_SCREEN_MS, Transaction,
};

/// What reaches a session: the flow's own events, and what every flow hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input<E> {
    /// The flow's own event (from its page, its home tile or its work's results).
    Flow(E),
    /// A card now lies on the reader (or already lay there when a step that wants one was entered).
    CardPlaced,
    /// The card was taken off the reader.
    CardRemoved,
    /// A card lies on the reader but could not be read in a few tries.
    CardUnreadable,
    /// The reader stopped answering (or was not answering when a step that wants a card opened).
    ReaderDown,
    /// The reader answers again.
    ReaderBack,
    /// Any touch: the citizen is still there.
    Touch,
    /// "Continue" on the idle prompt.
    Continue,
    /// Time passes (every second).
    Tick,
    /// Back / cancel / home.
    Cancel,
    /// 5 非常满意 … 1 非常不满意, where the flow offers a rating.
    Rate(u8),
    /// The reason for a negative rating, and the telephone number left for the follow-up call (回访), if any.
    RateReason { reason: String, contact: Option<String> },
    /// The kiosk is stopping: the session ends now, whatever it was doing.
    Shutdown,
}

/// What a flow's step sees of a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepInput<E> {
    Event(E),
    CardPlaced,
    CardRemoved,
    /// What the reader says about the card step's card or itself; a card step shows it (see
    /// [`CardTrouble::shown`]).
    CardTrouble(CardTrouble),
}

/// The reader's news a card step shows instead of waiting for a card that cannot come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardTrouble {
    /// The card on the reader failed to read: lift it and put it back.
    Unreadable,
    /// The reader does not answer: call for assistance.
    ReaderDown,
    /// The reader answers again: the prompt goes back to asking for the card.
    ReaderBack,
}

impl CardTrouble {
    /// The failure a card step shows after this news, given the one it shows now.
    pub fn shown(self, now: Option<&Reason>) -> Option<Reason> {
        match self {
            CardTrouble::Unreadable => Some(Reason::CardUnreadable),
            CardTrouble::ReaderDown => Some(Reason::ReaderUnavailable),
            CardTrouble::ReaderBack if now == Some(&Reason::ReaderUnavailable) => None,
            CardTrouble::ReaderBack => now.cloned(),
        }
    }
}

/// What a flow's step does with an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition<S, W> {
    /// Nothing changes.
    Ignore,
    /// The same screen with new data (a key typed, copies changed, job progress): counts as activity.
    Update(S),
    /// A new screen, and work to run off the UI thread.
    Go(S, Vec<W>),
    /// The session ends.
    End(EndReason),
}

/// What the controller does for a session: journal it, or run the flow's work off the UI thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<W> {
    StartSession {
        flow: &'static str,
    },
    /// Clear personal data from screen and memory, journal `session_end`.
    EndSession {
        reason: EndReason,
    },
    RecordEvaluation {
        transaction: Transaction,
        level: u8,
        reason: Option<String>,
        /// A telephone number for the follow-up call after a bad rating (masked in the journal).
        contact: Option<String>,
    },
    Work(W),
}

/// What opening a session gives: its journal name, its first step and work for it.
pub type Opening<S, W> = (&'static str, S, Vec<W>);

/// A citizen flow: its steps and how they change. Everything a session shares lives in [`Session`].
pub trait Flow {
    type Step: Clone + PartialEq + std::fmt::Debug;
    type Event: Clone + PartialEq + std::fmt::Debug;
    type Work: Clone + PartialEq + std::fmt::Debug;

    /// From the home screen: the session this event opens (its journal name), its first step and work.
    fn open(&mut self, event: Self::Event) -> Option<Opening<Self::Step, Self::Work>>;

    /// An input during the flow's own steps.
    fn step(&mut self, step: &Self::Step, input: StepInput<Self::Event>) -> Transition<Self::Step, Self::Work>;

    /// The transaction a step offers the rating for (its "done" screen).
    fn rating_offer(&self, _step: &Self::Step) -> Option<Transaction> {
        None
    }

    /// A step that ends the session as completed after this long on screen.
    fn lingers_ms(&self, _step: &Self::Step) -> Option<u64> {
        None
    }

    /// Work is in flight (printing, looking up): no idle prompt, and cancel waits for the outcome.
    fn busy(&self, _step: &Self::Step) -> bool {
        false
    }

    /// The step waits for a card on the reader.
    fn wants_card(&self, _step: &Self::Step) -> bool {
        false
    }
}

/// Where a session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase<S> {
    Home,
    Step(S),
    /// A negative rating asks why, from the standard's fixed list.
    RatingReasons {
        transaction: Transaction,
        level: u8,
    },
    Thanks,
    /// The session is ending (done, home, idle, an error) but the citizen's ID card is still on the reader:
    /// a last step of its own (the page says it at once and every 10 s) until the card is taken — then the
    /// session ends for the reason it was ending — or until the idle time passes with nobody back.
    TakeCard,
}

/// A telephone number a citizen may leave after a bad rating: a mobile (11 digits) or a landline with its
/// area code, 7 to 12 digits; anything else is not kept.
pub fn is_contact_number(s: &str) -> bool {
    (7..=12).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// How long work may be in flight before the citizen is told the kiosk is still at it.
pub const STILL_WORKING_AFTER_MS: u64 = 2_000;

/// One citizen session of flow `F`, with everything sessions share.
#[derive(Debug, Clone)]
pub struct Session<F: Flow> {
    pub flow: F,
    pub phase: Phase<F::Step>,
    pub idle: IdleClock,
    /// A card lies on the reader (as far as this session has heard).
    pub card_on_reader: bool,
    /// How many times its standard time a closing screen stays (2 in elder mode, as the idle time).
    pub linger_scale: u64,
    /// Why the session ends once the card left on the reader is taken (in [`Phase::TakeCard`]).
    ending: EndReason,
}

impl<F: Flow> Session<F> {
    pub fn new(flow: F, idle_timeout_ms: u64) -> Session<F> {
        Session {
            flow,
            phase: Phase::Home,
            idle: IdleClock::new(idle_timeout_ms),
            card_on_reader: false,
            linger_scale: 1,
            ending: EndReason::Completed,
        }
    }

    /// How long the current closing screen stays: the flow's time for the step, scaled for the mode.
    fn lingers_ms(&self, step: &F::Step) -> Option<u64> {
        self.flow.lingers_ms(step).map(|ms| ms * self.linger_scale.max(1))
    }

    fn thanks_ms(&self) -> u64 {
        THANKS_SCREEN_MS * self.linger_scale.max(1)
    }

    /// The flow's current step, if it is in one.
    pub fn step(&self) -> Option<&F::Step> {
        match &self.phase {
            Phase::Step(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the session is waiting for a card (the controller then tells it about one already there).
    pub fn wants_card(&self) -> bool {
        self.step().is_some_and(|s| self.flow.wants_card(s))
    }

    /// Seconds a step with work in flight has been waiting, once it is past [`STILL_WORKING_AFTER_MS`] (a
    /// slow platform, a printer taking its time): the window then shows and says that the kiosk is still at
    /// it, so nobody thinks it has hung. None otherwise.
    pub fn still_working_s(&self, now_ms: u64) -> Option<u64> {
        let busy = self.step().is_some_and(|s| self.flow.busy(s));
        let waited = self.idle.on_screen_ms(now_ms);
        (busy && waited >= STILL_WORKING_AFTER_MS).then_some(waited / 1000)
    }

    /// Seconds until the session goes home by itself, for the Home button: a closing screen's own time, or
    /// the idle time and its countdown; 0 while work is in flight (the session waits for its outcome).
    pub fn home_in_s(&self, now_ms: u64) -> u64 {
        let idle = self.idle.home_in_s(now_ms);
        let left = |ms: u64| ms.saturating_sub(self.idle.on_screen_ms(now_ms)).div_ceil(1000).min(idle);
        match &self.phase {
            Phase::Home => 0,
            Phase::Step(s) if self.flow.busy(s) => 0,
            Phase::Step(s) => self.lingers_ms(s).map_or(idle, left),
            Phase::Thanks => left(self.thanks_ms()),
            Phase::RatingReasons { .. } | Phase::TakeCard => idle,
        }
    }

    fn go(&mut self, phase: Phase<F::Step>, now_ms: u64) {
        self.phase = phase;
        self.idle.entered(now_ms);
    }

    fn end(&mut self, reason: EndReason, now_ms: u64) -> Vec<Command<F::Work>> {
        if self.phase == Phase::Home {
            return vec![];
        }
        // Ending, but the card is still on the reader: nobody walks away without it, however the session ends
        // (done, Home, idle, an error). A shutdown ends at once, a hand-over goes on to the next service with
        // the card, and a second Home press ends it too.
        let waits = !matches!(reason, EndReason::Shutdown | EndReason::CardRemoved | EndReason::HandedOver);
        if waits && self.card_on_reader && self.phase != Phase::TakeCard {
            self.ending = reason;
            self.go(Phase::TakeCard, now_ms);
            return vec![];
        }
        self.go(Phase::Home, now_ms);
        self.card_on_reader = false;
        vec![Command::EndSession { reason }]
    }

    pub fn handle(&mut self, input: Input<F::Event>, now_ms: u64) -> Vec<Command<F::Work>> {
        let busy = self.step().is_some_and(|s| self.flow.busy(s));
        match input {
            Input::Touch => {
                self.idle.touch(now_ms);
                vec![]
            }
            Input::Continue => {
                self.idle.resume(now_ms);
                vec![]
            }
            Input::Tick => self.tick(now_ms),
            // A job already sent (a number journaled, a licence at the printer) is followed to its end.
            Input::Cancel if busy => vec![],
            Input::Cancel => self.end(EndReason::Cancelled, now_ms),
            Input::Shutdown => self.end(EndReason::Shutdown, now_ms),
            Input::Rate(level) => {
                let offer = self.step().and_then(|s| self.flow.rating_offer(s));
                match offer {
                    Some(transaction) if (1..=5).contains(&level) => {
                        if level <= 2 {
                            self.go(Phase::RatingReasons { transaction, level }, now_ms);
                            vec![]
                        } else {
                            self.go(Phase::Thanks, now_ms);
                            vec![Command::RecordEvaluation { transaction, level, reason: None, contact: None }]
                        }
                    }
                    _ => vec![],
                }
            }
            Input::RateReason { reason, contact } => match &self.phase {
                Phase::RatingReasons { transaction, level } => {
                    let (transaction, level) = (transaction.clone(), *level);
                    self.go(Phase::Thanks, now_ms);
                    let contact = contact.filter(|c| is_contact_number(c));
                    vec![Command::RecordEvaluation { transaction, level, reason: Some(reason), contact }]
                }
                _ => vec![],
            },
            Input::Flow(event) if self.phase == Phase::Home => match self.flow.open(event) {
                Some((flow, step, work)) => {
                    self.go(Phase::Step(step), now_ms);
                    let mut commands = vec![Command::StartSession { flow }];
                    commands.extend(work.into_iter().map(Command::Work));
                    commands
                }
                None => vec![],
            },
            Input::Flow(event) => self.transition(StepInput::Event(event), now_ms),
            Input::CardPlaced => {
                self.card_on_reader = self.phase != Phase::Home;
                self.transition(StepInput::CardPlaced, now_ms)
            }
            Input::CardRemoved => {
                self.card_on_reader = false;
                if self.phase == Phase::TakeCard {
                    return self.end(self.ending, now_ms);
                }
                self.transition(StepInput::CardRemoved, now_ms)
            }
            // A card that fails to read lies on the reader all the same: it is to be taken back.
            Input::CardUnreadable => {
                self.card_on_reader = self.phase != Phase::Home;
                self.transition(StepInput::CardTrouble(CardTrouble::Unreadable), now_ms)
            }
            Input::ReaderDown => self.transition(StepInput::CardTrouble(CardTrouble::ReaderDown), now_ms),
            Input::ReaderBack => self.transition(StepInput::CardTrouble(CardTrouble::ReaderBack), now_ms),
        }
    }

    fn transition(&mut self, input: StepInput<F::Event>, now_ms: u64) -> Vec<Command<F::Work>> {
        let Phase::Step(step) = &self.phase else { return vec![] };
        match self.flow.step(step, input) {
            Transition::Ignore => vec![],
            Transition::Update(step) => {
                self.phase = Phase::Step(step);
                self.idle.touch(now_ms);
                vec![]
            }
            Transition::Go(step, work) => {
                self.go(Phase::Step(step), now_ms);
                work.into_iter().map(Command::Work).collect()
            }
            Transition::End(reason) => self.end(reason, now_ms),
        }
    }

    fn tick(&mut self, now_ms: u64) -> Vec<Command<F::Work>> {
        let on_screen = self.idle.on_screen_ms(now_ms);
        match &self.phase {
            Phase::Home => return vec![],
            Phase::Step(s) if self.flow.busy(s) => return vec![],
            Phase::Step(s) if self.lingers_ms(s).is_some_and(|ms| on_screen >= ms) => {
                return self.end(EndReason::Completed, now_ms);
            }
            Phase::Thanks if on_screen >= self.thanks_ms() => return self.end(EndReason::Completed, now_ms),
            _ => {}
        }
        if self.idle.expired(now_ms) { self.end(EndReason::Idle, now_ms) } else { vec![] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-step flow: a form, then (after work) a done screen that offers the rating.
    #[derive(Debug, Clone)]
    struct Form;

    #[derive(Debug, Clone, PartialEq)]
    enum Step {
        Form,
        Working,
        Done,
    }

    impl Flow for Form {
        type Step = Step;
        type Event = &'static str;
        type Work = &'static str;
        fn open(&mut self, event: &'static str) -> Option<(&'static str, Step, Vec<&'static str>)> {
            (event == "open").then_some(("form", Step::Form, vec![]))
        }
        fn step(&mut self, step: &Step, input: StepInput<&'static str>) -> Transition<Step, &'static str> {
            match (step, input) {
                (Step::Form, StepInput::Event("submit")) => Transition::Go(Step::Working, vec!["send"]),
                (Step::Form, StepInput::CardPlaced) => Transition::Go(Step::Working, vec!["card"]),
                (Step::Working, StepInput::Event("sent")) => Transition::Go(Step::Done, vec![]),
                (Step::Form, StepInput::CardRemoved) => Transition::End(EndReason::CardRemoved),
                _ => Transition::Ignore,
            }
        }
        fn rating_offer(&self, step: &Step) -> Option<Transaction> {
            (*step == Step::Done).then(|| Transaction::Ticket { ticket_id: "t1".into() })
        }
        fn lingers_ms(&self, step: &Step) -> Option<u64> {
            (*step == Step::Done).then_some(DONE_SCREEN_MS)
        }
        fn busy(&self, step: &Step) -> bool {
            *step == Step::Working
        }
        fn wants_card(&self, step: &Step) -> bool {
            *step == Step::Form
        }
    }

    /// Issue #30 item 5: work in flight past two seconds is said to be still going (a slow platform), and
    /// only while it is in flight.
    #[test]
    fn work_in_flight_past_two_seconds_is_still_working() {
        let mut s = Session::new(Form, 60_000);
        s.handle(Input::Flow("open"), 0);
        assert_eq!(s.still_working_s(10_000), None, "a form waits for the citizen, not for work");
        s.handle(Input::Flow("submit"), 10_000);
        assert_eq!(s.still_working_s(11_999), None);
        assert_eq!(s.still_working_s(12_000), Some(2));
        assert_eq!(s.still_working_s(17_500), Some(7));
        s.handle(Input::Flow("sent"), 18_000);
        assert_eq!(s.still_working_s(30_000), None);
    }

    #[test]
    fn open_work_done_rate_and_thanks() {
        let mut s = Session::new(Form, 60_000);
        assert_eq!(s.handle(Input::Flow("nope"), 0), vec![], "only the tile's event opens it");
        assert_eq!(s.handle(Input::Flow("open"), 0), vec![Command::StartSession { flow: "form" }]);
        assert!(s.wants_card());
        assert_eq!(s.handle(Input::Flow("submit"), 10), vec![Command::Work("send")]);
        assert_eq!(s.handle(Input::Cancel, 20), vec![], "work in flight is followed to its end");
        assert_eq!(s.handle(Input::Tick, 500_000), vec![], "no idle prompt while busy");
        s.handle(Input::Flow("sent"), 500_100);
        assert_eq!(s.handle(Input::Rate(9), 500_200), vec![], "only the five levels");
        assert_eq!(s.handle(Input::Rate(1), 500_300), vec![]);
        let tx = Transaction::Ticket { ticket_id: "t1".into() };
        assert_eq!(s.phase, Phase::RatingReasons { transaction: tx.clone(), level: 1 });
        assert_eq!(
            s.handle(Input::RateReason { reason: "slow".into(), contact: Some("13800138000".into()) }, 500_400),
            vec![Command::RecordEvaluation {
                transaction: tx,
                level: 1,
                reason: Some("slow".into()),
                contact: Some("13800138000".into())
            }]
        );
        assert_eq!(s.handle(Input::Rate(4), 500_500), vec![], "one evaluation per transaction");
        assert_eq!(
            s.handle(Input::Tick, 500_400 + THANKS_SCREEN_MS),
            vec![Command::EndSession { reason: EndReason::Completed }]
        );
        assert_eq!(s.phase, Phase::Home);
    }

    /// Issue #30 item 6: in elder mode a closing screen stays twice its standard time, as the idle time does
    /// (it counted down 17-18 s, not twice the standard).
    #[test]
    fn in_elder_mode_closing_screens_stay_twice_as_long() {
        let mut s = Session::new(Form, 120_000);
        s.linger_scale = 2;
        s.handle(Input::Flow("open"), 0);
        s.handle(Input::Flow("submit"), 0);
        s.handle(Input::Flow("sent"), 1_000);
        assert_eq!(s.home_in_s(1_000), 2 * DONE_SCREEN_MS / 1000, "the Home button counts the doubled time");
        assert_eq!(s.handle(Input::Tick, 1_000 + DONE_SCREEN_MS), vec![], "not yet gone at the standard time");
        assert_eq!(
            s.handle(Input::Tick, 1_000 + 2 * DONE_SCREEN_MS),
            vec![Command::EndSession { reason: EndReason::Completed }]
        );
    }

    #[test]
    fn done_lingers_then_completes_and_idle_asks_first() {
        let mut s = Session::new(Form, 60_000);
        s.handle(Input::Flow("open"), 0);
        s.handle(Input::Flow("submit"), 0);
        s.handle(Input::Flow("sent"), 1_000);
        assert_eq!(
            s.handle(Input::Tick, 1_000 + DONE_SCREEN_MS),
            vec![Command::EndSession { reason: EndReason::Completed }]
        );
        s.handle(Input::Flow("open"), 100_000);
        s.handle(Input::Touch, 150_000);
        assert_eq!(s.handle(Input::Tick, 200_000), vec![]);
        assert_eq!(s.idle.countdown_s(200_000), None, "a touch 50 s ago keeps the session");
        assert_eq!(s.handle(Input::Tick, 210_000), vec![]);
        assert_eq!(s.idle.countdown_s(210_000), Some(10), "the countdown opens 60 s after the last touch");
        s.handle(Input::Continue, 215_000);
        assert_eq!(s.idle.countdown_s(215_000), None);
        s.handle(Input::Tick, 275_000);
        assert_eq!(s.handle(Input::Tick, 285_000), vec![Command::EndSession { reason: EndReason::Idle }]);
        assert_eq!(s.handle(Input::Tick, 900_000), vec![], "home has no session to end");
    }

    #[test]
    fn a_card_left_on_the_reader_is_a_last_step_until_it_is_taken() {
        let mut s = Session::new(Form, 60_000);
        s.handle(Input::Flow("open"), 0);
        assert_eq!(s.handle(Input::CardPlaced, 10), vec![Command::Work("card")]);
        s.handle(Input::Flow("sent"), 1_000);
        assert_eq!(s.handle(Input::Tick, 1_000 + DONE_SCREEN_MS), vec![], "the card is still there");
        assert_eq!(s.phase, Phase::TakeCard);
        assert_eq!(s.handle(Input::Tick, 2_000 + DONE_SCREEN_MS), vec![]);
        assert_eq!(
            s.handle(Input::CardRemoved, 3_000 + DONE_SCREEN_MS),
            vec![Command::EndSession { reason: EndReason::Completed }]
        );
        assert_eq!(s.phase, Phase::Home);
        // Nobody comes back for it: the session ends as idle (the kiosk forgets the card's data).
        s.handle(Input::Flow("open"), 100_000);
        s.handle(Input::CardPlaced, 100_010);
        s.handle(Input::Flow("sent"), 100_020);
        s.handle(Input::Rate(5), 100_030);
        s.handle(Input::Tick, 100_030 + THANKS_SCREEN_MS);
        assert_eq!(s.phase, Phase::TakeCard, "after thanks, too");
        s.handle(Input::Tick, 200_000);
        assert_eq!(s.handle(Input::Tick, 211_000), vec![Command::EndSession { reason: EndReason::Idle }]);
        assert!(!s.card_on_reader);
        // A card taken before the end: the session ends as it would.
        s.handle(Input::Flow("open"), 300_000);
        s.handle(Input::CardPlaced, 300_010);
        s.handle(Input::CardRemoved, 300_020);
        s.handle(Input::Flow("sent"), 300_030);
        assert_eq!(
            s.handle(Input::Tick, 300_030 + DONE_SCREEN_MS),
            vec![Command::EndSession { reason: EndReason::Completed }]
        );
        assert_eq!(s.handle(Input::CardPlaced, 400_000), vec![], "a card on the home screen starts nothing");
        assert!(!s.card_on_reader);
    }

    /// Issue #30 item 2: "请取回您的身份证" was skipped when the citizen pressed 返回首页 or the session timed
    /// out with the card on the reader. Every end but a shutdown or a hand-over now passes through it, and
    /// the session then ends for the reason it was ending.
    #[test]
    fn every_way_a_session_ends_with_the_card_on_the_reader_passes_through_take_card() {
        let with_card = |t: u64| {
            let mut s = Session::new(Form, 60_000);
            s.handle(Input::Flow("open"), t);
            s.handle(Input::CardPlaced, t + 10);
            s
        };
        let mut s = with_card(0);
        assert_eq!(s.handle(Input::Flow("sent"), 20), vec![]);
        assert_eq!(s.handle(Input::Cancel, 30), vec![], "Home with the card there");
        assert_eq!(s.phase, Phase::TakeCard);
        assert_eq!(s.handle(Input::CardRemoved, 40), vec![Command::EndSession { reason: EndReason::Cancelled }]);

        // A card that could not be read lies there while the form waits: left alone, it times out.
        let mut s = Session::new(Form, 60_000);
        s.handle(Input::Flow("open"), 20);
        s.handle(Input::CardUnreadable, 20);
        s.handle(Input::Tick, 60_020);
        assert_eq!(s.handle(Input::Tick, 70_020), vec![], "timed out with the card there");
        assert_eq!(s.phase, Phase::TakeCard);
        assert_eq!(s.handle(Input::CardRemoved, 70_030), vec![Command::EndSession { reason: EndReason::Idle }]);
        assert_eq!(s.handle(Input::CardRemoved, 70_040), vec![], "ended once");

        let mut s = with_card(0);
        assert_eq!(s.handle(Input::Cancel, 20), vec![], "cancel waits while busy (work in flight)");
        s.handle(Input::Flow("sent"), 30);
        s.handle(Input::Cancel, 40);
        assert_eq!(
            s.handle(Input::Cancel, 50),
            vec![Command::EndSession { reason: EndReason::Cancelled }],
            "a second Home press ends it"
        );

        let mut s = with_card(0);
        assert_eq!(
            s.handle(Input::Shutdown, 20),
            vec![Command::EndSession { reason: EndReason::Shutdown }],
            "shutdown: at once"
        );
    }

    /// Issue #30 item 2: the card step ignored the reader's fault news and kept saying "place your card"; a
    /// card that failed to read was not said to have failed.
    #[test]
    fn the_reader_s_news_reaches_the_card_step_and_an_unreadable_card_is_still_to_be_taken() {
        assert_eq!(CardTrouble::Unreadable.shown(None), Some(Reason::CardUnreadable));
        assert_eq!(CardTrouble::ReaderDown.shown(Some(&Reason::CardExpired)), Some(Reason::ReaderUnavailable));
        assert_eq!(CardTrouble::ReaderBack.shown(Some(&Reason::ReaderUnavailable)), None, "back: ask for the card");
        assert_eq!(
            CardTrouble::ReaderBack.shown(Some(&Reason::CardExpired)),
            Some(Reason::CardExpired),
            "back: what was said about the card stays"
        );
        let mut s = Session::new(Form, 60_000);
        s.handle(Input::Flow("open"), 0);
        s.handle(Input::CardUnreadable, 10);
        assert!(s.card_on_reader, "an unreadable card lies on the reader all the same");
        s.handle(Input::Cancel, 20);
        assert_eq!(s.phase, Phase::TakeCard);
    }

    #[test]
    fn the_home_button_says_when_the_session_goes_home() {
        let mut s = Session::new(Form, 60_000);
        assert_eq!(s.home_in_s(0), 0, "no session");
        s.handle(Input::Flow("open"), 0);
        assert_eq!(s.home_in_s(1_000), 69);
        s.handle(Input::Flow("submit"), 2_000);
        assert_eq!(s.home_in_s(3_000), 0, "work in flight");
        s.handle(Input::Flow("sent"), 4_000);
        assert_eq!(s.home_in_s(4_000), DONE_SCREEN_MS / 1000, "the done screen's own time");
        s.handle(Input::Rate(5), 10_000);
        assert_eq!(s.home_in_s(10_000), THANKS_SCREEN_MS / 1000);
    }

    #[test]
    fn cards_cancel_and_shutdown() {
        let mut s = Session::new(Form, 60_000);
        assert_eq!(s.handle(Input::CardPlaced, 0), vec![], "a card on the home screen starts nothing");
        s.handle(Input::Flow("open"), 0);
        assert_eq!(s.handle(Input::CardRemoved, 5), vec![Command::EndSession { reason: EndReason::CardRemoved }]);
        s.handle(Input::Flow("open"), 10);
        assert_eq!(s.handle(Input::CardPlaced, 20), vec![Command::Work("card")]);
        assert_eq!(s.handle(Input::Shutdown, 30), vec![Command::EndSession { reason: EndReason::Shutdown }]);
        s.handle(Input::Flow("open"), 40);
        assert_eq!(s.handle(Input::Cancel, 50), vec![Command::EndSession { reason: EndReason::Cancelled }]);
        assert_eq!(s.handle(Input::Cancel, 60), vec![]);
        assert_eq!(s.handle(Input::Shutdown, 70), vec![], "nothing open: nothing to end at shutdown");
    }

    #[test]
    fn transactions_and_reasons_serialise_as_the_journal_stores_them() {
        assert_eq!(
            serde_json::to_value(Transaction::Ticket { ticket_id: "t".into() }).unwrap(),
            serde_json::json!({ "kind": "ticket", "ticket_id": "t" })
        );
        assert_eq!(
            serde_json::to_value(Transaction::LicencePrint { print_id: "p".into() }).unwrap(),
            serde_json::json!({ "kind": "licence_print", "print_id": "p" })
        );
        assert_eq!(
            serde_json::to_value(Transaction::HallService).unwrap(),
            serde_json::json!({ "kind": "hall_service" })
        );
        assert_eq!(serde_json::to_value(EndReason::CardRemoved).unwrap(), serde_json::json!("card_removed"));
    }
}
