//! An English screen shows English data (issue #30 item 4): 事项查询's 常办事项 walked in English — every page of
//! the list, every frequent item's page (with and without a town chosen, and its town picker), the themes and
//! the departments — in both orientations and modes, with no Chinese character on screen or in what the voice
//! says. The one Chinese word allowed is the language switch's own name, 中文. English search finds items by
//! their English names.

use i_slint_backend_testing::{ElementQuery, TestingBackend, TestingBackendOptions};
use kiosk::catalogue::Catalogue;
use kiosk::config::{Config, Orientation};
use kiosk::flows::find::{Groups, GuideState, Source, Step};
use kiosk::ui::{AppAdapter, FindAdapter, Lang, Page, SessionAdapter, Theme};
use kiosk::vocabulary::has_han as han;
use slint::ComponentHandle;

/// Every step a citizen reading English meets in 常办事项, with what it is called in a failure.
fn steps(c: &Catalogue) -> Vec<(String, Step)> {
    let frequent = c.list(|i| i.high_frequency);
    let mut steps = vec![];
    for first in (0..frequent.len()).step_by(6) {
        steps.push((
            format!("常办事项 from {first}"),
            Step::List { source: Source::Frequent, items: frequent.clone(), first, groups_first: 0 },
        ));
    }
    steps.push(("themes".into(), Step::Groups { groups: Groups::Themes, first: 0 }));
    steps.push(("departments".into(), Step::Groups { groups: Groups::Departments, first: 0 }));
    for &item in &frequent {
        let code = &c.items[item].code;
        let back =
            Box::new(Step::List { source: Source::Frequent, items: frequent.clone(), first: 0, groups_first: 0 });
        let page =
            |town: Option<String>, guide| Step::Item { item, from: Source::Frequent, guide, town, back: back.clone() };
        steps.push((code.to_string(), page(None, GuideState::None)));
        steps.push((format!("{code}, its guide printed"), page(None, GuideState::Printed)));
        let town =
            c.points_for(&c.items[item]).next().map(|p| p.town.clone()).unwrap_or_else(|| c.towns()[0].to_owned());
        steps.push((format!("{code} in {town}"), page(Some(town), GuideState::None)));
        steps.push((
            format!("{code}: choose a town"),
            Step::Towns { item: Box::new(page(None, GuideState::None)), first: 0 },
        ));
    }
    steps
}

#[test]
fn an_english_screen_shows_no_chinese_in_the_frequent_items_and_their_pages() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        renderer_name: Some("software".into()),
        ..Default::default()
    })))
    .ok();
    let dir = tempfile::tempdir().unwrap();
    let c = Catalogue::sample();
    let steps = steps(&c);
    let mut failures = vec![];
    let mut seen = 0;
    for orientation in [Orientation::Landscape, Orientation::Portrait] {
        for elder in [false, true] {
            let mut config = Config::demo(dir.path());
            config.ui.orientation = orientation;
            config.ui.elder_mode = elder;
            config.kiosk.languages = vec!["en".into(), "zh-CN".into()];
            let window = kiosk::app::build_window(&config).unwrap();
            assert!(window.global::<Lang>().get_english());
            assert_eq!(window.global::<Theme>().get_elder_mode(), elder);
            window.global::<AppAdapter>().set_page(Page::FindService);
            window.global::<FindAdapter>().set_levels(kiosk::ui::session::levels());
            window.show().unwrap();
            for (name, step) in &steps {
                if let Step::Towns { item, .. } = step {
                    // The picker's title is the item's: the citizen came from it.
                    kiosk::ui::find::show(&window, &c, item, &config.queue.categories, true);
                }
                kiosk::ui::find::show(&window, &c, step, &config.queue.categories, true);
                let mut texts: Vec<(&str, String)> = vec![];
                for e in ElementQuery::from_root(&window).match_descendants().find_all() {
                    texts.extend(e.accessible_label().map(|l| ("on screen", l.to_string())));
                    texts.extend(e.accessible_description().map(|l| ("on screen", l.to_string())));
                }
                // What the voice says on entering the step (the page's own words, before the session copies them).
                let spoken = window.global::<FindAdapter>().get_spoken().to_string();
                assert!(!spoken.is_empty(), "{name}: the page says nothing");
                texts.push(("spoken", spoken));
                for (where_, text) in texts {
                    seen += 1;
                    if han(&text.replace("中文", "")) {
                        failures.push(format!("{name} ({orientation:?}, elder {elder}), {where_}: \"{text}\""));
                    }
                }
            }
            window.hide().unwrap();
        }
    }
    assert!(seen > 1000, "the walk read the pages: {seen} texts");
    failures.sort();
    failures.dedup();
    assert!(failures.is_empty(), "{} Chinese texts on English screens:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn english_words_find_items_by_their_english_names() {
    let c = Catalogue::sample();
    let first = |q: &str| c.index.search(q, 5).hits.first().map(|h| c.items[h.item].code.clone());
    assert_eq!(first("real estate registration").as_deref(), Some("371329-ZR-001"), "the whole English name");
    assert_eq!(first("house deed").as_deref(), Some("371329-ZR-001"), "a whole English common name");
    assert_eq!(first("idcard").as_deref(), Some("371329-GA-001"), "letters run together");
    let legal = c.index.search("legal aid", 5);
    assert!(legal.hits.iter().any(|h| c.items[h.item].code == "371329-SF-001"), "{legal:?}");
    // The pinyin search is unchanged.
    assert_eq!(first("bdc").as_deref().map(|code| code.starts_with("371329-ZR")), Some(true));
}

