//! The main pages with fixed sample content, shared by the screenshot and pseudo-locale tests.

use kiosk::config::Config;
use kiosk::flows::core::{Named, Reason};
use kiosk::ui::{
    AppAdapter, AppWindow, CategoryItem, DeviceStatus, DocumentItem, Guide, LicenceAdapter, LicenceScreen,
    MaintenanceAdapter, Page, RatingAdapter, RatingScreen, ReasonKind, TakeNumberAdapter, TakeScreen,
};
use slint::{ComponentHandle, Model, ModelRc, VecModel};

pub fn categories(english: bool) -> ModelRc<CategoryItem> {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo(dir.path());
    let items: Vec<CategoryItem> = config
        .queue
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (name, subtitle) = if english { (&c.name_en, &c.name_zh) } else { (&c.name_zh, &c.name_en) };
            CategoryItem {
                on_screen: true,
                prefix: c.prefix.clone().into(),
                name: name.into(),
                subtitle: subtitle.into(),
                waiting: i as i32 * 3,
                open: i != 1,
                closed: if i == 1 {
                    kiosk::ui::reasons::to_ui(&Reason::CategoryClosed {
                        name: Named::new("不动产登记", "Real estate registration"),
                        opens: Named::new("今天13:30", "today at 13:30"),
                    })
                } else {
                    kiosk::ui::reasons::none()
                },
                requires_id: c.requires_id,
            }
        })
        .collect();
    ModelRc::new(VecModel::from(items))
}

pub fn documents(english: bool) -> ModelRc<DocumentItem> {
    let title = |zh: &str, en: &str| if english { (en.to_string(), String::new()) } else { (zh.into(), en.into()) };
    let (t1, s1) = title("营业执照（副本）", "Business licence (copy)");
    let (t2, s2) = title("证明", "Certificate of proof");
    let items = vec![
        DocumentItem {
            id: "BL-1".into(),
            title: t1.into(),
            title_sub: s1.into(),
            holder: "临沭县某商贸有限公司".into(),
            number: "9137**********O01X".into(),
            remaining: 5,
        },
        DocumentItem {
            id: "P-1".into(),
            title: t2.into(),
            title_sub: s2.into(),
            holder: "李*梅".into(),
            number: "临沭人社**********927号".into(),
            remaining: 0,
        },
    ];
    ModelRc::new(VecModel::from(items))
}

