//! The kiosk checks its own journal: an entry altered after the newest checkpoint is caught at start, one
//! altered long before it by the background check; each is journaled once as `journal_integrity_failed`,
//! shown on the maintenance screen, and the kiosk keeps serving.

use crate::common::{drive, enter_pin, find, press, sleep};
use kiosk::config::Config;
use kiosk::ui::{JournalCheck, MaintenanceAdapter};
use slint::ComponentHandle;

/// A journal of 40 entries closed with a checkpoint at its head, then one entry's payload rewritten the
/// way a root attacker would: guard trigger dropped, payload changed, trigger left gone.
fn altered_journal(config: &Config, seq: i64) {
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(config)).unwrap();
    for level in 0..40u8 {
        journal
            .append(kiosk::journal::NewEntry::new(
                kiosk::journal::EntryKind::Evaluation,
                serde_json::json!({ "level": level % 5 + 1 }),
            ))
            .unwrap();
    }
    journal.close();
    let conn = rusqlite::Connection::open(&config.journal.path).unwrap();
    conn.execute_batch("DROP TRIGGER entries_only_purged; DROP TRIGGER entries_purged_only_when_due").unwrap();
    let n = conn.execute("UPDATE entries SET payload = '{\"level\":1,\"forged\":true}' WHERE seq = ?1", [seq]).unwrap();
    assert_eq!(n, 1);
}

fn failures(config: &Config) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(&config.journal.path).unwrap();
    conn.prepare("SELECT json_extract(payload, '$.check'), json_extract(payload, '$.seq') FROM entries WHERE kind = 'journal_integrity_failed'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn an_altered_journal_is_caught_journaled_and_shown_and_the_kiosk_keeps_serving() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    // Altered at seq 40, the entry the newest checkpoint names: the start check sees it.
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    altered_journal(&config, 40);
    let kiosk = kiosk::app::start(config.clone()).unwrap();
    kiosk.shutdown(true).unwrap();
    assert_eq!(failures(&config), [("start".to_owned(), 40)], "found at start, journaled once");

    // Altered at seq 5, long before the checkpoint: the background check finds it; the screen shows it.
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    altered_journal(&config, 5);
    let kiosk = kiosk::app::start(config.clone()).unwrap();
    let window = kiosk.window.clone_strong();
    let problem = drive(async move {
        // The kiosk keeps serving citizens: the home screen works.
        find(&window, "取号 Take a number").await.ok_or("no home screen")?;
        for _ in 0..200 {
            enter_pin(&window, "246813").await?;
            find(&window, "设备维护 Maintenance").await.ok_or("maintenance did not open")?;
            let status = window.global::<MaintenanceAdapter>().get_status();
            if status.journal_check == JournalCheck::Failed {
                return Ok(status.journal_problem.to_string());
            }
            press(&window, "退出维护 Leave maintenance").await?;
            sleep(100).await;
        }
        Err("the maintenance screen never showed the failed check")
    });
    kiosk.shutdown(true).unwrap();
    assert!(problem.starts_with("seq 5:") && problem.contains("payload was altered"), "{problem}");
    assert_eq!(failures(&config), [("background".to_owned(), 5)]);
    let conn = rusqlite::Connection::open(&config.journal.path).unwrap();
    let shutdown: i64 =
        conn.query_row("SELECT count(*) FROM entries WHERE kind = 'shutdown'", [], |r| r.get(0)).unwrap();
    assert_eq!(shutdown, 1, "the kiosk ran and stopped cleanly");
}
