//! The one controller every citizen flow runs on. Inputs (taps, ticks, touches, card news, work results) go
//! into the flow's pure [`Session`]; its commands are carried out off the UI thread by the flow's worker
//! (session journaling, the flow's own work, in order); results come back through the [`inbox`]; the page is
//! redrawn from the session's state. A flow's UI module writes only its page: a [`Binding`] and its callbacks.

use super::home::{FlowHandle, Opener};
use super::inbox::{self, Inbox, Route};
use super::{AppAdapter, AppWindow, Guide, Lang, Page, SessionAdapter, TileKind};
use crate::catalogue::store::CatalogueStore;
use crate::config::Config;
use crate::devices::ticket_printer::TicketPrinter;
use crate::devices::{IdReaderHandle, ReaderNews};
use crate::flows::core::{Command, EndReason, Flow, Input, RATING_LEVELS, Session, Transaction};
use crate::journal::{Journal, NewEntry, payload};
use crate::licence::Licences;
use crate::platform::Platform;
use crate::queue::Queue;
use slint::ComponentHandle;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc::{Sender, channel};
use std::time::{Duration, Instant};

type WorkOf<B> = <<B as Binding>::Flow as Flow>::Work;
type EventOf<B> = <<B as Binding>::Flow as Flow>::Event;

/// One flow's page and work.
pub trait Binding: 'static {
    type Flow: Flow + 'static;
    /// What the flow's work needs; owned by its worker thread.
    type Services: Send + 'static;
    /// The page the flow draws on.
    const PAGE: Page;

    /// Runs one piece of the flow's work on the worker thread; results go back with [`Job::reply`].
    fn run(services: &mut Self::Services, work: WorkOf<Self>, job: &Job<EventOf<Self>>);

    /// The session has ended: drop what the work kept of it (a holder's documents). Worker thread.
    fn ended(_services: &mut Self::Services) {}

    /// Draws the session on the page (UI thread; nothing that blocks).
    fn render(&self, window: &AppWindow, session: &Session<Self::Flow>, english: bool);

    /// Takes everything the session showed off the page: it has ended.
    fn clear(&self, window: &AppWindow);
}

/// A piece of work as the worker runs it: the session it belongs to, the journal, the way back.
pub struct Job<E> {
    pub session_id: String,
    pub journal: Journal,
    inbox: Inbox,
    route: Route,
    _event: std::marker::PhantomData<fn(E)>,
}

impl<E: Send + 'static> Job<E> {
    /// Sends a result back to the flow, on the UI thread. A session that has ended meanwhile ignores it.
    pub fn reply(&self, event: E) {
        self.inbox.post(self.route, (self.session_id.clone(), event));
    }
}

enum Task<W> {
    Start {
        session_id: String,
        flow: &'static str,
    },
    End {
        session_id: String,
        reason: EndReason,
    },
    Evaluate {
        session_id: String,
        transaction: Transaction,
        level: u8,
        reason: Option<String>,
        contact: Option<String>,
    },
    Work {
        session_id: String,
        work: W,
    },
}

/// How a flow is set up: its page binding, the flow itself and what its work needs.
pub struct Setup<B: Binding> {
    pub binding: B,
    pub flow: B::Flow,
    pub services: B::Services,
    /// The home tiles that open this flow, and the event each sends.
    pub tiles: Vec<(TileKind, EventOf<B>)>,
}

/// The app context: what the kiosk's services share, built once at start. Each flow's `bind(window, cx)`
/// takes from it what its work needs, so adding a service is its binding and one line in `app::start`.
#[derive(Clone)]
pub struct Context {
    pub config: Config,
    pub journal: Journal,
    pub reader: IdReaderHandle,
    pub inbox: Inbox,
    pub printer: TicketPrinter,
    pub queue: Queue,
    /// The provincial platform, when one is configured.
    pub platform: Option<Arc<Platform>>,
    pub catalogue: CatalogueStore,
    pub licences: Licences,
    /// The idle time in standard mode; elder mode doubles it for sessions that open while it is on.
    pub idle_timeout_ms: u64,
    /// The language and mode each session starts with, restored when one ends.
    pub defaults: super::home::Defaults,
    /// Take-a-number's door for other services (取号办理), there once take-a-number is bound.
    take_number: Rc<RefCell<Option<super::take_number::OpenFor>>>,
}

