//! The voice on every page (issue #30 item 3): each main page, in Chinese and in English, in both modes, has
//! words for the voice to say on entering it, in the screen's language — what `Guide.speak` sends to
//! speech-dispatcher when the voice is on. An English page's words hold no Chinese but the data the page
//! shows (a name, an address as the document writes it) and the language switch's own name.

use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use kiosk::config::Config;
use kiosk::ui::{Lang, SessionAdapter};
use kiosk::vocabulary::has_han as han;
use slint::ComponentHandle;

use crate::common::pages::{CASES, show_case};

#[test]
fn every_page_has_words_for_the_voice_in_the_screens_language() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        renderer_name: Some("software".into()),
        ..Default::default()
    })))
    .ok();
    let dir = tempfile::tempdir().unwrap();
    // Data the sample pages show, written as the documents and the platform write them.
    let data = ["李*梅", "临沭县青云镇青云路**号 李**", "临沭县临沭街道滨河路***号 李**", "中文"];
    let mut failures = vec![];
    let mut heard = 0;
    for english in [false, true] {
        for elder in [false, true] {
            for case in CASES.into_iter().filter(|c| !c.starts_with("maintenance")) {
                let mut config = Config::demo(dir.path());
                config.ui.elder_mode = elder;
                config.kiosk.languages =
                    if english { vec!["en".into(), "zh-CN".into()] } else { vec!["zh-CN".into(), "en".into()] };
                let window = kiosk::app::build_window(&config).unwrap();
                show_case(&window, case, english);
                assert_eq!(window.global::<Lang>().get_english(), english);
                window.show().unwrap();
                let said = window.global::<SessionAdapter>().get_spoken().to_string();
                let at = format!("{case} ({}, elder {elder})", if english { "en" } else { "zh" });
                let mut rest = said.clone();
                for d in data {
                    rest = rest.replace(d, "");
                }
                if said.trim().is_empty() {
                    failures.push(format!("{at}: says nothing"));
                } else if english && han(&rest) {
                    failures.push(format!("{at}: Chinese in the English voice: {said:?}"));
                } else if !english && !han(&said) {
                    failures.push(format!("{at}: no Chinese in the Chinese voice: {said:?}"));
                } else {
                    heard += 1;
                }
                window.hide().unwrap();
            }
        }
    }
    assert!(failures.is_empty(), "{} pages:\n{}", failures.len(), failures.join("\n"));
    assert!(heard >= 100, "{heard} pages heard");
}
