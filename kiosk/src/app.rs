//! Starts the kiosk — journal, device owners, staff API, the bound window — and stops it cleanly: open
//! sessions end, device owners close their links, the API stops, the journal writes `shutdown` and seals the
//! last epoch.

use crate::config::{Config, Orientation};
use crate::devices::{IdReaderHandle, TicketPrinter};
use crate::flows::core::Reason;
use crate::journal::{Journal, JournalSettings, payload};
use crate::queue::Queue;
use crate::ui::{AppWindow, HomeAdapter};
use anyhow::Context;
use slint::ComponentHandle;
use std::sync::Arc;
use std::time::Duration;

/// The demo's logo: a plain generated mark, not an emblem (assets/logo-demo.svg).
pub const DEMO_LOGO: &str = include_str!("../../assets/logo-demo.svg");

/// How often the licence printer is asked its state: an IPP round trip costs the printer more than DLE EOT.
pub const LICENCE_PROBE_EVERY: Duration = Duration::from_secs(10);

/// Builds the window and fills it from the configuration, without running the event loop.
pub fn build_window(config: &Config) -> anyhow::Result<AppWindow> {
    // The screen draws with the binary's one copy of the font (also the printer's and the PDFs').
    crate::ui::font::register(crate::devices::fonts::KIOSK_FONT, crate::devices::fonts::KIOSK_FONT_FAMILY)?;
    let window = AppWindow::new().context("cannot create the kiosk window")?;
    let first = config.kiosk.languages.first().map_or("zh-CN", String::as_str);
    crate::ui::home::select_language(first);
    window.global::<crate::ui::Lang>().set_english(first == "en");
    let home = window.global::<HomeAdapter>();
    home.set_hall_name(config.kiosk.hall_name.clone().into());
    home.set_portrait(config.ui.orientation == Orientation::Portrait);
    if let Some(logo) = &config.ui.logo {
        // `config check` has seen the file; one that no longer loads leaves the hall's name alone.
        match slint::Image::load_from_path(logo) {
            Ok(image) => home.set_logo(image),
            Err(_) => {
                log::warn!("the logo {} cannot be loaded; the home screen shows the hall's name alone", logo.display())
            }
        }
    }
    window.global::<crate::ui::Theme>().set_elder_mode(config.ui.elder_mode);
    window
        .global::<crate::ui::HomeAdapter>()
        .set_tickets_on_screen(config.queue.categories.iter().any(|c| c.show_when_unprinted));
    let guide = window.global::<crate::ui::Guide>();
    guide.set_hotline(config.ui.hotline.clone().into());
    guide.set_help_minutes(config.ui.assistance_minutes as i32);
    guide.set_reader_position(match config.ui.reader_position {
        crate::config::ReaderPosition::Left => 0,
        crate::config::ReaderPosition::Right => 1,
        crate::config::ReaderPosition::Below => 2,
    });
    guide.set_voice_mode(match config.voice.mode {
        crate::config::VoiceMode::Elder => 0,
        crate::config::VoiceMode::Always => 1,
        crate::config::VoiceMode::Off => 2,
    });
    let (w, h) = match config.ui.orientation {
        Orientation::Landscape => (1920.0, 1080.0),
        Orientation::Portrait => (1080.0, 1920.0),
    };
    window.window().set_size(slint::LogicalSize::new(w, h));
    Ok(window)
}

