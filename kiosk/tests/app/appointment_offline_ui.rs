//! 预约签到 with the platform unreachable: the day's imported appointments stand in (said on screen, journaled
//! offline), one is not checked in twice, and an import is all or nothing.

use kiosk::demo::standin::Fault;
use slint::ComponentHandle;

use crate::common::appointments::{config, journal_rows, look_up_code};
use crate::common::{drive, find, find_starting};

#[test]
fn with_the_platform_unreachable_the_days_imported_appointments_stand_in() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), Fault::Unreachable);
    let tz = config.tz().clone();
    // The app's clock, which `config` set to 10:00 in the hall: "in 5 minutes" is today.
    let now = kiosk::clock::now();
    let today = now.to_zoned_datetime(tz.clone()).date();
    let at = |minutes: i64| {
        (now + jiff::SignedDuration::from_mins(minutes))
            .to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    };
    let minutes = 5;
    let file = |category: &str| {
        format!(
            r#"{{"date": "{today}", "appointments": [
                {{"code": "31000001", "id_number": "371329198812122020", "item_name": "户籍证明开具", "category": "A", "start": "{}"}},
                {{"code": "31000002", "id_number": "371329195003071012", "item_name": "不动产登记", "category": "{category}", "start": "{}"}}
            ]}}"#,
            at(minutes),
            at(minutes)
        )
    };
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&config)).unwrap();
    let prefixes: Vec<String> = config.queue.categories.iter().map(|c| c.prefix.clone()).collect();
    // All or nothing: the second appointment's category is not this hall's.
    let err = kiosk::platform::offline::import(&journal, &file("Z"), &prefixes, &tz).unwrap_err().to_string();
    assert!(err.contains("appointments[1]") && err.contains("category") && err.contains("\"Z\""), "{err}");
    assert!(
        kiosk::platform::offline::find(&journal, &today.to_string(), None, Some("31000001".into())).unwrap().is_empty()
    );
    assert_eq!(kiosk::platform::offline::import(&journal, &file("B"), &prefixes, &tz).unwrap().1, 2);
    drop(journal);

    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    drive(async move {
        look_up_code(&window, "31000001").await?;
        find(
            &window,
            "省政务服务平台暂时无法连接，以上是本机今日已导入的预约 The provincial platform cannot be reached; these are the appointments this kiosk imported for today",
        )
        .await
        .ok_or("the imported appointments are not said to stand in")?;
        find(&window, "签到 Check in").await.ok_or("no 签到")?.invoke_accessible_default_action();
        find(&window, "签到成功，请取走您的号票 You are checked in; please take your ticket")
            .await
            .ok_or("not checked in")?;
        find_starting(&window, "返回首页").await.ok_or("no home button")?.invoke_accessible_default_action();
        find(&window, "取号 Take a number").await.ok_or("not back home")?;
        // The same appointment again: checked in already.
        look_up_code(&window, "31000001").await?;
        find(&window, "已签到 Checked in").await.ok_or("checked in twice")?;
        Ok::<(), &str>(())
    });
    kiosk.shutdown(true).unwrap();
    let rows = journal_rows(dir.path(), "'appointment_checked_in'");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert!(rows[0].contains("\"code\":\"31000001\"") && rows[0].contains("\"offline\":true"), "{}", rows[0]);
    // The platform will hear of it when it is back: the message waits in the outbox.
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let waiting: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE path = '/v1/appointments/31000001/check-in' AND delivered_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(waiting, 1, "the offline check-in waits for the platform");
    let bytes = std::fs::read(dir.path().join("journal.sqlite3")).unwrap();
    assert!(!bytes.windows(18).any(|w| w == b"371329198812122020"), "an ID number in the journal");
}
