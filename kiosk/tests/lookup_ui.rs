//! 办件查询 (digit pad) and 预约签到 (ID card) through the real UI: the input is taken, the page says the
//! service is not connected yet, and the sessions are journaled without the input or the card.

use kiosk::config::Config;
use slint::ComponentHandle;

mod common;
use common::{drive, find, find_starting};

#[test]
fn case_progress_and_appointment_say_plainly_they_are_not_connected() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let reader = kiosk.reader.clone();
    let not_connected =
        "此服务暂未开通，请到窗口办理。 This service is not available at this kiosk yet; please ask at a window.";
    drive(async move {
        find(&window, "办件查询 Case progress").await.ok_or("no case tile")?.invoke_accessible_default_action();
        for key in ["2", "0", "2", "6", "清空 Clear", "1", "2", "3"] {
            find(&window, key).await.ok_or("no digit pad")?.invoke_accessible_default_action();
        }
        find(&window, "已输入 123").await.ok_or("the entry does not show 123")?;
        find(&window, "查询 Search").await.ok_or("no search")?.invoke_accessible_default_action();
        find(&window, not_connected).await.ok_or("no plain 'not available' sentence")?;
        find_starting(&window, "返回首页").await.ok_or("no way home")?.invoke_accessible_default_action();

        find(&window, "预约签到 Appointment check-in")
            .await
            .ok_or("no appointment tile")?
            .invoke_accessible_default_action();
        find(&window, "请将身份证放在读卡器上 Please place your ID card on the reader")
            .await
            .ok_or("no card prompt")?;
        reader.simulator.as_ref().ok_or("no simulated reader")?.lock().map_err(|_| "sim")?.place(0);
        find(&window, not_connected).await.ok_or("the card did not lead to the plain sentence")?;
        find_starting(&window, "返回首页").await.ok_or("no way home")?.invoke_accessible_default_action();
        find(&window, "取号 Take a number").await.ok_or("not home")?;
        Ok::<(), &str>(())
    });
    // Stopping the kiosk waits for every worker: what the screen showed is in the journal.
    kiosk.shutdown(true).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT kind, payload FROM entries WHERE kind LIKE 'session_%' OR kind LIKE 'card_%' ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let flat: Vec<String> = rows.iter().map(|(k, p)| format!("{k} {p}")).collect();
    assert_eq!(
        flat,
        [
            "session_start {\"flow\":\"case_progress\"}",
            "session_end {\"reason\":\"cancelled\"}",
            "session_start {\"flow\":\"appointment\"}",
            "session_end {\"reason\":\"cancelled\"}",
        ]
    );
}
