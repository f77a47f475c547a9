//! Binds 好差评 (the rating flow on its own) to its Slint adapter; the evaluation is journaled like the
//! ratings at the end of the other flows, tied to the hall's service rather than one transaction.

use super::home::{FlowHandle, Opener};
use super::{AppAdapter, AppWindow, Page, RatingAdapter, RatingScreen};
use crate::flows::rating::{Command, Event, Screen, Session};
use crate::journal::Journal;
use slint::ComponentHandle;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

struct State {
    session: Session,
    session_id: String,
    started: Instant,
}

/// Wires the rating page.
pub fn bind(window: &AppWindow, journal: Journal, idle_timeout_ms: u64) -> FlowHandle {
    let state = Rc::new(RefCell::new(State {
        session: Session::new(idle_timeout_ms),
        session_id: String::new(),
        started: Instant::now(),
    }));
    let weak = window.as_weak();
    let dispatch: Rc<dyn Fn(Event)> = {
        let state = state.clone();
        Rc::new(move |event: Event| {
            let Some(w) = weak.upgrade() else { return };
            let mut st = state.borrow_mut();
            let now = st.started.elapsed().as_millis() as u64;
            for cmd in st.session.handle(event, now) {
                match cmd {
                    Command::StartSession => st.session_id = super::session::start(&journal, "rating"),
                    Command::RecordEvaluation { level, reason } => {
                        let transaction = serde_json::json!({ "kind": "hall_service" });
                        super::session::evaluation(&journal, st.session_id.clone(), transaction, level, reason);
                    }
                    Command::EndSession { reason } => {
                        let id = std::mem::take(&mut st.session_id);
                        super::session::end(&journal, id, reason);
                    }
                }
            }
            let a = w.global::<RatingAdapter>();
            a.set_countdown(st.session.idle.countdown_s(now).unwrap_or(0) as i32);
            let app = w.global::<AppAdapter>();
            match st.session.screen {
                Screen::Home => {
                    if app.get_page() == Page::Rating {
                        app.set_page(Page::Home);
                    }
                }
                Screen::Levels => {
                    app.set_page(Page::Rating);
                    a.set_screen(RatingScreen::Levels);
                }
                Screen::Reasons { .. } => a.set_screen(RatingScreen::Reasons),
                Screen::Thanks => a.set_screen(RatingScreen::Thanks),
            }
        })
    };
    let a = window.global::<RatingAdapter>();
    a.set_levels(super::session::levels());
    a.set_reasons(super::session::reasons());
    let d = dispatch.clone();
    a.on_rate(move |level| d(Event::Rate(level.clamp(0, 255) as u8)));
    let d = dispatch.clone();
    a.on_rate_reason(move |code| d(Event::RateReason(code.to_string())));
    let d = dispatch.clone();
    a.on_cancel(move || d(Event::Cancel));
    let d = dispatch.clone();
    a.on_continue_session(move || d(Event::Continue));
    let tick = slint::Timer::default();
    let d = dispatch.clone();
    tick.start(slint::TimerMode::Repeated, Duration::from_secs(1), move || d(Event::Tick));
    let weak = window.as_weak();
    let d = dispatch.clone();
    let open: Opener = Rc::new(move || {
        state.borrow_mut().session.idle.set_idle_timeout(super::home::idle_timeout_ms(&weak, idle_timeout_ms));
        d(Event::Open);
    });
    let touched: Opener = {
        let d = dispatch.clone();
        Rc::new(move || d(Event::Touch))
    };
    FlowHandle { timers: vec![tick], opens: vec![(super::TileKind::Rating, open)], touched }
}
