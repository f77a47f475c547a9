//! The platform stand-in as 预约签到's tests use it.

use kiosk::config::Config;
use kiosk::demo::standin::{Fault, SAMPLE_FIXTURES, StandIn, spawn};

/// The demo configuration with every category open (the test runs at any hour) and the stand-in as the
/// platform.
pub fn config(dir: &std::path::Path, fault: Fault) -> Config {
    config_and_standin(dir, fault).0
}

/// The same, with the running stand-in (to ask what it received).
pub fn config_and_standin(dir: &std::path::Path, fault: Fault) -> (Config, kiosk::demo::standin::Running) {
    // The fixtures say "in 10 minutes", "4 hours from now": at 10:00 in the hall, every one of them falls on
    // the same day, whatever the hour the test runs at (run at 20:00–24:00 in the hall, "in 4 hours" was
    // tomorrow).
    config_and_standin_at(dir, fault, (10, 0))
}

/// [`config_and_standin`] with the app's clock (and the fixtures' "now") at the last `hour:minute` in the hall.
pub fn config_and_standin_at(
    dir: &std::path::Path,
    fault: Fault,
    (hour, minute): (i8, i8),
) -> (Config, kiosk::demo::standin::Running) {
    let mut config = Config::demo(dir);
    config.admin.listen = "127.0.0.1:0".into();
    config.queue.categories.iter_mut().for_each(kiosk::config::CategoryConfig::open_round_the_clock);
    config.voice.mode = kiosk::config::VoiceMode::Off;
    // The latest such moment that has passed: what the kiosk records then (an outbox row's due time) is due
    // on the real clock the outbox reads. (Today's 10:00 before 10:00 in the hall was in the future, and a
    // check-in's delivery waited for it: the test failed every night from midnight to 10:00 hall time.)
    let real = jiff::Timestamp::now();
    let on = |date: jiff::civil::Date| {
        date.at(hour, minute, 0, 0).to_zoned_datetime(config.tz().clone()).unwrap().timestamp()
    };
    let today = real.to_zoned_datetime(config.tz().clone()).date();
    let at = if on(today) <= real { on(today) } else { on(today.yesterday().unwrap()) };
    kiosk::clock::set_for_tests(at);
    let standin = StandIn::from_jsonl("", None).unwrap().with_fixtures(SAMPLE_FIXTURES, at).unwrap();
    let running = spawn(standin, fault, &dir.join("platform")).unwrap();
    config.platform.url = Some(format!("https://127.0.0.1:{}", running.port));
    config.platform.ca_file = Some(running.cert.clone());
    config.platform.timeout_seconds = 2;
    (config, running)
}

pub fn journal_rows(dir: &std::path::Path, kinds: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.join("journal.sqlite3")).unwrap();
    conn.prepare(&format!("SELECT kind || ' ' || payload FROM entries WHERE kind IN ({kinds}) ORDER BY seq"))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// From the home screen: 预约签到, the code typed on the pad, 查询预约.
pub async fn look_up_code(window: &kiosk::ui::AppWindow, code: &str) -> Result<(), &'static str> {
    use super::find;
    find(window, "预约签到 Appointment check-in").await.ok_or("no tile")?.invoke_accessible_default_action();
    for k in code.chars() {
        find(window, &k.to_string()).await.ok_or("no digit pad")?.invoke_accessible_default_action();
    }
    find(window, "查询预约 Find my appointment").await.ok_or("no 查询")?.invoke_accessible_default_action();
    Ok(())
}
