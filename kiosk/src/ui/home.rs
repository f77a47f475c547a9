//! The home screen's own controls (language, elder mode, device faults on tiles), what every page shares
//! (calling for assistance, the voice), a fresh start for each citizen, and how the tiles, touches and the
//! reader's news reach the citizen flows.

use super::inbox::{self, Inbox};
use super::{AppAdapter, AppWindow, Guide, HomeAdapter, Lang, Page, SessionAdapter, Theme, TileKind};
use crate::devices::{IdReaderHandle, ReaderNews};
use crate::flows::core::Reason;
use crate::journal::{Journal, payload};
use crate::voice::{Speaker, Spoken};
use slint::ComponentHandle;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

/// Opens a citizen flow from its home tile (or tells it about a touch).
pub type Opener = Rc<dyn Fn()>;

/// What a bound citizen flow gives the window: its timers (alive as long as the window), how each of its
/// tiles opens it, how it hears a touch and the reader's news, and how it ends its session at shutdown.
pub struct FlowHandle {
    pub timers: Vec<slint::Timer>,
    pub opens: Vec<(TileKind, Opener)>,
    pub touched: Opener,
    pub card: Rc<dyn Fn(ReaderNews)>,
    /// Ends the open session (reason `shutdown`) and waits for the flow's worker to finish its queue.
    pub shutdown: Opener,
    /// A citizen flow's page, and its session's 返回首页 and "继续" (the window's `SessionAdapter`).
    pub session: Option<SessionControls>,
}

/// How the window's shared session controls reach the flow that owns the page shown.
pub struct SessionControls {
    pub page: Page,
    pub cancel: Opener,
    pub resume: Opener,
}

/// The bound flows, kept as long as the window.
pub struct Flows {
    _timers: Vec<slint::Timer>,
    shutdowns: Vec<Opener>,
}

impl Flows {
    /// Ends every open session and stops every flow's worker (UI thread, after the event loop has stopped).
    pub fn shutdown(&self) {
        self.shutdowns.iter().for_each(|s| s());
    }
}

/// Selects the UI language. zh-CN is the source language of every @tr string; its bundle (made by build.rs)
/// only gives the English lines under the Chinese ones.
pub fn select_language(code: &str) {
    if let Err(e) = slint::select_bundled_translation(code) {
        log::warn!("UI language {code} is not available ({e}); staying with Chinese.");
        let _ = slint::select_bundled_translation("");
    }
}

/// What each citizen's session starts with: the configured first language and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    pub english: bool,
    pub elder: bool,
}

/// Puts the screen back to the configured language and mode for the next citizen (a session ended, or
/// the home screen has been left alone): nobody inherits the last citizen's English or elder mode.
pub fn fresh_start(window: &AppWindow, defaults: Defaults) {
    let lang = window.global::<Lang>();
    if lang.get_english() != defaults.english {
        lang.set_english(defaults.english);
        select_language(if defaults.english { "en" } else { "zh-CN" });
    }
    let theme = window.global::<Theme>();
    if theme.get_elder_mode() != defaults.elder {
        theme.set_elder_mode(defaults.elder);
    }
    let guide = window.global::<Guide>();
    guide.set_home_in(0);
    guide.set_voice_choice(0);
}

/// Whether a session ending for `reason` ends the citizen's visit (the language and mode go back to the
/// defaults): only a session nobody answered. The citizen who pressed 返回首页, finished, or went on to
/// another service is still there; if not, the home screen's idle clock ends the visit.
pub fn ends_the_visit(reason: vocabulary::EndReason) -> bool {
    matches!(reason, vocabulary::EndReason::Idle | vocabulary::EndReason::Shutdown)
}

/// Whether the home screen, untouched for `idle_ms`, should go back to the defaults.
pub fn home_is_stale(on_home: bool, idle_ms: u64, limit_ms: u64) -> bool {
    on_home && idle_ms >= limit_ms
}

