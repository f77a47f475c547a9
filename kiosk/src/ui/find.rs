//! The 事项查询 page on the flow controller: keys feed the flow, which searches the catalogue; its work (load
//! the catalogue in use, journal searches and views, print a guide) runs on the flow's worker; 取号办理
//! hands the citizen to take-a-number in the item's category.

use super::controller::{Binding, Context, Job, Setup, sends, sends_key};
use super::home::FlowHandle;
use super::{
    AppWindow, FindAdapter, FindScreen, GroupRow, GuideState as UiGuide, ItemRow, MaterialRow, Page, Theme, TileKind,
};
use crate::catalogue::guide::{Hall, guide};
use crate::catalogue::store::{CatalogueStore, Source as LoadSource};
use crate::catalogue::{Catalogue, Form, Level, Online};
use crate::config::CategoryConfig;
use crate::flows::core::{Input, Named, Phase, Reason, Session};
use crate::flows::find::{Event, FindService, Groups, GuideState, Shared, Step, Work};
use crate::journal::{Journal, payload};
use crate::ticket::TicketPrinter;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

/// What the flow's work needs; owned by its worker thread.
pub struct Services {
    pub store: CatalogueStore,
    pub printer: TicketPrinter,
    pub hall_name: String,
    pub timezone: jiff::tz::TimeZone,
    pub categories: Vec<CategoryConfig>,
}

pub use crate::catalogue::store::journal_loaded;

struct Page_ {
    /// Queue categories of this hall (prefix → window), for 取号办理 and "where".
    categories: Vec<CategoryConfig>,
}

impl Binding for Page_ {
    type Flow = FindService;
    type Services = Services;
    const PAGE: Page = Page::FindService;

    fn run(s: &mut Services, work: Work, job: &Job<Event>) {
        let record = |entry: crate::journal::NewEntry| {
            let kind = entry.kind;
            if let Err(e) = job.journal.append(entry.in_session(&job.session_id)) {
                log::error!("{} not journaled: {e}", kind.as_str());
            }
        };
        match work {
            Work::Load => {
                if let Some(newer) = s.store.refresh() {
                    journal_loaded(&job.journal, &newer, LoadSource::File);
                }
                job.reply(Event::Loaded(Shared(s.store.get())));
            }
            Work::RecordSearch { query, results, opened } => {
                record(payload::CatalogueSearch { query, results: results as u64, opened }.into())
            }
            Work::RecordView { code, from } => record(payload::CatalogueItemViewed { code, from: from.into() }.into()),
            Work::PrintGuide { code, town } => {
                let catalogue = s.store.get();
                let result = match catalogue.item(&code) {
                    Some(item) => print_guide(s, &catalogue, item, town.as_deref(), &job.journal),
                    None => Err(Reason::TicketFailed),
                };
                record(payload::GuidePrinted { code, ok: result.is_ok() }.into());
                job.reply(match result {
                    Ok(()) => Event::GuidePrinted,
                    Err(why) => Event::GuideFailed(why),
                });
            }
        }
    }

    fn render(&self, window: &AppWindow, session: &Session<FindService>, english: bool) {
        let a = window.global::<FindAdapter>();
        let step = match &session.phase {
            Phase::Step(step) => step,
            Phase::RatingReasons { .. } => return a.set_screen(FindScreen::RatingReasons),
            Phase::Thanks => return a.set_screen(FindScreen::Thanks),
            Phase::Home | Phase::TakeCard => return,
        };
        let Some(c) = session.flow.catalogue() else {
            a.set_screen(FindScreen::Loading);
            return;
        };
        show(window, c, step, &self.categories, english);
    }

    fn clear(&self, window: &AppWindow) {
        let a = window.global::<FindAdapter>();
        a.set_query(SharedString::new());
        a.set_results(ModelRc::default());
        a.set_list(ModelRc::default());
        a.set_guide(UiGuide::None);
    }
}

