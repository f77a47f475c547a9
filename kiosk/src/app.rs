//! Starts the kiosk: the Slint window on the main thread, with the configured hall and language.

use crate::config::{Config, Orientation};
use crate::journal::{EntryKind, Journal, JournalSettings, NewEntry};
use crate::queue::Queue;
use crate::ticket::TicketPrinter;
use crate::ui::{AppWindow, HomeAdapter};
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
    let first = config.kiosk.languages.first().map_or("zh-CN", String::as_str);
    select_language(first);
    window.global::<crate::ui::Lang>().set_english(first == "en");
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

/// A started kiosk: the window and what must live as long as it (timers, devices, journal).
pub struct Kiosk {
    pub window: AppWindow,
    pub journal: Journal,
    pub reader: crate::devices::IdReaderHandle,
    /// The in-process virtual printer when the configuration says `simulated`.
    pub printer_sim: Option<drivers::escpos::virtual_printer::VirtualPrinter>,
    _timers: Vec<slint::Timer>,
}

/// Runs the kiosk until the window is closed.
pub fn run(config: Config) -> anyhow::Result<()> {
    let kiosk = start(config)?;
    let result = kiosk.window.run().context("the UI event loop stopped with an error");
    kiosk.journal.append(NewEntry::new(EntryKind::Shutdown, serde_json::json!({ "clean": result.is_ok() })))?;
    result
}

/// Opens the journal, starts the devices and the staff API, and builds the bound window (not yet shown).
pub fn start(config: Config) -> anyhow::Result<Kiosk> {
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
    let tz_for_ui = tz.clone();
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
    let reader = crate::devices::start_id_reader(&config, journal.clone())?;
    let admin_config = config.clone();
    let admin_queue = queue.clone();
    std::thread::Builder::new().name("admin-api".into()).spawn(move || {
        if let Err(e) = crate::admin::serve(&admin_config, admin_queue) {
            log::warn!("the staff API is not available: {e:#}");
        }
    })?;
    let simulated = crate::cli::simulated_printer(&config)?;
    let printer_sim = simulated.as_ref().map(|(_, p)| p.clone());
    let printer = TicketPrinter::from_config(&config, simulated.map(|(a, _)| a)).map_err(anyhow::Error::msg)?;
    let weak = window.as_weak();
    crate::devices::watch_ticket_printer(printer.clone(), journal.clone(), move |fault| {
        let _ = weak.upgrade_in_event_loop(move |w| crate::ui::home::set_printer_fault(&w, fault));
    })?;
    crate::ui::maintenance::bind(
        &window,
        crate::ui::maintenance::MaintenanceServices {
            journal: journal.clone(),
            pin_hash: config.admin.maintenance_pin_hash.clone(),
            printer: printer.clone(),
            reader: reader.clone(),
            kiosk_id: config.kiosk.id.clone(),
            hall_name: config.kiosk.hall_name.clone(),
        },
    );
    let services = crate::ui::take_number::Services {
        config: config.clone(),
        queue,
        printer,
        reader: reader.clone(),
        printer_sim: printer_sim.clone(),
    };
    let take_number = crate::ui::take_number::bind(&window, services);
    let licences = crate::licence::Licences::from_config(&config, journal.clone())?;
    let weak = window.as_weak();
    let unavailable = licences.unavailable().map(str::to_string);
    if let Some(why) = &unavailable {
        log::warn!("licence printing is unavailable: {why}");
    }
    crate::devices::watch_licence_printer(licences.printer.clone(), journal.clone(), move |fault| {
        // No font: the service cannot draw licences at all, whatever the printer says.
        let reason = match (&unavailable, fault) {
            (Some(_), _) => Some((
                "证照打印暂不可用，请联系工作人员".to_string(),
                "Licence printing is not available right now, please ask a member of staff.".to_string(),
            )),
            (None, Some(f)) => Some((f.sentence_zh().to_string(), f.sentence_en().to_string())),
            (None, None) => None,
        };
        let _ = weak.upgrade_in_event_loop(move |w| crate::ui::home::set_licence_fault(&w, reason));
    })?;
    bind_licence_simulator(&window, &licences);
    let licence = crate::ui::licence::bind(
        &window,
        crate::ui::licence::Services {
            licences,
            reader: reader.clone(),
            journal: journal.clone(),
            idle_timeout_ms: config.ui.idle_timeout_ms(),
            timezone: tz_for_ui,
        },
    );
    let rating = crate::ui::rating::bind(&window, journal.clone(), config.ui.idle_timeout_ms());
    let lookup = crate::ui::lookup::bind(&window, journal.clone(), reader.clone(), config.ui.idle_timeout_ms());
    let mut timers = crate::ui::home::route_flows(&window, vec![take_number, licence, rating, lookup]);
    crate::ui::home::bind(&window, journal.clone());
    timers.push(clock);
    Ok(Kiosk { window, journal, reader, printer_sim, _timers: timers })
}

/// In the demo, the simulator panel also sets the simulated licence printer's faults.
fn bind_licence_simulator(window: &AppWindow, licences: &crate::licence::Licences) {
    if let crate::licence::LicencePrinter::Simulated(sim) = &licences.printer {
        let sim = sim.clone();
        window.global::<crate::ui::SimAdapter>().on_licence_printer(move |reason| {
            sim.set_reason((!reason.is_empty()).then_some(reason.as_str()));
        });
    }
}