/// Routes the home tiles to the flows, every touch to every flow (only the open one cares) and the reader's
/// news, through the inbox, to every flow (only one waiting for a card cares).
pub fn route_flows(window: &AppWindow, inbox: &Inbox, reader: &IdReaderHandle, flows: Vec<FlowHandle>) -> Flows {
    let mut timers = vec![];
    let mut openers = vec![];
    let mut touches = vec![];
    let mut cards = vec![];
    let mut shutdowns = vec![];
    let mut sessions = vec![];
    for flow in flows {
        timers.extend(flow.timers);
        openers.extend(flow.opens);
        touches.push(flow.touched);
        cards.push(flow.card);
        shutdowns.push(flow.shutdown);
        sessions.extend(flow.session);
    }
    // 返回首页 and "继续" are one pair of callbacks for every page: the flow whose page is shown answers.
    let sessions = Rc::new(sessions);
    let owner = move |w: &slint::Weak<AppWindow>| {
        let page = w.upgrade().map(|w| w.global::<AppAdapter>().get_page());
        (page, sessions.clone())
    };
    let shared = window.global::<SessionAdapter>();
    let (weak, of) = (window.as_weak(), owner.clone());
    shared.on_cancel(move || {
        let (page, sessions) = of(&weak);
        match sessions.iter().find(|s| Some(s.page) == page) {
            Some(s) => (s.cancel)(),
            None => log::error!("返回首页 was pressed on {page:?}, which no flow owns"),
        }
    });
    let weak = window.as_weak();
    shared.on_continue_session(move || {
        let (page, sessions) = owner(&weak);
        match sessions.iter().find(|s| Some(s.page) == page) {
            Some(s) => (s.resume)(),
            None => log::error!("继续 was pressed on {page:?}, which no flow owns"),
        }
    });
    window.global::<crate::ui::Activity>().on_touched(move || touches.iter().for_each(|t| t()));
    window.global::<HomeAdapter>().on_tile_activated(move |kind| match openers.iter().find(|(k, _)| *k == kind) {
        Some((_, open)) => open(),
        None => log::error!("no flow is bound to the {kind:?} tile"),
    });
    let route = inbox::route(move |body| {
        if let Ok(news) = body.downcast::<ReaderNews>() {
            cards.iter().for_each(|c| c(*news));
        }
    });
    let inbox = inbox.clone();
    reader.subscribe(move |news| inbox.post(route, news));
    Flows { _timers: timers, shutdowns }
}

/// The idle time for a session opening now: elder mode (from the config or the home switch) doubles it.
pub fn idle_timeout_ms(window: &slint::Weak<AppWindow>, standard_ms: u64) -> u64 {
    let elder = window.upgrade().is_some_and(|w| w.global::<Theme>().get_elder_mode());
    standard_ms * if elder { 2 } else { 1 }
}

/// Disables 证照打印 while licences cannot be printed, saying why; re-enables it when that clears.
pub fn set_licence_fault(window: &AppWindow, fault: Option<Reason>) {
    let home = window.global::<HomeAdapter>();
    home.set_licence_ok(fault.is_none());
    home.set_licence_fault(super::reasons::to_ui_opt(fault.as_ref()));
}

/// Disables 取号 while the ticket printer has a fault, saying why; re-enables it when it clears.
pub fn set_printer_fault(window: &AppWindow, fault: Option<drivers::escpos::StatusFault>) {
    let home = window.global::<HomeAdapter>();
    home.set_printer_ok(fault.is_none());
    let reason = fault.map(|f| Reason::Printer(crate::devices::printer_trouble(f)));
    home.set_printer_fault(super::reasons::to_ui_opt(reason.as_ref()));
}

/// Wires the home screen's buttons, 呼叫帮办 on every page (journaled off the UI thread; the notice shows
/// once the journal has it), the voice, and the fresh start of an idle home screen. Returns the home
/// screen's part in routing (its timer and what a touch does).
/// What the window asks to be said (`Guide.speak`: a page's words on entering it, a touched button, a help
/// call) goes to the voice, in the screen's language, slower in elder mode.
pub fn bind_voice(window: &AppWindow, speaker: Speaker) {
    let weak = window.as_weak();
    window.global::<Guide>().on_speak(move |text| {
        let Some(w) = weak.upgrade() else { return };
        let english = w.global::<Lang>().get_english();
        let slow = w.global::<Theme>().get_elder_mode();
        speaker.say(Spoken { text: text.to_string(), english, slow });
    });
}