/// Puts a step of the flow on the page, with the catalogue it came from (also used by the page tests to
/// show each screen with the sample catalogue).
pub fn show(window: &AppWindow, c: &Catalogue, step: &Step, categories: &[CategoryConfig], english: bool) {
    let a = window.global::<FindAdapter>();
    a.set_updated(c.header.updated.clone().into());
    a.set_sample(c.header.sample);
    let screen = Screen {
        elder: window.global::<Theme>().get_elder_mode(),
        portrait: window.global::<super::HomeAdapter>().get_portrait(),
    };
    match step {
        Step::Loading => a.set_screen(FindScreen::Loading),
        Step::Search { query, results, total, approximate, first } => {
            a.set_screen(FindScreen::Search);
            a.set_query(query.to_uppercase().into());
            let per = screen.rows(Rows::Results);
            set_page(&a, *first, per, results.len());
            let shown = rows(c, results.iter().skip(*first).take(per), english);
            a.set_choices_spoken(super::spoken_choices(shown.iter().map(|r| &r.name), english).into());
            a.set_results(super::keep_or_new(a.get_results(), shown));
            a.set_total((*total).min(i32::MAX as usize) as i32);
            a.set_approximate(*approximate);
        }
        Step::Groups { groups: g, first } => {
            a.set_screen(FindScreen::Groups);
            let groups: Vec<GroupRow> = match g {
                Groups::Themes => c
                    .themes
                    .iter()
                    .map(|t| {
                        let name = crate::catalogue::pick(&t.name, &t.name_en, english);
                        group(&t.id, name, c.items.iter().filter(|i| i.themes.contains(&t.id)).count())
                    })
                    .collect(),
                Groups::Departments => c
                    .departments
                    .iter()
                    .map(|d| {
                        let name = crate::catalogue::pick(&d.name, &d.name_en, english);
                        group(&d.id, name, c.items.iter().filter(|i| i.department == d.id).count())
                    })
                    .collect(),
            };
            a.set_groups_are_themes(*g == Groups::Themes);
            let per = screen.rows(Rows::Groups);
            set_page(&a, *first, per, groups.len());
            let shown: Vec<GroupRow> = groups.into_iter().skip(*first).take(per).collect();
            a.set_choices_spoken(super::spoken_choices(shown.iter().map(|g| &g.name), english).into());
            a.set_groups(super::keep_or_new(a.get_groups(), shown));
        }
        Step::List { source, items, first, .. } => {
            a.set_screen(FindScreen::List);
            use crate::flows::find::Source;
            let (title, kind) = match source {
                Source::Theme(id) => (c.theme_name_in(id, english).to_owned(), 0),
                Source::Department(id) => (c.department_name_in(id, english).to_owned(), 0),
                Source::Frequent => (String::new(), 1),
                Source::Village => (String::new(), 2),
                Source::Search => (String::new(), 0),
            };
            a.set_list_title(title.into());
            a.set_list_kind(kind);
            let per = screen.rows(Rows::Items);
            set_page(&a, *first, per, items.len());
            let shown = rows(c, items.iter().skip(*first).take(per), english);
            a.set_choices_spoken(super::spoken_choices(shown.iter().map(|r| &r.name), english).into());
            a.set_list(super::keep_or_new(a.get_list(), shown));
        }
        Step::Towns { item, first } => {
            a.set_screen(FindScreen::Towns);
            let Step::Item { item, .. } = &**item else { return };
            let Some(it) = c.items.get(*item) else { return };
            let towns: Vec<GroupRow> = c
                .towns()
                .into_iter()
                .map(|t| group(t, c.town_name_in(t, english), c.points_in(it, Some(t)).count()))
                .collect();
            let per = screen.rows(Rows::Groups);
            set_page(&a, *first, per, towns.len());
            let shown: Vec<GroupRow> = towns.into_iter().skip(*first).take(per).collect();
            a.set_choices_spoken(super::spoken_choices(shown.iter().map(|g| &g.name), english).into());
            a.set_groups(super::keep_or_new(a.get_groups(), shown));
        }
        Step::Item { item, guide, town, .. } => {
            let Some(it) = c.items.get(*item) else { return };
            a.set_screen(FindScreen::Item);
            a.set_item_name(it.name_in(english).into());
            a.set_item_code(it.code.clone().into());
            a.set_item_category(it.category.clone().into());
            a.set_item_department(c.department_name_in(&it.department, english).into());
            a.set_item_common(it.common_names_in(english).join(if english { ", " } else { "、" }).into());
            let materials: Vec<MaterialRow> = it
                .materials
                .iter()
                .map(|m| MaterialRow {
                    name: m.name_in(english).into(),
                    form: match m.form {
                        Form::Original => 0,
                        Form::Copy => 1,
                        Form::OriginalAndCopy => 2,
                    },
                    count: m.count as i32,
                    note: m.note_in(english).into(),
                })
                .collect();
            // The voice reads the materials in order, after the item's name.
            a.set_choices_spoken(super::spoken_choices(materials.iter().map(|m| &m.name), english).into());
            a.set_materials(super::keep_or_new(a.get_materials(), materials));
            a.set_legal_days(it.legal_days as i32);
            a.set_promised_days(it.promised_days as i32);
            a.set_fee(it.fee_in(english).into());
            a.set_online(match it.online {
                Online::Full => 0,
                Online::Partial => 1,
                Online::Offline => 2,
            });
            a.set_qr(c.online_url(it).map(|u| qr_image(&u)).unwrap_or_default());
            let window_here = categories.iter().find(|k| k.prefix == it.category);
            a.set_here(it.levels.contains(&Level::County));
            let here_window = |english: bool| -> slint::SharedString {
                window_here
                    .map(|k| if english { &k.window_en } else { &k.window_zh })
                    .cloned()
                    .unwrap_or_default()
                    .into()
            };
            a.set_here_window(here_window(english));
            a.set_here_window_en(here_window(true));
            a.set_towns(it.levels.contains(&Level::Town) || it.levels.contains(&Level::Street));
            a.set_villages(it.levels.contains(&Level::Village));
            let points: Vec<_> = c.points_for(it).collect();
            a.set_points(points.len() as i32);
            a.set_can_choose_town(!points.is_empty() || it.levels.iter().any(|l| *l != Level::County));
            let town_in = |english: bool| -> slint::SharedString {
                town.as_deref().map(|t| c.town_name_in(t, english)).unwrap_or_default().into()
            };
            a.set_town(town_in(english));
            a.set_town_en(town_in(true));
            // In the citizen's town, each point with where it is and how to ring it.
            let town_points = |english: bool| -> slint::ModelRc<slint::SharedString> {
                let lines: Vec<String> = c
                    .points_in(it, Some(town.as_deref().unwrap_or_default()))
                    // Elder mode's larger type leaves room for one (the printed guide lists them all).
                    .take(if screen.elder { 1 } else { 3 })
                    .map(|p| point_line(p, english))
                    .collect();
                strings(if town.is_some() { lines } else { vec![] })
            };
            a.set_town_points(town_points(english));
            a.set_town_points_en(town_points(true));
            let example = |english: bool| -> slint::SharedString {
                points
                    .first()
                    .map(|p| {
                        if english {
                            format!("{} ({}, {})", p.name_in(true), p.town_in(true), p.hours)
                        } else {
                            format!("{}（{}，{}）", p.name, p.town, p.hours)
                        }
                    })
                    .unwrap_or_default()
                    .into()
            };
            a.set_point_example(example(english));
            a.set_point_example_en(example(true));
            a.set_can_take_number(window_here.is_some() && it.levels.contains(&Level::County));
            let (ui, problem) = match guide {
                GuideState::None => (UiGuide::None, None),
                GuideState::Printing => (UiGuide::Printing, None),
                GuideState::Printed => (UiGuide::Printed, None),
                GuideState::Failed(why) => (UiGuide::Failed, Some(why)),
            };
            a.set_guide(ui);
            a.set_guide_problem(super::reasons::to_ui_opt(problem));
        }
    }
}

