//! 预约签到 through the real UI under Slint's testing backend, against the platform's stand-in over TLS:
//! the card finds today's appointments, one in its window is checked in with a priority ticket (printed,
//! journaled, and the platform told); one too early says when to come back; a missed one offers a normal
//! ticket.

use kiosk::demo::standin::Fault;
use slint::ComponentHandle;

use crate::common::appointments::{config_and_standin, config_and_standin_at, journal_rows, look_up_code};
use crate::common::{drive, find, find_now, find_starting, sleep};

#[test]
fn check_in_with_the_card_and_take_a_normal_ticket_for_a_missed_appointment() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let (config, standin) = config_and_standin(dir.path(), Fault::None);
    let kiosk = kiosk::app::start(config).unwrap();
    let db = dir.path().join("journal.sqlite3");
    let window = kiosk.window.clone_strong();
    let reader = kiosk.reader.clone();
    drive(async move {
        let place = |i: usize| reader.simulator.as_ref().map(|s| s.lock().map(|mut s| s.place(i)).is_ok());
        let remove = || reader.simulator.as_ref().map(|s| s.lock().map(|mut s| s.remove()).is_ok());
        find(&window, "预约签到 Appointment check-in")
            .await
            .ok_or("no 预约签到 tile")?
            .invoke_accessible_default_action();
        find(&window, "或输入预约码 Or type your appointment code").await.ok_or("no code entry")?;
        // 李小梅: 户籍证明开具 in 10 minutes (open), 社会保障卡补换 in 4 hours (too early).
        place(1).ok_or("no simulated reader")?;
        find(&window, "您今天的预约 Your appointments today").await.ok_or("no list of appointments")?;
        find(&window, "可以签到 Ready to check in").await.ok_or("the open one cannot be checked in")?;
        let early =
            find_now(&window, "已过签到时间，可以普通取号 Check-in time has passed; you can take a normal number");
        if early.is_some() {
            return Err("nothing of 李小梅's is missed");
        }
        find(&window, "签到 Check in").await.ok_or("no 签到 button")?.invoke_accessible_default_action();
        find(&window, "签到成功，请取走您的号票 You are checked in; please take your ticket")
            .await
            .ok_or("not checked in")?;
        find(&window, "A001").await.ok_or("not the first A number")?;
        // The platform is told through the outbox, within a few seconds.
        let delivered = || {
            rusqlite::Connection::open(&db)
                .and_then(|c| {
                    c.query_row(
                        "SELECT COUNT(*) FROM outbox WHERE path = '/v1/appointments/26112701/check-in' AND delivered_at IS NOT NULL",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                })
                .unwrap_or(0)
        };
        for _ in 0..100 {
            if delivered() == 1 {
                break;
            }
            sleep(100).await;
        }
        if delivered() != 1 {
            return Err("the check-in did not reach the platform");
        }
        find_starting(&window, "返回首页").await.ok_or("no home button")?.invoke_accessible_default_action();
        remove();
        find(&window, "取号 Take a number").await.ok_or("not back home")?;
        // The reader notices the card gone before the next one is placed, as a hand would take a moment.
        sleep(1500).await;

        // 张三丰's appointment was 90 minutes ago: a normal ticket in its category instead.
        find(&window, "预约签到 Appointment check-in").await.ok_or("no tile")?.invoke_accessible_default_action();
        find(&window, "或输入预约码 Or type your appointment code").await.ok_or("no code entry")?;
        place(0).ok_or("no simulated reader")?;
        find(&window, "普通取号 Normal number")
            .await
            .ok_or("no normal ticket offered")?
            .invoke_accessible_default_action();
        find(&window, "请将身份证放在读卡器上 Please place your ID card on the reader")
            .await
            .ok_or("take-a-number did not open in 不动产登记 (which needs the card)")?;
        Ok::<(), &str>(())
    });
    kiosk.shutdown(true).unwrap();

    assert_eq!(standin.standin.appointment_status("26112701").as_deref(), Some("checked_in"));
    let ticket = std::fs::read_to_string(dir.path().join("printed/job-0001.txt")).unwrap();
    assert!(ticket.contains("A001"), "{ticket}");
    let rows = journal_rows(dir.path(), "'card_read', 'appointment_checked_in', 'ticket_issued', 'session_end'");
    let at = |want: &str| rows.iter().position(|r| r.contains(want)).unwrap_or_else(|| panic!("{want}: {rows:#?}"));
    assert!(at("\"purpose\":\"appointment\"") < at("appointment_checked_in"), "{rows:#?}");
    let checked = &rows[at("appointment_checked_in")];
    assert!(
        checked.contains("\"code\":\"26112701\"")
            && checked.contains("\"ticket\":\"A001\"")
            && checked.contains("\"offline\":false"),
        "{checked}"
    );
    let issued = &rows[at("ticket_issued")];
    assert!(issued.contains("\"priority\":true"), "a priority ticket: {issued}");
    at("handed_over");
    // No ID number anywhere in the journal file.
    let bytes = std::fs::read(dir.path().join("journal.sqlite3")).unwrap();
    for id in ["371329198812122020", "371329195003071012"] {
        assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()), "{id} in the journal");
    }
}

/// A 24-hour hall at 23:50: an appointment at 00:00 tomorrow opens for check-in at 23:30, so it is found
/// and checked in (the kiosk asked the platform for today's date only, and said there was none).
#[test]
fn an_appointment_just_after_midnight_is_checked_in_before_it() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    // 李小梅's 户籍证明开具 is "in 10 minutes": 00:00 tomorrow.
    let (config, _standin) = config_and_standin_at(dir.path(), Fault::None, (23, 50));
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    drive(async move {
        look_up_code(&window, "26112701").await?;
        find(&window, "签到 Check in")
            .await
            .ok_or("tomorrow's 00:00 appointment was not offered")?
            .invoke_accessible_default_action();
        find(&window, "签到成功，请取走您的号票 You are checked in; please take your ticket")
            .await
            .ok_or("not checked in")?;
        Ok::<(), &str>(())
    });
    kiosk.shutdown(true).unwrap();
    let rows = journal_rows(dir.path(), "'appointment_checked_in'");
    assert!(rows.len() == 1 && rows[0].contains("\"code\":\"26112701\""), "{rows:#?}");
}

/// Issue #30 item 5: a slow platform (it answers after 5 s) is shown and said to be still at it after two
/// seconds, and the list comes when the answer does. Before, the page said "查询中" and nothing else.
#[test]
fn a_slow_platform_is_said_to_be_still_at_it() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let (mut config, _standin) = config_and_standin(dir.path(), Fault::Slow);
    config.platform.timeout_seconds = 15;
    config.voice.mode = kiosk::config::VoiceMode::Always;
    config.voice.engine = kiosk::config::VoiceEngine::None;
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let voice = kiosk.voice.clone();
    drive(async move {
        look_up_code(&window, "26112701").await?;
        crate::common::find_starting(&window, "仍在处理，请稍候（已等待")
            .await
            .ok_or("nothing said the platform was still being asked")?;
        find(&window, "签到 Check in").await.ok_or("the list did not come after the slow answer")?;
        Ok::<(), &str>(())
    });
    kiosk.shutdown(true).unwrap();
    let spoken: Vec<String> = voice.recent().into_iter().map(|s| s.text).collect();
    let still = spoken.iter().position(|t| t == "仍在处理，请稍候。").unwrap_or_else(|| panic!("{spoken:#?}"));
    assert!(spoken[still + 1..].iter().any(|t| t.contains("预约")), "the list is said after it: {spoken:#?}");
}
