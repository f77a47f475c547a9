//! A home screen left alone goes back to the configured language and mode: the citizen who switched to
//! English and elder mode and walked away does not leave them to the next one (the review saw English stay
//! on for 200 s). Real time: the shortest idle time the configuration allows, 15 s.

use kiosk::config::Config;
use slint::ComponentHandle;
use std::time::{Duration, Instant};

use crate::common::{drive, find, sleep};

#[test]
fn an_idle_home_screen_returns_to_chinese_and_standard_mode() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    config.ui.idle_timeout_s = 15;
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    drive(async move {
        find(&window, "English").await.ok_or("no language switch")?.invoke_accessible_default_action();
        find(&window, "Elder mode").await.ok_or("no elder mode switch in English")?.invoke_accessible_default_action();
        find(&window, "Take a number").await.ok_or("the screen did not switch to English")?;
        let switched = Instant::now();
        let (lang, theme) = (window.global::<kiosk::ui::Lang>(), window.global::<kiosk::ui::Theme>());
        if !lang.get_english() || !theme.get_elder_mode() {
            return Err("English and elder mode did not switch on");
        }
        // Still English a little before the idle time...
        sleep(10_000).await;
        if !lang.get_english() {
            return Err("the screen went back before the idle time");
        }
        // ...and Chinese, standard mode, soon after it.
        while lang.get_english() || theme.get_elder_mode() {
            if switched.elapsed() > Duration::from_secs(25) {
                return Err("English or elder mode stayed on after the idle time");
            }
            sleep(200).await;
        }
        find(&window, "取号 Take a number").await.ok_or("the tiles are not Chinese again")?;
        Ok::<(), &str>(())
    });
    kiosk.shutdown(true).unwrap();
}
