//! The 办件查询 page on the flow controller: the case number or the card asks the platform; a status slip
//! and 政务专递's slip print on the ticket printer; a delivery request is journaled `delivery_requested`
//! (the case number and the address id, nothing of the address itself).

use super::controller::{Binding, Context, Job, Setup, sends, sends_key};
use super::home::FlowHandle;
use super::{AddressRow, AppWindow, CaseAdapter, CaseRow, CaseScreen, Page, StepRow, TileKind};
use crate::config::Config;
use crate::devices::IdReaderHandle;
use crate::flows::case_progress::{CaseProgress, Event, Slip, Step, Work};
use crate::flows::core::{Input, PadKey, Phase, Reason, Session};
use crate::journal::{Journal, payload};
use crate::platform::cases::{Case, WireAddress, slip};
use crate::platform::{Platform, PlatformError};
use crate::ticket::{TicketPrinter, print_document};
use slint::{ComponentHandle, ModelRc};
use std::sync::Arc;

/// What the flow's work needs; owned by its worker thread.
pub struct Services {
    pub platform: Option<Arc<Platform>>,
    pub config: Config,
    pub journal: Journal,
    pub printer: TicketPrinter,
    pub reader: IdReaderHandle,
}

/// What the citizen is told when the platform gives no cases.
fn told(e: PlatformError) -> Reason {
    match e {
        PlatformError::NotFound => Reason::NoCases,
        e => {
            log::warn!("case progress: {e}");
            Reason::PlatformUnavailable
        }
    }
}

impl Services {
    fn platform(&self) -> Result<&Platform, Reason> {
        self.platform.as_deref().ok_or_else(|| {
            log::warn!("case progress: [platform] url is not set");
            Reason::PlatformUnavailable
        })
    }

    fn print(&self, case: &Case, delivery: Option<(&WireAddress, &str)>) -> Slip {
        let tz = self.config.tz().clone();
        let now = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string();
        let doc =
            slip(&self.config.kiosk.hall_name, case, delivery, &tz, &now, self.config.platform.case_url.as_deref());
        match print_document(&self.printer, &doc, &self.journal, &format!("case slip {}", case.number)) {
            Ok(()) => Slip::Printed,
            Err(why) => Slip::Failed(why),
        }
    }
}

/// The page, with the hall's time zone for the times it shows.
struct Page_ {
    tz: jiff::tz::TimeZone,
}

impl Binding for Page_ {
    type Flow = CaseProgress;
    type Services = Services;
    const PAGE: Page = Page::CaseProgress;