/// An English field that holds Chinese is refused, with where.
#[test]
fn an_english_field_with_chinese_in_it_is_refused_where_it_is() {
    let src = kiosk::catalogue::SAMPLE_CATALOGUE.replacen(
        "name_en = \"Real estate registration\"",
        "name_en = \"Real estate 登记\"",
        1,
    );
    assert_ne!(src, kiosk::catalogue::SAMPLE_CATALOGUE);
    let err = Catalogue::from_sources(&src, std::path::Path::new("catalogue.toml"), None).unwrap_err().to_string();
    assert!(err.contains("name_en") && err.contains("holds Chinese characters"), "{err}");
    assert!(err.starts_with("catalogue.toml:"), "{err}");
}

/// Whether any element's label contains `text` now (a row's label holds its time or number beside the name).
fn shown_containing(window: &kiosk::ui::AppWindow, text: &str) -> bool {
    crate::common::on_screen(window).iter().any(|(_, label)| label.contains(text))
}

async fn wait_containing(window: &kiosk::ui::AppWindow, text: &str) -> bool {
    for _ in 0..200 {
        if shown_containing(window, text) {
            return true;
        }
        crate::common::sleep(50).await;
    }
    false
}

/// Cases and appointments come with their English names from the platform (the stand-in sends them, as
/// docs/backend-api.md's `item_name_en` says): an English screen lists them so, and the voice reads them so.
#[test]
fn cases_and_appointments_are_listed_by_the_english_names_the_platform_sends() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    for (tile, english, chinese) in [
        ("Case progress", "Real estate registration", "不动产登记"),
        ("Appointment check-in", "Household registration certificate", "户籍证明开具"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (mut config, _standin) =
            crate::common::appointments::config_and_standin(dir.path(), kiosk::demo::standin::Fault::None);
        config.kiosk.languages = vec!["en".into(), "zh-CN".into()];
        let kiosk = kiosk::app::start(config).unwrap();
        let window = kiosk.window.clone_strong();
        let reader = kiosk.reader.clone();
        let spoken = crate::common::drive(async move {
            let sim = reader.simulator.clone().ok_or("no simulated reader")?;
            crate::common::find(&window, tile).await.ok_or("no tile in English")?.invoke_accessible_default_action();
            // On the reader as the page opens: a card step reads a card already there.
            sim.lock().map_err(|_| "sim")?.place(1);
            if !wait_containing(&window, english).await {
                return Err("the list does not name the matter in English");
            }
            if shown_containing(&window, chinese) {
                return Err("the Chinese name is shown on the English screen");
            }
            Ok::<String, &str>(window.global::<SessionAdapter>().get_spoken().to_string())
        });
        kiosk.shutdown(true).unwrap();
        assert!(spoken.contains(english) && !han(&spoken), "{tile}: the voice says {spoken:?}");
    }
}

/// One is one in English: "1 service found", "1 working day", not "1 services", "1 working days".
#[test]
fn one_of_a_thing_is_singular_in_english() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        renderer_name: Some("software".into()),
        ..Default::default()
    })))
    .ok();
    let dir = tempfile::tempdir().unwrap();
    let c = Catalogue::sample();
    let mut config = Config::demo(dir.path());
    config.kiosk.languages = vec!["en".into(), "zh-CN".into()];
    let window = kiosk::app::build_window(&config).unwrap();
    window.global::<AppAdapter>().set_page(Page::FindService);
    window.show().unwrap();
    let labels = |window: &kiosk::ui::AppWindow| -> Vec<String> {
        ElementQuery::from_root(window)
            .match_descendants()
            .find_all()
            .into_iter()
            .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
            .collect()
    };
    let one = c.items.iter().position(|i| i.promised_days == 1).expect("an item promised in 1 working day");
    let search = Step::Search { query: "x".into(), results: vec![one], total: 1, approximate: false, first: 0 };
    kiosk::ui::find::show(&window, &c, &search, &config.queue.categories, true);
    let shown = labels(&window);
    assert!(shown.iter().any(|l| l == "1 service found"), "{shown:?}");
    assert_eq!(
        window.global::<FindAdapter>().get_spoken(),
        format!("1 service found; please choose it. 1: {}.", c.items[one].name_in(true))
    );
    let item = Step::Item {
        item: one,
        from: Source::Search,
        guide: GuideState::None,
        town: None,
        back: Box::new(search.clone()),
    };
    kiosk::ui::find::show(&window, &c, &item, &config.queue.categories, true);
    let shown = labels(&window);
    assert!(shown.iter().any(|l| l.contains("1 working day") && !l.contains("1 working days")), "{shown:?}");
    assert!(!shown.iter().any(|l| l.contains(" 1 working days")), "{shown:?}");
}