/// A started kiosk: the window and everything that must live as long as it. [`Kiosk::shutdown`] stops it.
pub struct Kiosk {
    pub window: AppWindow,
    pub journal: Journal,
    pub reader: IdReaderHandle,
    pub printer: TicketPrinter,
    /// The voice: what it was asked to say is kept (`Speaker::recent`).
    pub voice: crate::voice::Speaker,
    /// The in-process virtual printer when the configuration says `simulated`.
    pub printer_sim: Option<drivers::escpos::virtual_printer::VirtualPrinter>,
    flows: crate::ui::home::Flows,
    maintenance: crate::ui::maintenance::Maintenance,
    admin: Option<crate::admin::AdminServer>,
    /// The demo's virtual printer server, stopped after the printer's owner.
    printer_server: Option<drivers::escpos::virtual_printer::Server>,
    licence_watch: owner::Owned,
    /// The outbox's sender to the platform (ratings), when a platform is configured.
    outbox: Option<owner::Owned>,
    /// Asks the platform whether it answers while nothing else has, for the home tiles that need it.
    platform_probe: Option<owner::Owned>,
    /// With a shared hall queue: this kiosk and the hall's queue brought together (hall_sync).
    hall_sync: Option<owner::Owned>,
    /// The platform client the flows' workers and the outbox call, stopped first at shutdown.
    platform: Option<Arc<crate::platform::Platform>>,
    licence_printer: crate::licence::LicencePrinterOwner,
    integrity: crate::journal::integrity::IntegrityCheck,
    /// The UI event loop and every device owner, as the systemd watchdog sees them.
    pub liveness: crate::watchdog::Liveness,
    _clock: slint::Timer,
}

impl Kiosk {
    /// Stops everything in order (UI thread, after the event loop): open sessions end with `shutdown` and
    /// the flows' workers finish their queues; the maintenance worker, the staff API and the device owners
    /// stop; the journal records `shutdown`, which seals the last epoch.
    pub fn shutdown(mut self, clean: bool) -> anyhow::Result<()> {
        // A worker waiting on a silent platform would hold the stop for the platform's whole deadline: the
        // call in flight ends now (a side effect it carried was journaled before it left; the outbox
        // delivers it at the next start).
        if let Some(p) = &self.platform {
            p.stop_calls();
        }
        self.flows.shutdown();
        self.maintenance.stop();
        if let Some(a) = self.admin.as_mut() {
            a.stop();
        }
        if let Some(o) = self.outbox.as_mut() {
            o.stop();
        }
        if let Some(p) = self.platform_probe.as_mut() {
            p.stop();
        }
        if let Some(h) = self.hall_sync.as_mut() {
            h.stop();
        }
        self.licence_watch.stop();
        self.licence_printer.stop();
        self.printer.stop();
        if let Some(s) = self.printer_server.as_mut() {
            s.stop();
        }
        self.reader.stop();
        self.voice.stop();
        self.integrity.stop();
        let recorded = self.journal.append(payload::Shutdown { clean }.into());
        self.journal.close();
        recorded?;
        log::info!("kiosk stopped");
        Ok(())
    }
}

/// How long each watched part may stay silent before the kiosk counts as hung. Each is well above the
/// longest thing that part does between two beats: the UI thread beats every second; a ticket job is a
/// few steps of at most 2 s each; a card read is a few SAM exchanges with short timeouts and the reader's
/// backoff naps at most 10 s; a licence job may take its whole `job_timeout_s`.
pub const UI_SILENCE: Duration = Duration::from_secs(15);
pub const TICKET_PRINTER_SILENCE: Duration = Duration::from_secs(30);
pub const ID_READER_SILENCE: Duration = Duration::from_secs(30);

/// Runs the kiosk until the window is closed or SIGTERM / SIGINT arrives, then stops it cleanly. Under
/// systemd (`Type=notify`) it says READY=1 once the window is up and pings the watchdog while everything
/// is alive.
pub fn run(config: Config) -> anyhow::Result<()> {
    let kiosk = start(config)?;
    let notifier = crate::watchdog::Notifier::from_env();
    let mut watchdog = match (&notifier, crate::watchdog::watchdog_interval()) {
        (Some(n), Some(interval)) => {
            log::info!("systemd watchdog: a ping every {} ms while every part is alive", interval.as_millis() / 3);
            Some(crate::watchdog::Watchdog::start(n.clone(), interval, kiosk.liveness.clone())?)
        }
        _ => None,
    };
    if let Some(n) = notifier.clone() {
        // READY=1 half a second into the event loop: by then the window exists and its first frame is
        // drawn (the software renderer reports no frames, so there is no later event to wait for).
        slint::Timer::single_shot(Duration::from_millis(500), move || {
            log::info!("the kiosk's window is up: READY=1");
            n.tell("READY=1\nSTATUS=Serving citizens");
        });
    }
    let signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT])
        .context("cannot listen for SIGTERM and SIGINT")?;
    let signal_handle = signals.handle();
    let mut listener = owner::Owned::spawn("signals", move |_| {
        let mut signals = signals;
        if let Some(sig) = signals.forever().next() {
            log::info!("signal {sig}: stopping the kiosk");
            let _ = slint::invoke_from_event_loop(|| {
                let _ = slint::quit_event_loop();
            });
        }
    })?;
    let result = kiosk.window.show().and_then(|()| slint::run_event_loop_until_quit());
    let _ = kiosk.window.hide();
    signal_handle.close();
    listener.stop();
    let clean = result.is_ok();
    if let Some(n) = &notifier {
        n.tell("STOPPING=1\nSTATUS=Stopping: open sessions end, devices close, the journal seals");
    }
    if let Some(w) = watchdog.as_mut() {
        w.stop();
    }
    kiosk.shutdown(clean)?;
    result.context("the UI event loop stopped with an error")
}

