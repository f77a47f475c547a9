//! One way to translate: with a pseudo-locale in which every catalogue string is bracketed ⟦…⟧ (generated
//! by build.rs from the English catalogue), every page in both orientations and both modes shows no text
//! that did not come through the catalogue — only bracketed sentences and data (names from the
//! configuration, numbers, keys). Adding a language is adding one catalogue.

use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use kiosk::config::{Config, Orientation};
use kiosk::ui::{HomeAdapter, Theme};
use slint::ComponentHandle;

use crate::common::pages::{CASES, show_case};

/// What a text is left with once its bracketed parts and the data the page shows are taken out.
fn untranslated(text: &str, data: &[String]) -> String {
    let mut rest = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '⟦' => depth += 1,
            '⟧' => depth -= 1,
            _ if depth == 0 => rest.push(c),
            _ => {}
        }
    }
    for d in data {
        rest = rest.replace(d.as_str(), " ");
    }
    // Numbers, punctuation and single keys of a keyboard are the same in every language.
    rest.split_whitespace().filter(|w| w.chars().any(char::is_alphabetic) && w.chars().count() > 1).collect()
}

#[test]
fn every_text_on_every_page_goes_through_the_catalogue() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        renderer_name: Some("software".into()),
        ..Default::default()
    })))
    .ok();
    let dir = tempfile::tempdir().unwrap();
    let base = Config::demo(dir.path());
    // Data, not sentences: the hall, the categories, the sample documents and ticket, the language switch's
    // own names.
    let mut data: Vec<String> = vec![base.kiosk.hall_name.clone(), "English".into(), "中文".into()];
    for c in &base.queue.categories {
        data.extend([c.name_zh.clone(), c.name_en.clone(), c.window_zh.clone(), c.window_en.clone()]);
    }
    data.extend(
        [
            "营业执照（副本）",
            "Business licence (copy)",
            "证明",
            "Certificate of proof",
            "临沭人社**********927号",
            "9137**********O01X",
            "A023",
            "A024",
            "临沭县某商贸有限公司",
            "李小梅",
            "李*梅",
            "1–3 号窗口",
            "windows 1–3",
            "A002",
            "户籍证明开具",
            "社会保障卡补换",
            "不动产登记",
            "居民身份证换领",
            "高龄津贴申领",
            "2026****0123",
            "2026****0456",
            "2026****0789",
            "临沭县青云镇青云路**号 李**",
            "临沭县临沭街道滨河路***号 李**",
            "2026-11-20 09:00",
            "2026-11-22 10:30",
            "2026-11-26 16:00",
        ]
        .map(String::from),
    );
    // The sample catalogue's names: data from the catalogue file, in the language the county writes it.
    let catalogue = kiosk::catalogue::Catalogue::sample();
    data.push(catalogue.header.updated.clone());
    data.push("BDC".into()); // what the citizen typed
    data.extend(catalogue.departments.iter().map(|d| d.name.clone()));
    data.extend(catalogue.themes.iter().map(|t| t.name.clone()));
    for item in &catalogue.items {
        data.extend([item.name.clone(), item.short_name.clone(), item.fee.clone()]);
        data.extend(item.common_names.iter().cloned());
        data.extend(item.materials.iter().flat_map(|m| [m.name.clone(), m.note.clone()]));
    }
    for p in &catalogue.partners.points {
        data.extend([p.name.clone(), p.town.clone(), p.hours.clone()]);
    }
    data.retain(|d| !d.is_empty());
    data.sort_by_key(|d| std::cmp::Reverse(d.len()));
    let mut failures = Vec::new();
    let mut seen = 0;
    for orientation in [Orientation::Landscape, Orientation::Portrait] {
        for elder in [false, true] {
            for case in CASES {
                let mut config = base.clone();
                config.ui.orientation = orientation;
                config.ui.elder_mode = elder;
                let window = kiosk::app::build_window(&config).unwrap();
                slint::select_bundled_translation("pseudo").unwrap();
                window.global::<HomeAdapter>().set_clock("2026-11-25 09:30".into());
                show_case(&window, case, false);
                assert_eq!(window.global::<Theme>().get_elder_mode(), elder);
                window.show().unwrap();
                // What a screen reader and the eye get: every element's label and description (a Text's
                // label is its text; a tile or button carries the texts drawn inside it).
                let mut shown_texts = vec![];
                for e in i_slint_backend_testing::ElementQuery::from_root(&window).match_descendants().find_all() {
                    shown_texts.extend(e.accessible_label().map(|l| l.to_string()));
                    shown_texts.extend(e.accessible_description().map(|l| l.to_string()));
                }
                for shown in shown_texts {
                    if shown.trim().is_empty() {
                        continue;
                    }
                    seen += 1;
                    let left = untranslated(&shown, &data);
                    if !left.is_empty() {
                        failures.push(format!("{case} ({orientation:?}, elder {elder}): \"{shown}\""));
                    }
                }
                window.hide().unwrap();
            }
        }
    }
    slint::select_bundled_translation("").unwrap();
    assert!(seen > 200, "the walk found the pages' texts: {seen}");
    failures.sort();
    failures.dedup();
    assert!(failures.is_empty(), "text on screen that is not in the catalogue:\n{}", failures.join("\n"));
}