impl Context {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: Config,
        journal: Journal,
        reader: IdReaderHandle,
        inbox: Inbox,
        printer: TicketPrinter,
        queue: Queue,
        platform: Option<Arc<Platform>>,
        catalogue: CatalogueStore,
        licences: Licences,
        defaults: super::home::Defaults,
    ) -> Context {
        Context {
            idle_timeout_ms: config.ui.idle_timeout_ms(),
            config,
            journal,
            reader,
            inbox,
            printer,
            queue,
            platform,
            catalogue,
            licences,
            defaults,
            take_number: Rc::default(),
        }
    }

    /// Take-a-number registers how another service hands a citizen to it.
    pub(super) fn set_take_number(&self, open: super::take_number::OpenFor) {
        *self.take_number.borrow_mut() = Some(open);
    }

    /// Hands the citizen to take-a-number for one category (取号办理), whichever order the flows were bound in.
    pub fn take_number(&self) -> super::take_number::OpenFor {
        let door = self.take_number.clone();
        Rc::new(move |prefix| match door.borrow().as_ref() {
            Some(open) => open(prefix),
            None => log::error!("取号办理 was asked for, but take-a-number is not bound"),
        })
    }
}

struct Controller<B: Binding> {
    binding: B,
    session: Session<B::Flow>,
    session_id: String,
    started: Instant,
    tasks: Option<Sender<Task<WorkOf<B>>>>,
    worker: Option<owner::Owned>,
    reader: IdReaderHandle,
    window: slint::Weak<AppWindow>,
    defaults: super::home::Defaults,
    /// The idle time in standard mode (elder mode doubles it for a session that opens while it is on).
    standard_idle_ms: u64,
}

/// Wires the shared rating step on a page that rates (`rating.slint`'s components on the page's adapter): the
/// five levels, the reasons and their callbacks. Each page's adapter is its own Slint global, so this is a
/// macro over the adapter. (返回首页 and "继续" are the window's `SessionAdapter`, routed to the open flow.)
#[macro_export]
macro_rules! wire_rating {
    ($adapter:expr, $dispatch:expr) => {{
        $adapter.set_levels($crate::ui::session::levels());
        $adapter.set_reasons($crate::ui::session::reasons());
        let f = $dispatch.clone();
        $adapter.on_rate(move |level| f($crate::flows::core::Input::Rate(level.clamp(0, 255) as u8)));
        let f = $dispatch.clone();
        $adapter.on_rate_reason(move |code, phone| {
            let contact = (!phone.is_empty()).then(|| phone.to_string());
            f($crate::flows::core::Input::RateReason { reason: code.to_string(), contact })
        });
    }};
}

/// Feeds one input to a flow (from its page's callbacks).
pub type Dispatch<E> = Rc<dyn Fn(Input<E>)>;

/// A page callback that sends the flow `event` each time it is called.
pub fn sends<E: Clone + 'static>(d: &Dispatch<E>, event: E) -> impl Fn() + 'static {
    let d = d.clone();
    move || d(Input::Flow(event.clone()))
}

/// A keyboard's `key(string)` callback that sends the flow `make(c)` for the key's character.
pub fn sends_key<E: 'static>(d: &Dispatch<E>, make: fn(char) -> E) -> impl Fn(slint::SharedString) + 'static {
    let d = d.clone();
    move |k| {
        if let Some(c) = k.chars().next() {
            d(Input::Flow(make(c)))
        }
    }
}

impl<B: Binding> Controller<B> {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn send(&self, task: Task<WorkOf<B>>) {
        if self.tasks.as_ref().is_none_or(|t| t.send(task).is_err()) {
            log::error!("the {:?} flow's worker has stopped; a command was dropped", B::PAGE);
        }
    }

    fn execute(&mut self, window: &AppWindow, cmd: Command<WorkOf<B>>) {
        match cmd {
            Command::StartSession { flow } => {
                self.session_id = crate::secrets::random_bytes::<8>().map(hex::encode).unwrap_or_default();
                self.send(Task::Start { session_id: self.session_id.clone(), flow });
            }
            Command::EndSession { reason } => {
                let session_id = std::mem::take(&mut self.session_id);
                // Personal data goes with the session: the card in memory (zeroed on drop) and the page.
                self.reader.take_card();
                self.binding.clear(window);
                // The language and mode last for the citizen's visit: a session left idle is the end of it
                // (the next citizen starts in the configured ones); 返回首页, a finished service or a card
                // taken away is not, and the home screen's own idle clock ends the visit after that.
                if super::home::ends_the_visit(reason) {
                    super::home::fresh_start(window, self.defaults);
                }
                self.send(Task::End { session_id, reason });
            }
            Command::RecordEvaluation { transaction, level, reason, contact } => {
                let session_id = self.session_id.clone();
                self.send(Task::Evaluate { session_id, transaction, level, reason, contact });
            }
            Command::Work(work) => self.send(Task::Work { session_id: self.session_id.clone(), work }),
        }
    }

    fn stop_worker(&mut self) {
        self.tasks = None;
        if let Some(mut w) = self.worker.take() {
            w.stop();
        }
    }
}

