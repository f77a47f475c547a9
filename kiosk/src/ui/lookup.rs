//! Binds 事项查询, 办件查询 and 预约签到 to the lookup page: keyboards and the card prompt feed the flow,
//! which says plainly that these services are not connected at this kiosk yet.

use super::home::{FlowHandle, Opener};
use super::{AppAdapter, AppWindow, LookupAdapter, LookupScreen, Page, TileKind};
use crate::devices::IdReaderHandle;
use crate::flows::lookup::{Command, Event, Screen, Service, Session};
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

fn title(service: Service, english: bool) -> &'static str {
    match (service, english) {
        (Service::FindService, false) => "事项查询 Find a service",
        (Service::FindService, true) => "Find a service",
        (Service::CaseProgress, false) => "办件查询 Case progress",
        (Service::CaseProgress, true) => "Case progress",
        (Service::Appointment, false) => "预约签到 Appointment check-in",
        (Service::Appointment, true) => "Appointment check-in",
    }
}

/// Wires the lookup page for its three tiles.
pub fn bind(window: &AppWindow, journal: Journal, reader: IdReaderHandle, idle_timeout_ms: u64) -> FlowHandle {
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
                    Command::StartSession { service } => {
                        st.session_id = super::session::start(&journal, service.name())
                    }
                    Command::EndSession { reason } => {
                        let id = std::mem::take(&mut st.session_id);
                        super::session::end(&journal, id, reason);
                    }
                }
            }
            let a = w.global::<LookupAdapter>();
            let app = w.global::<AppAdapter>();
            a.set_countdown(st.session.idle.countdown_s(now).unwrap_or(0) as i32);
            let english = w.global::<super::Lang>().get_english();
            let (screen, service, entry) = match &st.session.screen {
                Screen::Home => {
                    a.set_entry("".into());
                    if app.get_page() == Page::Lookup {
                        app.set_page(Page::Home);
                    }
                    return;
                }
                Screen::Entry { service: s @ Service::CaseProgress, text } => (LookupScreen::Digits, *s, text.as_str()),
                Screen::Entry { service, text } => (LookupScreen::Initials, *service, text.as_str()),
                Screen::CardPrompt { service } => (LookupScreen::CardPrompt, *service, ""),
                Screen::NotAvailable { service } => (LookupScreen::NotAvailable, *service, ""),
            };
            a.set_screen(screen);
            a.set_entry(entry.into());
            a.set_title(title(service, english).into());
            app.set_page(Page::Lookup);
        })
    };
    let a = window.global::<LookupAdapter>();
    let d = dispatch.clone();
    a.on_key(move |k| {
        if let Some(c) = k.chars().next() {
            d(Event::Key(c));
        }
    });
    let d = dispatch.clone();
    a.on_backspace(move || d(Event::Backspace));
    let d = dispatch.clone();
    a.on_clear(move || d(Event::Clear));
    let d = dispatch.clone();
    a.on_submit(move || d(Event::Submit));
    let d = dispatch.clone();
    a.on_cancel(move || d(Event::Cancel));
    let d = dispatch.clone();
    a.on_continue_session(move || d(Event::Continue));

    let tick = slint::Timer::default();
    let d = dispatch.clone();
    tick.start(slint::TimerMode::Repeated, Duration::from_secs(1), move || d(Event::Tick));
    // The appointment check-in waits for a card; it is taken off the slot (and so zeroed) at once:
    // nothing of it is needed while the appointment system is not connected.
    let poll = slint::Timer::default();
    let (d, st) = (dispatch.clone(), state.clone());
    poll.start(slint::TimerMode::Repeated, Duration::from_millis(250), move || {
        let waiting = matches!(st.borrow().session.screen, Screen::CardPrompt { .. });
        if waiting && reader.card.lock().ok().and_then(|mut c| c.take()).is_some() {
            d(Event::CardRead);
        }
    });

    let opener = |service: Service| -> Opener {
        let (d, st, weak) = (dispatch.clone(), state.clone(), window.as_weak());
        Rc::new(move || {
            st.borrow_mut().session.idle.set_idle_timeout(super::home::idle_timeout_ms(&weak, idle_timeout_ms));
            d(Event::Open(service));
        })
    };
    let opens = vec![
        (TileKind::FindService, opener(Service::FindService)),
        (TileKind::CaseProgress, opener(Service::CaseProgress)),
        (TileKind::Appointment, opener(Service::Appointment)),
    ];
    let d = dispatch.clone();
    FlowHandle { timers: vec![tick, poll], opens, touched: Rc::new(move || d(Event::Touch)) }
}
