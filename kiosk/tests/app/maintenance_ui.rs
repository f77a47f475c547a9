//! The maintenance entry under Slint's testing backend: a wrong PIN is refused and journaled, the right one
//! opens device status and a test print, and leaving is journaled.

use crate::common::{drive, enter_pin, find, press};
use kiosk::config::Config;
use slint::ComponentHandle;

#[test]
fn pin_pad_unlocks_maintenance_and_every_step_is_journaled() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    drive(async move {
        enter_pin(&window, "1111").await?;
        find(&window, "维护登录 Maintenance login").await.ok_or("no PIN pad")?;
        find(&window, "PIN 错误，请重试。 Wrong PIN, please try again.").await.ok_or("a wrong PIN was not refused")?;
        for d in ["2", "4", "6", "8", "1", "3", "确定 OK"] {
            press(&window, d).await?;
        }
        find(&window, "设备维护 Maintenance").await.ok_or("the right PIN did not open maintenance")?;
        press(&window, "测试打印 Test print").await?;
        find(&window, "测试页已打印。 The test page was printed.").await.ok_or("the test print failed")?;
        press(&window, "退出维护 Leave maintenance").await?;
        find(&window, "取号 Take a number").await.ok_or("not back home")?;
        Ok(())
    });

    // Stopping the kiosk waits for every worker: what the screen showed is in the journal.
    kiosk.shutdown(true).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let rows: Vec<String> = conn
        .prepare("SELECT kind || ':' || coalesce(json_extract(payload, '$.action'), '') FROM entries WHERE kind LIKE 'maintenance%' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            "maintenance_login_failed:",
            "maintenance_login:",
            "maintenance_action:test_print",
            "maintenance_action:logout"
        ]
    );
    let printed = std::fs::read_to_string(dir.path().join("printed/job-0001.txt")).unwrap();
    assert!(printed.contains("打印测试") && printed.contains("the printer works"), "{printed}");
    // Printed times are the kiosk's local time (Asia/Shanghai in the demo), as on the screen, not UTC.
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let local = |t: jiff::Timestamp| t.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string();
    let now = jiff::Timestamp::now();
    let minutes = [local(now), local(now - jiff::SignedDuration::from_mins(1))];
    assert!(minutes.iter().any(|m| printed.contains(m.as_str())), "{printed} shows none of {minutes:?}");
    let all: String = conn
        .prepare("SELECT coalesce(payload, '') FROM entries")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
        .join("\n");
    assert!(!all.contains("246813"), "the PIN is never journaled");
}