fn dispatch<B: Binding>(ctl: &Rc<RefCell<Controller<B>>>, input: Input<EventOf<B>>) {
    inbox::timed(|| dispatch_now(ctl, input));
}

fn dispatch_now<B: Binding>(ctl: &Rc<RefCell<Controller<B>>>, input: Input<EventOf<B>>) {
    let mut c = ctl.borrow_mut();
    let Some(window) = c.window.upgrade() else { return };
    let now = c.now_ms();
    // A session opening now (from its tile, or handed over from another service) gets the idle time of the
    // mode the screen is in.
    if c.session.phase == crate::flows::core::Phase::Home && matches!(input, Input::Flow(_)) {
        let idle = super::home::idle_timeout_ms(&c.window, c.standard_idle_ms);
        c.session.idle.set_idle_timeout(idle);
        // Elder mode doubles the idle time, and the closing screens' time with it.
        c.session.linger_scale = (idle / c.standard_idle_ms.max(1)).max(1);
    }
    let wanted_card = c.session.wants_card();
    let mut commands = c.session.handle(input, now);
    // A step that waits for a card hears about one that already lies on the reader.
    if c.session.wants_card() && c.reader.card_waiting() {
        commands.extend(c.session.handle(Input::CardPlaced, now));
    }
    // A card step just opened: a card lying on the reader whose data an earlier session took (or that failed
    // to read) is read afresh, and a reader that is down is said to be, not waited for.
    if c.session.wants_card() && !wanted_card {
        if !c.reader.card_waiting() && c.reader.present.load(std::sync::atomic::Ordering::SeqCst) {
            c.reader.read_again();
        }
        if c.reader.is_faulted() {
            commands.extend(c.session.handle(Input::ReaderDown, now));
        }
    }
    for cmd in commands {
        c.execute(&window, cmd);
    }
    let english = window.global::<Lang>().get_english();
    c.binding.render(&window, &c.session, english);
    let app = window.global::<AppAdapter>();
    let shared = window.global::<SessionAdapter>();
    if c.session.phase != crate::flows::core::Phase::Home {
        // The Home button counts down the whole time, not only the last ten seconds.
        let home_in = c.session.home_in_s(now).min(i32::MAX as u64) as i32;
        window.global::<Guide>().set_home_in(home_in);
        window.global::<Guide>().set_card_on_reader(c.session.card_on_reader);
        shared.set_countdown(c.session.idle.countdown_s(now).unwrap_or(0).min(i32::MAX as u64) as i32);
        shared.set_still_working_s(c.session.still_working_s(now).unwrap_or(0).min(i32::MAX as u64) as i32);
    } else if app.get_page() == B::PAGE {
        window.global::<Guide>().set_card_on_reader(false);
        shared.set_countdown(0);
        shared.set_still_working_s(0);
    }
    if c.session.phase == crate::flows::core::Phase::Home {
        // Only the flow that owns the page sends it home: every flow's clock ticks all the time.
        if app.get_page() == B::PAGE {
            app.set_page(Page::Home);
        }
    } else if app.get_page() != B::PAGE {
        app.set_page(B::PAGE);
    }
}

fn run_worker<B: Binding>(
    rx: std::sync::mpsc::Receiver<Task<WorkOf<B>>>,
    mut services: B::Services,
    journal: Journal,
    inbox: Inbox,
    route: Route,
) where
    EventOf<B>: Send,
{
    let journal_in = |session_id: &str, entry: NewEntry| {
        let kind = entry.kind;
        if let Err(e) = journal.append(entry.in_session(session_id)) {
            log::error!("{} not journaled: {e}", kind.as_str());
        }
    };
    for task in rx {
        match task {
            Task::Start { session_id, flow } => {
                journal_in(&session_id, payload::SessionStart { flow: flow.into() }.into());
            }
            Task::End { session_id, reason } => {
                B::ended(&mut services);
                journal_in(&session_id, payload::SessionEnd { reason }.into());
            }
            Task::Evaluate { session_id, transaction, level, reason, contact } => {
                let name = RATING_LEVELS.iter().find(|(l, ..)| *l == level).map_or("", |(_, zh, _)| zh);
                // The rating for the platform (一事一评), in the outbox in the same transaction as its entry.
                let now = jiff::Timestamp::now();
                let mut message = serde_json::json!({
                    "transaction": transaction,
                    "level": level,
                    "level_name": name,
                    "reason": reason,
                    "channel": payload::Channel::Kiosk,
                    "at": crate::journal::format_utc(now),
                });
                // The number for the follow-up call goes to the platform (and leaves the outbox once
                // delivered); the journal keeps it masked.
                if let Some(c) = &contact {
                    message["contact"] = c.as_str().into();
                }
                let entry = payload::Evaluation {
                    transaction,
                    level,
                    level_name: name.into(),
                    reason,
                    channel: payload::Channel::Kiosk,
                    follow_up: level <= 2,
                    contact_masked: contact.as_deref().map(vocabulary::mask::phone),
                };
                let entry = crate::journal::NewEntry::from(entry).in_session(&session_id);
                let recorded = journal.transact(move |conn| {
                    crate::platform::outbox::enqueue_in(conn, crate::platform::outbox::EVALUATIONS, &message, now)?;
                    Ok((vec![entry], ()))
                });
                if let Err(e) = recorded {
                    log::error!("evaluation not journaled: {e}");
                }
            }
            Task::Work { session_id, work } => {
                let job = Job {
                    session_id,
                    journal: journal.clone(),
                    inbox: inbox.clone(),
                    route,
                    _event: std::marker::PhantomData,
                };
                B::run(&mut services, work, &job);
            }
        }
    }
}

