//! Binds the take-a-number flow to its Slint adapter: events from taps, the reader and timers in; the flow's
//! commands carried out on worker threads; the adapter redrawn from the flow's state.

use super::home::{FlowHandle, Opener};
use super::{AppAdapter, AppWindow, CategoryItem, Page, SimAdapter, TakeNumberAdapter, TakeScreen};
use crate::config::Config;
use crate::devices::IdReaderHandle;
use crate::flows::{Command, Event, Screen, Session};
use crate::queue::Queue;
use crate::ticket::{TicketPrinter, issue_and_print, issue_with_card};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel, Weak};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Everything the controller needs; cloned into worker threads.
#[derive(Clone)]
pub struct Services {
    pub config: Config,
    pub queue: Queue,
    pub printer: TicketPrinter,
    pub reader: IdReaderHandle,
    pub printer_sim: Option<drivers::escpos::virtual_printer::VirtualPrinter>,
}

struct State {
    session: Session,
    session_id: String,
    started: Instant,
}

impl State {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// Wires the take-a-number page.
pub fn bind(window: &AppWindow, services: Services) -> FlowHandle {
    let idle_ms = services.config.ui.idle_timeout_ms();
    let state = Rc::new(RefCell::new(State {
        session: Session::new(idle_ms),
        session_id: String::new(),
        started: Instant::now(),
    }));
    let services = Rc::new(services);

    let dispatch = {
        let state = state.clone();
        let services = services.clone();
        let weak = window.as_weak();
        Rc::new(move |event: Event| {
            let Some(window) = weak.upgrade() else { return };
            let commands = {
                let mut st = state.borrow_mut();
                let now = st.now_ms();
                st.session.handle(event, now)
            };
            for cmd in commands {
                execute(&window, &state, &services, cmd);
            }
            render(&window, &state.borrow(), &services);
        })
    };

    let d: Dispatch = dispatch.clone();
    DELIVER.with(|slot| *slot.borrow_mut() = Some(d));

    let take = window.global::<TakeNumberAdapter>();
    let d = dispatch.clone();
    let categories = services.config.queue.categories.clone();
    take.on_choose(move |prefix| {
        let requires_id = categories.iter().any(|c| c.prefix == prefix.as_str() && c.requires_id);
        d(Event::Choose { prefix: prefix.to_string(), requires_id });
    });
    let d = dispatch.clone();
    take.on_cancel(move || d(Event::Cancel));
    let d = dispatch.clone();
    take.on_rate(move |level| d(Event::Rate(level.clamp(0, 255) as u8)));
    let d = dispatch.clone();
    take.on_rate_reason(move |code| d(Event::RateReason(code.to_string())));
    take.set_levels(super::session::levels());
    take.set_reasons(super::session::reasons());
    let d = dispatch.clone();
    take.on_continue_session(move || d(Event::Continue));
    let d = dispatch.clone();
    let touched: Opener = Rc::new(move || d(Event::Touch));
    let d = dispatch.clone();
    let weak = window.as_weak();
    let st = state.clone();
    let open: Opener = Rc::new(move || {
        st.borrow_mut().session.idle.set_idle_timeout(super::home::idle_timeout_ms(&weak, idle_ms));
        d(Event::OpenTakeNumber);
    });

    bind_simulator(window, &services);

    // Every second: idle rules. Every 250 ms on the card prompt: is a card on the reader?
    let tick = slint::Timer::default();
    let d = dispatch.clone();
    tick.start(slint::TimerMode::Repeated, Duration::from_secs(1), move || d(Event::Tick));
    let card_poll = slint::Timer::default();
    let d = dispatch.clone();
    let reader = services.reader.clone();
    let st = state.clone();
    card_poll.start(slint::TimerMode::Repeated, Duration::from_millis(250), move || {
        let waiting = matches!(st.borrow().session.screen, Screen::CardPrompt { .. });
        if waiting && reader.card.lock().map(|c| c.is_some()).unwrap_or(false) {
            d(Event::CardPresent);
        }
    });
    FlowHandle { timers: vec![tick, card_poll], opens: vec![(super::TileKind::TakeNumber, open)], touched }
}

fn execute(window: &AppWindow, state: &Rc<RefCell<State>>, services: &Rc<Services>, cmd: Command) {
    let journal = services.queue.journal();
    match cmd {
        Command::StartSession => {
            state.borrow_mut().session_id = super::session::start(journal, "take_number");
        }
        Command::RecordEvaluation { ticket_id, level, reason } => {
            let id = state.borrow().session_id.clone();
            let transaction = serde_json::json!({ "kind": "ticket", "ticket_id": ticket_id });
            super::session::evaluation(journal, id, transaction, level, reason);
        }
        Command::EndSession { reason } => {
            let id = std::mem::take(&mut state.borrow_mut().session_id);
            // Personal data goes with the session: the card in memory (zeroed on drop) and the screen's text.
            if let Ok(mut card) = services.reader.card.lock() {
                card.take();
            }
            let take = window.global::<TakeNumberAdapter>();
            take.set_number(SharedString::new());
            take.set_message(SharedString::new());
            take.set_categories(ModelRc::default());
            super::session::end(journal, id, reason);
        }
        Command::Issue { prefix, with_card } => {
            let session_id = state.borrow().session_id.clone();
            let weak: Weak<AppWindow> = window.as_weak();
            let services_owned = Services::clone(services);
            std::thread::spawn(move || {
                let s = services_owned;
                let now = jiff::Timestamp::now();
                let result = if with_card {
                    let card = s.reader.card.lock().ok().and_then(|mut c| c.take());
                    match card {
                        Some(card) => {
                            issue_with_card(&s.queue, &s.printer, &s.config, &prefix, &card, now, &session_id)
                        }
                        None => Err(crate::ticket::TicketError::Card(
                            "读卡失败，请重新放置证件。 The card could not be read; please place it again.".into(),
                        )),
                    }
                } else {
                    issue_and_print(&s.queue, &s.printer, &s.config.kiosk.hall_name, &prefix, now, &session_id)
                };
                let event = match result {
                    Ok(t) => Event::TicketPrinted {
                        ticket_id: t.id.clone(),
                        number: t.display.clone(),
                        waiting_ahead: t.waiting_ahead,
                    },
                    Err(e) => Event::TicketFailed(e.to_string()),
                };
                // Back on the UI thread, the result re-enters the flow as an event.
                let _ = weak.upgrade_in_event_loop(move |_| deliver(event));
            });
        }
    }
}

type Dispatch = Rc<dyn Fn(Event)>;

thread_local! {
    /// The flow's dispatcher on the UI thread, for results that come back from worker threads.
    static DELIVER: RefCell<Option<Dispatch>> = const { RefCell::new(None) };
}

fn deliver(event: Event) {
    DELIVER.with(|d| {
        if let Some(f) = d.borrow().as_ref() {
            f(event);
        }
    });
}

fn render(window: &AppWindow, st: &State, services: &Services) {
    let app = window.global::<AppAdapter>();
    let take = window.global::<TakeNumberAdapter>();
    let now = st.now_ms();
    take.set_countdown(st.session.idle.countdown_s(now).unwrap_or(0) as i32);
    match &st.session.screen {
        Screen::Home => {
            // Only the flow that owns the page sends it home: the timers of every flow tick all the time.
            if app.get_page() == Page::TakeNumber {
                app.set_page(Page::Home);
            }
        }
        Screen::Categories => {
            app.set_page(Page::TakeNumber);
            take.set_screen(TakeScreen::Categories);
            take.set_categories(category_model(services, window.global::<super::Lang>().get_english()));
        }
        Screen::CardPrompt { failure, .. } => {
            app.set_page(Page::TakeNumber);
            take.set_screen(TakeScreen::CardPrompt);
            take.set_message(failure.clone().unwrap_or_default().into());
        }
        Screen::Printing { .. } => {
            take.set_screen(TakeScreen::Printing);
        }
        Screen::Done { number, waiting_ahead, .. } => {
            take.set_screen(TakeScreen::Done);
            take.set_number(number.into());
            take.set_waiting_ahead(*waiting_ahead as i32);
        }
        Screen::RatingReasons { .. } => {
            take.set_screen(TakeScreen::RatingReasons);
        }
        Screen::Thanks => {
            take.set_screen(TakeScreen::Thanks);
        }
        Screen::Failed { message } => {
            take.set_screen(TakeScreen::Failed);
            take.set_message(message.into());
        }
    }
}

fn category_model(services: &Services, english: bool) -> ModelRc<CategoryItem> {
    let now = jiff::Timestamp::now();
    let waiting = services.queue.waiting_counts(now).unwrap_or_default();
    let en_first = english;
    let items: Vec<CategoryItem> = services
        .queue
        .categories()
        .iter()
        .map(|c| {
            let open = services.queue.check_open(c, now);
            let (name, subtitle) = if en_first { (&c.name_en, &c.name_zh) } else { (&c.name_zh, &c.name_en) };
            CategoryItem {
                prefix: c.prefix.clone().into(),
                name: name.into(),
                subtitle: subtitle.into(),
                waiting: waiting.iter().find(|(p, _)| *p == c.prefix).map_or(0, |(_, n)| *n as i32),
                open: open.is_ok(),
                note: open.err().map(|e| e.to_string()).unwrap_or_default().into(),
                requires_id: c.requires_id,
            }
        })
        .collect();
    ModelRc::new(VecModel::from(items))
}

fn bind_simulator(window: &AppWindow, services: &Rc<Services>) {
    let sim = window.global::<SimAdapter>();
    let Some(reader_sim) = services.reader.simulator.clone() else { return };
    sim.set_enabled(true);
    let names: Vec<SharedString> = reader_sim
        .lock()
        .map(|s| s.cards.iter().map(|c| format!("{} {}", c.masked_name(), c.kind.name_zh()).into()).collect())
        .unwrap_or_default();
    sim.set_cards(ModelRc::new(VecModel::from(names)));
    let r = reader_sim.clone();
    sim.on_place_card(move |i| {
        if let Ok(mut s) = r.lock() {
            s.place(i as usize);
        }
    });
    let r = reader_sim;
    sim.on_remove_card(move || {
        if let Ok(mut s) = r.lock() {
            s.remove();
        }
    });
    let printer = services.printer_sim.clone();
    sim.on_printer_status(move |status| {
        if let (Some(p), Some(st)) = (&printer, drivers::escpos::virtual_printer::SimStatus::parse(&status)) {
            p.set_status(st);
        }
    });
}
