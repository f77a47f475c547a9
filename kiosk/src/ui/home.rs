//! The home screen's own controls (language, elder mode, calling for assistance, device faults on tiles) and
//! how its tiles open the citizen flows.

use super::{AppAdapter, AppWindow, HomeAdapter, Lang, Theme, TileKind};
use crate::journal::{EntryKind, Journal, NewEntry};
use slint::ComponentHandle;
use std::time::Duration;

/// Opens a citizen flow from its home tile (or tells it about a touch).
pub type Opener = std::rc::Rc<dyn Fn()>;

/// What a bound citizen flow gives the window: its timers (alive as long as the window), how each of its
/// tiles opens it, and how it hears that the citizen touched the screen.
pub struct FlowHandle {
    pub timers: Vec<slint::Timer>,
    pub opens: Vec<(TileKind, Opener)>,
    pub touched: Opener,
}

/// Routes the home tiles to the flows and every touch to every flow (only the open one cares).
pub fn route_flows(window: &AppWindow, flows: Vec<FlowHandle>) -> Vec<slint::Timer> {
    let mut timers = vec![];
    let mut openers = vec![];
    let mut touches = vec![];
    for flow in flows {
        timers.extend(flow.timers);
        openers.extend(flow.opens);
        touches.push(flow.touched);
    }
    window.global::<AppAdapter>().on_touched(move || touches.iter().for_each(|t| t()));
    route_tiles(window, openers);
    timers
}

/// The idle time for a session opening now: elder mode (from the config or the home switch) doubles it.
pub fn idle_timeout_ms(window: &slint::Weak<AppWindow>, standard_ms: u64) -> u64 {
    let elder = window.upgrade().is_some_and(|w| w.global::<Theme>().get_elder_mode());
    standard_ms * if elder { 2 } else { 1 }
}

fn route_tiles(window: &AppWindow, openers: Vec<(TileKind, Opener)>) {
    window.global::<HomeAdapter>().on_tile_activated(move |kind| match openers.iter().find(|(k, _)| *k == kind) {
        Some((_, open)) => open(),
        None => log::error!("no flow is bound to the {kind:?} tile"),
    });
}

/// Disables 证照打印 while licences cannot be printed, saying why; re-enables it when that clears.
pub fn set_licence_fault(window: &AppWindow, fault: Option<(String, String)>) {
    let home = window.global::<HomeAdapter>();
    home.set_licence_ok(fault.is_none());
    let english = window.global::<Lang>().get_english();
    home.set_licence_fault(fault.map(|(zh, en)| if english { en } else { zh }).unwrap_or_default().into());
}

/// Wires the home screen's buttons.
pub fn bind(window: &AppWindow, journal: Journal) {
    let home = window.global::<HomeAdapter>();
    let weak = window.as_weak();
    home.on_switch_language(move || {
        let Some(w) = weak.upgrade() else { return };
        let lang = w.global::<Lang>();
        let english = !lang.get_english();
        lang.set_english(english);
        crate::app::select_language(if english { "en" } else { "zh-CN" });
    });
    let weak = window.as_weak();
    home.on_toggle_elder_mode(move || {
        if let Some(w) = weak.upgrade() {
            let theme = w.global::<Theme>();
            theme.set_elder_mode(!theme.get_elder_mode());
        }
    });
    let weak = window.as_weak();
    home.on_call_assistance(move || {
        let Some(w) = weak.upgrade() else { return };
        let home = w.global::<HomeAdapter>();
        if home.get_assistance_called() {
            return;
        }
        match journal.append(NewEntry::new(EntryKind::AssistanceCalled, serde_json::json!({ "from": "home" }))) {
            Ok(_) => home.set_assistance_called(true),
            Err(e) => log::error!("assistance call not journaled: {e}"),
        }
        // Staff see the journal entry; the notice stays a minute so the citizen knows help is coming.
        let weak = w.as_weak();
        slint::Timer::single_shot(Duration::from_secs(60), move || {
            if let Some(w) = weak.upgrade() {
                w.global::<HomeAdapter>().set_assistance_called(false);
            }
        });
    });
}

/// Disables 取号 while the ticket printer has a fault, saying why; re-enables it when it clears.
pub fn set_printer_fault(window: &AppWindow, fault: Option<drivers::escpos::StatusFault>) {
    let home = window.global::<HomeAdapter>();
    home.set_printer_ok(fault.is_none());
    let english = window.global::<Lang>().get_english();
    home.set_printer_fault(
        fault.map(|f| if english { f.sentence_en() } else { f.sentence_zh() }).unwrap_or_default().into(),
    );
}
