//! Shared helpers for the UI tests under Slint's testing backend: waiting on the event loop, finding elements.

#![allow(dead_code)]

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
