//! 好差评 on its own through the real UI under Slint's testing backend: the hall. A negative rating asks why,
//! the evaluation is journaled for follow-up, and the session ends by itself.

use kiosk::config::Config;
use slint::ComponentHandle;

use crate::common::{drive, find, stays_on};
use kiosk::ui::Page;

#[test]
fn rate_the_hall_by_accessible_labels() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    drive(async move {
        find(&window, "好差评 Rate our service").await.ok_or("no rating tile")?.invoke_accessible_default_action();
        find(&window, "评价大厅的服务 The hall's service").await.ok_or("no choice")?.invoke_accessible_default_action();
        let worst = find(&window, "非常不满意 Very dissatisfied").await.ok_or("no levels")?;
        // The other flows' timers tick too; none of them may take the page away.
        if !stays_on(&window, Page::Rating, 2_500).await {
            return Err("another flow's timer sent the page home");
        }
        worst.invoke_accessible_default_action();
        find(&window, "服务态度差 Poor attitude").await.ok_or("no reasons")?.invoke_accessible_default_action();
        // Issue #30 item 8: a number for the follow-up call (回访) may be left, and 12345 is named.
        find(&window, "需要回访吗？请留下电话，也可跳过 Would you like a call back? Leave a number, or skip")
            .await
            .ok_or("no contact step")?;
        find(&window, "也可拨打 12345 政务服务便民热线反映 You can also call the 12345 government service hotline")
            .await
            .ok_or("12345 is not named")?;
        for d in "138001380009".chars().map(String::from) {
            find(&window, &d).await.ok_or("no digit key")?.invoke_accessible_default_action();
        }
        // One digit too many, taken back with ⌫.
        find(&window, "删除 Delete").await.ok_or("no ⌫")?.invoke_accessible_default_action();
        find(&window, "已输入 13800138000 Entered").await.ok_or("the number is not shown")?;
        find(&window, "提交 Submit").await.ok_or("no submit")?.invoke_accessible_default_action();
        find(&window, "感谢您的评价 Thank you for your rating").await.ok_or("no thanks")?;
        // Thanks stays three seconds, then the kiosk is home again.
        find(&window, "取号 Take a number").await.ok_or("did not return home")?;
        Ok::<(), &str>(())
    });
    // Stopping the kiosk waits for every worker: what the screen showed is in the journal.
    kiosk.shutdown(true).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT kind, payload FROM entries WHERE kind IN ('session_start', 'evaluation', 'session_end') ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["session_start", "evaluation", "session_end"], "{rows:?}");
    let e: serde_json::Value = serde_json::from_str(&rows[1].1).unwrap();
    assert_eq!(e["transaction"]["kind"], "hall_service");
    assert_eq!(
        (e["level"].as_i64(), e["reason"].as_str(), e["follow_up"].as_bool()),
        (Some(1), Some("attitude"), Some(true))
    );
    // The journal keeps the number masked; only the outbox, bound for the platform, holds it whole.
    assert_eq!(e["contact_masked"], "138****8000", "{e}");
    assert!(!rows.iter().any(|(_, p)| p.contains("13800138000")), "the whole number is in the journal: {rows:?}");
    assert!(rows[2].1.contains("completed"), "{}", rows[2].1);
    // And in the outbox for the platform (一事一评), with its key, until it is delivered.
    let (key, body, delivered): (String, String, Option<String>) = conn
        .query_row("SELECT key, body, delivered_at FROM outbox", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    let m: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(key.len() >= 16 && delivered.is_none(), "{key} {delivered:?}");
    assert_eq!((m["level"].as_i64(), m["reason"].as_str()), (Some(1), Some("attitude")), "{body}");
    assert_eq!(m["contact"], "13800138000", "the platform calls back on it: {body}");
}
