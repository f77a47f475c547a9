//! No dead ends (issue #30 item 5): with the provincial platform unreachable, 办件查询 and 预约签到 read the card
//! and then said "go to a counter" with nothing else offered — at night in a 24-hour hall there is none. Now
//! the failure says what can be done (a ticket, 呼叫帮办, the hotline), says it aloud, and 取号办理 goes on to
//! take-a-number in the same visit.

use kiosk::demo::standin::Fault;
use slint::ComponentHandle;

use crate::common::appointments::{config_and_standin, journal_rows};
use crate::common::{drive, find};

#[test]
fn with_the_platform_unreachable_a_failed_lookup_offers_a_ticket_and_the_hotline() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let (mut config, standin) = config_and_standin(dir.path(), Fault::None);
    // Nothing listens where the platform should be: every call is refused at once.
    let port = crate::common::CLOSED_PORT;
    drop(standin);
    config.platform.url = Some(format!("https://127.0.0.1:{port}"));
    config.ui.hotline = "0539-12345".into();
    config.voice.mode = kiosk::config::VoiceMode::Always;
    config.voice.engine = kiosk::config::VoiceEngine::None;
    let kiosk = kiosk::app::start(config).unwrap();
    let (window, reader, voice) = (kiosk.window.clone_strong(), kiosk.reader.clone(), kiosk.voice.clone());
    drive(async move {
        let sim = reader.simulator.clone().ok_or("no simulated reader")?;
        for (tile, prompt) in [
            ("办件查询 Case progress", "或输入办件编号 Or type the case number"),
            ("预约签到 Appointment check-in", "或输入预约码 Or type your appointment code"),
        ] {
            find(&window, tile).await.ok_or("no tile")?.invoke_accessible_default_action();
            find(&window, prompt).await.ok_or("no card prompt")?;
            sim.lock().map_err(|_| "sim")?.place(1);
            find(&window, "您可以取号到窗口办理，或点“呼叫帮办” You can take a number for the counters, or tap Call for assistance")
                .await
                .ok_or("the failure offers nothing")?;
            find(&window, "也可拨打服务热线 0539-12345 Or call the service hotline 0539-12345")
                .await
                .ok_or("no hotline")?;
            find(&window, "取号办理 Take a number for it").await.ok_or("no way on")?.invoke_accessible_default_action();
            // Take-a-number opens in the same visit, on its categories.
            find(&window, "帮办代办 Accompanied service").await.ok_or("take-a-number did not open")?;
            crate::common::find_starting(&window, "返回首页")
                .await
                .ok_or("no home button")?
                .invoke_accessible_default_action();
            sim.lock().map_err(|_| "sim")?.remove();
            find(&window, "取号 Take a number").await.ok_or("not home")?;
        }
        Ok(())
    });
    let spoken: Vec<String> = kiosk.voice.recent().into_iter().map(|s| s.text).collect();
    let _ = voice;
    kiosk.shutdown(true).unwrap();
    assert!(
        spoken.iter().any(|s| s.contains("您可以取号到窗口办理，或点呼叫帮办。也可拨打服务热线 0539-12345。")),
        "the way on is said: {spoken:#?}"
    );
    let ends = journal_rows(dir.path(), "'session_end'");
    assert!(ends.iter().filter(|e| e.contains("handed_over")).count() >= 2, "{ends:#?}");
}

/// Issue #30 item 5: the tiles say the platform is away before a citizen starts (they stay usable: the
/// flows offer a ticket, the imported appointments, the hotline), and say nothing while it answers.
#[test]
fn the_tiles_say_the_platform_is_away_before_anyone_starts() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let away = "省政务服务平台暂时连不上，可取号到窗口办理";
    for reachable in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (mut config, _standin) = config_and_standin(dir.path(), Fault::None);
        if !reachable {
            let port = crate::common::CLOSED_PORT;
            config.platform.url = Some(format!("https://127.0.0.1:{port}"));
        }
        let kiosk = kiosk::app::start(config).unwrap();
        let window = kiosk.window.clone_strong();
        let said = drive(async move {
            let mut said = vec![];
            for tile in ["办件查询 Case progress", "预约签到 Appointment check-in"] {
                let mut t = find(&window, tile).await.ok_or("no tile")?;
                // The probe asks at start; its answer reaches the tile within a second or two (a reachable
                // platform is watched for the whole four seconds: the tile must stay clear). The tile is
                // found afresh each time: a change of state makes the home screen draw new tiles, and a
                // handle to the old one reads nothing (the full suite's load once showed it).
                let mut description = String::new();
                for _ in 0..40 {
                    t = crate::common::find_now(&window, tile).unwrap_or(t);
                    description = t.accessible_description().map(|d| d.to_string()).unwrap_or_default();
                    if description == away {
                        break;
                    }
                    crate::common::sleep(100).await;
                }
                if !t.accessible_enabled().unwrap_or(false) {
                    return Err("the tile was disabled: its flow still has a way on without the platform");
                }
                said.push(description);
            }
            Ok::<Vec<String>, &str>(said)
        });
        kiosk.shutdown(true).unwrap();
        let want = if reachable { "" } else { away };
        assert_eq!(said, [want, want], "platform reachable: {reachable}");
    }
}
