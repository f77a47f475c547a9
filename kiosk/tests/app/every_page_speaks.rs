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
    // Items outside 常办事项 the sample catalogue has no English for: the English voice reads their Chinese
    // names (with the Chinese voice), as the screen shows them.
    let catalogue = kiosk::catalogue::Catalogue::sample();
    let chinese_only: Vec<&str> =
        catalogue.items.iter().filter(|i| i.name_en.is_empty()).map(|i| i.name.as_str()).collect();
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
                for d in data.iter().chain(&chinese_only) {
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

/// What reaches speech-dispatcher (issue #30 item 3): with the voice on, entering each page sends its words
/// over the daemon's socket (a stand-in that answers SSIP as the daemon does), in the screen's language — the
/// English voice for English, the Chinese voice for the Chinese data in it — and slower in elder mode.
#[test]
fn entering_every_page_sends_its_words_to_speech_dispatcher() {
    use crate::common::{drive, sleep};
    use kiosk::ui::{AppAdapter, Page};
    use kiosk::voice::{Speaker, Spoken, utterances};
    use std::time::{Duration, Instant};

    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let daemon = std::rc::Rc::new(crate::support::FakeSpeechd::start(dir.path()));
    let mut config = Config::demo(dir.path());
    config.voice.engine = kiosk::config::VoiceEngine::SpeechDispatcher;
    config.voice.socket = Some(daemon.path.clone());
    config.voice.mode = kiosk::config::VoiceMode::Always;
    let speaker = Speaker::start(&config.voice);

    // Each page's words as the voice splits them, with the language and rate each part went out with.
    type Sent = Vec<(String, String, String)>;
    // Per page: where it was, which window, how many texts the daemon had before entering it, and its parts.
    type Entered = (String, usize, usize, Sent);
    let expected: std::rc::Rc<std::cell::RefCell<Vec<Entered>>> = Default::default();
    let (exp, spk, cfg, fake) = (expected.clone(), speaker.clone(), config.clone(), daemon.clone());
    let failures: Vec<String> = drive(async move {
        let mut failures = vec![];
        for english in [false, true] {
            for elder in [false, true] {
                let mut config = cfg.clone();
                config.ui.elder_mode = elder;
                config.kiosk.languages =
                    if english { vec!["en".into(), "zh-CN".into()] } else { vec!["zh-CN".into(), "en".into()] };
                let window = kiosk::app::build_window(&config).unwrap();
                kiosk::ui::home::bind_voice(&window, spk.clone());
                window.show().unwrap();
                for case in CASES.into_iter().filter(|c| !c.starts_with("maintenance")) {
                    // From a page with no words (the maintenance screen), so every entry is a change of words.
                    window.global::<AppAdapter>().set_page(Page::Maintenance);
                    sleep(20).await;
                    let sent_before = fake.texts().len();
                    show_case(&window, case, english);
                    // As on the kiosk's screen, the event loop turns once (the window's change handlers run)
                    // before the next frame lays the new page out.
                    sleep(20).await;
                    let at = format!("{case} ({}, elder {elder})", if english { "en" } else { "zh" });
                    // The window's words (the page's, or the idle question, or "still working") settle on the
                    // event loop, and the voice's owner thread speaks on its own time: wait, with a deadline,
                    // until the daemon has as many parts as the words make.
                    let deadline = Instant::now() + Duration::from_secs(10);
                    let parts: Sent = loop {
                        // The page's elements laid out, as a frame on the kiosk's screen lays them out (the
                        // testing backend draws no frames of its own).
                        crate::common::on_screen(&window);
                        sleep(10).await;
                        let said = window.global::<kiosk::ui::Guide>().get_prompt().to_string();
                        let parts: Sent = utterances(&Spoken { text: said, english, slow: elder })
                            .into_iter()
                            .map(|p| {
                                let lang = if p.english { "en" } else { "zh" };
                                (p.text, lang.to_string(), if elder { "-25" } else { "0" }.to_string())
                            })
                            .collect();
                        if (!parts.is_empty() && fake.texts().len() >= sent_before + parts.len())
                            || Instant::now() > deadline
                        {
                            break parts;
                        }
                    };
                    if parts.is_empty() {
                        failures.push(format!("{at}: no words"));
                    }
                    exp.borrow_mut().push((at, usize::from(english) * 2 + usize::from(elder), sent_before, parts));
                }
                window.hide().unwrap();
            }
        }
        Ok(failures)
    });
    speaker.stop();
    let mut failures = failures;

    // Replay what the daemon was sent: the settings in force at each SPEAK, and the text that followed it.
    let (lines, texts) = (daemon.lines(), daemon.texts());
    let (mut lang, mut rate) = (String::new(), String::new());
    let mut sent: Vec<(String, String, String)> = vec![];
    for line in &lines {
        if let Some(l) = line.strip_prefix("SET SELF LANGUAGE ") {
            lang = l.to_string();
        } else if let Some(r) = line.strip_prefix("SET SELF RATE ") {
            rate = r.to_string();
        } else if line == "SPEAK" {
            let text = texts.get(sent.len()).cloned().unwrap_or_default();
            sent.push((text, lang.clone(), rate.clone()));
        }
    }
    let expected = expected.borrow();
    for (i, (page, window, from, parts)) in expected.iter().enumerate() {
        let got = sent.get(*from..from + parts.len());
        if got != Some(&parts[..]) {
            failures.push(format!("{page}: expected {parts:?}, speech-dispatcher got {got:?}"));
        }
        // Nothing more while the page was shown (a window's first showing of home is before its first page).
        let until = match expected.get(i + 1) {
            Some((_, next_window, next_from, _)) if next_window == window => *next_from,
            _ => from + parts.len(),
        };
        if until > from + parts.len() {
            failures.push(format!("{page}: said more than its words: {:?}", &sent[from + parts.len()..until]));
        }
    }
    assert!(failures.is_empty(), "{} pages:\n{}", failures.len(), failures.join("\n"));
    assert!(expected.len() >= 100, "{} pages", expected.len());
}
