//! The take-a-number page on the flow controller: its callbacks feed the flow, its work (the categories'
//! waiting counts, issuing and printing) runs on the flow's worker, its screens are drawn from the session.

use super::controller::{Binding, Context, Job, Setup};
use super::home::FlowHandle;
use super::{AppWindow, CategoryItem, Page, SimAdapter, TakeNumberAdapter, TakeScreen, TileKind};
use crate::config::Config;
use crate::devices::IdReaderHandle;
use crate::flows::core::{Input, Named, Phase, Reason, Session};
use crate::flows::take_number::{CategoryView, Event, Issued, Step, TakeNumber, Work};
use crate::queue::Queue;
use crate::ticket::{TicketError, TicketPrinter, issue_and_print, issue_with_card};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

/// What the flow's work needs; owned by its worker thread.
pub struct Services {
    pub config: Config,
    pub timezone: jiff::tz::TimeZone,
    pub queue: Queue,
    pub printer: TicketPrinter,
    pub reader: IdReaderHandle,
}

struct Page_;

/// A printed ticket as the citizen is told about it (take-a-number, an appointment's check-in).
pub fn issued(t: crate::queue::Ticket) -> Issued {
    // What the QR code of a number shown on screen holds: enough for a counter to read it back.
    let shown_qr = t
        .shown_code
        .as_ref()
        .map(|code| format!("{} {} {} {} {code}", t.display, t.category_zh, t.issued_at, t.id))
        .unwrap_or_default();
    Issued {
        ticket_id: t.id,
        number: t.display,
        waiting_ahead: t.waiting_ahead,
        window: Named::new(t.window_zh, t.window_en),
        wait_minutes: t.wait_minutes,
        priority: t.priority,
        counted_here_only: t.counted == crate::queue::Counted::KioskOnly,
        shown_qr,
        shown_code: t.shown_code.unwrap_or_default(),
    }
}

/// What the flow hears of a ticket issued (and printed, or not).
fn outcome(result: Result<crate::queue::Ticket, TicketError>) -> Event {
    match result {
        Ok(t) => Event::TicketPrinted(issued(t)),
        Err(TicketError::CardRefused(r)) => Event::CardRefused(r.reason()),
        Err(TicketError::NotPrinted { number, ticket_id, fault }) => Event::TicketNotPrinted {
            message: Reason::TicketNotPrinted { number, trouble: crate::devices::printer_trouble(fault) },
            ticket_id,
        },
        Err(e) => Event::TicketFailed(e.reason()),
    }
}

impl Binding for Page_ {
    type Flow = TakeNumber;
    type Services = Services;
    const PAGE: Page = Page::TakeNumber;

    fn run(s: &mut Services, work: Work, job: &Job<Event>) {
        let now = jiff::Timestamp::now();
        match work {
            Work::LoadCategories => job.reply(Event::CategoriesLoaded(categories(s, now))),
            Work::Issue { prefix, with_card } => {
                let result = if with_card {
                    match s.reader.take_card() {
                        Some(card) => issue_with_card(
                            &s.queue,
                            &s.printer,
                            &s.config,
                            &s.timezone,
                            &prefix,
                            &card,
                            now,
                            &job.session_id,
                        ),
                        None => {
                            job.reply(Event::CardRefused(Reason::CardUnreadable));
                            return;
                        }
                    }
                } else {
                    issue_and_print(&s.queue, &s.printer, &s.config.kiosk.hall_name, &prefix, now, &job.session_id)
                };
                job.reply(outcome(result));
            }
            Work::Reprint { ticket_id } => {
                job.reply(outcome(crate::ticket::reprint(&s.queue, &s.printer, &s.config.kiosk.hall_name, &ticket_id)))
            }
        }
    }

    fn render(&self, window: &AppWindow, session: &Session<TakeNumber>, english: bool) {
        let take = window.global::<TakeNumberAdapter>();
        match &session.phase {
            Phase::Home => {}
            Phase::Step(Step::Categories { categories, notice }) => {
                take.set_screen(TakeScreen::Categories);
                take.set_reason(super::reasons::to_ui_opt(notice.as_ref()));
                take.set_categories(super::keep_or_new(take.get_categories(), category_rows(categories, english)));
                let open = categories.iter().filter(|c| c.closed.is_none());
                take.set_choices_spoken(
                    super::spoken_choices(open.map(|c| if english { &c.name_en } else { &c.name_zh }), english).into(),
                );
            }
            Phase::Step(Step::CardPrompt { failure, .. }) => {
                take.set_screen(TakeScreen::CardPrompt);
                take.set_reason(super::reasons::to_ui_opt(failure.as_ref()));
            }
            Phase::Step(Step::Printing { .. }) => take.set_screen(TakeScreen::Printing),
            Phase::Step(Step::Done(issued)) => {
                take.set_screen(TakeScreen::Done);
                take.set_number(issued.number.clone().into());
                take.set_number_spoken(spoken_number(&issued.number).into());
                take.set_waiting_ahead(issued.waiting_ahead as i32);
                take.set_wait_minutes(issued.wait_minutes.min(i32::MAX as u32) as i32);
                take.set_priority(issued.priority);
                take.set_counted_here_only(issued.counted_here_only);
                take.set_shown_code(issued.shown_code.as_str().into());
                take.set_shown_code_spoken(spoken_number(&issued.shown_code).into());
                take.set_shown_qr(if issued.shown_qr.is_empty() {
                    slint::Image::default()
                } else {
                    super::find::qr_image(&issued.shown_qr)
                });
                take.set_window(issued.window.zh.clone().into());
                take.set_window_en(issued.window.en.clone().into());
            }
            Phase::Step(Step::Failed { message, reprint }) => {
                take.set_screen(TakeScreen::Failed);
                take.set_can_reprint(reprint.is_some());
                if let Reason::TicketNotPrinted { number, .. } = message {
                    take.set_number(number.into());
                    take.set_number_spoken(spoken_number(number).into());
                }
                take.set_reason(super::reasons::to_ui(message));
            }
            Phase::TakeCard => take.set_screen(TakeScreen::TakeCard),
            // Taking a number offers no rating: nothing has been served yet.
            Phase::RatingReasons { .. } | Phase::Thanks => {}
        }
    }

