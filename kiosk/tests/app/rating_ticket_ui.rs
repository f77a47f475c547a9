//! 好差评 by a ticket's number through the real UI under Slint's testing backend: a ticket served today is
//! rated once; one still waiting, one unknown today and one rated already are refused with why.
//! (Its own test binary: Slint's testing platform is one per process.)

use kiosk::config::Config;
use slint::ComponentHandle;

use crate::common::{drive, find};

#[test]
fn rate_a_served_ticket_by_its_number() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    let kiosk = kiosk::app::start(config.clone()).unwrap();
    let window = kiosk.window.clone_strong();
    // Two tickets today: A001 served, A002 still waiting.
    let queue = kiosk::queue::Queue::new(&config, kiosk.journal.clone()).unwrap();
    let now = jiff::Timestamp::now();
    let (served, _) = queue.issue("A", now, None, false, "").unwrap();
    queue.issue("A", now, None, false, "").unwrap();
    use kiosk::journal::{TicketState, payload};
    let called = payload::TicketCalled {
        ticket_id: served.id.clone(),
        state: TicketState::Called,
        counter: "1".into(),
        recall: false,
    };
    queue.record(&served.id, TicketState::Called, called, "").unwrap();
    let done = payload::TicketCompleted { ticket_id: served.id.clone(), state: TicketState::Completed };
    queue.record(&served.id, TicketState::Completed, done, "").unwrap();
    let keypad = window.clone_strong();
    let type_number = move |number: &'static str| {
        let window = keypad.clone_strong();
        async move {
            find(&window, "清空 Clear").await.ok_or("no keypad")?.invoke_accessible_default_action();
            for k in number.split("").filter(|k| !k.is_empty()) {
                find(&window, k).await.ok_or("no key")?.invoke_accessible_default_action();
            }
            find(&window, "查询 Search").await.ok_or("no search")?.invoke_accessible_default_action();
            Ok::<(), &'static str>(())
        }
    };
    let w = window.clone_strong();
    drive(async move {
        find(&w, "好差评 Rate our service").await.ok_or("no rating tile")?.invoke_accessible_default_action();
        find(&w, "评价一张号票（今天已办结） A ticket served today")
            .await
            .ok_or("no choice")?
            .invoke_accessible_default_action();
        type_number("A002").await?;
        find(&w, "号票 A002 还未办结，办结后再来评价 Ticket A002 has not been served yet; rate it once it has")
            .await
            .ok_or("a waiting ticket was not refused")?;
        type_number("A009").await?;
        find(&w, "今天没有号票 A009，请核对号码 There is no ticket A009 today; please check the number")
            .await
            .ok_or("an unknown ticket was not refused")?;
        type_number("A001").await?;
        find(&w, "您对号票 A001 的服务满意吗？ How satisfied are you with the service for ticket A001?")
            .await
            .ok_or("the served ticket is not offered")?;
        find(&w, "满意 Satisfied").await.ok_or("no levels")?.invoke_accessible_default_action();
        find(&w, "感谢您的评价 Thank you for your rating").await.ok_or("no thanks")?;
        find(&w, "取号 Take a number").await.ok_or("did not return home")?;
        // Once is enough.
        find(&w, "好差评 Rate our service").await.ok_or("no rating tile")?.invoke_accessible_default_action();
        find(&w, "评价一张号票（今天已办结） A ticket served today")
            .await
            .ok_or("no choice")?
            .invoke_accessible_default_action();
        type_number("A001").await?;
        find(&w, "号票 A001 已经评价过了，谢谢 Ticket A001 has been rated already, thank you")
            .await
            .ok_or("a ticket was rated twice")?;
        Ok::<(), &str>(())
    });
    kiosk.shutdown(true).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let rated: Vec<String> = conn
        .prepare("SELECT json_extract(payload, '$.transaction.ticket_id') FROM entries WHERE kind = 'evaluation'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rated, [served.id], "one evaluation, tied to the served ticket");
}