/// A partner point as the item page lists it in the citizen's town: its name, address, hours and telephone
/// (when it has one).
pub fn point_line(p: &crate::catalogue::Point, english: bool) -> String {
    let (name, address) = (p.name_in(english), p.address_in(english));
    match (english, p.phone.is_empty()) {
        (true, true) => format!("{name}, {address}, {}", p.hours),
        (true, false) => format!("{name}, {address}, {}, tel. {}", p.hours, p.phone),
        (false, true) => format!("{name}，{address}，{}", p.hours),
        (false, false) => format!("{name}，{address}，{}，电话 {}", p.hours, p.phone),
    }
}

fn strings(v: Vec<String>) -> ModelRc<SharedString> {
    ModelRc::new(VecModel::from(v.into_iter().map(SharedString::from).collect::<Vec<_>>()))
}

/// The screen a list is shown on.
struct Screen {
    elder: bool,
    portrait: bool,
}

/// What a list shows: search results beside the keyboard, groups (one line each) or items (two lines each).
enum Rows {
    Results,
    Groups,
    Items,
}

impl Screen {
    /// How many rows a page shows: as many as fit (the geometry test checks every case), fewer in elder
    /// mode's larger type, more on a standing portrait screen.
    fn rows(&self, what: Rows) -> usize {
        match (what, self.portrait, self.elder) {
            (Rows::Results, false, false) => 6,
            (Rows::Results, false, true) => 4,
            (Rows::Results, true, false) => 10,
            (Rows::Results, true, true) => 7,
            (Rows::Groups, _, false) => 12,
            (Rows::Groups, _, true) => 10,
            (Rows::Items, false, false) => 10,
            (Rows::Items, false, true) => 6,
            (Rows::Items, true, false) => 12,
            (Rows::Items, true, true) => 10,
        }
    }
}

