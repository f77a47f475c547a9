//! Touch to hear (issue #30 item 3): a citizen who cannot read turns the voice on (语音播报) and finds their way by
//! touch — a first touch reads a button, a second touch on it acts. The test drives the kiosk by what it hears:
//! it touches the buttons on screen one after another (by where they are, not by what they say) until the voice
//! names what it wants, then touches that one again; so it takes a number, prints a licence and checks in.
//! A touch that only read a button changes nothing, and a screen reader's action still acts at once.

use i_slint_backend_testing::{ElementHandle, ElementQuery};
use kiosk::voice::Speaker as VoiceHandle;
use slint::ComponentHandle;
use slint::platform::PointerEventButton;

use crate::common::appointments::config_and_standin;
use crate::common::{drive, find, sleep};

/// The buttons on screen now, in tree order, with the centre each is touched at.
fn buttons(window: &kiosk::ui::AppWindow) -> Vec<ElementHandle> {
    ElementQuery::from_root(window)
        .match_accessible_role(i_slint_backend_testing::AccessibleRole::Button)
        .find_all()
        .into_iter()
        .filter(|b| b.size().width > 0.0 && b.size().height > 0.0)
        // The demo's simulator panel is the presenter's, not the citizen's (a box has none).
        .filter(|b| !b.accessible_label().is_some_and(|l| l.starts_with("模拟器")))
        .collect()
}

fn last_said(voice: &VoiceHandle) -> String {
    voice.recent().last().map(|s| s.text.clone()).unwrap_or_default()
}

/// Touches each button once until the voice says `wanted` (a first touch only reads), then touches that one
/// again (the second touch acts). Err when no button on screen says it.
async fn touch_until(window: &kiosk::ui::AppWindow, voice: &VoiceHandle, wanted: &str) -> Result<(), String> {
    let mut heard = vec![];
    'screen: for _ in 0..100 {
        let on_screen = buttons(window);
        for (i, b) in on_screen.iter().enumerate() {
            if !b.is_valid() {
                // The screen changed under the finger (a card read, a list arrived): start over on the new one.
                continue 'screen;
            }
            // The voice keeps its last 64 texts: a new one shows as a change of that list.
            let before = voice.recent();
            b.single_click(PointerEventButton::Left).await;
            sleep(30).await;
            let said = last_said(voice);
            if voice.recent() == before {
                let labels: Vec<String> =
                    on_screen.iter().map(|b| b.accessible_label().unwrap_or_default().to_string()).collect();
                return Err(format!(
                    "looking for {wanted:?}, touching button {i} of {labels:?} said nothing (heard so far: {heard:?})"
                ));
            }
            if said.contains(wanted) {
                // The same button, found again where it was (the screen may have been redrawn).
                let again = buttons(window).into_iter().nth(i).ok_or("the button went away")?;
                let before = voice.recent();
                again.single_click(PointerEventButton::Left).await;
                sleep(30).await;
                if voice.recent() != before && last_said(voice) == said {
                    return Err(format!(
                        "the second touch on {said:?} read it again instead of acting ({:?})",
                        voice.recent()
                    ));
                }
                return Ok(());
            }
            heard.push(said);
        }
        // Nothing here says it yet (a list still loading): listen again.
        sleep(200).await;
        if heard.len() > 400 {
            break;
        }
    }
    Err(format!("no button said {wanted:?}; heard {heard:?}"))
}

async fn hear(voice: &VoiceHandle, wanted: &str) -> Result<(), String> {
    for _ in 0..200 {
        if voice.recent().iter().any(|s| s.text.contains(wanted)) {
            return Ok(());
        }
        sleep(50).await;
    }
    Err(format!("never heard {wanted:?}: {:?}", voice.recent().iter().map(|s| s.text.clone()).collect::<Vec<_>>()))
}

#[test]
fn a_citizen_who_cannot_read_takes_a_number_prints_a_licence_and_checks_in_by_touch_and_voice() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let (mut config, _standin) = config_and_standin(dir.path(), kiosk::demo::standin::Fault::None);
    let samples = dir.path().join("samples.jsonl");
    std::fs::write(&samples, kiosk::licence::SAMPLE_DOCUMENTS).unwrap();
    kiosk::cli::import_file(&config, &samples).unwrap();
    // The voice is the hall's default (standard mode: quiet until asked), heard through what it is given.
    config.voice.mode = kiosk::config::VoiceMode::Elder;
    config.voice.engine = kiosk::config::VoiceEngine::None;
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let reader = kiosk.reader.clone();
    let voice = kiosk.voice.clone();
    // The script's own errors are sentences built as it goes: carried out of the event loop as a value.
    let outcome: Result<(), String> = drive(async move {
        Ok(async move {
            let sim = reader.simulator.clone().ok_or("no simulated reader")?;
            let place = |i: usize| sim.lock().map(|mut s| s.place(i)).map_err(|_| "sim".to_owned());
            let remove = || sim.lock().map(|mut s| s.remove()).map_err(|_| "sim".to_owned());
            // The one thing found by its label: the voice button, which the hall marks for touch.
            let button = find(&window, "语音播报 Read aloud").await.ok_or("no voice button")?;
            button.single_click(PointerEventButton::Left).await;
            hear(&voice, "取号").await?;

            // A first touch on 取号 only reads it: the home screen stays.
            touch_until(&window, &voice, "取号").await?;
            hear(&voice, "请选择要办理的业务").await?;
            touch_until(&window, &voice, "综合业务").await?;
            hear(&voice, "您的号码是").await?;
            touch_until(&window, &voice, "返回首页").await?;
            find(&window, "取号 Take a number").await.ok_or("not home after the ticket")?;

            // A licence: the card on the reader, the document heard and chosen, printed.
            touch_until(&window, &voice, "证照打印").await?;
            place(1)?;
            // The list is there once the page says it (the citizen waits for the voice too).
            hear(&voice, "请选择要打印的证照").await?;
            touch_until(&window, &voice, "营业执照").await?;
            hear(&voice, "请选择份数").await?;
            touch_until(&window, &voice, "开始打印").await?;
            hear(&voice, "打印完成").await?;
            remove()?;
            touch_until(&window, &voice, "返回首页").await?;
            find(&window, "取号 Take a number").await.ok_or("not home after the licence")?;
            // The reader notices the card gone before the next one, as a hand takes a moment.
            sleep(1500).await;

            // A check-in: the card finds today's appointments; the one open now is heard with its time and matter.
            touch_until(&window, &voice, "预约签到").await?;
            place(1)?;
            hear(&voice, "请选择要签到的预约").await?;
            touch_until(&window, &voice, "户籍证明开具，签到").await?;
            hear(&voice, "签到成功").await?;
            remove()?;
            Ok::<(), String>(())
        }
        .await)
    });
    kiosk.shutdown(true).unwrap();
    outcome.unwrap();
    let printed: Vec<String> = std::fs::read_dir(dir.path().join("printed"))
        .unwrap()
        .flatten()
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(printed.len() >= 2, "the ticket and the check-in's ticket printed: {printed:?}");
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let kinds = |kind: &str| -> i64 {
        conn.query_row("SELECT count(*) FROM entries WHERE kind = ?1", [kind], |r| r.get(0)).unwrap()
    };
    assert_eq!(kinds("ticket_issued"), 2, "one ticket taken, one for the check-in");
    assert_eq!(kinds("licence_printed"), 1);
    assert_eq!(kinds("appointment_checked_in"), 1);
}
