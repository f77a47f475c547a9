//! The 好差评 page on the flow controller: the shared rating step, tied to the hall's service rather than one
//! transaction; journaled like the ratings at the end of the other flows.

use super::controller::{Binding, Context, Job, Setup};
use super::home::FlowHandle;
use super::{AppWindow, Page, RatingAdapter, RatingScreen, TileKind};
use crate::flows::core::{Phase, Session};
use crate::flows::rating::{Event, RateService};
use slint::ComponentHandle;

struct Page_;

impl Binding for Page_ {
    type Flow = RateService;
    type Services = ();
    const PAGE: Page = Page::Rating;

    fn run(_: &mut (), _: (), _: &Job<Event>) {}

    fn render(&self, window: &AppWindow, session: &Session<RateService>, _english: bool, now_ms: u64) {
        let a = window.global::<RatingAdapter>();
        a.set_countdown(session.idle.countdown_s(now_ms).unwrap_or(0) as i32);
        match session.phase {
            Phase::Home => {}
            Phase::Step(_) => a.set_screen(RatingScreen::Levels),
            Phase::RatingReasons { .. } => a.set_screen(RatingScreen::Reasons),
            Phase::Thanks => a.set_screen(RatingScreen::Thanks),
        }
    }

    fn clear(&self, _window: &AppWindow) {}
}

/// Wires the rating page.
pub fn bind(window: &AppWindow, cx: &Context) -> FlowHandle {
    let (handle, d) = super::controller::bind(
        window,
        cx,
        Setup { binding: Page_, flow: RateService, services: (), tiles: vec![(TileKind::Rating, Event::Open)] },
    );
    let a = window.global::<RatingAdapter>();
    crate::wire_session_callbacks!(a, d, rating);
    handle
}