/// Which page of `len` rows starting at `first` is on screen, of how many, `per` to a page.
fn set_page(a: &FindAdapter, first: usize, per: usize, len: usize) {
    let pages = len.div_ceil(per).max(1);
    // `first` need not fall on a page boundary (elder mode switched mid-list): count the page it starts.
    let page = (first.div_ceil(per) + 1).min(pages);
    a.set_page(page as i32);
    a.set_pages(pages as i32);
    a.set_page_size(per as i32);
}

fn group(id: &str, name: &str, count: usize) -> GroupRow {
    GroupRow { id: id.into(), name: name.into(), count: count as i32 }
}

fn rows<'a>(c: &Catalogue, items: impl Iterator<Item = &'a usize>, english: bool) -> Vec<ItemRow> {
    items
        .filter_map(|&i| c.items.get(i))
        .map(|it| ItemRow {
            code: it.code.clone().into(),
            name: it.name_in(english).into(),
            note: c.department_name_in(&it.department, english).into(),
        })
        .collect()
}

/// The online-service QR as an image the page shows (black modules on white, 4 px each, with a quiet zone).
pub fn qr_image(url: &str) -> slint::Image {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) else {
        return slint::Image::default();
    };
    let n = code.width();
    let (scale, quiet) = (4usize, 4usize);
    let side = (n + 2 * quiet) * scale;
    let mut buf = slint::SharedPixelBuffer::<slint::Rgba8Pixel>::new(side as u32, side as u32);
    let colors = code.to_colors();
    for (i, px) in buf.make_mut_slice().iter_mut().enumerate() {
        let (x, y) = ((i % side) / scale, (i / side) / scale);
        let dark = x >= quiet
            && y >= quiet
            && x - quiet < n
            && y - quiet < n
            && colors[(y - quiet) * n + (x - quiet)] == qrcode::Color::Dark;
        let v = if dark { 0 } else { 255 };
        *px = slint::Rgba8Pixel { r: v, g: v, b: v, a: 255 };
    }
    slint::Image::from_rgba8(buf)
}