/// Opens the journal, starts the devices and the staff API, and builds the bound window (not yet shown).
pub fn start(config: Config) -> anyhow::Result<Kiosk> {
    log::info!("kiosk {} starting for {}", config.kiosk.id, config.kiosk.hall_name);
    // Journal first: a kiosk that cannot record what it does does not open for citizens.
    let journal = Journal::open(JournalSettings::from_config(&config))?;
    journal.append(payload::Boot { version: env!("CARGO_PKG_VERSION").into() }.into())?;
    journal.append(
        payload::ConfigLoaded {
            hall_name: config.kiosk.hall_name.clone(),
            categories: config.queue.categories.iter().map(|c| c.prefix.clone()).collect(),
        }
        .into(),
    )?;
    // The tail now, the whole file in the background: an altered journal is journaled and shown, and the
    // kiosk keeps serving.
    let integrity = crate::journal::integrity::start(&journal).context("cannot start the journal's integrity check")?;
    let window = build_window(&config)?;
    let inbox = crate::ui::inbox::install();
    let tz = config.tz().clone();
    let liveness = crate::watchdog::Liveness::default();
    let ui_beat = crate::watchdog::Heartbeat::default();
    liveness.watch("the UI event loop", UI_SILENCE, ui_beat.clone());
    let clock = start_clock(&window, tz.clone(), ui_beat);
    let queue = Queue::new(&config, journal.clone())?;
    let hall_sync = crate::hall_sync::start(&queue);
    let reader = crate::devices::start_id_reader(&config, journal.clone())?;
    liveness.watch("the ID-card reader's owner", ID_READER_SILENCE, reader.heartbeat.clone());
    let queue_for_api = queue.clone();
    // The service catalogue: the installed one, the configured files, or the sample. One that cannot be
    // read is a configuration error (nothing starts), said with its file, line and field.
    let catalogue = crate::catalogue::store::CatalogueStore::open(
        &config.state_dir(),
        crate::catalogue::store::Fallback::of(&config),
    )?;
    crate::ui::find::journal_loaded(&journal, &catalogue.get(), crate::catalogue::store::Source::Start);
    let simulated = crate::devices::ticket_printer::simulated(&config)?;
    let printer_sim = simulated.as_ref().map(|s| s.printer.clone());
    let printer = TicketPrinter::from_config(&config, simulated.as_ref().map(|s| s.address.clone()))
        .map_err(anyhow::Error::msg)?;
    let printer_server = simulated.map(|s| s.server);
    liveness.watch("the ticket printer's owner", TICKET_PRINTER_SILENCE, printer.heartbeat());
    let weak = window.as_weak();
    let route = crate::ui::inbox::route(move |body| {
        if let (Some(w), Ok(fault)) = (weak.upgrade(), body.downcast::<Option<drivers::escpos::StatusFault>>()) {
            crate::ui::home::set_printer_fault(&w, *fault);
        }
    });
    let ib = inbox.clone();
    printer.health().subscribe(move |fault| ib.post(route, fault));
    printer.watch(journal.clone(), crate::devices::ticket_printer::PRINTER_PROBE_EVERY);
    let maintenance = crate::ui::maintenance::bind(
        &window,
        &inbox,
        crate::ui::maintenance::MaintenanceServices {
            journal: journal.clone(),
            pin_hash: config.admin.maintenance_pin_hash.clone(),
            printer: printer.clone(),
            reader: reader.clone(),
            kiosk_id: config.kiosk.id.clone(),
            hall_name: config.kiosk.hall_name.clone(),
            timezone: tz.clone(),
            export_dir: config.admin.export_dir.clone(),
            integrity: integrity.status.clone(),
        },
    );
    let first = config.kiosk.languages.first().map_or("zh-CN", String::as_str);
    let defaults = crate::ui::home::Defaults { english: first == "en", elder: config.ui.elder_mode };
    let voice = crate::voice::Speaker::start(&config.voice);
    crate::ui::take_number::bind_simulator(&window, &reader, printer_sim.clone());
    let licences = crate::licence::Licences::from_config(&config, journal.clone())?;
    let licence_watch = watch_licences(&window, &inbox, &licences)?;
    let licence_printer = licences.printer.clone();
    liveness.watch(
        "the licence printer's owner",
        licences.job_timeout() + Duration::from_secs(30),
        licence_printer.heartbeat(),
    );
    let licence_health = licences.health.clone();
    bind_licence_simulator(&window, &licences);
    let admin = match crate::admin::start(
        &config,
        queue_for_api,
        crate::admin::Devices {
            printer: Some(printer.clone()),
            reader: Some(reader.clone()),
            licence: Some(licence_health),
            integrity: Some(integrity.status.clone()),
            catalogue: Some(catalogue.clone()),
        },
    ) {
        Ok(a) => Some(a),
        Err(e) => {
            log::warn!("the staff API is not available: {e:#}");
            None
        }
    };
    let platform = match &config.platform.url {
        Some(_) => Some(Arc::new(crate::platform::Platform::from_config(&config.platform, &config.kiosk.id)?)),
        None => None,
    };
    let platform_probe = match &platform {
        Some(p) => Some(watch_platform(&window, &inbox, p.clone())?),
        None => None,
    };
    let outbox_sender = platform.clone().map(|p| crate::platform::outbox::start(journal.clone(), p));
    let outbox = match outbox_sender {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            log::error!("the outbox to the platform cannot start: {e}");
            None
        }
        None => None,
    };
    let cx = crate::ui::controller::Context::new(
        config.clone(),
        journal.clone(),
        reader.clone(),
        inbox.clone(),
        printer.clone(),
        queue,
        platform.clone(),
        catalogue.clone(),
        licences,
        defaults,
    );
    let home =
        crate::ui::home::bind(&window, journal.clone(), &inbox, voice.clone(), defaults, config.ui.idle_timeout_ms());
    // Stopped in this order: the home flow first, so that a call for assistance made before the stop is
    // journaled inside the session it was made in, before the flows end their sessions (after them it raced
    // the session's end: a fresh clone's CI once found `assistance_called` after `session_end`).
    let flows = crate::ui::home::route_flows(
        &window,
        &inbox,
        &reader,
        vec![
            home,
            crate::ui::take_number::bind(&window, &cx),
            crate::ui::licence::bind(&window, &cx),
            crate::ui::rating::bind(&window, &cx),
            crate::ui::case_progress::bind(&window, &cx),
            crate::ui::appointment::bind(&window, &cx),
            crate::ui::find::bind(&window, &cx),
        ],
    );
    Ok(Kiosk {
        window,
        voice,
        journal,
        reader,
        printer,
        printer_sim,
        flows,
        maintenance,
        admin,
        printer_server,
        licence_watch,
        outbox,
        platform_probe,
        hall_sync,
        platform,
        licence_printer,
        integrity,
        liveness,
        _clock: clock,
    })
}

