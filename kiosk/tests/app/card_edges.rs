//! The ID card at the edges a citizen meets (issue #30 item 2), through the real UI under Slint's testing
//! backend and the simulated reader on a pty: a card already on the reader when a card step opens is read at
//! once; 返回首页 with the card there passes through "请取回您的身份证", said at once; the ticket's own words
//! remind of the card; a card that will not read is said to, journaled once, and read when put back; a
//! reader that stops answering is shown as unavailable on the card step, and the prompt comes back with it.

use kiosk::config::Config;
use rusqlite::Connection;
use slint::ComponentHandle;

use crate::common::{drive, find, find_starting, sleep};

const TAKE_CARD: &str = "请取回您的身份证。证件还在读卡器上。";

fn start(dir: &std::path::Path) -> kiosk::app::Kiosk {
    let mut config = Config::demo(dir);
    // 帮办代办 (D) is open round the clock; it requires an ID card for these tests.
    config.queue.categories[3].requires_id = true;
    config.admin.listen = "127.0.0.1:0".into();
    config.voice.engine = kiosk::config::VoiceEngine::None;
    kiosk::app::start(config).unwrap()
}

fn count(dir: &std::path::Path, kind: &str) -> i64 {
    let conn = Connection::open(dir.join("journal.sqlite3")).unwrap();
    conn.query_row("SELECT count(*) FROM entries WHERE kind = ?1", [kind], |r| r.get(0)).unwrap()
}

#[test]
fn a_card_left_on_the_reader_is_read_by_the_next_card_step_and_home_asks_for_it_back() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let kiosk = start(dir.path());
    let (window, reader, voice) = (kiosk.window.clone_strong(), kiosk.reader.clone(), kiosk.voice.clone());
    let (spoken_before_home, ticket_words) = drive(async move {
        let sim = reader.simulator.clone().ok_or("no simulated reader")?;
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        find(&window, "帮办代办 Accompanied service").await.ok_or("no category D")?.invoke_accessible_default_action();
        find(&window, "请将身份证放在读卡器上 Please place your ID card on the reader").await.ok_or("no prompt")?;
        sim.lock().map_err(|_| "sim")?.place(0);
        find(&window, "D3001").await.ok_or("no first ticket")?;
        // The ticket's screen says to take the card back, while it lies there.
        find(&window, "请取回您的身份证 Please take your ID card").await.ok_or("no card reminder on the ticket")?;
        // And its words (what the voice says, on its own in elder mode and on 再听一遍) say it too.
        let ticket_words = window.global::<kiosk::ui::Guide>().get_prompt().to_string();
        let spoken_before_home = voice.recent().len();
        // 返回首页 with the card on the reader: the card first, said at once (the voice is not on by itself).
        find_starting(&window, "返回首页").await.ok_or("no home button")?.invoke_accessible_default_action();
        find(&window, "证件还在读卡器上 It is still on the reader").await.ok_or("Home skipped the card")?;
        sleep(200).await;
        if !voice.recent()[spoken_before_home..].iter().any(|s| s.text == TAKE_CARD) {
            return Err("请取回您的身份证 was not said at once");
        }
        // A second press goes home all the same (the citizen chose to), the card still lying there.
        find_starting(&window, "返回首页").await.ok_or("no home button")?.invoke_accessible_default_action();
        find(&window, "取号 Take a number").await.ok_or("not home")?.invoke_accessible_default_action();
        find(&window, "帮办代办 Accompanied service").await.ok_or("no category D")?.invoke_accessible_default_action();
        // The card the first session used lies there still: read at once, not after lifting it.
        find(&window, "D3002").await.ok_or("the card already on the reader was not read")?;
        Ok((spoken_before_home, ticket_words))
    });
    let ticket = "您的号码是 D 3 0 0 1 号，前面还有 0 人。请取走号票，到帮办代办服务台等候叫号。这是优先号。请取回您的身份证。证件还在读卡器上。";
    assert_eq!(ticket_words, ticket, "the ticket's words remind of the card");
    let spoken: Vec<String> = kiosk.voice.recent().into_iter().map(|s| s.text).collect();
    assert!(!spoken[..spoken_before_home].contains(&TAKE_CARD.to_string()), "not before Home: {spoken:#?}");
    kiosk.shutdown(true).unwrap();
    assert_eq!(count(dir.path(), "ticket_issued"), 2);
    let ends = crate::common::appointments::journal_rows(dir.path(), "'session_end'");
    assert!(
        ends[0].contains("\"reason\":\"cancelled\""),
        "the first session ended as the citizen chose, after the reminder: {ends:?}"
    );
}

#[test]
fn a_card_that_will_not_read_is_said_to_and_a_reader_that_stops_answering_is_shown_unavailable() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let kiosk = start(dir.path());
    let (window, reader) = (kiosk.window.clone_strong(), kiosk.reader.clone());
    drive(async move {
        let sim = reader.simulator.clone().ok_or("no simulated reader")?;
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        find(&window, "帮办代办 Accompanied service").await.ok_or("no category D")?.invoke_accessible_default_action();
        find(&window, "请将身份证放在读卡器上 Please place your ID card on the reader").await.ok_or("no prompt")?;
        // A chip that never reads: the prompt says so after the reader's tries, instead of waiting.
        {
            let mut s = sim.lock().map_err(|_| "sim")?;
            s.failing_reads = 1000;
            s.place(0);
        }
        find(&window, "未能读取此证件 The card could not be read").await.ok_or("the failed read was not said")?;
        find(&window, "请拿起证件，重新放好再试一次 Lift the card and place it again").await.ok_or("no next step")?;
        // Lifted, and put back once it reads: the ticket.
        sim.lock().map_err(|_| "sim")?.remove();
        sleep(300).await;
        {
            let mut s = sim.lock().map_err(|_| "sim")?;
            s.failing_reads = 0;
            s.place(0);
        }
        find(&window, "D3001").await.ok_or("the card put back was not read")?;
        sim.lock().map_err(|_| "sim")?.remove();
        sleep(300).await;
        find_starting(&window, "返回首页").await.ok_or("no home button")?.invoke_accessible_default_action();

        // The reader stops answering: the card step says so and offers the assistance call.
        sim.lock().map_err(|_| "sim")?.fault = drivers::idcard::Fault::Silent;
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        find(&window, "帮办代办 Accompanied service").await.ok_or("no category D")?.invoke_accessible_default_action();
        find(&window, "读卡器暂时不能使用 The card reader is not working at the moment")
            .await
            .ok_or("the reader's fault is not shown on the card step")?;
        find(&window, "请点“呼叫帮办”，工作人员会来帮您 Tap Call for assistance and a member of staff will help you")
            .await
            .ok_or("no way on from a reader that is down")?;
        // It answers again: the prompt asks for the card again, by itself.
        sim.lock().map_err(|_| "sim")?.fault = drivers::idcard::Fault::None;
        find(&window, "请将身份证放在读卡器上 Please place your ID card on the reader")
            .await
            .ok_or("the prompt did not come back with the reader")?;
        Ok(())
    });
    kiosk.shutdown(true).unwrap();
    assert_eq!(count(dir.path(), "card_read_failed"), 1, "three tries, one entry");
    assert_eq!(count(dir.path(), "ticket_issued"), 1);
    assert_eq!(count(dir.path(), "device_fault"), 1);
    assert_eq!(count(dir.path(), "device_recovered"), 1);
}
