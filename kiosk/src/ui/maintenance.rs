//! The technicians' maintenance screens: PIN pad (PBKDF2-checked, journaled, locked after repeated failures),
//! device status and a test print. The PIN check, the journal, the printer and the status read run on the
//! maintenance worker; answers come back through the inbox.

use super::inbox::{self, Inbox};
use super::{AppAdapter, AppWindow, DeviceStatus, MaintenanceAdapter, MaintenanceNotice as Notice, Page};
use crate::journal::{Journal, NewEntry, payload};
use crate::ticket::TicketPrinter;
use slint::ComponentHandle;
use std::cell::RefCell;
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
    /// Where 导出日志 writes when no USB stick is mounted (`[admin] export_dir`).
    pub export_dir: Option<std::path::PathBuf>,
    /// What the kiosk's own journal checks found.
    pub integrity: crate::journal::integrity::IntegrityStatus,
}

enum Task {
    Submit(Zeroizing<String>),
    TestPrint,
    ExportJournal,
    Logout,
}

enum Answer {
    LoggedIn { status: Status },
    Notice { notice: Notice, minutes: u64 },
    Printed { ok: bool, detail: String, status: Status },
    ExportProgress { done: u64, total: u64 },
    Exported { result: Result<String, String> },
}

/// The status lines as facts (the page words them): Send, unlike the UI's struct.
struct Status {
    kiosk: String,
    hall: String,
    printer: Result<bool, drivers::escpos::StatusFault>,
    reader_ok: bool,
    entries: String,
    integrity: crate::journal::integrity::IntegrityState,
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
            journal_check: journal_check(&self.integrity),
            journal_problem: match &self.integrity {
                IntegrityState::Failed { seq, what, .. } => format!("seq {seq}: {what}").into(),
                IntegrityState::Unknown(why) => why.clone().into(),
                _ => Default::default(),
            },
        }
    }
}

use crate::journal::integrity::IntegrityState;