    fn run(s: &mut Services, work: Work, job: &Job<Event>) {
        let reply = match work {
            Work::FindByCard => match s.reader.take_card() {
                None => Event::LookupFailed(Reason::CardUnreadable),
                Some(card) => {
                    let now = jiff::Timestamp::now();
                    match crate::cards::admit(
                        &s.journal,
                        &card,
                        crate::cards::today(now, s.config.tz()),
                        crate::journal::payload::CardPurpose::CaseProgress,
                        None,
                        s.config.journal.id_mask_keep,
                        &job.session_id,
                    ) {
                        Ok(_) => match s.platform().and_then(|p| p.cases(None, Some(&card.id_number)).map_err(told)) {
                            Ok(cases) => Event::Found(cases),
                            Err(why) => Event::LookupFailed(why),
                        },
                        Err(crate::cards::CardRuleError::Refused(r)) => Event::LookupFailed(r.reason()),
                        Err(crate::cards::CardRuleError::Journal(e)) => {
                            log::error!("case progress: the card was not journaled ({e})");
                            Event::LookupFailed(Reason::QueueUnavailable)
                        }
                    }
                }
            },
            Work::FindByNumber(n) => match s.platform().and_then(|p| p.cases(Some(&n), None).map_err(told)) {
                Ok(cases) => Event::Found(cases),
                Err(why) => Event::LookupFailed(why),
            },
            Work::PrintSlip(case) => match s.print(&case, None) {
                Slip::Failed(why) => Event::SlipFailed(why),
                _ => Event::SlipPrinted,
            },
            Work::LoadAddresses(n) => match s.platform().and_then(|p| p.addresses(&n).map_err(told)) {
                Ok(a) => Event::AddressesFound(a),
                Err(why) => Event::LookupFailed(why),
            },
            Work::RequestDelivery { case, address } => {
                // One key per session and case: a retry of the same request is the same request.
                let key = format!("{}-{}-{}", s.config.kiosk.id, job.session_id, case.number);
                // The journal first: no request leaves the kiosk that the journal does not hold.
                let intent = payload::DeliveryIntent {
                    case_number: case.number.clone(),
                    address_id: address.id.clone(),
                    idempotency_key: key.clone(),
                };
                if let Err(e) = s.journal.append(crate::journal::NewEntry::from(intent).in_session(&job.session_id)) {
                    log::error!("delivery_intent not journaled, so the request was not sent: {e}");
                    return job.reply(Event::DeliveryFailed(Reason::QueueUnavailable));
                }
                let asked = match s.platform() {
                    Ok(p) => p.request_delivery(&case.number, &address.id, &key).map_err(|e| (e.to_string(), told(e))),
                    Err(why) => Err(("[platform] url is not set".to_owned(), why)),
                };
                // The outcome follows the intent, whichever it is.
                let asked = asked.map_err(|(reason, why)| {
                    let failed = payload::DeliveryFailed {
                        case_number: case.number.clone(),
                        idempotency_key: key.clone(),
                        reason,
                    };
                    if let Err(j) = s.journal.append(crate::journal::NewEntry::from(failed).in_session(&job.session_id))
                    {
                        log::error!("delivery_failed not journaled: {j}");
                    }
                    why
                });
                match asked {
                    Ok(request_id) => {
                        let entry = payload::DeliveryRequested {
                            case_number: case.number.clone(),
                            address_id: address.id.clone(),
                            request_id: request_id.clone(),
                        };
                        if let Err(e) =
                            s.journal.append(crate::journal::NewEntry::from(entry).in_session(&job.session_id))
                        {
                            log::error!("delivery_requested not journaled: {e}");
                        }
                        let mut requested = case.clone();
                        requested.delivery_requested = true;
                        let slip = s.print(&requested, Some((&address, &request_id)));
                        Event::DeliveryRequested { request_id, slip }
                    }
                    Err(why) => Event::DeliveryFailed(why),
                }
            }
        };
        job.reply(reply);
    }