fn print_guide(
    s: &Services,
    c: &Catalogue,
    item: &crate::catalogue::Item,
    town: Option<&str>,
    journal: &Journal,
) -> Result<(), Reason> {
    let window = s
        .categories
        .iter()
        .find(|k| k.prefix == item.category)
        .map(|k| Named::new(k.window_zh.clone(), k.window_en.clone()))
        .unwrap_or_default();
    let hall = Hall { name: s.hall_name.clone(), window };
    let now = jiff::Timestamp::now().to_zoned_datetime(s.timezone.clone()).strftime("%Y-%m-%d %H:%M").to_string();
    let doc = guide(c, item, &hall, town, &now);
    crate::ticket::print_document(&s.printer, &doc, journal, &format!("guide {}", item.code))
}

/// Wires the 事项查询 page; 取号办理 opens take-a-number on the item's category.
pub fn bind(window: &AppWindow, cx: &Context) -> FlowHandle {
    let services = Services {
        store: cx.catalogue.clone(),
        printer: cx.printer.clone(),
        hall_name: cx.config.kiosk.hall_name.clone(),
        timezone: cx.config.tz().clone(),
        categories: cx.config.queue.categories.clone(),
    };
    let take_number = cx.take_number();
    let page = Page_ { categories: services.categories.clone() };
    let (handle, d) = super::controller::bind(
        window,
        cx,
        Setup {
            binding: page,
            flow: FindService::default(),
            services,
            tiles: vec![(TileKind::FindService, Event::Open)],
        },
    );
    let a = window.global::<FindAdapter>();
    a.on_key(sends_key(&d, Event::Key));
    a.on_backspace(sends(&d, Event::Backspace));
    a.on_clear(sends(&d, Event::Clear));
    a.on_themes(sends(&d, Event::Browse(Groups::Themes)));
    a.on_departments(sends(&d, Event::Browse(Groups::Departments)));
    a.on_frequent(sends(&d, Event::Frequent));
    a.on_village(sends(&d, Event::Village));
    a.on_back(sends(&d, Event::Back));
    for (forward, weak) in [(true, window.as_weak()), (false, window.as_weak())] {
        let f = d.clone();
        let turn = move || {
            // The flow turns by the rows this page showed.
            let Some(w) = weak.upgrade() else { return };
            let shown = w.global::<FindAdapter>().get_page_size().max(0) as usize;
            f(Input::Flow(if forward { Event::NextPage { shown } } else { Event::PreviousPage { shown } }));
        };
        if forward { a.on_next_page(turn) } else { a.on_previous_page(turn) }
    }
    a.on_print_guide(sends(&d, Event::PrintGuide));
    a.on_choose_town(sends(&d, Event::ChooseTown));
    let f = d.clone();
    a.on_open_town(move |t| f(Input::Flow(Event::OpenTown(t.to_string()))));
    let f = d.clone();
    a.on_open_item(move |code| f(Input::Flow(Event::OpenItem(code.to_string()))));
    let f = d.clone();
    a.on_open_group(move |id| f(Input::Flow(Event::OpenGroup(id.to_string()))));
    let f = d.clone();
    let weak = window.as_weak();
    a.on_take_number(move || {
        // The category of the item on screen, read before the session hands over.
        let category = weak.upgrade().map(|w| w.global::<FindAdapter>().get_item_category().to_string());
        f(Input::Flow(Event::TakeNumber));
        if let Some(category) = category.filter(|c| !c.is_empty()) {
            take_number(category);
        }
    });
    crate::wire_rating!(a, d);
    handle
}
