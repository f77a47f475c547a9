//! The technicians' maintenance screens: PIN pad (PBKDF2-checked, journaled, locked after repeated failures),
//! device status and a test print. The PIN check, the journal, the printer and the status read run on the
//! maintenance worker; answers come back through the inbox.

use super::inbox::{self, Inbox};
use super::{AppAdapter, AppWindow, DeviceStatus, MaintenanceAdapter, MaintenanceNotice as Notice, Page};
use crate::journal::{Journal, NewEntry, payload};
use crate::ticket::TicketPrinter;
use slint::ComponentHandle;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::mpsc::{Sender, channel};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Wrong PINs allowed before the pad locks, and for how long.
pub const MAX_FAILURES: u32 = 5;
pub const LOCKOUT: Duration = Duration::from_secs(5 * 60);

/// What the maintenance page needs to know and do.
pub struct MaintenanceServices {
    pub journal: Journal,
    pub pin_hash: String,
    pub printer: TicketPrinter,
    pub reader: crate::devices::IdReaderHandle,
    pub kiosk_id: String,
    pub hall_name: String,
    pub timezone: jiff::tz::TimeZone,
}

enum Task {
    Submit(Zeroizing<String>),
    TestPrint,
    Logout,
}

enum Answer {
    LoggedIn { status: Status },
    Notice { notice: Notice, minutes: u64 },
    Printed { ok: bool, detail: String, status: Status },
}

/// The status lines as facts (the page words them): Send, unlike the UI's struct.
struct Status {
    kiosk: String,
    hall: String,
    printer: Result<bool, drivers::escpos::StatusFault>,
    reader_ok: bool,
    entries: String,
}

impl Status {
    fn to_ui(&self) -> DeviceStatus {
        let (printer, code, near_end) = match self.printer {
            Ok(near_end) => (super::ReasonKind::None, String::new(), near_end),
            Err(f) => (super::reasons::printer_kind(crate::devices::printer_trouble(f)), f.code().to_owned(), false),
        };
        DeviceStatus {
            kiosk: self.kiosk.clone().into(),
            hall: self.hall.clone().into(),
            version: env!("CARGO_PKG_VERSION").into(),
            printer,
            printer_code: code.into(),
            printer_near_end: near_end,
            reader_ok: self.reader_ok,
            entries: self.entries.clone().into(),
        }
    }
}

/// The worker's side: the lockout state lives here with the PIN check.
struct Worker {
    s: MaintenanceServices,
    failures: u32,
    locked_until: Option<Instant>,
}

impl Worker {
    fn status(&self) -> Status {
        let s = &self.s;
        let entries = crate::journal::open_read_only(&s.journal.settings().path)
            .and_then(|c| {
                c.query_row("SELECT coalesce(max(seq), 0) FROM entries", [], |r| r.get::<_, i64>(0)).map_err(Into::into)
            })
            .map_or_else(|e| format!("unreadable: {e}"), |n| n.to_string());
        Status {
            kiosk: s.kiosk_id.clone(),
            hall: s.hall_name.clone(),
            printer: s.printer.probe().map(|st| st.paper_near_end),
            reader_ok: s.reader.healthy.lock().map(|h| *h).unwrap_or(false),
            entries,
        }
    }

    fn journal(&self, entry: impl Into<NewEntry>) -> bool {
        let entry = entry.into();
        let kind = entry.kind;
        match self.s.journal.append(entry) {
            Ok(_) => true,
            Err(e) => {
                log::error!("{} not journaled: {e}", kind.as_str());
                false
            }
        }
    }

    fn submit(&mut self, pin: &str) -> Answer {
        if let Some(until) = self.locked_until {
            if Instant::now() < until {
                let minutes = (until - Instant::now()).as_secs().div_ceil(60);
                return Answer::Notice { notice: Notice::TryLater, minutes };
            }
            self.locked_until = None;
            self.failures = 0;
        }
        if crate::secrets::pin_matches(pin, &self.s.pin_hash) {
            self.failures = 0;
            if !self.journal(payload::MaintenanceLogin { method: "pin".into() }) {
                return Answer::Notice { notice: Notice::JournalUnwritable, minutes: 0 };
            }
            return Answer::LoggedIn { status: self.status() };
        }
        self.failures += 1;
        self.journal(payload::MaintenanceLoginFailed { attempt: self.failures });
        if self.failures >= MAX_FAILURES {
            self.locked_until = Some(Instant::now() + LOCKOUT);
            Answer::Notice { notice: Notice::PinsLocked, minutes: LOCKOUT.as_secs() / 60 }
        } else {
            Answer::Notice { notice: Notice::WrongPin, minutes: 0 }
        }
    }