pub fn bind(
    window: &AppWindow,
    journal: Journal,
    inbox: &Inbox,
    speaker: Speaker,
    defaults: Defaults,
    idle_limit_ms: u64,
) -> FlowHandle {
    let home = window.global::<HomeAdapter>();
    let weak = window.as_weak();
    home.on_switch_language(move || {
        let Some(w) = weak.upgrade() else { return };
        let lang = w.global::<Lang>();
        let english = !lang.get_english();
        lang.set_english(english);
        select_language(if english { "en" } else { "zh-CN" });
    });
    let weak = window.as_weak();
    home.on_toggle_elder_mode(move || {
        if let Some(w) = weak.upgrade() {
            let theme = w.global::<Theme>();
            theme.set_elder_mode(!theme.get_elder_mode());
        }
    });
    bind_voice(window, speaker);
    let guide = window.global::<Guide>();
    guide.on_drop_last(|text| {
        let mut t = text.to_string();
        t.pop();
        t.into()
    });
    let stop_assistance = bind_assistance(window, journal, inbox);

    // The home screen left alone goes back to the defaults, as an idle session's end does. The idle time is
    // counted in the UI's own ticks (Slint's clock, which the tests can move), from the last touch.
    let idle_ms = Rc::new(Cell::new(0u64));
    let timer = slint::Timer::default();
    let (weak, idle) = (window.as_weak(), idle_ms.clone());
    timer.start(slint::TimerMode::Repeated, Duration::from_secs(1), move || {
        let Some(w) = weak.upgrade() else { return };
        idle.set(idle.get().saturating_add(1000));
        let on_home = w.global::<AppAdapter>().get_page() == Page::Home;
        if home_is_stale(on_home, idle.get(), idle_limit_ms) {
            fresh_start(&w, defaults);
        }
    });
    let touched: Opener = Rc::new(move || idle_ms.set(0));
    FlowHandle {
        timers: vec![timer],
        opens: vec![],
        touched,
        card: Rc::new(|_| {}),
        shutdown: stop_assistance,
        session: None,
    }
}

/// 呼叫帮办: journaled off the UI thread with the page it was called from; the notice (help is coming, how
/// long it usually takes) shows once the journal has it, for a minute.
fn bind_assistance(window: &AppWindow, journal: Journal, inbox: &Inbox) -> Opener {
    let weak = window.as_weak();
    let route = inbox::route(move |body| {
        let (Some(w), Ok(journaled)) = (weak.upgrade(), body.downcast::<bool>()) else { return };
        let guide = w.global::<Guide>();
        guide.set_help_called(*journaled);
        if !*journaled {
            return;
        }
        // Staff see the journal entry; the notice stays a minute so the citizen knows help is coming.
        let weak = w.as_weak();
        slint::Timer::single_shot(Duration::from_secs(60), move || {
            if let Some(w) = weak.upgrade() {
                w.global::<Guide>().set_help_called(false);
            }
        });
    });
    // One owned worker journals the calls in order; it is stopped (its queue finished) with the flows,
    // before the journal records the shutdown and closes, so no call is appended after that.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let worker_inbox = inbox.clone();
    let spawned = owner::Owned::spawn("assistance", move |_| {
        for page in rx {
            let journaled = match journal.append(payload::AssistanceCalled { from: page }.into()) {
                Ok(_) => true,
                Err(e) => {
                    log::error!("assistance call not journaled: {e}");
                    false
                }
            };
            worker_inbox.post(route, journaled);
        }
    });
    let worker =
        Rc::new(RefCell::new(spawned.map_err(|e| log::error!("the assistance worker did not start: {e}")).ok()));
    let sender = Rc::new(RefCell::new(Some(tx)));
    let weak = window.as_weak();
    let calling = Rc::new(Cell::new(false));
    let send = sender.clone();
    window.global::<Guide>().on_call_help(move |page| {
        let Some(w) = weak.upgrade() else { return };
        if w.global::<Guide>().get_help_called() || calling.replace(true) {
            return;
        }
        if let Some(tx) = send.borrow().as_ref()
            && tx.send(page.to_string()).is_err()
        {
            log::error!("assistance call not journaled: its worker has stopped");
        }
        // The next call may go out once this one is answered (the notice then blocks repeats for a minute).
        let done = calling.clone();
        slint::Timer::single_shot(Duration::from_secs(2), move || done.set(false));
    });
    Rc::new(move || {
        sender.borrow_mut().take();
        if let Some(mut t) = worker.borrow_mut().take() {
            t.stop();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_session_left_idle_ends_the_visit() {
        use vocabulary::EndReason::*;
        assert!(ends_the_visit(Idle) && ends_the_visit(Shutdown));
        for reason in [Cancelled, Completed, CardRemoved, HandedOver] {
            assert!(!ends_the_visit(reason), "{reason:?} keeps the citizen's language and mode");
        }
    }

    #[test]
    fn only_a_home_screen_left_alone_goes_back_to_the_defaults() {
        assert!(home_is_stale(true, 60_000, 60_000));
        assert!(!home_is_stale(true, 59_999, 60_000), "touched within the idle time");
        assert!(!home_is_stale(false, 600_000, 60_000), "a session's own idle rules apply elsewhere");
    }
}