fn journal_check(state: &IntegrityState) -> super::JournalCheck {
    match state {
        IntegrityState::Unchecked | IntegrityState::Checking => super::JournalCheck::Checking,
        IntegrityState::Intact { .. } => super::JournalCheck::Intact,
        IntegrityState::Failed { .. } => super::JournalCheck::Failed,
        IntegrityState::Unknown(_) => super::JournalCheck::Unknown,
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
        let entries = crate::journal::open_reader(&s.journal.settings().path)
            .and_then(|c| {
                c.query_row("SELECT coalesce(max(seq), 0) FROM entries", [], |r| r.get::<_, i64>(0)).map_err(Into::into)
            })
            .map_or_else(|e| format!("unreadable: {e}"), |n| n.to_string());
        Status {
            kiosk: s.kiosk_id.clone(),
            hall: s.hall_name.clone(),
            printer: s.printer.probe().map(|st| st.paper_near_end),
            reader_ok: s.reader.healthy.lock().map(|h| *h).unwrap_or(false),
            integrity: s.integrity.get(),
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
            if !self.journal(payload::MaintenanceLogin { method: payload::LoginMethod::Pin }) {
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
        let result = crate::ticket::print_test_page(&s.printer, &s.journal, &s.hall_name, &s.kiosk_id, &s.timezone)
            .map_err(|e| e.to_string());
        self.journal(payload::MaintenanceAction {
            action: payload::MaintenanceActionKind::TestPrint,
            ok: Some(result.is_ok()),
            detail: result.as_ref().err().cloned(),
        });
        Answer::Printed { ok: result.is_ok(), detail: result.err().unwrap_or_default(), status: self.status() }
    }
}

/// Wrong PINs since the last good one and, when they locked the pad, how long the lock still has at `now`,
/// replaying the login entries (`kind`, `time_utc`) in journal order the way [`Worker::submit`] counts.
pub fn lockout_from_history<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    now: jiff::Timestamp,
) -> (u32, Option<Duration>) {
    let lockout = jiff::SignedDuration::from_secs(LOCKOUT.as_secs() as i64);
    let (mut failures, mut locked_until): (u32, Option<jiff::Timestamp>) = (0, None);
    for (kind, time) in entries {
        let Ok(t) = time.parse::<jiff::Timestamp>() else { continue };
        match kind {
            "maintenance_login" => (failures, locked_until) = (0, None),
            "maintenance_login_failed" => {
                if locked_until.is_some_and(|u| t >= u) {
                    (failures, locked_until) = (0, None);
                }
                failures += 1;
                if failures >= MAX_FAILURES {
                    locked_until = t.checked_add(lockout).ok();
                }
            }
            _ => {}
        }
    }
    match locked_until {
        Some(u) if u > now => (failures, Some(Duration::from_secs((u - now).as_secs().max(1) as u64))),
        Some(_) => (0, None),
        None => (failures, None),
    }
}

/// [`lockout_from_history`] over the journal's recent login entries; an unreadable journal locks nothing
/// (the kiosk that cannot read its journal has other trouble, reported elsewhere).
fn lockout_from_journal(journal: &Journal, now: jiff::Timestamp) -> (u32, Option<Duration>) {
    let read = || -> Result<Vec<(String, String)>, crate::journal::JournalError> {
        let conn = crate::journal::open_reader(&journal.settings().path)?;
        let mut stmt = conn.prepare(
            "SELECT kind, time_utc FROM (SELECT seq, kind, time_utc FROM entries
             WHERE kind IN ('maintenance_login', 'maintenance_login_failed') ORDER BY seq DESC LIMIT 100) ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    match read() {
        Ok(rows) => lockout_from_history(rows.iter().map(|(k, t)| (k.as_str(), t.as_str())), now),
        Err(e) => {
            log::warn!("the PIN lockout could not be read from the journal: {e}");
            (0, None)
        }
    }
}

impl Worker {
    /// Exports the journal to a USB stick (or the configured folder); a failure is journaled with its cause.
    fn export_journal(&self, progress: &dyn Fn(u64, u64)) -> Answer {
        let result = crate::usb_export::pick_target(self.s.export_dir.as_deref())
            .and_then(|dir| crate::usb_export::export_to(&self.s.journal, &dir, progress));
        let result = match result {
            Ok(e) => {
                let name = e.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                Ok(format!("{name} ({} entries)", e.entries))
            }
            Err(e) => {
                self.journal(payload::MaintenanceAction {
                    action: payload::MaintenanceActionKind::ExportJournal,
                    ok: Some(false),
                    detail: Some(e.to_string()),
                });
                Err(e.to_string())
            }
        };
        Answer::Exported { result }
    }
}

/// The maintenance worker, for the kiosk to stop at shutdown.
pub struct Maintenance {
    tx: Rc<RefCell<Option<Sender<Task>>>>,
    thread: Option<owner::Owned>,
}

impl Maintenance {
    /// Lets the worker finish what it was asked and waits for it.
    pub fn stop(&mut self) {
        self.tx.borrow_mut().take();
        if let Some(mut t) = self.thread.take() {
            t.stop();
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
            Answer::ExportProgress { done, total } => {
                m.set_notice(Notice::Exporting);
                m.set_export_progress(if total == 0 { 1.0 } else { done as f32 / total as f32 });
            }
            Answer::Exported { result } => {
                m.set_export_progress(-1.0);
                let (notice, detail) = match result {
                    Ok(what) => (Notice::ExportDone, what),
                    Err(why) => (Notice::ExportFailed, why),
                };
                m.set_detail(detail.into());
                m.set_notice(notice);
            }
        }
    });
    let (tx, rx) = channel::<Task>();
    let inbox = inbox.clone();
    let spawned = owner::Owned::spawn("maintenance", move |_| {
        // A restart does not lift a lockout: it is rebuilt from the journal's login entries.
        let (failures, remaining) = lockout_from_journal(&services.journal, jiff::Timestamp::now());
        let locked_until = remaining.map(|r| Instant::now() + r);
        if locked_until.is_some() {
            log::warn!("the maintenance PIN pad stays locked after the restart (too many wrong PINs)");
        }
        let mut worker = Worker { s: services, failures, locked_until };
        for task in rx {
            let answer = match task {
                Task::Submit(pin) => Some(worker.submit(&pin)),
                Task::TestPrint => Some(worker.test_print()),
                Task::ExportJournal => {
                    let progress = |done, total| inbox.post(route, Answer::ExportProgress { done, total });
                    Some(worker.export_journal(&progress))
                }
                Task::Logout => {
                    worker.journal(payload::MaintenanceAction {
                        action: payload::MaintenanceActionKind::Logout,
                        ok: None,
                        detail: None,
                    });
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
    let (weak, s) = (window.as_weak(), send.clone());
    m.on_export_journal(move || {
        let Some(w) = weak.upgrade() else { return };
        let m = w.global::<MaintenanceAdapter>();
        // One export at a time: a second tap while one runs is ignored.
        if m.get_export_progress() >= 0.0 {
            return;
        }
        m.set_export_progress(0.0);
        m.set_notice(Notice::Exporting);
        s(Task::ExportJournal)
    });
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

#[cfg(test)]
mod lockout_tests {
    use super::*;

    #[test]
    fn five_wrong_pins_lock_the_pad_across_a_restart_until_the_lockout_ends() {
        let failed = "maintenance_login_failed";
        let t = |m: u32, s: u32| format!("2026-11-26T08:{m:02}:{s:02}.000Z");
        let times: Vec<String> = (0..5).map(|i| t(0, i * 5)).collect();
        let history: Vec<(&str, &str)> = times.iter().map(|x| (failed, x.as_str())).collect();
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let (n, left) = lockout_from_history(history.clone(), at("2026-11-26T08:02:20Z"));
        assert_eq!((n, left), (5, Some(Duration::from_secs(180))), "locked at 08:00:20 for 5 minutes");
        assert_eq!(lockout_from_history(history.clone(), at("2026-11-26T08:05:21Z")), (0, None), "over");
        let mut with_login = vec![("maintenance_login", "2026-11-26T07:59:00.000Z")];
        with_login.extend(history.iter().take(3).cloned());
        assert_eq!(
            lockout_from_history(with_login, at("2026-11-26T08:01:00Z")),
            (3, None),
            "3 wrong since the last good one"
        );
        let mut relogged = history.clone();
        relogged.push(("maintenance_login", "2026-11-26T08:06:00.000Z"));
        assert_eq!(lockout_from_history(relogged, at("2026-11-26T08:06:01Z")), (0, None));
    }
}