/// The home screen's clock, in the kiosk's time zone; its tick is also the UI thread's heartbeat.
fn start_clock(window: &AppWindow, tz: jiff::tz::TimeZone, beat: crate::watchdog::Heartbeat) -> slint::Timer {
    let clock = slint::Timer::default();
    let weak = window.as_weak();
    let tick = move || {
        beat.beat();
        crate::watchdog::debug_hang("ui");
        if let Some(w) = weak.upgrade() {
            let now = jiff::Timestamp::now().to_zoned_datetime(tz.clone());
            let home = w.global::<HomeAdapter>();
            home.set_clock(now.strftime("%Y-%m-%d %H:%M").to_string().into());
            home.set_weekday(i32::from(now.weekday().to_monday_one_offset()));
        }
    };
    tick();
    clock.start(slint::TimerMode::Repeated, Duration::from_secs(1), tick);
    clock
}

/// The 证照打印 tile follows the licence printer's one state (or stays off when no font can draw licences).
fn watch_licences(
    window: &AppWindow,
    inbox: &crate::ui::inbox::Inbox,
    licences: &crate::licence::Licences,
) -> anyhow::Result<owner::Owned> {
    let weak = window.as_weak();
    let route = crate::ui::inbox::route(move |body| {
        if let (Some(w), Ok(reason)) = (weak.upgrade(), body.downcast::<Option<Reason>>()) {
            crate::ui::home::set_licence_fault(&w, *reason);
        }
    });
    let inbox = inbox.clone();
    let unavailable = licences.unavailable().map(str::to_string);
    if let Some(why) = &unavailable {
        log::warn!("licence printing is unavailable: {why}");
    }
    licences.health.subscribe(move |fault| {
        let reason = match (&unavailable, fault) {
            (Some(_), _) => Some(Reason::LicenceUnavailable),
            (None, Some(f)) => Some(Reason::A4(crate::devices::a4_trouble(&f))),
            (None, None) => None,
        };
        inbox.post(route, reason);
    });
    Ok(licences.watch(LICENCE_PROBE_EVERY)?)
}

