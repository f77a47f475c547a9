//! Printing a licence: card → the holder's documents → copies → printing → done (with the rating offer),
//! with the idle rules; taking the card away before printing ends the session.

use super::core::{DONE_SCREEN_MS, EndReason, Flow, Reason, StepInput, Transaction, Transition};

/// One document as the list shows it (no personal data beyond the masked number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSummary {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub number_masked: String,
    pub remaining: u32,
    /// Whose document it is, as the document states it (a company's name, the holder's).
    pub holder: String,
}

/// What the card's holder may print: their documents, and how the screen greets them (the masked name,
/// "李*梅").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Holding {
    pub greeting: String,
    pub documents: Vec<DocumentSummary>,
}

/// A picture of a document's first page (RGBA), for the copies screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgba: std::sync::Arc<[u8]>,
}

/// How far a licence job is (from the printer's IPP job state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStage {
    /// Rendering and checking the printer, before the job is sent.
    Preparing,
    Queued,
    Printing,
    Paused,
    Printed,
    /// Ended otherwise (cancelled, aborted): the outcome follows.
    Ended,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Asking the licence printer whether it can print, before the citizen's card is read: a printer out
    /// of paper is said first, not after the choices.
    Checking,
    /// Waiting for the card; `failure` says why the last card did not do.
    CardPrompt {
        failure: Option<Reason>,
    },
    /// Reading the card and looking up the holder's documents.
    Loading,
    Documents {
        holding: Holding,
    },
    Copies {
        holding: Holding,
        chosen: usize,
        copies: u32,
        /// The first page as it will print, once drawn.
        preview: Option<Picture>,
    },
    Printing {
        document_id: String,
        copies: u32,
        /// How far the job is, as the printer reports it, for the progress line.
        stage: JobStage,
    },
    Done {
        print_id: String,
        copies: u32,
        remaining: u32,
    },
    Failed {
        message: Reason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The 证照打印 tile.
    Open,
    /// The licence printer can print.
    PrinterReady,
    /// It cannot (out of paper, jammed, unreachable): why.
    PrinterUnavailable(Reason),
    /// The card cannot be used (expired, unreadable): place another.
    CardRefused(Reason),
    DocumentsLoaded(Holding),
    LookupFailed(Reason),
    Choose(String),
    More,
    Fewer,
    Confirm,
    /// Back one step (documents ← copies); from the documents list, home.
    Back,
    JobState(JobStage),
    Printed {
        print_id: String,
        copies: u32,
        remaining: u32,
    },
    PrintFailed(Reason),
    /// The chosen document's first page, drawn.
    Preview {
        document_id: String,
        picture: Picture,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Ask the licence printer for its state; answers PrinterReady or PrinterUnavailable.
    CheckPrinter,
    /// Take the card off the reader, apply the card rules, look up the holder's documents; answers with
    /// DocumentsLoaded, LookupFailed or CardRefused.
    Lookup,
    Print {
        document_id: String,
        copies: u32,
    },
    /// Draw the document's first page; answers Preview (nothing when it cannot be drawn: the print will say).
    Preview {
        document_id: String,
    },
}

/// The licence self-printing flow.
#[derive(Debug, Clone, Default)]
pub struct PrintLicence;

impl Flow for PrintLicence {
    type Step = Step;
    type Event = Event;
    type Work = Work;

    fn open(&mut self, event: Event) -> Option<(&'static str, Step, Vec<Work>)> {
        (event == Event::Open).then_some(("licence", Step::Checking, vec![Work::CheckPrinter]))
    }

    fn step(&mut self, step: &Step, input: StepInput<Event>) -> Transition<Step, Work> {
        let event = match input {
            StepInput::CardPlaced => {
                return match step {
                    Step::CardPrompt { .. } => Transition::Go(Step::Loading, vec![Work::Lookup]),
                    _ => Transition::Ignore,
                };
            }
            // The card is the citizen's authority for what is on screen: without it, nothing stays.
            StepInput::CardRemoved => {
                return match step {
                    Step::Loading | Step::Documents { .. } | Step::Copies { .. } => {
                        Transition::End(EndReason::CardRemoved)
                    }
                    _ => Transition::Ignore,
                };
            }
            StepInput::CardTrouble(news) => {
                return match step {
                    Step::CardPrompt { failure } => {
                        Transition::Update(Step::CardPrompt { failure: news.shown(failure.as_ref()) })
                    }
                    _ => Transition::Ignore,
                };
            }
            StepInput::Event(e) => e,
        };
        match (step, event) {
            (Step::Checking, Event::PrinterReady) => Transition::Go(Step::CardPrompt { failure: None }, vec![]),
            (Step::Checking, Event::PrinterUnavailable(message)) => Transition::Go(Step::Failed { message }, vec![]),
            (Step::Loading, Event::CardRefused(why)) => Transition::Go(Step::CardPrompt { failure: Some(why) }, vec![]),
            (Step::Loading, Event::DocumentsLoaded(holding)) => Transition::Go(Step::Documents { holding }, vec![]),
            (Step::Loading, Event::LookupFailed(message)) => Transition::Go(Step::Failed { message }, vec![]),
            (Step::Documents { holding }, Event::Choose(id)) => {
                match holding.documents.iter().position(|d| d.id == id && d.remaining > 0) {
                    Some(chosen) => Transition::Go(
                        Step::Copies { holding: holding.clone(), chosen, copies: 1, preview: None },
                        vec![Work::Preview { document_id: id }],
                    ),
                    None => Transition::Ignore,
                }
            }
            (Step::Copies { holding, chosen, copies, preview }, e @ (Event::More | Event::Fewer)) => {
                let max = holding.documents[*chosen].remaining.max(1);
                let copies = if e == Event::More { (*copies + 1).min(max) } else { copies.saturating_sub(1).max(1) };
                Transition::Update(Step::Copies {
                    holding: holding.clone(),
                    chosen: *chosen,
                    copies,
                    preview: preview.clone(),
                })
            }
            (Step::Copies { holding, chosen, copies, .. }, Event::Preview { document_id, picture })
                if holding.documents[*chosen].id == document_id =>
            {
                Transition::Update(Step::Copies {
                    holding: holding.clone(),
                    chosen: *chosen,
                    copies: *copies,
                    preview: Some(picture),
                })
            }
            (Step::Copies { holding, chosen, copies, .. }, Event::Confirm) => {
                let (document_id, copies) = (holding.documents[*chosen].id.clone(), *copies);
                Transition::Go(
                    Step::Printing { document_id: document_id.clone(), copies, stage: JobStage::Preparing },
                    vec![Work::Print { document_id, copies }],
                )
            }
            (Step::Copies { holding, .. }, Event::Back) => {
                Transition::Go(Step::Documents { holding: holding.clone() }, vec![])
            }
            (Step::Printing { .. }, Event::Back) => Transition::Ignore,
            (_, Event::Back) => Transition::End(EndReason::Cancelled),
            (Step::Printing { document_id, copies, .. }, Event::JobState(stage)) => {
                Transition::Update(Step::Printing { document_id: document_id.clone(), copies: *copies, stage })
            }
            (Step::Printing { .. }, Event::Printed { print_id, copies, remaining }) => {
                Transition::Go(Step::Done { print_id, copies, remaining }, vec![])
            }
            (Step::Printing { .. }, Event::PrintFailed(message)) => Transition::Go(Step::Failed { message }, vec![]),
            _ => Transition::Ignore,
        }
    }

    fn rating_offer(&self, step: &Step) -> Option<Transaction> {
        match step {
            Step::Done { print_id, .. } => Some(Transaction::LicencePrint { print_id: print_id.clone() }),
            _ => None,
        }
    }

    fn lingers_ms(&self, step: &Step) -> Option<u64> {
        matches!(step, Step::Done { .. }).then_some(DONE_SCREEN_MS)
    }

    fn busy(&self, step: &Step) -> bool {
        matches!(step, Step::Checking | Step::Loading | Step::Printing { .. })
    }

    fn wants_card(&self, step: &Step) -> bool {
        matches!(step, Step::CardPrompt { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Command, Input, Phase, Session, THANKS_SCREEN_MS};
    use crate::idle::IDLE_COUNTDOWN_MS;

    fn holding(documents: Vec<DocumentSummary>) -> Holding {
        Holding { greeting: "李*梅".into(), documents }
    }

    fn doc(id: &str, remaining: u32) -> DocumentSummary {
        DocumentSummary {
            id: id.into(),
            title_zh: "营业执照（副本）".into(),
            title_en: "Business licence (copy)".into(),
            number_masked: "9137**********O01X".into(),
            remaining,
            holder: "临沭县某商贸有限公司".into(),
        }
    }

    fn ev(s: &mut Session<PrintLicence>, e: Event, now: u64) -> Vec<Command<Work>> {
        s.handle(Input::Flow(e), now)
    }

    /// Opened, and the printer said it can print.
    fn opened() -> Session<PrintLicence> {
        let mut s = Session::new(PrintLicence, 60_000);
        assert_eq!(
            ev(&mut s, Event::Open, 0),
            vec![Command::StartSession { flow: "licence" }, Command::Work(Work::CheckPrinter)]
        );
        assert_eq!(s.handle(Input::CardPlaced, 10), vec![], "the card waits until the printer has answered");
        assert!(!s.wants_card());
        ev(&mut s, Event::PrinterReady, 20);
        assert!(s.wants_card(), "then the card (the controller hands over one already on the reader)");
        s
    }

    fn to_documents() -> Session<PrintLicence> {
        let mut s = opened();
        assert_eq!(s.handle(Input::CardPlaced, 100), vec![Command::Work(Work::Lookup)]);
        ev(&mut s, Event::DocumentsLoaded(holding(vec![doc("BL-1", 2), doc("P-1", 0)])), 200);
        s
    }

    #[test]
    fn print_two_copies_then_rate() {
        let mut s = to_documents();
        ev(&mut s, Event::Choose("P-1".into()), 300);
        assert!(matches!(s.step(), Some(Step::Documents { .. })), "a document with no copies left cannot be chosen");
        assert_eq!(
            ev(&mut s, Event::Choose("BL-1".into()), 300),
            vec![Command::Work(Work::Preview { document_id: "BL-1".into() })],
            "the first page is drawn for the copies screen"
        );
        for _ in 0..5 {
            ev(&mut s, Event::More, 400);
        }
        assert!(
            matches!(s.step(), Some(Step::Copies { copies: 2, preview: None, .. })),
            "copies stop at what is allowed"
        );
        let picture = Picture { width: 1, height: 1, rgba: std::sync::Arc::from(vec![0u8; 4]) };
        ev(&mut s, Event::Preview { document_id: "P-1".into(), picture: picture.clone() }, 410);
        assert!(matches!(s.step(), Some(Step::Copies { preview: None, .. })), "another document's picture is dropped");
        ev(&mut s, Event::Preview { document_id: "BL-1".into(), picture }, 420);
        assert!(matches!(s.step(), Some(Step::Copies { copies: 2, preview: Some(_), .. })));
        ev(&mut s, Event::Fewer, 450);
        ev(&mut s, Event::More, 460);
        assert_eq!(
            ev(&mut s, Event::Confirm, 500),
            vec![Command::Work(Work::Print { document_id: "BL-1".into(), copies: 2 })]
        );
        assert_eq!(s.handle(Input::Cancel, 600), vec![], "a job in flight is not abandoned");
        assert_eq!(s.handle(Input::CardRemoved, 650), vec![], "taking the card while printing is fine");
        ev(&mut s, Event::JobState(JobStage::Printing), 700);
        assert!(matches!(s.step(), Some(Step::Printing { stage: JobStage::Printing, .. })));
        ev(&mut s, Event::Printed { print_id: "p1".into(), copies: 2, remaining: 0 }, 800);
        s.handle(Input::Rate(1), 900);
        assert_eq!(
            s.handle(Input::RateReason { reason: "slow".into(), contact: None }, 1_000),
            vec![Command::RecordEvaluation {
                transaction: Transaction::LicencePrint { print_id: "p1".into() },
                level: 1,
                reason: Some("slow".into()),
                contact: None
            }]
        );
        assert_eq!(
            s.handle(Input::Tick, 1_000 + THANKS_SCREEN_MS),
            vec![Command::EndSession { reason: EndReason::Completed }]
        );
    }

    #[test]
    fn a_printer_that_cannot_print_is_said_before_the_card() {
        let mut s = Session::new(PrintLicence, 60_000);
        ev(&mut s, Event::Open, 0);
        assert_eq!(s.handle(Input::Cancel, 5), vec![], "the check is followed to its answer");
        let out = Reason::A4(crate::core::A4Trouble::PaperOut);
        ev(&mut s, Event::PrinterUnavailable(out.clone()), 10);
        assert_eq!(s.phase, Phase::Step(Step::Failed { message: out }));
        assert!(!s.wants_card(), "no card is read for a print that cannot happen");
    }

    #[test]
    fn card_problems_and_removal() {
        let mut s = opened();
        s.handle(Input::CardPlaced, 50);
        let expired = Reason::CardExpired;
        ev(&mut s, Event::CardRefused(expired.clone()), 100);
        assert_eq!(s.phase, Phase::Step(Step::CardPrompt { failure: Some(expired) }));
        assert_eq!(s.handle(Input::CardRemoved, 250), vec![], "no card yet: nothing to end");
        s.handle(Input::CardPlaced, 300);
        ev(&mut s, Event::DocumentsLoaded(holding(vec![doc("BL-1", 1)])), 400);
        ev(&mut s, Event::Choose("BL-1".into()), 500);
        assert_eq!(s.handle(Input::CardRemoved, 600), vec![Command::EndSession { reason: EndReason::CardRemoved }]);
        assert_eq!(s.phase, Phase::Home);
    }

    #[test]
    fn lookup_failure_back_and_idle() {
        let mut s = opened();
        s.handle(Input::CardPlaced, 100);
        ev(&mut s, Event::LookupFailed(Reason::LookupUnavailable), 200);
        assert!(matches!(s.step(), Some(Step::Failed { .. })));
        // Issue #30 item 2: Back with the card on the reader passes through 请取回您的身份证 first.
        assert_eq!(ev(&mut s, Event::Back, 300), vec![], "the card is still on the reader");
        assert_eq!(s.phase, Phase::TakeCard);
        assert_eq!(s.handle(Input::CardRemoved, 310), vec![Command::EndSession { reason: EndReason::Cancelled }]);
        let mut s = to_documents();
        ev(&mut s, Event::Choose("BL-1".into()), 300);
        ev(&mut s, Event::Back, 400);
        assert!(matches!(s.step(), Some(Step::Documents { .. })));
        assert_eq!(s.handle(Input::Tick, 60_400), vec![]);
        assert_eq!(s.idle.countdown_s(60_400), Some(10));
        s.handle(Input::Continue, 61_000);
        assert_eq!(s.idle.countdown_s(61_000), None);
        s.handle(Input::Tick, 121_000);
        assert_eq!(s.handle(Input::Tick, 121_000 + IDLE_COUNTDOWN_MS), vec![], "the card first");
        assert_eq!(s.phase, Phase::TakeCard);
        s.handle(Input::Tick, 191_000);
        assert_eq!(
            s.handle(Input::Tick, 191_000 + IDLE_COUNTDOWN_MS),
            vec![Command::EndSession { reason: EndReason::Idle }],
            "nobody came back for it: the session ends, and the card's data with it"
        );
    }
}
