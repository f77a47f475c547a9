//! 办件查询 and 政务专递 as a flow: the case number on a digit pad, or the ID card for the holder's cases
//! (numbers masked) → a case's steps (受理, 审核, 办结, 送达) with their times → a status slip on the
//! thermal printer; for a finished case that offers it, 邮寄到家 → one of the applicant's saved addresses
//! (masked by the platform) → confirm → the request submitted and journaled `delivery_requested`, and a
//! slip printed. Pure: the worker asks the platform and prints.

use super::core::{Flow, PadKey, Reason, StepInput, Transition};
use platform::cases::{Case, WireAddress, is_case_number};

/// Longest case number typed.
pub const MAX_NUMBER: usize = 24;

/// The status slip on a case's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slip {
    None,
    Printing,
    Printed,
    Failed(Reason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The card prompt, with a digit pad for the case number.
    Identify {
        number: String,
        failure: Option<Reason>,
    },
    Looking,
    /// A card holder's cases.
    List {
        cases: Vec<Case>,
    },
    /// One case; `from_list` when 返回 goes back to the holder's list.
    Case {
        case: Case,
        slip: Slip,
        from_list: Option<Vec<Case>>,
    },
    /// Asking the platform for the applicant's saved addresses.
    LoadingAddresses {
        case: Case,
    },
    /// The applicant's saved addresses for 邮寄到家.
    Addresses {
        case: Case,
        addresses: Vec<WireAddress>,
    },
    /// 确认邮寄到 this address?
    Confirm {
        case: Case,
        address: WireAddress,
    },
    Submitting {
        case: Case,
        address: WireAddress,
    },
    /// The request was accepted (its id); the slip printed or not.
    Delivered {
        case: Case,
        address: WireAddress,
        request_id: String,
        slip: Slip,
    },
    Failed {
        reason: Reason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The 办件查询 tile.
    Open,
    Pad(PadKey),
    Submit,
    Found(Vec<Case>),
    LookupFailed(Reason),
    OpenCase(String),
    Back,
    PrintSlip,
    SlipPrinted,
    SlipFailed(Reason),
    /// 邮寄到家.
    Deliver,
    AddressesFound(Vec<WireAddress>),
    ChooseAddress(String),
    Confirm,
    /// The request was accepted (its id), and whether its slip printed.
    DeliveryRequested {
        request_id: String,
        slip: Slip,
    },
    DeliveryFailed(Reason),
    /// From a failure: take a number instead (the session hands over to take-a-number).
    TakeTicket,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    FindByCard,
    FindByNumber(String),
    /// Print the case's status slip; answers `SlipPrinted` or `SlipFailed`.
    PrintSlip(Case),
    LoadAddresses(String),
    /// Submit the delivery request (journaled `delivery_requested`) and print its slip.
    RequestDelivery {
        case: Case,
        address: WireAddress,
    },
}

#[derive(Debug, Clone, Default)]
pub struct CaseProgress;

fn with_slip(step: &Step, slip: Slip) -> Step {
    let mut next = step.clone();
    if let Step::Case { slip: s, .. } | Step::Delivered { slip: s, .. } = &mut next {
        *s = slip;
    }
    next
}

impl Flow for CaseProgress {
    type Step = Step;
    type Event = Event;
    type Work = Work;

    fn open(&mut self, event: Event) -> Option<(&'static str, Step, Vec<Work>)> {
        (event == Event::Open)
            .then(|| ("case_progress", Step::Identify { number: String::new(), failure: None }, vec![]))
    }

    fn step(&mut self, step: &Step, input: StepInput<Event>) -> Transition<Step, Work> {
        let event = match (step, input) {
            (Step::Identify { .. }, StepInput::CardPlaced) => {
                return Transition::Go(Step::Looking, vec![Work::FindByCard]);
            }
            (Step::Identify { number, failure }, StepInput::CardTrouble(news)) => {
                return Transition::Update(Step::Identify {
                    number: number.clone(),
                    failure: news.shown(failure.as_ref()),
                });
            }
            (_, StepInput::Event(e)) => e,
            _ => return Transition::Ignore,
        };
        match (step, event) {
            (Step::Identify { number, .. }, Event::Pad(key)) => match key.apply(number, MAX_NUMBER) {
                Some(number) => Transition::Update(Step::Identify { number, failure: None }),
                None => Transition::Ignore,
            },
            (Step::Identify { number, .. }, Event::Submit) if is_case_number(number) => {
                Transition::Go(Step::Looking, vec![Work::FindByNumber(number.clone())])
            }
            (Step::Looking, Event::Found(mut cases)) => match cases.len() {
                0 => Transition::Go(Step::Identify { number: String::new(), failure: Some(Reason::NoCases) }, vec![]),
                1 => Transition::Go(Step::Case { case: cases.remove(0), slip: Slip::None, from_list: None }, vec![]),
                _ => Transition::Go(Step::List { cases }, vec![]),
            },
            (Step::Looking, Event::LookupFailed(reason)) => match reason {
                Reason::CardExpired | Reason::CardUnreadable => {
                    Transition::Go(Step::Identify { number: String::new(), failure: Some(reason) }, vec![])
                }
                reason => Transition::Go(Step::Failed { reason }, vec![]),
            },
            (Step::List { cases }, Event::OpenCase(n)) => match cases.iter().find(|c| c.number == n) {
                Some(c) => Transition::Go(
                    Step::Case { case: c.clone(), slip: Slip::None, from_list: Some(cases.clone()) },
                    vec![],
                ),
                None => Transition::Ignore,
            },
            (Step::Case { from_list: Some(cases), slip, .. }, Event::Back) if *slip != Slip::Printing => {
                Transition::Go(Step::List { cases: cases.clone() }, vec![])
            }
            (Step::Case { case, slip, .. } | Step::Delivered { case, slip, .. }, Event::PrintSlip)
                if *slip != Slip::Printing =>
            {
                Transition::Go(with_slip(step, Slip::Printing), vec![Work::PrintSlip(case.clone())])
            }
            (Step::Case { slip: Slip::Printing, .. } | Step::Delivered { slip: Slip::Printing, .. }, e) => match e {
                Event::SlipPrinted => Transition::Go(with_slip(step, Slip::Printed), vec![]),
                Event::SlipFailed(why) => Transition::Go(with_slip(step, Slip::Failed(why)), vec![]),
                _ => Transition::Ignore,
            },
            (Step::Case { case, slip, .. }, Event::Deliver) if case.can_deliver() && *slip != Slip::Printing => {
                Transition::Go(
                    Step::LoadingAddresses { case: case.clone() },
                    vec![Work::LoadAddresses(case.number.clone())],
                )
            }
            (Step::LoadingAddresses { case }, Event::AddressesFound(addresses)) => {
                if addresses.is_empty() {
                    Transition::Go(Step::Failed { reason: Reason::NoAddresses }, vec![])
                } else {
                    Transition::Go(Step::Addresses { case: case.clone(), addresses }, vec![])
                }
            }
            (Step::LoadingAddresses { .. }, Event::LookupFailed(reason)) => {
                Transition::Go(Step::Failed { reason }, vec![])
            }
            (Step::Addresses { case, addresses }, Event::ChooseAddress(id)) => {
                match addresses.iter().find(|a| a.id == id) {
                    Some(a) => Transition::Go(Step::Confirm { case: case.clone(), address: a.clone() }, vec![]),
                    None => Transition::Ignore,
                }
            }
            (Step::Addresses { case, .. }, Event::Back) => {
                Transition::Go(Step::Case { case: case.clone(), slip: Slip::None, from_list: None }, vec![])
            }
            (Step::Confirm { case, address }, Event::Confirm) => Transition::Go(
                Step::Submitting { case: case.clone(), address: address.clone() },
                vec![Work::RequestDelivery { case: case.clone(), address: address.clone() }],
            ),
            (Step::Confirm { case, .. }, Event::Back) => Transition::Go(
                Step::LoadingAddresses { case: case.clone() },
                vec![Work::LoadAddresses(case.number.clone())],
            ),
            (Step::Submitting { case, address }, Event::DeliveryRequested { request_id, slip }) => {
                let mut case = case.clone();
                case.delivery_requested = true;
                Transition::Go(Step::Delivered { case, address: address.clone(), request_id, slip }, vec![])
            }
            (Step::Submitting { .. }, Event::DeliveryFailed(reason)) => Transition::Go(Step::Failed { reason }, vec![]),
            // Not a dead end: a ticket for the counters (or 帮办代办 at night) is always there.
            (Step::Failed { .. }, Event::TakeTicket) => Transition::End(super::core::EndReason::HandedOver),
            _ => Transition::Ignore,
        }
    }

    fn wants_card(&self, step: &Step) -> bool {
        matches!(step, Step::Identify { .. })
    }

    /// A case looked up (and posted home, if it was) is a transaction to rate, once its page is shown.
    fn rating_offer(&self, step: &Step) -> Option<super::core::Transaction> {
        match step {
            Step::Case { case, slip, .. } | Step::Delivered { case, slip, .. } if *slip != Slip::Printing => {
                Some(super::core::Transaction::CaseQuery { case_number: case.number.clone() })
            }
            _ => None,
        }
    }

    fn busy(&self, step: &Step) -> bool {
        matches!(
            step,
            Step::Looking
                | Step::LoadingAddresses { .. }
                | Step::Submitting { .. }
                | Step::Case { slip: Slip::Printing, .. }
                | Step::Delivered { slip: Slip::Printing, .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Command, Input, Session};
    use platform::cases::{WireCase, WireStep};

    fn case(number: &str, finished: bool) -> Case {
        let mut steps = vec![WireStep { name: "受理".into(), at: Some("2026-11-20T09:00:00+08:00".into()) }];
        if finished {
            steps.push(WireStep { name: "办结".into(), at: Some("2026-11-25T09:00:00+08:00".into()) });
        }
        Case::from_wire(WireCase {
            number: number.into(),
            item_name: "不动产登记".into(),
            item_name_en: None,
            steps,
            delivery_offered: true,
            delivery_requested: false,
        })
        .unwrap()
    }

    fn ev(s: &mut Session<CaseProgress>, e: Event) -> Vec<Command<Work>> {
        s.handle(Input::Flow(e), 100)
    }

    #[test]
    fn a_card_lists_the_holders_cases_and_a_finished_one_is_posted_home() {
        let mut s = Session::new(CaseProgress, 60_000);
        ev(&mut s, Event::Open);
        assert_eq!(s.handle(Input::CardPlaced, 10), vec![Command::Work(Work::FindByCard)]);
        let (done, open) = (case("202611200123", true), case("202611250456", false));
        ev(&mut s, Event::Found(vec![done.clone(), open.clone()]));
        assert!(matches!(s.step(), Some(Step::List { cases }) if cases.len() == 2));
        ev(&mut s, Event::OpenCase("202611250456".into()));
        assert_eq!(ev(&mut s, Event::Deliver), vec![], "not finished: nothing to post");
        assert_eq!(ev(&mut s, Event::PrintSlip), vec![Command::Work(Work::PrintSlip(open.clone()))]);
        assert_eq!(ev(&mut s, Event::Back), vec![], "not while the slip prints");
        ev(&mut s, Event::SlipPrinted);
        assert!(matches!(s.step(), Some(Step::Case { slip: Slip::Printed, .. })));
        ev(&mut s, Event::Back);
        ev(&mut s, Event::OpenCase("202611200123".into()));
        assert_eq!(ev(&mut s, Event::Deliver), vec![Command::Work(Work::LoadAddresses("202611200123".into()))]);
        let addresses = vec![
            WireAddress { id: "addr-1".into(), masked: "临沭县青云镇青云路**号 李**".into() },
            WireAddress { id: "addr-2".into(), masked: "临沭县临沭街道滨河路***号 李**".into() },
        ];
        ev(&mut s, Event::AddressesFound(addresses.clone()));
        assert_eq!(ev(&mut s, Event::ChooseAddress("addr-9".into())), vec![], "only the applicant's addresses");
        ev(&mut s, Event::ChooseAddress("addr-2".into()));
        assert_eq!(
            ev(&mut s, Event::Confirm),
            vec![Command::Work(Work::RequestDelivery { case: done.clone(), address: addresses[1].clone() })]
        );
        assert!(s.flow.busy(s.step().unwrap()));
        ev(&mut s, Event::DeliveryRequested { request_id: "D0001".into(), slip: Slip::Printed });
        let Some(Step::Delivered { case, request_id, .. }) = s.step() else { panic!("{:?}", s.step()) };
        assert!(case.delivery_requested && !case.can_deliver() && request_id == "D0001");
    }

    #[test]
    fn a_number_is_digits_and_nothing_found_or_no_address_is_said() {
        let mut s = Session::new(CaseProgress, 60_000);
        ev(&mut s, Event::Open);
        for c in "2026112a".chars() {
            ev(&mut s, Event::Pad(PadKey::Key(c)));
        }
        assert_eq!(ev(&mut s, Event::Submit), vec![], "eight digits at least");
        ev(&mut s, Event::Pad(PadKey::Key('0')));
        assert_eq!(ev(&mut s, Event::Submit), vec![Command::Work(Work::FindByNumber("20261120".into()))]);
        ev(&mut s, Event::Found(vec![]));
        assert_eq!(s.step(), Some(&Step::Identify { number: String::new(), failure: Some(Reason::NoCases) }));
        for c in "20261120".chars() {
            ev(&mut s, Event::Pad(PadKey::Key(c)));
        }
        ev(&mut s, Event::Submit);
        ev(&mut s, Event::Found(vec![case("20261120", true)]));
        assert!(matches!(s.step(), Some(Step::Case { from_list: None, .. })), "one case: straight to it");
        ev(&mut s, Event::Deliver);
        ev(&mut s, Event::AddressesFound(vec![]));
        assert_eq!(s.step(), Some(&Step::Failed { reason: Reason::NoAddresses }));
    }
}
