//! The one way results reach the UI thread: worker threads and device owners post letters into one
//! channel; the Slint event loop drains it and hands each letter to the handler that registered its route.
//! Nothing else crosses from other threads into the UI.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, Sender, channel};

type Body = Box<dyn Any + Send>;
type Handler = Rc<dyn Fn(Body)>;

/// Where a letter goes: a handler registered on the UI thread with [`route`].
pub type Route = usize;

struct Letter {
    to: Route,
    body: Body,
}

struct Routes {
    rx: Receiver<Letter>,
    handlers: Vec<Handler>,
}

thread_local! {
    static ROUTES: RefCell<Option<Routes>> = const { RefCell::new(None) };
    /// The longest UI-thread callback timed so far (the UI-stall benchmark reads it).
    static LONGEST: std::cell::Cell<std::time::Duration> = const { std::cell::Cell::new(std::time::Duration::ZERO) };
}

/// Runs a UI-thread callback and keeps the longest duration seen: nothing in one may block.
pub fn timed<T>(f: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let out = f();
    let took = started.elapsed();
    LONGEST.with(|l| l.set(l.get().max(took)));
    out
}

/// The longest callback [`timed`] on this thread since the last [`reset_longest`].
pub fn longest() -> std::time::Duration {
    LONGEST.with(std::cell::Cell::get)
}

pub fn reset_longest() {
    LONGEST.with(|l| l.set(std::time::Duration::ZERO));
}

/// The sending side, for any thread; cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    tx: Sender<Letter>,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inbox")
    }
}

/// Opens the UI thread's inbox (a new kiosk in this thread gets a new one; letters to the old are dropped).
pub fn install() -> Inbox {
    let (tx, rx) = channel();
    ROUTES.with(|r| *r.borrow_mut() = Some(Routes { rx, handlers: vec![] }));
    Inbox { tx }
}

/// Registers `handler` (on the UI thread) for letters whose body it downcasts itself.
pub fn route(handler: impl Fn(Body) + 'static) -> Route {
    ROUTES.with(|r| {
        let mut r = r.borrow_mut();
        let routes = r.as_mut().expect("the inbox is installed before routes are added");
        routes.handlers.push(Rc::new(handler));
        routes.handlers.len() - 1
    })
}

impl Inbox {
    /// Posts `body` to `to` and wakes the event loop to drain the inbox. After the event loop has stopped
    /// the letter is dropped.
    pub fn post(&self, to: Route, body: impl Any + Send) {
        if self.tx.send(Letter { to, body: Box::new(body) }).is_ok() {
            let _ = slint::invoke_from_event_loop(drain);
        }
    }
}

/// Hands every waiting letter to its handler, on the UI thread. A handler may post again: the loop takes
/// those too.
fn drain() {
    loop {
        let next = ROUTES.with(|r| {
            let r = r.borrow();
            let routes = r.as_ref()?;
            let letter = routes.rx.try_recv().ok()?;
            Some((routes.handlers.get(letter.to).cloned(), letter.body))
        });
        match next {
            Some((Some(handler), body)) => timed(|| handler(body)),
            Some((None, _)) => log::error!("a letter for an unknown route was dropped"),
            None => break,
        }
    }
}