/// How often the platform is asked whether it answers while nothing else has asked it: every 30 s while it
/// does, every 10 s while it does not (so the tiles clear soon after it is back).
const PLATFORM_PROBE_UP: Duration = Duration::from_secs(30);
const PLATFORM_PROBE_DOWN: Duration = Duration::from_secs(10);

/// 办件查询 and 预约签到 say on their tiles, before a citizen starts, when the provincial platform does not
/// answer (they stay usable: the flows offer what can be done without it). The state comes from every call
/// the kiosk makes and from a probe while it makes none.
fn watch_platform(
    window: &AppWindow,
    inbox: &crate::ui::inbox::Inbox,
    platform: Arc<crate::platform::Platform>,
) -> anyhow::Result<owner::Owned> {
    let weak = window.as_weak();
    let route = crate::ui::inbox::route(move |body| {
        if let (Some(w), Ok(up)) = (weak.upgrade(), body.downcast::<bool>()) {
            w.global::<crate::ui::HomeAdapter>().set_platform_ok(*up);
        }
    });
    let inbox = inbox.clone();
    platform.reach.subscribe(move |up| {
        if !up {
            log::warn!("the provincial platform does not answer: the tiles that need it say so");
        }
        inbox.post(route, up);
    });
    Ok(owner::Owned::spawn("platform-probe", move |life| {
        loop {
            let every = if platform.reach.get() == Some(false) { PLATFORM_PROBE_DOWN } else { PLATFORM_PROBE_UP };
            if platform.reach.since_heard().is_none_or(|quiet| quiet >= every) {
                platform.probe();
            }
            if life.stop.wait(Duration::from_secs(1)) {
                return;
            }
        }
    })?)
}

/// In the demo, the simulator panel also sets the simulated licence printer's faults.
fn bind_licence_simulator(window: &AppWindow, licences: &crate::licence::Licences) {
    if let Some(sim) = licences.printer.simulated() {
        let sim = sim.clone();
        window.global::<crate::ui::SimAdapter>().on_licence_printer(move |reason| {
            sim.set_reason((!reason.is_empty()).then_some(reason.as_str()));
        });
    }
}