/// The demo business licence's first page, drawn as the copies screen shows it.
pub fn sample_preview() -> slint::Image {
    use kiosk::licence::render::{PdfFont, RenderInput, preview};
    let line = kiosk::licence::SAMPLE_DOCUMENTS.lines().find(|l| l.contains("\"business_licence\"")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(line).unwrap();
    let data: std::collections::BTreeMap<String, String> = serde_json::from_value(doc["data"].clone()).unwrap();
    let night: jiff::ZonedDateTime = "2026-11-25T09:30:00+08:00[Asia/Shanghai]".parse().unwrap();
    let input = RenderInput {
        document_id: "BL-91371329MA3DEMO01",
        data: &data,
        verify_url: "https://verify.example.invalid/BL-91371329MA3DEMO01",
        kiosk_id: "linshu-county-01",
        printed_at: &night,
    };
    let templates = kiosk::licence::Templates::builtin().unwrap();
    let font = PdfFont::find(None, None).unwrap();
    let p = preview(templates.get("business_licence").unwrap(), &input, &font, 420).unwrap();
    let buffer = slint::SharedPixelBuffer::<slint::Rgba8Pixel>::clone_from_slice(&p.rgba, p.width, p.height);
    slint::Image::from_rgba8(buffer)
}

/// Puts the window on one of the pages under test, with fixed sample content.
pub fn show_case(window: &AppWindow, case: &str, english: bool) {
    if let Some(base) = case.strip_suffix("-long") {
        show_case(window, base, english);
        show_long_list(window, base);
        return;
    }
    let app = window.global::<AppAdapter>();
    // The idle question is the window's, over any page: only the case that shows it asks.
    window.global::<kiosk::ui::SessionAdapter>().set_countdown(0);
    window.global::<kiosk::ui::SessionAdapter>().set_still_working_s(0);
    let take = window.global::<TakeNumberAdapter>();
    let licence = window.global::<LicenceAdapter>();
    take.set_counted_here_only(false);
    take.set_shown_code("".into());
    take.set_shown_qr(slint::Image::default());
    match case {
        "home" => app.set_page(Page::Home),
        "take-number" => {
            app.set_page(Page::TakeNumber);
            take.set_screen(TakeScreen::Categories);
            take.set_categories(categories(english));
        }
        "ticket-taken" | "ticket-taken-here-only" | "ticket-shown" => {
            app.set_page(Page::TakeNumber);
            // A hall queue whose database did not answer: the count is this kiosk's, and the screen says so.
            take.set_counted_here_only(case == "ticket-taken-here-only");
            // The printer could not print: the number on screen with its QR code and verification code.
            if case == "ticket-shown" {
                take.set_shown_code("482913".into());
                take.set_shown_code_spoken("4 8 2 9 1 3".into());
                take.set_shown_qr(kiosk::ui::find::qr_image(
                    "A023 综合业务 2026-11-26 09:30 linshu-county-01-20261126-A023 482913",
                ));
            }
            take.set_screen(TakeScreen::Done);
            take.set_number("A023".into());
            take.set_number_spoken("A 0 2 3".into());
            take.set_waiting_ahead(5);
            take.set_window("1–3 号窗口".into());
            take.set_window_en("windows 1–3".into());
            take.set_wait_minutes(25);
            window.global::<Guide>().set_home_in(18);
        }
        "ticket-failed" => {
            app.set_page(Page::TakeNumber);
            take.set_screen(TakeScreen::Failed);
            take.set_number("A024".into());
            take.set_reason(kiosk::ui::reasons::to_ui(&Reason::TicketNotPrinted {
                number: "A024".into(),
                trouble: kiosk::flows::core::PrinterTrouble::PaperOut,
            }));
            // Issued, not printed: 重新打印 is offered.
            take.set_can_reprint(true);
            window.global::<Guide>().set_home_in(52);
        }
        "still-working" => {
            app.set_page(Page::TakeNumber);
            take.set_screen(TakeScreen::Printing);
            window.global::<kiosk::ui::SessionAdapter>().set_still_working_s(4);
        }
        "idle-prompt" => {
            app.set_page(Page::TakeNumber);
            take.set_screen(TakeScreen::Categories);
            take.set_categories(categories(english));
            window.global::<kiosk::ui::SessionAdapter>().set_countdown(8);
            window.global::<Guide>().set_home_in(8);
        }
        "licence-card" => {
            app.set_page(Page::Licence);
            licence.set_screen(LicenceScreen::CardPrompt);
            licence.set_reason(kiosk::ui::reasons::none());
            window.global::<Guide>().set_home_in(64);
        }
        "licence-card-expired" => {
            app.set_page(Page::Licence);
            licence.set_screen(LicenceScreen::CardPrompt);
            licence.set_reason(kiosk::ui::reasons::to_ui(&Reason::CardExpired));
            window.global::<Guide>().set_home_in(64);
        }
        "licence-documents" => {
            app.set_page(Page::Licence);
            licence.set_screen(LicenceScreen::Documents);
            licence.set_greeting_name("李*梅".into());
            licence.set_documents(documents(english));
        }
        "licence-copies" => {
            app.set_page(Page::Licence);
            licence.set_screen(LicenceScreen::Copies);
            licence.set_chosen(documents(english).row_data(0).unwrap());
            licence.set_preview(sample_preview());
            licence.set_copies(2);
        }
        "licence-done" => {
            app.set_page(Page::Licence);
            licence.set_screen(LicenceScreen::Done);
            licence.set_remaining_after(3);
            licence.set_levels(kiosk::ui::session::levels());
        }
        "rating" => {
            app.set_page(Page::Rating);
            let rating = window.global::<RatingAdapter>();
            rating.set_screen(RatingScreen::Levels);
            rating.set_levels(kiosk::ui::session::levels());
        }
        "rating-choose" | "rating-number" => {
            app.set_page(Page::Rating);
            let rating = window.global::<RatingAdapter>();
            rating.set_prefixes(ModelRc::new(VecModel::from(
                ["A", "B", "C", "D"].map(slint::SharedString::from).to_vec(),
            )));
            if case == "rating-choose" {
                rating.set_screen(RatingScreen::Choose);
            } else {
                rating.set_screen(RatingScreen::Number);
                rating.set_entry("A002".into());
                rating.set_reason(kiosk::ui::reasons::to_ui(&Reason::TicketNotServed { number: "A002".into() }));
            }
            window.global::<Guide>().set_home_in(41);
        }
        "take-card" => {
            app.set_page(Page::Licence);
            licence.set_screen(LicenceScreen::TakeCard);
            window.global::<Guide>().set_home_in(58);
        }
        "find-start" | "find-search" | "find-groups" | "find-list" | "find-item" | "find-towns" | "find-item-town" => {
            app.set_page(Page::FindService);
            show_find(window, case, english);
        }
        "appointment-identify" | "appointment-list" | "appointment-done" => {
            app.set_page(Page::Appointment);
            let a = window.global::<kiosk::ui::AppointmentAdapter>();
            match case {
                "appointment-identify" => {
                    a.set_screen(kiosk::ui::AppointmentScreen::Identify);
                    a.set_code("261127".into());
                    a.set_notice(kiosk::ui::reasons::to_ui(&Reason::NoAppointments));
                }
                "appointment-list" => {
                    a.set_screen(kiosk::ui::AppointmentScreen::List);
                    let row = |code: &str, time: &str, item: &str, state: i32, opens: &str| kiosk::ui::AppointmentRow {
                        code: code.into(),
                        time: time.into(),
                        item: item.into(),
                        category: "A".into(),
                        state,
                        opens: opens.into(),
                    };
                    a.set_rows(ModelRc::new(VecModel::from(vec![
                        row("26112701", "09:40", "户籍证明开具", 0, ""),
                        row("26112702", "13:30", "社会保障卡补换", 1, "13:00"),
                        row("26112703", "08:00", "不动产登记", 2, ""),
                        row("26112704", "09:00", "居民身份证换领", 3, ""),
                    ])));
                    a.set_offline(true);
                }
                _ => {
                    a.set_screen(kiosk::ui::AppointmentScreen::Done);
                    a.set_number("A002".into());
                    a.set_number_spoken("A 0 0 2".into());
                    a.set_item("户籍证明开具".into());
                    a.set_waiting_ahead(1);
                    a.set_window(if english { "windows 1–3" } else { "1–3 号窗口" }.into());
                    window.global::<Guide>().set_home_in(18);
                }
            }
        }
        "case-identify" | "case-list" | "case-steps" | "case-addresses" | "case-confirm" => {
            use kiosk::ui::{AddressRow, CaseAdapter, CaseRow, CaseScreen, StepRow};
            app.set_page(Page::CaseProgress);
            let a = window.global::<CaseAdapter>();
            a.set_case_number("2026****0123".into());
            a.set_case_item(if english { "Real estate registration" } else { "不动产登记" }.into());
            a.set_address("临沭县临沭街道滨河路***号 李**".into());
            let rows = |v: Vec<AddressRow>| ModelRc::new(VecModel::from(v));
            match case {
                "case-identify" => {
                    a.set_screen(CaseScreen::Identify);
                    a.set_number("2026112001".into());
                }
                "case-list" => {
                    a.set_screen(CaseScreen::List);
                    let row = |n: &str, m: &str, item: &str, state| CaseRow {
                        number: n.into(),
                        masked: m.into(),
                        item: item.into(),
                        state,
                    };
                    a.set_cases(ModelRc::new(VecModel::from(vec![
                        row("202611200123", "2026****0123", "不动产登记", 1),
                        row("202611250456", "2026****0456", "社会保障卡补换", 0),
                        row("202611180789", "2026****0789", "高龄津贴申领", 2),
                    ])));
                }
                "case-steps" => {
                    a.set_screen(CaseScreen::Case);
                    a.set_levels(kiosk::ui::session::levels());
                    let step = |index, at: &str| StepRow { index, at: at.into() };
                    a.set_steps(ModelRc::new(VecModel::from(vec![
                        step(0, "2026-11-20 09:00"),
                        step(1, "2026-11-22 10:30"),
                        step(2, "2026-11-26 16:00"),
                        step(3, ""),
                    ])));
                    a.set_reached_step(2);
                    a.set_can_deliver(true);
                    a.set_can_go_back(true);
                    a.set_slip(2);
                }
                "case-addresses" => {
                    a.set_screen(CaseScreen::Addresses);
                    let masked = ["临沭县青云镇青云路**号 李**", "临沭县临沭街道滨河路***号 李**"];
                    a.set_addresses(rows(vec![
                        AddressRow { id: "addr-1".into(), masked: masked[0].into() },
                        AddressRow { id: "addr-2".into(), masked: masked[1].into() },
                    ]));
                    a.set_choices_spoken(kiosk::ui::spoken_choices(masked, english).into());
                }
                _ => a.set_screen(CaseScreen::Confirm),
            }
        }
        "maintenance-pin" => app.set_page(Page::MaintenancePin),
        "maintenance" => {
            app.set_page(Page::Maintenance);
            window.global::<MaintenanceAdapter>().set_status(DeviceStatus {
                kiosk: "linshu-county-01".into(),
                hall: "临沭县24小时政务服务大厅".into(),
                version: "0.1.0".into(),
                printer: ReasonKind::PrinterPaperOut,
                printer_code: "paper_out".into(),
                printer_near_end: false,
                reader_ok: true,
                entries: "42".into(),
                journal_check: kiosk::ui::JournalCheck::Intact,
                journal_problem: "".into(),
            });
        }
        other => panic!("no screenshot case {other}"),
    }
}

/// 事项查询's screens with the sample catalogue, through the page's own rendering.
fn show_find(window: &AppWindow, case: &str, english: bool) {
    use kiosk::flows::find::{Groups, GuideState, RESULTS, Source, Step};
    let c = kiosk::catalogue::Catalogue::sample();
    let search = |q: &str| {
        let found = c.index.search(q, RESULTS);
        Step::Search {
            query: q.into(),
            results: found.hits.iter().map(|h| h.item).collect(),
            total: found.total,
            approximate: found.approximate,
            first: 0,
        }
    };
    let step = match case {
        "find-start" => search(""),
        "find-search" => search("bdc"),
        "find-groups" => Step::Groups { groups: Groups::Departments, first: 0 },
        "find-list" => {
            Step::List { source: Source::Frequent, items: c.list(|i| i.high_frequency), first: 0, groups_first: 0 }
        }
        "find-item" => Step::Item {
            item: c.items.iter().position(|i| i.code == "371329-ZR-001").unwrap(),
            from: Source::Search,
            guide: GuideState::Printed,
            town: None,
            back: Box::new(search("bdc")),
        },
        _ => {
            // An item a village station and partner points handle, seen from the citizen's town.
            let item = c
                .items
                .iter()
                .position(|i| i.levels.contains(&kiosk::catalogue::Level::Village) && c.points_for(i).count() > 1)
                .unwrap();
            let town = c.points_for(&c.items[item]).next().unwrap().town.clone();
            let page = Step::Item {
                item,
                from: Source::Village,
                guide: GuideState::None,
                town: (case == "find-item-town").then_some(town),
                back: Box::new(search("")),
            };
            if case == "find-towns" {
                // The page's title is the item's: show the item first, as the citizen came from it.
                kiosk::ui::find::show(window, &c, &page, &[], english);
                Step::Towns { item: Box::new(page), first: 0 }
            } else {
                page
            }
        }
    };
    let categories = Config::demo(std::path::Path::new("/nonexistent")).queue.categories;
    window.global::<kiosk::ui::FindAdapter>().set_levels(kiosk::ui::session::levels());
    kiosk::ui::find::show(window, &c, &step, &categories, english);
}

/// The longest lists the platform's bounds let through (50 rows, `platform::bounds::MAX_ROWS`), each with the
/// page on its first page: what the geometry test checks the pager and the rows of.
fn show_long_list(window: &AppWindow, base: &str) {
    use kiosk::ui::{AddressRow, AppointmentAdapter, AppointmentRow, CaseAdapter, CaseRow};
    let n = kiosk::platform::bounds::MAX_ROWS;
    match base {
        "appointment-list" => {
            let a = window.global::<AppointmentAdapter>();
            a.set_first(0);
            a.set_rows(ModelRc::new(VecModel::from(
                (0..n)
                    .map(|i| AppointmentRow {
                        code: format!("261127{i:02}").into(),
                        time: format!("{:02}:{:02}", 8 + i / 6, (i % 6) * 10).into(),
                        item: "社会保障卡补换".into(),
                        category: "A".into(),
                        state: (i % 4) as i32,
                        opens: "13:00".into(),
                    })
                    .collect::<Vec<_>>(),
            )));
        }
        "case-list" => {
            let a = window.global::<CaseAdapter>();
            a.set_first_case(0);
            a.set_cases(ModelRc::new(VecModel::from(
                (0..n)
                    .map(|i| CaseRow {
                        number: format!("2026112{i:05}").into(),
                        masked: format!("2026****{i:04}").into(),
                        item: "高龄津贴申领".into(),
                        state: (i % 3) as i32,
                    })
                    .collect::<Vec<_>>(),
            )));
        }
        "case-addresses" => {
            let a = window.global::<CaseAdapter>();
            a.set_first_address(0);
            a.set_addresses(ModelRc::new(VecModel::from(
                (0..n)
                    .map(|i| AddressRow {
                        id: format!("addr-{i}").into(),
                        masked: format!("临沭县青云镇青云路**号 {i} 单元 李**").into(),
                    })
                    .collect::<Vec<_>>(),
            )));
        }
        other => panic!("no long list for {other}"),
    }
}

/// Pages with the longest list the platform may send, for the geometry and accessibility walks (not the
/// screenshots).
pub const LONG_CASES: [&str; 3] = ["appointment-list-long", "case-list-long", "case-addresses-long"];

/// The pages under test.
pub const CASES: [&str; 34] = [
    "home",
    "take-number",
    "ticket-taken",
    "ticket-taken-here-only",
    "ticket-shown",
    "ticket-failed",
    "still-working",
    "idle-prompt",
    "licence-card",
    "licence-card-expired",
    "licence-documents",
    "licence-copies",
    "licence-done",
    "rating",
    "rating-choose",
    "rating-number",
    "take-card",
    "find-start",
    "find-search",
    "find-groups",
    "find-list",
    "find-item",
    "find-towns",
    "find-item-town",
    "appointment-identify",
    "appointment-list",
    "appointment-done",
    "case-identify",
    "case-list",
    "case-steps",
    "case-addresses",
    "case-confirm",
    "maintenance-pin",
    "maintenance",
];