    fn render(&self, window: &AppWindow, session: &Session<CaseProgress>, english: bool) {
        let a = window.global::<CaseAdapter>();
        let tz = self.tz.clone();
        let show_case = |case: &Case, slip: &Slip| {
            // The one masking rule: as in the list (vocabulary::mask).
            a.set_case_number(vocabulary::mask::number(&case.number).into());
            a.set_case_item(case.name_in(english).into());
            let steps: Vec<StepRow> = case
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| StepRow {
                    index: i as i32,
                    at: s
                        .at
                        .map(|t| t.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default()
                        .into(),
                })
                .collect();
            // The furthest step reached, for the voice (-1 before any).
            a.set_reached_step(case.steps.iter().rposition(|s| s.at.is_some()).map_or(-1, |i| i as i32));
            a.set_steps(super::keep_or_new(a.get_steps(), steps));
            a.set_can_deliver(case.can_deliver());
            a.set_delivery_requested(case.delivery_requested);
            let (n, why) = match slip {
                Slip::None => (0, None),
                Slip::Printing => (1, None),
                Slip::Printed => (2, None),
                Slip::Failed(why) => (3, Some(why)),
            };
            a.set_slip(n);
            a.set_slip_problem(super::reasons::to_ui_opt(why));
        };
        let screen = match &session.phase {
            Phase::Step(Step::Identify { number, failure }) => {
                a.set_number(number.as_str().into());
                let (card, notice) = match failure {
                    Some(Reason::NoCases) => (None, failure.as_ref()),
                    other => (other.as_ref(), None),
                };
                a.set_problem(super::reasons::to_ui_opt(card));
                a.set_notice(super::reasons::to_ui_opt(notice));
                CaseScreen::Identify
            }
            Phase::Step(Step::Looking | Step::LoadingAddresses { .. }) => CaseScreen::Looking,
            Phase::Step(Step::List { cases }) => {
                let rows: Vec<CaseRow> = cases
                    .iter()
                    .map(|c| CaseRow {
                        number: c.number.as_str().into(),
                        masked: vocabulary::mask::number(&c.number).into(),
                        item: c.name_in(english).into(),
                        state: if c.reached(crate::platform::cases::CaseStep::Delivered) {
                            2
                        } else if c.finished() {
                            1
                        } else {
                            0
                        },
                    })
                    .collect();
                let (model, changed) = super::keep_or_replace(a.get_cases(), rows);
                if changed {
                    a.set_first_case(0);
                }
                a.set_cases(model);
                a.set_choices_spoken(super::spoken_choices(cases.iter().map(|c| c.name_in(english)), english).into());
                CaseScreen::List
            }
            Phase::Step(Step::Case { case, slip, from_list }) => {
                show_case(case, slip);
                a.set_can_go_back(from_list.is_some());
                CaseScreen::Case
            }
            Phase::Step(Step::Addresses { addresses, .. }) => {
                let rows: Vec<AddressRow> = addresses
                    .iter()
                    .map(|x| AddressRow { id: x.id.as_str().into(), masked: x.masked.as_str().into() })
                    .collect();
                let (model, changed) = super::keep_or_replace(a.get_addresses(), rows);
                if changed {
                    a.set_first_address(0);
                }
                a.set_choices_spoken(
                    super::spoken_choices(addresses.iter().map(|x| x.masked.as_str()), english).into(),
                );
                a.set_addresses(model);
                CaseScreen::Addresses
            }
            Phase::Step(Step::Confirm { case, address }) => {
                a.set_case_item(case.name_in(english).into());
                a.set_address(address.masked.as_str().into());
                CaseScreen::Confirm
            }
            Phase::Step(Step::Submitting { .. }) => CaseScreen::Submitting,
            Phase::Step(Step::Delivered { case, address, request_id, slip }) => {
                show_case(case, slip);
                a.set_address(address.masked.as_str().into());
                a.set_request_id(request_id.as_str().into());
                CaseScreen::Delivered
            }
            Phase::Step(Step::Failed { reason }) => {
                a.set_problem(super::reasons::to_ui(reason));
                CaseScreen::Failed
            }
            Phase::TakeCard => CaseScreen::TakeCard,
            Phase::RatingReasons { .. } => CaseScreen::RatingReasons,
            Phase::Thanks => CaseScreen::Thanks,
            Phase::Home => return,
        };
        a.set_screen(screen);
    }

    fn clear(&self, window: &AppWindow) {
        let a = window.global::<CaseAdapter>();
        a.set_number("".into());
        a.set_cases(ModelRc::default());
        a.set_steps(ModelRc::default());
        a.set_addresses(ModelRc::default());
        a.set_address("".into());
    }
}

/// Wires the 办件查询 page; a failure that offers a ticket instead opens take-a-number.
pub fn bind(window: &AppWindow, cx: &Context) -> FlowHandle {
    let services = Services {
        platform: cx.platform.clone(),
        config: cx.config.clone(),
        journal: cx.journal.clone(),
        printer: cx.printer.clone(),
        reader: cx.reader.clone(),
    };
    let take_number = cx.take_number();
    let (handle, d) = super::controller::bind(
        window,
        cx,
        Setup {
            binding: Page_ { tz: services.config.tz().clone() },
            flow: CaseProgress,
            services,
            tiles: vec![(TileKind::CaseProgress, Event::Open)],
        },
    );
    let a = window.global::<CaseAdapter>();
    a.on_key(sends_key(&d, |c| Event::Pad(PadKey::Key(c))));
    let f = d.clone();
    a.on_take_ticket(move || {
        // The session hands over first, then take-a-number opens on its category list.
        f(Input::Flow(Event::TakeTicket));
        take_number(String::new());
    });
    a.on_backspace(sends(&d, Event::Pad(PadKey::Backspace)));
    a.on_clear(sends(&d, Event::Pad(PadKey::Clear)));
    a.on_submit(sends(&d, Event::Submit));
    a.on_back(sends(&d, Event::Back));
    a.on_print_slip(sends(&d, Event::PrintSlip));
    a.on_deliver(sends(&d, Event::Deliver));
    a.on_confirm(sends(&d, Event::Confirm));
    let f = d.clone();
    a.on_open_case(move |n| f(Input::Flow(Event::OpenCase(n.to_string()))));
    let f = d.clone();
    a.on_choose_address(move |id| f(Input::Flow(Event::ChooseAddress(id.to_string()))));
    crate::wire_rating!(a, d);
    handle
}
