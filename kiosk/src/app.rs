//! Starts the kiosk: the Slint window on the main thread, with the configured hall and language.

use crate::config::{Config, Orientation};
use crate::journal::{EntryKind, Journal, JournalSettings, NewEntry};
use crate::queue::Queue;
use crate::ticket::{TicketPrinter, issue_and_print};
use crate::ui::{AppWindow, HomeAdapter, TileKind};
use anyhow::Context;
use slint::ComponentHandle;

/// The UI language codes the kiosk knows; the first configured one is selected at start.
pub fn select_language(code: &str) {
    // zh-CN is the source language of every @tr string: the empty selection means "untranslated".
    let bundle = if code == "zh-CN" { "" } else { code };
    if let Err(e) = slint::select_bundled_translation(bundle) {
        log::warn!("UI language {code} is not available ({e}); staying with Chinese.");
    }
}

/// Builds the window and fills it from the configuration, without running the event loop.
pub fn build_window(config: &Config) -> anyhow::Result<AppWindow> {
    let window = AppWindow::new().context("cannot create the kiosk window")?;
    select_language(config.kiosk.languages.first().map_or("zh-CN", String::as_str));
    let home = window.global::<HomeAdapter>();
    home.set_hall_name(config.kiosk.hall_name.clone().into());
    home.set_portrait(config.ui.orientation == Orientation::Portrait);
    window.global::<crate::ui::Theme>().set_elder_mode(config.ui.elder_mode);
    let (w, h) = match config.ui.orientation {
        Orientation::Landscape => (1920.0, 1080.0),
        Orientation::Portrait => (1080.0, 1920.0),
    };
    window.window().set_size(slint::LogicalSize::new(w, h));
    Ok(window)
}

/// Runs the kiosk until the window is closed.
pub fn run(config: Config) -> anyhow::Result<()> {
    log::info!("kiosk {} starting for {}", config.kiosk.id, config.kiosk.hall_name);
    // Journal first: a kiosk that cannot record what it does does not open for citizens.
    let journal = Journal::open(JournalSettings::from_config(&config))?;
    journal.append(NewEntry::new(EntryKind::Boot, serde_json::json!({ "version": env!("CARGO_PKG_VERSION") })))?;
    journal.append(NewEntry::new(
        EntryKind::ConfigLoaded,
        serde_json::json!({
            "hall_name": config.kiosk.hall_name,
            "categories": config.queue.categories.iter().map(|c| &c.prefix).collect::<Vec<_>>(),
        }),
    ))?;
    let window = build_window(&config)?;
    let tz = jiff::tz::TimeZone::get(&config.kiosk.timezone)?;
    let clock = slint::Timer::default();
    let weak = window.as_weak();
    let tick = move || {
        if let Some(w) = weak.upgrade() {
            let now = jiff::Timestamp::now().to_zoned_datetime(tz.clone());
            w.global::<HomeAdapter>().set_clock(now.strftime("%Y-%m-%d %H:%M").to_string().into());
        }
    };
    tick();
    clock.start(slint::TimerMode::Repeated, std::time::Duration::from_secs(1), tick);
    let queue = Queue::new(&config, journal.clone())?;
    let _id_reader = crate::devices::start_id_reader(&config, journal.clone())?;
    let admin_config = config.clone();
    let admin_queue = queue.clone();
    std::thread::Builder::new().name("admin-api".into()).spawn(move || {
        if let Err(e) = crate::admin::serve(&admin_config, admin_queue) {
            log::warn!("the staff API is not available: {e:#}");
        }
    })?;
    let printer =
        TicketPrinter::from_config(&config, crate::cli::simulated_printer(&config)?).map_err(anyhow::Error::msg)?;
    let weak = window.as_weak();
    let hall = config.kiosk.hall_name.clone();
    let first_category = config.queue.categories.first().map(|c| c.prefix.clone()).unwrap_or_default();
    window.global::<HomeAdapter>().on_tile_activated(move |kind| {
        log::info!("tile activated: {kind:?}");
        if kind != TileKind::TakeNumber {
            return;
        }
        // Printing waits on the printer: keep it off the UI thread, hand the sentence back.
        let (queue, printer, hall, prefix, weak) =
            (queue.clone(), printer.clone(), hall.clone(), first_category.clone(), weak.clone());
        std::thread::spawn(move || {
            let message = match issue_and_print(&queue, &printer, &hall, &prefix, jiff::Timestamp::now(), "") {
                Ok(t) => format!(
                    "请取走您的号票 {} · 前面还有 {} 人\nPlease take your ticket {} · {} waiting ahead",
                    t.display, t.waiting_ahead, t.display, t.waiting_ahead
                ),
                Err(e) => e.to_string(),
            };
            let _ = weak.upgrade_in_event_loop(move |w| w.global::<HomeAdapter>().set_message(message.into()));
        });
    });
    let result = window.run().context("the UI event loop stopped with an error");
    journal.append(NewEntry::new(EntryKind::Shutdown, serde_json::json!({ "clean": result.is_ok() })))?;
    result
}
