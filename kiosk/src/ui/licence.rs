//! Binds the licence flow to its Slint adapter: the card from the reader, the document lookup and the print
//! on worker threads, the flow's state drawn on the page. The holder's documents live here only for the session.

use super::home::{FlowHandle, Opener};
use super::{AppAdapter, AppWindow, DocumentItem, LicenceAdapter, LicenceScreen, Page};
use crate::devices::IdReaderHandle;
use crate::flows::licence::{Command, DocumentSummary, Event, Screen, Session};
use crate::journal::Journal;
use crate::licence::{DocumentChoice, Licences};
use drivers::idcard::IdCard;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What the controller needs; cloned into worker threads.
#[derive(Clone)]
pub struct Services {
    pub licences: Licences,
    pub reader: IdReaderHandle,
    pub journal: Journal,
    pub idle_timeout_ms: u64,
    pub timezone: jiff::tz::TimeZone,
}

struct Controller {
    session: Session,
    session_id: String,
    started: Instant,
    /// The card of this session, until the lookup has used its number (zeroed on drop).
    card: Option<Box<IdCard>>,
    /// The holder's documents (their data is personal): cleared when the session ends.
    choices: Vec<DocumentChoice>,
    services: Services,
    window: slint::Weak<AppWindow>,
}

thread_local! {
    static CONTROLLER: RefCell<Option<Rc<RefCell<Controller>>>> = const { RefCell::new(None) };
}

/// Feeds an event to the flow on the UI thread (from a callback, a timer or a worker's result).
fn dispatch(event: Event) {
    let Some(c) = CONTROLLER.with(|c| c.borrow().clone()) else { return };
    let commands = {
        let mut ctl = c.borrow_mut();
        let now = ctl.started.elapsed().as_millis() as u64;
        ctl.session.handle(event, now)
    };
    for cmd in commands {
        execute(&c, cmd);
    }
    render(&c.borrow());
}

/// Runs `f` on the UI thread with the controller (for worker threads' results).
fn on_ui(f: impl FnOnce(&mut Controller) -> Option<Event> + Send + 'static) {
    let _ = slint::invoke_from_event_loop(move || {
        let Some(c) = CONTROLLER.with(|c| c.borrow().clone()) else { return };
        let event = f(&mut c.borrow_mut());
        if let Some(e) = event {
            dispatch(e);
        }
    });
}

fn english(ctl: &Controller) -> bool {
    ctl.window.upgrade().is_some_and(|w| w.global::<super::Lang>().get_english())
}

fn summary(c: &DocumentChoice) -> DocumentSummary {
    DocumentSummary {
        id: c.document.id.clone(),
        title_zh: c.title_zh.clone(),
        title_en: c.title_en.clone(),
        number_masked: c.number_masked.clone(),
        remaining: c.remaining,
    }
}

