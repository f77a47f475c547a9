//! The 好差评 page on the flow controller: a ticket served today (typed by its number, looked up on the
//! worker) or the hall's service, then the shared rating step; journaled like the ratings at the end of the
//! other flows.

use super::controller::{Binding, Context, Job, Setup, sends};
use super::home::FlowHandle;
use super::{AppWindow, Page, RatingAdapter, RatingScreen, TileKind};
use crate::flows::core::{Input, Phase, Reason, Session, Transaction};
use crate::flows::rating::{Event, RateService, Step, Work};
use crate::queue::{Queue, Rateable};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

struct Page_;

impl Binding for Page_ {
    type Flow = RateService;
    type Services = Queue;
    const PAGE: Page = Page::Rating;

    fn run(queue: &mut Queue, work: Work, job: &Job<Event>) {
        let Work::FindTicket(number) = work;
        job.reply(match queue.rateable(&number, jiff::Timestamp::now()) {
            Ok(Rateable::Yes(ticket_id)) => Event::Found { ticket_id },
            Ok(Rateable::Unknown) => Event::NotFound(Reason::TicketUnknown { number }),
            Ok(Rateable::NotServed) => Event::NotFound(Reason::TicketNotServed { number }),
            Ok(Rateable::Rated) => Event::NotFound(Reason::TicketRated { number }),
            Err(e) => {
                log::warn!("a ticket to rate could not be looked up: {e}");
                Event::NotFound(Reason::QueueUnavailable)
            }
        });
    }

    fn render(&self, window: &AppWindow, session: &Session<RateService>, _english: bool) {
        let a = window.global::<RatingAdapter>();
        match &session.phase {
            Phase::Home => {}
            Phase::Step(Step::Choose) => a.set_screen(RatingScreen::Choose),
            Phase::Step(Step::Number { text, failure }) => {
                a.set_screen(RatingScreen::Number);
                a.set_entry(text.into());
                a.set_reason(super::reasons::to_ui_opt(failure.as_ref()));
            }
            Phase::Step(Step::Finding { .. }) => a.set_screen(RatingScreen::Finding),
            Phase::Step(Step::Levels { transaction }) => {
                a.set_screen(RatingScreen::Levels);
                // A ticket's id ends with its number (kiosk-day-A023).
                let number = match transaction {
                    Transaction::Ticket { ticket_id } => ticket_id.rsplit('-').next().unwrap_or_default(),
                    _ => "",
                };
                a.set_rated_number(number.into());
            }
            Phase::RatingReasons { .. } => a.set_screen(RatingScreen::Reasons),
            Phase::Thanks => a.set_screen(RatingScreen::Thanks),
            // 好差评 reads no card.
            Phase::TakeCard => {}
        }
    }

    fn clear(&self, window: &AppWindow) {
        let a = window.global::<RatingAdapter>();
        a.set_entry(SharedString::new());
        a.set_rated_number(SharedString::new());
        a.set_reason(super::reasons::none());
    }
}

/// Wires the rating page; the queue finds the tickets it rates.
pub fn bind(window: &AppWindow, cx: &Context) -> FlowHandle {
    let queue = cx.queue.clone();
    let prefixes: Vec<SharedString> = queue.categories().iter().map(|c| c.prefix.clone().into()).collect();
    let (handle, d) = super::controller::bind(
        window,
        cx,
        Setup { binding: Page_, flow: RateService, services: queue, tiles: vec![(TileKind::Rating, Event::Open)] },
    );
    let a = window.global::<RatingAdapter>();
    a.set_prefixes(ModelRc::new(VecModel::from(prefixes)));
    crate::wire_rating!(a, d);
    a.on_rate_ticket(sends(&d, Event::RateTicket));
    a.on_rate_hall(sends(&d, Event::RateHall));
    a.on_backspace(sends(&d, Event::Backspace));
    a.on_clear(sends(&d, Event::Clear));
    a.on_submit(sends(&d, Event::Submit));
    a.on_key(move |k| d(Input::Flow(Event::Key(k.to_string()))));
    handle
}
