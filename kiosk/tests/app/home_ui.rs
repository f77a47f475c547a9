//! The home screen under Slint's testing backend: language switch, elder mode, calling for help, 事项查询 searching.

use kiosk::config::Config;
use slint::ComponentHandle;
use std::time::{Duration, Instant};

use crate::common::{drive, find, find_starting, sleep};

#[test]
fn home_controls_work_and_find_a_service_searches() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    // No category shows its number on screen here: without paper, 取号 has nothing to give.
    config.queue.categories.iter_mut().for_each(|c| c.show_when_unprinted = false);
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let printer = kiosk.printer_sim.clone().expect("the demo prints to a virtual printer");
    let (ticket_printer, journal) = (kiosk.printer.clone(), kiosk.journal.clone());
    drive(async move {
        // The printer runs out of paper: 取号 is disabled and says why, until it is refilled.
        printer.set_status(drivers::escpos::virtual_printer::SimStatus::PaperOut);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let tile = find(&window, "取号 Take a number").await.ok_or("no tile")?;
            if tile.accessible_enabled() == Some(false) {
                if tile.accessible_description().as_deref() != Some("打印机缺纸，请联系工作人员") {
                    return Err("the disabled tile does not say the printer is out of paper");
                }
                break;
            }
            if Instant::now() > deadline {
                return Err("取号 stays enabled without paper");
            }
            sleep(200).await;
        }
        // A job meets the same outage: it fails, and the outage the probe journaled is not journaled again.
        let mut page = drivers::escpos::Document::default();
        page.blocks.push(drivers::escpos::Block::Text {
            text: "测试".into(),
            align: drivers::escpos::Align::Left,
            size: drivers::escpos::Size::Normal,
            bold: false,
        });
        if ticket_printer.print_document(&page, &journal).is_ok() {
            return Err("a job printed without paper");
        }
        printer.set_status(drivers::escpos::virtual_printer::SimStatus::Ok);
        let deadline = Instant::now() + Duration::from_secs(20);
        while find(&window, "取号 Take a number").await.and_then(|t| t.accessible_enabled()) != Some(true) {
            if Instant::now() > deadline {
                return Err("取号 did not come back after the paper was refilled");
            }
            sleep(200).await;
        }

        find(&window, "呼叫帮办 Call for assistance")
            .await
            .ok_or("no assistance button")?
            .invoke_accessible_default_action();
        // Help is coming, and how long it usually takes.
        find(&window, "已呼叫，约 3 分钟到 Called: help in about 3 min").await.ok_or("no notice after calling")?;

        find(&window, "长者模式 Elder mode").await.ok_or("no elder mode button")?.invoke_accessible_default_action();
        if !window.global::<kiosk::ui::Theme>().get_elder_mode() {
            return Err("elder mode did not switch on");
        }
        // Elder mode: every home target at least 72 px in both axes.
        for label in ["取号 Take a number", "标准模式 Standard mode", "English"] {
            let e = find(&window, label).await.ok_or("a target vanished")?;
            let size = e.size();
            if size.width < 72.0 || size.height < 72.0 {
                return Err("a target is under 72 px in elder mode");
            }
        }

        // 事项查询 searches as the initials are typed on its own keyboard (⌫ takes the last one back).
        find(&window, "事项查询 Find a service").await.ok_or("no look-up tile")?.invoke_accessible_default_action();
        for key in ["B", "D", "C", "X"] {
            find(&window, key).await.ok_or("no initials keyboard")?.invoke_accessible_default_action();
        }
        find(&window, "删除 Delete").await.ok_or("no delete key")?.invoke_accessible_default_action();
        find(&window, "已输入 BDC").await.ok_or("the entry does not show BDC")?;
        find(&window, "不动产登记 县自然资源和规划局").await.ok_or("no result for BDC")?;
        // The Home button counts down all the time, not only in the last ten seconds.
        let home = find_starting(&window, "返回首页（").await.ok_or("no way home with its countdown")?;
        if !home.accessible_label().is_some_and(|l| l.contains(" 秒） Home (") && l.ends_with(" s)")) {
            return Err("the Home button does not show the seconds left");
        }
        home.invoke_accessible_default_action();
        // 返回首页 ends the session, not the citizen's visit: elder mode stays (only a visit left idle goes
        // back to the standard mode, home_idle_ui); the citizen switches it off.
        find(&window, "标准模式 Standard mode")
            .await
            .ok_or("返回首页 ended the citizen's elder mode")?
            .invoke_accessible_default_action();
        find(&window, "长者模式 Elder mode").await.ok_or("elder mode did not switch off")?;

        find(&window, "English").await.ok_or("no language switch")?.invoke_accessible_default_action();
        find(&window, "Take a number").await.ok_or("the tiles did not switch to English")?;
        find(&window, "Called: help in about 3 min").await.ok_or("the buttons did not switch to English")?;
        find(&window, "中文").await.ok_or("no way back to Chinese")?.invoke_accessible_default_action();
        find(&window, "取号 Take a number").await.ok_or("the tiles did not switch back")?;
        // English for the citizen's visit: a second task after 返回首页 is still in English.
        find(&window, "English").await.ok_or("no language switch")?.invoke_accessible_default_action();
        find(&window, "Rate our service").await.ok_or("no rating tile in English")?.invoke_accessible_default_action();
        find_starting(&window, "Home (").await.ok_or("no way home in English")?.invoke_accessible_default_action();
        find(&window, "Rate our service").await.ok_or("返回首页 ended the citizen's English")?;
        Ok(())
    });
    // Stopping the kiosk waits for every worker: what the screen showed is in the journal.
    kiosk.shutdown(true).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let n: i64 =
        conn.query_row("SELECT count(*) FROM entries WHERE kind = 'assistance_called'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1, "calling for help is journaled once");
    let health: Vec<String> = conn
        .prepare("SELECT kind || ':' || coalesce(json_extract(payload, '$.fault'), '') FROM entries WHERE json_extract(payload, '$.device') = 'ticket_printer' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(health, ["device_fault:paper_out", "device_recovered:"]);
}

/// Issue #30 item 3: in standard mode the voice stays quiet unless a citizen asks for it; 语音播报 on the
/// home screen (or 再听一遍 on any page) turns it on for the visit, so every page after says itself; 关闭语音
/// turns it off again. Before, only elder mode (or the hall's setting) read the pages.
#[test]
fn a_citizen_turns_the_voice_on_for_the_visit() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    config.queue.categories.iter_mut().for_each(kiosk::config::CategoryConfig::open_round_the_clock);
    config.voice.engine = kiosk::config::VoiceEngine::None;
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let (voice, heard) = (kiosk.voice.clone(), kiosk.voice.clone());
    let said = move |text: &str| voice.recent().iter().filter(|s| s.text.starts_with(text)).count();
    let ticket_said = move || heard.recent().iter().any(|s| s.text.starts_with("您的号码是"));
    let categories = "请选择要办理的业务。";
    drive(async move {
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        find(&window, "帮办代办 Accompanied service").await.ok_or("no categories")?;
        sleep(300).await;
        if said(categories) != 0 {
            return Err("standard mode spoke without being asked");
        }
        find_starting(&window, "返回首页").await.ok_or("no way home")?.invoke_accessible_default_action();
        find(&window, "语音播报 Read aloud")
            .await
            .ok_or("no voice button on the home screen")?
            .invoke_accessible_default_action();
        find(&window, "关闭语音 Voice off").await.ok_or("the voice button does not show it is on")?;
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        find(&window, "帮办代办 Accompanied service").await.ok_or("no categories")?;
        sleep(300).await;
        if said(categories) != 1 {
            return Err("with the voice on, the page did not say itself");
        }
        // Off again from the home screen; then 再听一遍 on a page turns it on.
        find_starting(&window, "返回首页").await.ok_or("no way home")?.invoke_accessible_default_action();
        find(&window, "关闭语音 Voice off").await.ok_or("no voice-off button")?.invoke_accessible_default_action();
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        find(&window, "帮办代办 Accompanied service").await.ok_or("no categories")?;
        sleep(300).await;
        if said(categories) != 1 {
            return Err("the voice spoke after it was turned off");
        }
        find(&window, "再听一遍 Repeat").await.ok_or("no 再听一遍")?.invoke_accessible_default_action();
        sleep(300).await;
        if said(categories) != 2 {
            return Err("再听一遍 did not say the page");
        }
        find(&window, "帮办代办 Accompanied service").await.ok_or("no categories")?.invoke_accessible_default_action();
        for _ in 0..50 {
            if ticket_said() {
                return Ok(());
            }
            sleep(100).await;
        }
        Err("after 再听一遍 the next screen did not say itself")
    });
    kiosk.shutdown(true).unwrap();
}
