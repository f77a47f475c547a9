//! 办件查询 and 预约签到 on the lookup page, on the flow controller: keyboards and the card prompt feed
//! the flow, which says plainly that these services are not connected at this kiosk yet.

use super::controller::{Binding, Context, Job, Setup, sends, sends_key};
use super::home::FlowHandle;
use super::{AppWindow, LookupAdapter, LookupScreen, LookupService, Page, TileKind};
use crate::devices::IdReaderHandle;
use crate::flows::core::{Phase, Session};
use crate::flows::lookup::{Event, Lookup, Service, Step, Work};
use slint::ComponentHandle;

struct Page_;

fn service_of(service: Service) -> LookupService {
    match service {
        Service::CaseProgress => LookupService::CaseProgress,
        Service::Appointment => LookupService::Appointment,
    }
}

impl Binding for Page_ {
    type Flow = Lookup;
    type Services = IdReaderHandle;
    const PAGE: Page = Page::Lookup;

    fn run(reader: &mut IdReaderHandle, work: Work, _job: &Job<Event>) {
        match work {
            // Nothing of the card is needed while the appointment system is not connected: dropped, zeroed.
            Work::DiscardCard => drop(reader.take_card()),
        }
    }

    fn render(&self, window: &AppWindow, session: &Session<Lookup>, _english: bool, now_ms: u64) {
        let a = window.global::<LookupAdapter>();
        a.set_countdown(session.idle.countdown_s(now_ms).unwrap_or(0) as i32);
        let (screen, service, entry) = match &session.phase {
            Phase::Step(Step::Entry { service, text }) => (LookupScreen::Digits, *service, text.as_str()),
            Phase::Step(Step::CardPrompt { service }) => (LookupScreen::CardPrompt, *service, ""),
            Phase::Step(Step::NotAvailable { service }) => (LookupScreen::NotAvailable, *service, ""),
            Phase::TakeCard => {
                a.set_screen(LookupScreen::TakeCard);
                return;
            }
            Phase::Home | Phase::RatingReasons { .. } | Phase::Thanks => return,
        };
        a.set_screen(screen);
        a.set_entry(entry.into());
        a.set_service(service_of(service));
    }

    fn clear(&self, window: &AppWindow) {
        window.global::<LookupAdapter>().set_entry("".into());
    }
}

/// Wires the lookup page for its two tiles.
pub fn bind(window: &AppWindow, cx: &Context) -> FlowHandle {
    let tiles = vec![(TileKind::CaseProgress, Event::Open(Service::CaseProgress))];
    let (handle, d) =
        super::controller::bind(window, cx, Setup { binding: Page_, flow: Lookup, services: cx.reader.clone(), tiles });
    let a = window.global::<LookupAdapter>();
    a.on_key(sends_key(&d, Event::Key));
    a.on_backspace(sends(&d, Event::Backspace));
    a.on_clear(sends(&d, Event::Clear));
    a.on_submit(sends(&d, Event::Submit));
    crate::wire_session_callbacks!(a, d);
    handle
}