    fn clear(&self, window: &AppWindow) {
        let take = window.global::<TakeNumberAdapter>();
        take.set_number(SharedString::new());
        take.set_number_spoken(SharedString::new());
        take.set_reason(super::reasons::none());
        take.set_categories(ModelRc::default());
    }
}

/// A ticket number as it is read out, character by character ("A023" → "A 0 2 3"), as halls' calling
/// systems say it: the voice then says each digit (A 零二三), not a number (二十三).
pub fn spoken_number(number: &str) -> String {
    number.chars().map(String::from).collect::<Vec<_>>().join(" ")
}

/// The categories with their waiting counts and opening state now (a read of the journal file: worker only).
fn categories(s: &Services, now: jiff::Timestamp) -> Vec<CategoryView> {
    let waiting = s.queue.waiting_counts(now).unwrap_or_else(|e| {
        log::warn!("waiting counts unavailable: {e}");
        vec![]
    });
    s.queue
        .categories()
        .iter()
        .map(|c| CategoryView {
            prefix: c.prefix.clone(),
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone(),
            waiting: waiting.iter().find(|(p, _)| *p == c.prefix).map_or(0, |(_, n)| *n),
            closed: s.queue.check_open(c, now).err().map(|e| e.reason()),
            requires_id: c.requires_id,
            on_screen: c.show_when_unprinted,
        })
        .collect()
}

fn category_rows(categories: &[CategoryView], english: bool) -> Vec<CategoryItem> {
    categories
        .iter()
        .map(|c| {
            let (name, subtitle) = if english { (&c.name_en, &c.name_zh) } else { (&c.name_zh, &c.name_en) };
            CategoryItem {
                prefix: c.prefix.clone().into(),
                name: name.into(),
                subtitle: subtitle.into(),
                waiting: c.waiting as i32,
                open: c.closed.is_none(),
                closed: super::reasons::to_ui_opt(c.closed.as_ref()),
                requires_id: c.requires_id,
                on_screen: c.on_screen,
            }
        })
        .collect()
}

/// Opens take-a-number for one category (取号办理 from another service).
pub type OpenFor = std::rc::Rc<dyn Fn(String)>;

/// Wires the take-a-number page, and registers it in the context as the door other services hand over to.
pub fn bind(window: &AppWindow, cx: &Context) -> FlowHandle {
    let services = Services {
        config: cx.config.clone(),
        timezone: cx.config.tz().clone(),
        queue: cx.queue.clone(),
        printer: cx.printer.clone(),
        reader: cx.reader.clone(),
    };
    let (handle, d) = super::controller::bind(
        window,
        cx,
        Setup {
            binding: Page_,
            flow: TakeNumber::default(),
            services,
            tiles: vec![(TileKind::TakeNumber, Event::Open)],
        },
    );
    let take = window.global::<TakeNumberAdapter>();
    let f = d.clone();
    take.on_choose(move |prefix| f(Input::Flow(Event::Choose(prefix.to_string()))));
    take.on_reprint(super::controller::sends(&d, Event::Reprint));
    cx.set_take_number(std::rc::Rc::new(move |prefix| d(Input::Flow(Event::OpenFor(prefix)))));
    handle
}

/// The demo's simulator panel: place or remove a fixture card, set the virtual printer's status.
pub fn bind_simulator(
    window: &AppWindow,
    reader: &IdReaderHandle,
    printer: Option<drivers::escpos::virtual_printer::VirtualPrinter>,
) {
    let sim = window.global::<SimAdapter>();
    let Some(reader_sim) = reader.simulator.clone() else { return };
    sim.set_enabled(true);
    let names: Vec<SharedString> = reader_sim
        .lock()
        .map(|s| s.cards.iter().map(|c| format!("{} {}", c.masked_name(), c.kind.name_zh()).into()).collect())
        .unwrap_or_default();
    sim.set_cards(ModelRc::new(VecModel::from(names)));
    let r = reader_sim.clone();
    sim.on_place_card(move |i| {
        // Logged so that a lost card placement (the AT-SPI robot's rare failure) shows whether the tap
        // arrived at all or the reader never saw the card.
        log::info!("demo simulator: fixture card {i} placed on the simulated reader");
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
    sim.on_printer_status(move |status| {
        if let (Some(p), Some(st)) = (&printer, drivers::escpos::virtual_printer::SimStatus::parse(&status)) {
            p.set_status(st);
        }
    });
}