    fn test_print(&self) -> Answer {
        let s = &self.s;
        // Printed times are the kiosk's local time, as on the screen.
        let now = jiff::Timestamp::now().to_zoned_datetime(s.timezone.clone()).strftime("%Y-%m-%d %H:%M").to_string();
        let values = BTreeMap::from([
            ("hall_name", s.hall_name.clone()),
            ("service_zh", "打印测试".to_owned()),
            ("service_en", "Test print".to_owned()),
            ("result_zh", "打印机工作正常".to_owned()),
            ("result_en", "the printer works".to_owned()),
            ("transaction_id", format!("{}-test", s.kiosk_id)),
            ("time", now),
        ]);
        let result = crate::ticket::render_template(crate::ticket::RECEIPT_TEMPLATE, &values, &[])
            .map_err(|e| e.to_string())
            .and_then(|doc| s.printer.print_document(&doc, &s.journal));
        self.journal(payload::MaintenanceAction {
            action: "test_print".into(),
            ok: Some(result.is_ok()),
            detail: result.as_ref().err().cloned(),
        });
        Answer::Printed { ok: result.is_ok(), detail: result.err().unwrap_or_default(), status: self.status() }
    }
}

/// The maintenance worker, for the kiosk to stop at shutdown.
pub struct Maintenance {
    tx: Rc<RefCell<Option<Sender<Task>>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Maintenance {
    /// Lets the worker finish what it was asked and waits for it.
    pub fn stop(&mut self) {
        self.tx.borrow_mut().take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Wires the maintenance pages and starts their worker.
pub fn bind(window: &AppWindow, inbox: &Inbox, services: MaintenanceServices) -> Maintenance {
    let weak = window.as_weak();
    let route = inbox::route(move |body| {
        let (Some(w), Ok(answer)) = (weak.upgrade(), body.downcast::<Answer>()) else { return };
        let m = w.global::<MaintenanceAdapter>();
        match *answer {
            Answer::LoggedIn { status } => {
                m.set_notice(Notice::None);
                m.set_status(status.to_ui());
                w.global::<AppAdapter>().set_page(Page::Maintenance);
            }
            Answer::Notice { notice, minutes } => {
                m.set_minutes(minutes as i32);
                m.set_notice(notice);
            }
            Answer::Printed { ok, detail, status } => {
                m.set_detail(detail.into());
                m.set_notice(if ok { Notice::TestPrinted } else { Notice::TestPrintFailed });
                m.set_status(status.to_ui());
            }
        }
    });
    let (tx, rx) = channel::<Task>();
    let inbox = inbox.clone();
    let spawned = std::thread::Builder::new().name("maintenance".into()).spawn(move || {
        let mut worker = Worker { s: services, failures: 0, locked_until: None };
        for task in rx {
            let answer = match task {
                Task::Submit(pin) => Some(worker.submit(&pin)),
                Task::TestPrint => Some(worker.test_print()),
                Task::Logout => {
                    worker.journal(payload::MaintenanceAction { action: "logout".into(), ok: None, detail: None });
                    None
                }
            };
            if let Some(a) = answer {
                inbox.post(route, a);
            }
        }
    });
    let thread = spawned.map_err(|e| log::error!("the maintenance worker could not start: {e}")).ok();
    let tx = Rc::new(RefCell::new(Some(tx)));
    wire(window, tx.clone());
    Maintenance { tx, thread }
}

fn wire(window: &AppWindow, tx: Rc<RefCell<Option<Sender<Task>>>>) {
    let pin = Rc::new(RefCell::new(Zeroizing::new(String::new())));
    let send = Rc::new(move |task: Task| {
        if tx.borrow().as_ref().is_none_or(|tx| tx.send(task).is_err()) {
            log::error!("the maintenance worker has stopped");
        }
    });
    let m = window.global::<MaintenanceAdapter>();
    let (weak, p) = (window.as_weak(), pin.clone());
    m.on_open(move || {
        let Some(w) = weak.upgrade() else { return };
        p.borrow_mut().clear();
        let m = w.global::<MaintenanceAdapter>();
        m.set_pin_dots("".into());
        m.set_notice(Notice::None);
        w.global::<AppAdapter>().set_page(Page::MaintenancePin);
    });
    let (weak, p) = (window.as_weak(), pin.clone());
    m.on_digit(move |d| {
        let Some(w) = weak.upgrade() else { return };
        let mut pin = p.borrow_mut();
        if pin.len() < 12 {
            pin.push_str(&d);
        }
        w.global::<MaintenanceAdapter>().set_pin_dots("●".repeat(pin.len()).into());
    });
    let (weak, p) = (window.as_weak(), pin.clone());
    m.on_clear(move || {
        let Some(w) = weak.upgrade() else { return };
        p.borrow_mut().clear();
        w.global::<MaintenanceAdapter>().set_pin_dots("".into());
    });
    let (weak, p, s) = (window.as_weak(), pin.clone(), send.clone());
    m.on_submit(move || {
        let Some(w) = weak.upgrade() else { return };
        let entered = std::mem::take(&mut *p.borrow_mut());
        w.global::<MaintenanceAdapter>().set_pin_dots("".into());
        s(Task::Submit(entered));
    });
    let s = send.clone();
    m.on_test_print(move || s(Task::TestPrint));
    let (weak, p, s) = (window.as_weak(), pin, send);
    m.on_exit(move || {
        let Some(w) = weak.upgrade() else { return };
        p.borrow_mut().clear();
        if w.global::<AppAdapter>().get_page() == Page::Maintenance {
            s(Task::Logout);
        }
        let m = w.global::<MaintenanceAdapter>();
        m.set_pin_dots("".into());
        m.set_notice(Notice::None);
        m.set_status(DeviceStatus::default());
        w.global::<AppAdapter>().set_page(Page::Home);
    });
}
