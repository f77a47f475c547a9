//! Stopping a started kiosk: the open session ends with `shutdown`, a call for assistance made just before is
//! journaled first, every thread the kiosk started ends, and the journal's last words are `shutdown` under a
//! signed checkpoint.

use crate::common::appointments::look_up_code;
use crate::common::{drive, find};
use kiosk::config::Config;
use slint::ComponentHandle;
use std::time::{Duration, Instant};

/// The names of this process's threads now.
fn threads() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .map(|t| std::fs::read_to_string(t.path().join("comm")).unwrap_or_default().trim().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn stopping_the_kiosk_ends_the_session_and_leaks_no_thread() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    let before = threads();
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    drive(async move {
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        find(&window, "综合业务 General services").await.ok_or("no categories")?;
        // A call for assistance just before the stop is journaled before the shutdown, by a worker the
        // shutdown waits for (it used to be a detached thread that could append after the journal closed).
        find(&window, "呼叫帮办 Call for assistance").await.ok_or("no 呼叫帮办")?.invoke_accessible_default_action();
        Ok::<(), &str>(())
    });
    let during = threads();
    assert!(during.len() > before.len(), "the kiosk runs its own threads: {during:?}");
    kiosk.shutdown(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = threads();
    while after != before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        after = threads();
    }
    assert_eq!(after, before, "threads left running after shutdown");

    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let last: Vec<(String, String)> = conn
        .prepare("SELECT kind, coalesce(payload, '') FROM entries ORDER BY seq DESC LIMIT 2")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(last[1], ("session_end".to_owned(), r#"{"reason":"shutdown"}"#.to_owned()));
    let (called, shutdown): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT seq FROM entries WHERE kind = 'assistance_called'), \
                    (SELECT seq FROM entries WHERE kind = 'shutdown')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the call for assistance is journaled");
    assert!(called < shutdown, "the call ({called}) is journaled before the shutdown ({shutdown})");
    assert_eq!(last[0], ("shutdown".to_owned(), r#"{"clean":true}"#.to_owned()));
    let (head, signed): (i64, i64) = conn
        .query_row("SELECT (SELECT max(seq) FROM entries), (SELECT max(seq) FROM seals)", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(signed, head, "the last seal covers the shutdown entry");
}

/// Issue #29 item 3: a stop while a lookup waits on a platform that accepted the connection and says nothing
/// ends at once: the call in flight is abandoned (it used to hold the stop for the platform's whole deadline,
/// here 30 s, because the flow's worker is joined).
#[test]
fn a_stop_while_the_platform_is_silent_does_not_wait_out_its_deadline() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let (mut config, _standin) =
        crate::common::appointments::config_and_standin(dir.path(), kiosk::demo::standin::Fault::None);
    // A platform that accepts and never answers (not even the TLS handshake), with the longest deadline.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    config.platform.url = Some(format!("https://127.0.0.1:{}", silent.local_addr().unwrap().port()));
    config.platform.timeout_seconds = 30;
    let held = std::thread::spawn(move || silent.accept().map(|(s, _)| s));
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    drive(async move {
        look_up_code(&window, "31000001").await?;
        find(&window, "正在查询预约… Looking up your appointments…").await.ok_or("not looking up")?;
        Ok::<(), &str>(())
    });
    // The lookup is in flight: the platform has the connection.
    let _connection = held.join().unwrap().expect("the kiosk connected to the platform");
    let started = Instant::now();
    kiosk.shutdown(true).unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "the stop waited {took:?} for a platform that says nothing (deadline 30 s)"
    );
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let last: String = conn.query_row("SELECT kind FROM entries ORDER BY seq DESC LIMIT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(last, "shutdown");
}
