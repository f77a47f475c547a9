//! The citizen's language and mode last for the visit, and a home screen left alone goes back to the
//! configured ones: on Slint's mock time, so the idle clocks are moved by the test, not waited for.
//!
//! The review found the mode buttons undoing themselves: on a home screen already idle (the normal state
//! when someone walks up) a tap on English reverted within a second, because taps on buttons never counted
//! as activity; and 返回首页 reset the language, so a second task in English met the same trap.

use kiosk::config::Config;
use kiosk::ui::Page;
use slint::ComponentHandle;
use std::time::Duration;

use crate::common::drive;

/// Lets the event loop run once (timers that fell due, messages from the flows' threads).
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// Moves Slint's clock on by `ms`, a tenth of a second at a time, letting the event loop run between.
async fn advance(ms: u64) {
    for _ in 0..ms.div_ceil(100) {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(100));
        yield_now().await;
    }
}

/// Presses the element whose label starts with `label` (返回首页 says its seconds left) through its
/// accessibility action (as a screen reader would; a finger's press counts the same, through the button's
/// touch area).
async fn press(window: &kiosk::ui::AppWindow, label: &str) -> Result<(), &'static str> {
    for _ in 0..100 {
        if let Some(e) = crate::common::find_starting_now(window, label) {
            e.invoke_accessible_default_action();
            yield_now().await;
            return Ok(());
        }
        advance(50).await;
    }
    Err("a button to press is missing")
}

async fn shows(window: &kiosk::ui::AppWindow, page: Page) -> Result<(), &'static str> {
    for _ in 0..200 {
        if window.global::<kiosk::ui::AppAdapter>().get_page() == page {
            return Ok(());
        }
        advance(50).await;
    }
    Err("the page did not change")
}

#[test]
fn english_and_elder_mode_last_the_visit_and_an_idle_home_goes_back() {
    i_slint_backend_testing::init_integration_test_with_mock_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    config.ui.idle_timeout_s = 15;
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    drive(async move {
        let (lang, theme) = (window.global::<kiosk::ui::Lang>(), window.global::<kiosk::ui::Theme>());
        // Someone walks up to a home screen nobody has touched for longer than the idle time.
        advance(20_000).await;
        press(&window, "English").await?;
        advance(3_000).await;
        if !lang.get_english() {
            return Err("English undid itself on an idle home screen");
        }
        press(&window, "Elder mode").await?;
        advance(14_000).await;
        if !lang.get_english() || !theme.get_elder_mode() {
            return Err("English or elder mode went back while the citizen was still within the idle time");
        }
        // A task in English, then home: the visit goes on in English and elder mode.
        press(&window, "Take a number").await?;
        shows(&window, Page::TakeNumber).await?;
        press(&window, "Home").await?;
        shows(&window, Page::Home).await?;
        advance(5_000).await;
        if !lang.get_english() || !theme.get_elder_mode() {
            return Err("返回首页 ended the citizen's English or elder mode");
        }
        // Left alone for the idle time: the next citizen gets Chinese and the standard mode.
        advance(16_000).await;
        if lang.get_english() || theme.get_elder_mode() {
            return Err("English or elder mode stayed on after the idle time");
        }
        Ok::<(), &str>(())
    });
    kiosk.shutdown(true).unwrap();
}
