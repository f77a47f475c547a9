//! Take a number through the real UI under Slint's testing backend, by accessible labels, against the
//! simulated ID-card reader (a pty) and the virtual printer (a socket): the number on screen is the journal's.

use kiosk::config::Config;
use slint::ComponentHandle;

mod common;
use common::{drive, find};

#[test]
fn take_a_number_with_an_id_card_by_accessible_labels() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    // 帮办代办 (D) is open round the clock; let it require an ID card for this test.
    config.queue.categories[3].requires_id = true;
    config.admin.listen = "127.0.0.1:0".into();
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let reader = kiosk.reader.clone();
    let result = drive(async move {
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        find(&window, "帮办代办 Accompanied service").await.ok_or("no category D")?.invoke_accessible_default_action();
        find(&window, "请将身份证放在读卡器上 Please place your ID card on the reader")
            .await
            .ok_or("no card prompt")?;
        // The simulator panel's "place card" puts 张三丰 (76, a priority ticket) on the simulated reader.
        reader.simulator.as_ref().ok_or("no simulated reader")?.lock().map_err(|_| "sim")?.place(0);
        find(&window, "请取走您的号票 D3001 · 前面还有 0 人").await.ok_or("no done screen")?;
        // The big number alone, as a citizen reads it.
        let number = find(&window, "D3001").await.ok_or("the number is not on screen")?;
        let shown = number.accessible_label().unwrap_or_default().to_string();
        // Rate it: a negative rating asks why.
        find(&window, "不满意 Dissatisfied").await.ok_or("no rating buttons")?.invoke_accessible_default_action();
        find(&window, "办理效率低 Too slow")
            .await
            .ok_or("no reasons for a negative rating")?
            .invoke_accessible_default_action();
        find(&window, "感谢您的评价 Thank you for your rating").await.ok_or("no thanks")?;
        Ok::<String, &str>(shown)
    });
    let shown = result;

    // Stopping the kiosk waits for every worker: what the screen showed is in the journal.
    kiosk.shutdown(true).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let (number, priority): (String, bool) = conn
        .query_row(
            "SELECT json_extract(payload, '$.number'), json_extract(payload, '$.priority') FROM entries WHERE kind = 'ticket_issued'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(number, shown, "the number on screen is the journal's");
    assert!(priority, "age from the card made it a priority ticket");
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM entries WHERE kind NOT IN ('boot', 'config_loaded') ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        kinds,
        ["session_start", "card_read", "ticket_issued", "ticket_printed", "evaluation", "session_end", "shutdown"]
    );
    let (level, reason, ticket, follow_up): (i64, String, String, bool) = conn
        .query_row(
            "SELECT json_extract(payload, '$.level'), json_extract(payload, '$.reason'), json_extract(payload, '$.transaction.ticket_id'),
                    json_extract(payload, '$.follow_up') FROM entries WHERE kind = 'evaluation'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let issued_id: String = conn
        .query_row("SELECT json_extract(payload, '$.ticket_id') FROM entries WHERE kind = 'ticket_issued'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!((level, reason.as_str(), follow_up), (2, "slow", true));
    assert_eq!(ticket, issued_id, "the rating is tied to exactly this transaction");
    let transcript = std::fs::read_to_string(dir.path().join("printed/job-0001.txt")).unwrap();
    assert!(transcript.contains("D3001") && transcript.contains("优先 Priority"), "{transcript}");
}
