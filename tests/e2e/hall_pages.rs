//! The hall's counter page and calling display (issue #31) in headless Chromium, driven over WebDriver as
//! a clerk and the hall's TV use them: the clerk starts the counter page, calls the next ticket, and the
//! display shows it and speaks it (its announcements fetched as WAV from the kiosk's voice); with the hall
//! database stopped, both pages say so. Screenshots go to target/hall-pages/.

use crate::support::{
    ChromeDriver, Postgres, hall_config_serving, kiosk, run, serve_staff_api, wait_for, workspace_root,
};
use std::time::Duration;

const TOKEN: &str = "demo-counter-token";

#[test]
fn a_call_on_the_counter_page_is_shown_and_said_on_the_display_and_a_lost_database_is_said_on_both() {
    let root = tempfile::tempdir().unwrap();
    let pg = Postgres::start(root.path());
    pg.migrate();
    let (config, port) = hall_config_serving(root.path(), 1, &pg.url(), [950, 965], 1);
    let (code, _, err) =
        run(kiosk().args(["ticket", "issue", "--category", "A", "--count", "3", "--config"]).arg(&config));
    assert_eq!(code, Some(0), "{err}");
    let _api = serve_staff_api(&config, port);
    let shots = workspace_root().join("target/hall-pages");
    std::fs::create_dir_all(&shots).unwrap();

    let chrome = ChromeDriver::start(root.path());
    let display = chrome.open("display", 1280, 720);
    display.goto(&format!("http://127.0.0.1:{port}/display#token={TOKEN}"));
    // A small screen for the clerk.
    let counter = chrome.open("counter", 480, 800);
    counter.goto(&format!("http://127.0.0.1:{port}/counter"));
    // The clerk fills in the window, the token and the categories, and starts.
    counter.run(
        "document.getElementById('counter').value = '3'; document.getElementById('token').value = arguments[0];",
        serde_json::json!([TOKEN]),
    );
    counter.click("#save");
    // Without a token yet the page could not list the categories: it asks again with the token kept.
    counter.wait_text("#cats", "综合业务", Duration::from_secs(20)).expect("the categories are listed");
    counter.click("#cats input[value='A']");
    counter.click("#save");
    counter.wait_text("#status", "窗口 3", Duration::from_secs(20)).expect("the desk opens for window 3");
    counter.wait_text("#counts", "3", Duration::from_secs(20)).expect("three wait");

    counter.click("#call-next");
    counter.wait_text("#current", "A001", Duration::from_secs(20)).expect("A001 is called");
    display.wait_text("#latest-number", "A001", Duration::from_secs(20)).expect("the display shows A001");
    let words = display.text("#latest-words");
    assert!(words.contains("请 A001 号到 3 号窗口办理") && words.contains("please go to counter 3"), "{words}");
    assert!(display.text("#now").contains('3'), "counter 3 is in the table: {}", display.text("#now"));
    let said = wait_for(Duration::from_secs(20), || {
        let a = display.run("return window.announced;", serde_json::json!([]));
        a.as_array().is_some_and(|a| !a.is_empty()).then_some(a)
    });
    assert_eq!(said, Some(serde_json::json!(["A001@3"])), "the call was spoken (its WAVs fetched) once");
    counter.screenshot(&shots.join("counter.png"));
    display.screenshot(&shots.join("display.png"));

    // The next call: recall, then a second ticket; the display follows each.
    counter.click("#recall");
    counter.wait_text("#status", "A001 → called", Duration::from_secs(20)).expect("recalled");
    display.wait_text("#recent", "重呼", Duration::from_secs(20)).expect("the recall is listed");
    counter.click("#complete");
    counter.click("#call-next");
    display.wait_text("#latest-number", "A002", Duration::from_secs(20)).expect("the display shows A002");

    // The hall database goes away: the clerk is told that only this kiosk's tickets are called, and so is
    // the hall.
    pg.stop_server();
    counter.click("#call-next");
    counter
        .wait_text("#hall-warning", "大厅排队数据库连不上", Duration::from_secs(20))
        .expect("the counter page says so");
    display.wait_text("#hall-warning", "cannot be reached", Duration::from_secs(20)).expect("the display says so");
    counter.screenshot(&shots.join("counter-hall-away.png"));
    display.screenshot(&shots.join("display-hall-away.png"));
}