fn execute(c: &Rc<RefCell<Controller>>, cmd: Command) {
    let mut ctl = c.borrow_mut();
    match cmd {
        Command::StartSession => {
            ctl.session_id = super::session::start(&ctl.services.journal, "licence");
        }
        Command::Lookup => {
            let Some(card) = ctl.card.take() else {
                drop(ctl);
                dispatch(Event::LookupFailed(
                    "读卡失败，请重新放置证件 The card could not be read; please place it again.".into(),
                ));
                return;
            };
            let licences = ctl.services.licences.clone();
            let en = english(&ctl);
            std::thread::spawn(move || {
                let result = licences.documents_for(&card.id_number);
                drop(card);
                on_ui(move |ctl| {
                    Some(match result {
                        Ok(choices) if choices.is_empty() => Event::LookupFailed(if en {
                            "No documents that can be printed here were found for your card. Please ask at a window."
                                .into()
                        } else {
                            "没有查到可自助打印的证照，请到窗口咨询".into()
                        }),
                        Ok(choices) => {
                            let summaries = choices.iter().map(summary).collect();
                            ctl.choices = choices;
                            Event::DocumentsLoaded(summaries)
                        }
                        Err(e) => Event::LookupFailed(if en { e.sentence_en() } else { e.sentence_zh() }),
                    })
                });
            });
        }
        Command::Print { document_id, copies } => {
            let Some(choice) = ctl.choices.iter().find(|c| c.document.id == document_id).cloned() else { return };
            let licences = ctl.services.licences.clone();
            let session = ctl.session_id.clone();
            let en = english(&ctl);
            std::thread::spawn(move || {
                let result = licences.print(&choice.document, copies, &session, |state| {
                    let stage = state.keyword().to_string();
                    on_ui(move |_| Some(Event::JobState(stage)));
                });
                on_ui(move |_| {
                    Some(match result {
                        Ok(p) => Event::Printed { print_id: p.print_id, copies: p.copies, remaining: p.remaining },
                        Err(e) => Event::PrintFailed(if en { e.sentence_en() } else { e.sentence_zh() }),
                    })
                });
            });
        }
        Command::RecordEvaluation { print_id, level, reason } => {
            let transaction = serde_json::json!({ "kind": "licence_print", "print_id": print_id });
            super::session::evaluation(&ctl.services.journal, ctl.session_id.clone(), transaction, level, reason);
        }
        Command::EndSession { reason } => {
            // Personal data goes with the session: the card (zeroed on drop), the documents, the screen.
            ctl.card = None;
            ctl.choices.clear();
            if let Ok(mut card) = ctl.services.reader.card.lock() {
                card.take();
            }
            if let Some(w) = ctl.window.upgrade() {
                let a = w.global::<LicenceAdapter>();
                a.set_documents(ModelRc::default());
                a.set_chosen(DocumentItem::default());
                a.set_message(SharedString::new());
            }
            let id = std::mem::take(&mut ctl.session_id);
            super::session::end(&ctl.services.journal, id, reason);
        }
    }
}

fn item(d: &DocumentSummary, english: bool) -> DocumentItem {
    DocumentItem {
        id: d.id.clone().into(),
        title: if english {
            format!("{} {}", d.title_en, d.title_zh)
        } else {
            format!("{} {}", d.title_zh, d.title_en)
        }
        .into(),
        number: d.number_masked.clone().into(),
        remaining: d.remaining as i32,
    }
}

fn stage_sentence(stage: &str, english: bool) -> String {
    let (zh, en) = match stage {
        "pending" | "pending-held" => ("已发送到打印机，排队中", "Sent to the printer, waiting"),
        "processing" => ("打印机正在打印", "The printer is printing"),
        "processing-stopped" => ("打印机暂停，正在等待", "The printer has paused, waiting"),
        "completed" => ("打印完成", "Printed"),
        "" => ("正在准备文件", "Preparing the document"),
        _ => ("正在处理", "Working"),
    };
    if english { en.into() } else { zh.into() }
}

fn render(ctl: &Controller) {
    let Some(w) = ctl.window.upgrade() else { return };
    let app = w.global::<AppAdapter>();
    let a = w.global::<LicenceAdapter>();
    let en = english(ctl);
    let now = ctl.started.elapsed().as_millis() as u64;
    a.set_countdown(ctl.session.idle.countdown_s(now).unwrap_or(0) as i32);
    if ctl.session.screen != Screen::Home {
        app.set_page(Page::Licence);
    }
    match &ctl.session.screen {
        Screen::Home => {
            if app.get_page() == Page::Licence {
                app.set_page(Page::Home);
            }
        }
        Screen::CardPrompt { failure } => {
            a.set_screen(LicenceScreen::CardPrompt);
            a.set_message(failure.clone().unwrap_or_default().into());
        }
        Screen::Loading => a.set_screen(LicenceScreen::Loading),
        Screen::Documents { documents } => {
            a.set_screen(LicenceScreen::Documents);
            let items: Vec<DocumentItem> = documents.iter().map(|d| item(d, en)).collect();
            a.set_documents(ModelRc::new(VecModel::from(items)));
        }
        Screen::Copies { documents, chosen, copies } => {
            a.set_screen(LicenceScreen::Copies);
            a.set_chosen(item(&documents[*chosen], en));
            a.set_copies(*copies as i32);
        }
        Screen::Printing { stage, .. } => {
            a.set_screen(LicenceScreen::Printing);
            a.set_stage(stage_sentence(stage, en).into());
        }
        Screen::Done { remaining, .. } => {
            a.set_screen(LicenceScreen::Done);
            a.set_remaining_after(*remaining as i32);
        }
        Screen::RatingReasons { .. } => a.set_screen(LicenceScreen::RatingReasons),
        Screen::Thanks => a.set_screen(LicenceScreen::Thanks),
        Screen::Failed { message } => {
            a.set_screen(LicenceScreen::Failed);
            a.set_message(message.into());
        }
    }
}

