//! Shared helpers for the UI tests under Slint's testing backend: waiting on the event loop, finding elements.

#![allow(dead_code)]

#[allow(dead_code)]
pub mod appointments;
pub mod pages;

use i_slint_backend_testing::ElementHandle;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Resolves after `ms` on the Slint event loop (a timer, not a thread sleep, so the UI keeps running).
pub struct Sleep {
    done: Rc<Cell<bool>>,
    started: bool,
    ms: u64,
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done.get() {
            return Poll::Ready(());
        }
        if !self.started {
            self.started = true;
            let (done, waker) = (self.done.clone(), cx.waker().clone());
            slint::Timer::single_shot(Duration::from_millis(self.ms), move || {
                done.set(true);
                waker.wake();
            });
        }
        Poll::Pending
    }
}

pub fn sleep(ms: u64) -> Sleep {
    Sleep { done: Rc::new(Cell::new(false)), started: false, ms }
}

/// Waits (on the event loop) until an element with `label` exists; None after a generous deadline.
pub async fn find(window: &kiosk::ui::AppWindow, label: &str) -> Option<ElementHandle> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(e) = ElementHandle::find_by_accessible_label(window, label).next() {
            return Some(e);
        }
        if Instant::now() > deadline {
            return None;
        }
        sleep(50).await;
    }
}

/// The element labelled `label`, if it is on screen now (no waiting).
pub fn find_now(window: &kiosk::ui::AppWindow, label: &str) -> Option<ElementHandle> {
    ElementHandle::find_by_accessible_label(window, label).next()
}

/// The elements laid out with a size now, in tree order, with their accessible labels ("" when none).
pub fn on_screen(window: &kiosk::ui::AppWindow) -> Vec<(ElementHandle, String)> {
    i_slint_backend_testing::ElementQuery::from_root(window)
        .match_descendants()
        .find_all()
        .into_iter()
        .filter(|e| e.size().width > 0.0 && e.size().height > 0.0)
        .map(|e| {
            let label = e.accessible_label().map(|s| s.to_string()).unwrap_or_default();
            (e, label)
        })
        .collect()
}

/// The element whose label starts with `prefix`, if it is on screen now (no waiting).
pub fn find_starting_now(window: &kiosk::ui::AppWindow, prefix: &str) -> Option<ElementHandle> {
    i_slint_backend_testing::ElementQuery::from_root(window)
        .match_descendants()
        .find_all()
        .into_iter()
        .find(|e| e.accessible_label().is_some_and(|l| l.starts_with(prefix)))
}

/// Waits until an element whose label starts with `prefix` exists (a label with a live number in it: the
/// Home button's countdown); None after a generous deadline.
pub async fn find_starting(window: &kiosk::ui::AppWindow, prefix: &str) -> Option<ElementHandle> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = find_starting_now(window, prefix);
        if found.is_some() {
            return found;
        }
        if Instant::now() > deadline {
            return None;
        }
        sleep(50).await;
    }
}

/// Runs a UI script on the Slint event loop until it finishes; returns its value or fails the test with its reason.
pub fn drive<T: 'static>(script: impl Future<Output = Result<T, &'static str>> + 'static) -> T {
    let outcome: Rc<Cell<Option<Result<T, String>>>> = Rc::new(Cell::new(None));
    let out = outcome.clone();
    slint::spawn_local(async move {
        out.set(Some(script.await.map_err(str::to_owned)));
        let _ = slint::quit_event_loop();
    })
    .expect("the event loop takes the script");
    slint::run_event_loop_until_quit().expect("the event loop runs");
    outcome.take().expect("the UI script ran").unwrap()
}

/// True when the window shows `page` at every look over `ms` (every 50 ms): no other flow's timer takes it away.
pub async fn stays_on(window: &kiosk::ui::AppWindow, page: kiosk::ui::Page, ms: u64) -> bool {
    use slint::ComponentHandle;
    for _ in 0..ms / 50 {
        if window.global::<kiosk::ui::AppAdapter>().get_page() != page {
            return false;
        }
        sleep(50).await;
    }
    true
}

/// Taps the element labelled `label` (waiting for it); the label is the error when it never appears.
pub async fn press(window: &kiosk::ui::AppWindow, label: &'static str) -> Result<(), &'static str> {
    find(window, label).await.ok_or(label)?.invoke_accessible_default_action();
    Ok(())
}

/// Opens the PIN pad from the hidden corner and enters `pin` digit by digit, then OK.
pub async fn enter_pin(window: &kiosk::ui::AppWindow, pin: &'static str) -> Result<(), &'static str> {
    press(window, "维护 Maintenance").await?;
    for d in pin.split("").filter(|d| !d.is_empty()) {
        press(window, d).await?;
    }
    press(window, "确定 OK").await
}

/// A port where nothing listens, so a connection is refused at once: port 1 (tcpmux), privileged and never
/// used here. A port taken from the system and let go is not one: the system hands it to the next test
/// process that binds port 0 beside this one, and a "closed" platform was once found answering there.
pub const CLOSED_PORT: u16 = 1;

/// Waits (on the event loop) until the window's words — what the voice says on entering a page — contain
/// `want`; the words at the deadline otherwise.
pub async fn says(window: &kiosk::ui::AppWindow, want: &str) -> Result<(), String> {
    use slint::ComponentHandle;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let said = window.global::<kiosk::ui::Guide>().get_prompt().to_string();
        if said.contains(want) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the page says {said:?}, not {want:?}"));
        }
        sleep(50).await;
    }
}