/// Binds a flow: its worker thread, its clock, its tiles, touches, card news and shutdown. Returns what the
/// window keeps, and the dispatcher the flow's page callbacks feed.
pub fn bind<B: Binding>(window: &AppWindow, cx: &Context, setup: Setup<B>) -> (FlowHandle, Dispatch<EventOf<B>>)
where
    EventOf<B>: Send,
    WorkOf<B>: Send,
{
    let (tx, rx) = channel();
    let ctl = Rc::new(RefCell::new(Controller {
        binding: setup.binding,
        session: Session::new(setup.flow, cx.idle_timeout_ms),
        session_id: String::new(),
        started: Instant::now(),
        tasks: Some(tx),
        worker: None,
        reader: cx.reader.clone(),
        window: window.as_weak(),
        defaults: cx.defaults,
        standard_idle_ms: cx.idle_timeout_ms,
    }));
    let weak_ctl = Rc::downgrade(&ctl);
    let route = inbox::route(move |body| {
        let Some(ctl) = weak_ctl.upgrade() else { return };
        match body.downcast::<(String, EventOf<B>)>() {
            Ok(letter) => {
                let (session_id, event) = *letter;
                if session_id == ctl.borrow().session_id {
                    dispatch(&ctl, Input::Flow(event));
                } else {
                    log::debug!("a result for an ended session was dropped");
                }
            }
            Err(_) => log::error!("a letter of the wrong kind reached the {:?} flow", B::PAGE),
        }
    });
    let (services, journal, inbox) = (setup.services, cx.journal.clone(), cx.inbox.clone());
    let name = format!("flow-{:?}", B::PAGE).to_lowercase();
    let worker = owner::Owned::spawn(&name, move |_| run_worker::<B>(rx, services, journal, inbox, route));
    match worker {
        Ok(w) => ctl.borrow_mut().worker = Some(w),
        Err(e) => log::error!("the {:?} flow's worker could not start: {e}", B::PAGE),
    }

    let d: Dispatch<EventOf<B>> = {
        let ctl = ctl.clone();
        Rc::new(move |input| dispatch(&ctl, input))
    };
    let tick = slint::Timer::default();
    let t = d.clone();
    tick.start(slint::TimerMode::Repeated, Duration::from_secs(1), move || t(Input::Tick));
    let opens = setup
        .tiles
        .into_iter()
        .map(|(tile, event)| {
            let ctl = ctl.clone();
            let open: Opener = Rc::new(move || dispatch(&ctl, Input::Flow(event.clone())));
            (tile, open)
        })
        .collect();
    let touched: Opener = {
        let d = d.clone();
        Rc::new(move || d(Input::Touch))
    };
    let card: Rc<dyn Fn(ReaderNews)> = {
        let d = d.clone();
        Rc::new(move |news| match news {
            ReaderNews::CardPlaced => d(Input::CardPlaced),
            ReaderNews::CardRemoved => d(Input::CardRemoved),
            ReaderNews::CardUnreadable => d(Input::CardUnreadable),
            ReaderNews::Fault => d(Input::ReaderDown),
            ReaderNews::Recovered => d(Input::ReaderBack),
        })
    };
    let shutdown: Opener = {
        let ctl = ctl.clone();
        Rc::new(move || {
            dispatch(&ctl, Input::Shutdown);
            ctl.borrow_mut().stop_worker();
        })
    };
    let session = super::home::SessionControls {
        page: B::PAGE,
        cancel: {
            let d = d.clone();
            Rc::new(move || d(Input::Cancel))
        },
        resume: {
            let d = d.clone();
            Rc::new(move || d(Input::Continue))
        },
    };
    (FlowHandle { timers: vec![tick], opens, touched, card, shutdown, session: Some(session) }, d)
}