/// Checks a card that was just read: the sentence when it cannot be used here.
fn card_problem(card: &IdCard, tz: &jiff::tz::TimeZone, english: bool) -> Option<String> {
    let today = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let today = drivers::idcard::card::CardDate::parse(&today.strftime("%Y%m%d").to_string())?;
    card.expired_on(today).then(|| {
        if english {
            "This ID card has expired. Please use a valid card, or ask at a window.".into()
        } else {
            "此身份证已过期，请使用有效证件或到窗口办理".into()
        }
    })
}

/// Wires the licence page.
pub fn bind(window: &AppWindow, services: Services) -> FlowHandle {
    let controller = Rc::new(RefCell::new(Controller {
        session: Session::new(services.idle_timeout_ms),
        session_id: String::new(),
        started: Instant::now(),
        card: None,
        choices: vec![],
        services: services.clone(),
        window: window.as_weak(),
    }));
    CONTROLLER.with(|c| *c.borrow_mut() = Some(controller.clone()));

    let a = window.global::<LicenceAdapter>();
    a.set_levels(super::session::levels());
    a.set_reasons(super::session::reasons());
    a.on_choose(|id| dispatch(Event::Choose(id.to_string())));
    a.on_more(|| dispatch(Event::More));
    a.on_fewer(|| dispatch(Event::Fewer));
    a.on_confirm(|| dispatch(Event::Confirm));
    a.on_back(|| dispatch(Event::Back));
    a.on_cancel(|| dispatch(Event::Cancel));
    a.on_rate(|level| dispatch(Event::Rate(level.clamp(0, 255) as u8)));
    a.on_rate_reason(|code| dispatch(Event::RateReason(code.to_string())));
    a.on_continue_session(|| dispatch(Event::Continue));
    let weak = window.as_weak();
    let idle_ms = services.idle_timeout_ms;
    let c = controller.clone();
    let open: Opener = Rc::new(move || {
        c.borrow_mut().session.idle.set_idle_timeout(super::home::idle_timeout_ms(&weak, idle_ms));
        dispatch(Event::Open);
    });

    let tick = slint::Timer::default();
    tick.start(slint::TimerMode::Repeated, Duration::from_secs(1), || dispatch(Event::Tick));
    // Every 250 ms: a card for the prompt, or the card gone while the documents are on screen.
    let poll = slint::Timer::default();
    let c = controller;
    poll.start(slint::TimerMode::Repeated, Duration::from_millis(250), move || {
        let (wants, holding, reader, tz, en) = {
            let ctl = c.borrow();
            let holding =
                matches!(ctl.session.screen, Screen::Loading | Screen::Documents { .. } | Screen::Copies { .. });
            (
                ctl.session.wants_card(),
                holding,
                ctl.services.reader.clone(),
                ctl.services.timezone.clone(),
                english(&ctl),
            )
        };
        if wants && let Some(card) = reader.card.lock().ok().and_then(|mut s| s.take()) {
            let problem = card_problem(&card, &tz, en);
            if problem.is_none() {
                c.borrow_mut().card = Some(card);
            }
            dispatch(Event::CardRead { problem });
        } else if holding && !reader.present.load(Ordering::SeqCst) {
            dispatch(Event::CardRemoved);
        }
    });
    FlowHandle {
        timers: vec![tick, poll],
        opens: vec![(super::TileKind::PrintLicence, open)],
        touched: Rc::new(|| dispatch(Event::Touch)),
    }
}
