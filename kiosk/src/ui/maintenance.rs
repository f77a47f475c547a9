//! The technicians' maintenance screens: PIN pad (PBKDF2-checked, journaled, locked after repeated failures),
//! device status and a test print.

use super::{AppAdapter, AppWindow, MaintenanceAdapter, Page};
use crate::journal::{EntryKind, Journal, NewEntry};
use crate::ticket::TicketPrinter;
use slint::ComponentHandle;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Wrong PINs allowed before the pad locks, and for how long.
pub const MAX_FAILURES: u32 = 5;
pub const LOCKOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Default)]
struct PinState {
    pin: Zeroizing<String>,
    failures: u32,
    locked_until: Option<Instant>,
}

/// What the maintenance page needs to know and do.
pub struct MaintenanceServices {
    pub journal: Journal,
    pub pin_hash: String,
    pub printer: TicketPrinter,
    pub reader: crate::devices::IdReaderHandle,
    pub kiosk_id: String,
    pub hall_name: String,
}

fn status_text(s: &MaintenanceServices) -> String {
    let printer = match s.printer.probe() {
        Ok(st) if st.paper_near_end => "纸将用尽 paper near end".to_owned(),
        Ok(_) => "正常 OK".to_owned(),
        Err(f) => format!("{} ({})", f.sentence_zh(), f.code()),
    };
    let reader =
        if s.reader.healthy.lock().map(|h| *h).unwrap_or(false) { "正常 OK" } else { "无响应 not answering" };
    let entries = crate::journal::open_read_only(&s.journal.settings().path)
        .and_then(|c| {
            c.query_row("SELECT coalesce(max(seq), 0) FROM entries", [], |r| r.get::<_, i64>(0)).map_err(Into::into)
        })
        .map_or_else(|e| format!("unreadable: {e}"), |n| n.to_string());
    format!(
        "终端 Kiosk: {} ({})\n版本 Version: {}\n号票打印机 Ticket printer: {printer}\n身份证阅读器 ID-card reader: {reader}\n日志条目 Journal entries: {entries}",
        s.kiosk_id,
        s.hall_name,
        env!("CARGO_PKG_VERSION")
    )
}

pub fn bind(window: &AppWindow, services: MaintenanceServices) {
    let state = Rc::new(RefCell::new(PinState::default()));
    let services = Rc::new(services);
    let m = window.global::<MaintenanceAdapter>();
    let dots = |st: &PinState| "●".repeat(st.pin.len());

    let (weak, st) = (window.as_weak(), state.clone());
    m.on_open(move || {
        let Some(w) = weak.upgrade() else { return };
        st.borrow_mut().pin.clear();
        let m = w.global::<MaintenanceAdapter>();
        m.set_pin_dots("".into());
        m.set_message("".into());
        w.global::<AppAdapter>().set_page(Page::MaintenancePin);
    });
    let (weak, st) = (window.as_weak(), state.clone());
    m.on_digit(move |d| {
        let Some(w) = weak.upgrade() else { return };
        let mut s = st.borrow_mut();
        if s.pin.len() < 12 {
            s.pin.push_str(&d);
        }
        w.global::<MaintenanceAdapter>().set_pin_dots(dots(&s).into());
    });
    let (weak, st) = (window.as_weak(), state.clone());
    m.on_clear(move || {
        let Some(w) = weak.upgrade() else { return };
        st.borrow_mut().pin.clear();
        w.global::<MaintenanceAdapter>().set_pin_dots("".into());
    });
    let (weak, st, sv) = (window.as_weak(), state.clone(), services.clone());
    m.on_submit(move || {
        let Some(w) = weak.upgrade() else { return };
        let m = w.global::<MaintenanceAdapter>();
        let mut s = st.borrow_mut();
        if let Some(until) = s.locked_until {
            if Instant::now() < until {
                let mins = (until - Instant::now()).as_secs().div_ceil(60);
                m.set_message(
                    format!("尝试次数过多，请 {mins} 分钟后再试。 Too many attempts; try again in {mins} min.").into(),
                );
                s.pin.clear();
                m.set_pin_dots("".into());
                return;
            }
            s.locked_until = None;
            s.failures = 0;
        }
        let ok = crate::secrets::pin_matches(&s.pin, &sv.pin_hash);
        s.pin.clear();
        m.set_pin_dots("".into());
        if ok {
            s.failures = 0;
            if let Err(e) =
                sv.journal.append(NewEntry::new(EntryKind::MaintenanceLogin, serde_json::json!({ "method": "pin" })))
            {
                log::error!("maintenance login not journaled: {e}");
                m.set_message(
                    "日志不可写，无法进入维护。 The journal cannot be written; maintenance is refused.".into(),
                );
                return;
            }
            m.set_message("".into());
            m.set_status(status_text(&sv).into());
            w.global::<AppAdapter>().set_page(Page::Maintenance);
        } else {
            s.failures += 1;
            let _ = sv
                .journal
                .append(NewEntry::new(EntryKind::MaintenanceLoginFailed, serde_json::json!({ "attempt": s.failures })));
            if s.failures >= MAX_FAILURES {
                s.locked_until = Some(Instant::now() + LOCKOUT);
                m.set_message("PIN 错误次数过多，已锁定 5 分钟。 Too many wrong PINs; locked for 5 minutes.".into());
            } else {
                m.set_message("PIN 错误，请重试。 Wrong PIN, please try again.".into());
            }
        }
    });
    let (weak, sv) = (window.as_weak(), services.clone());
    m.on_test_print(move || {
        let Some(w) = weak.upgrade() else { return };
        let now = jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M").to_string();
        let values = BTreeMap::from([
            ("hall_name", sv.hall_name.clone()),
            ("service_zh", "打印测试".to_owned()),
            ("service_en", "Test print".to_owned()),
            ("result_zh", "打印机工作正常".to_owned()),
            ("result_en", "the printer works".to_owned()),
            ("transaction_id", format!("{}-test", sv.kiosk_id)),
            ("time", now),
        ]);
        let result = crate::ticket::render_template(crate::ticket::RECEIPT_TEMPLATE, &values, &[])
            .map_err(|e| e.to_string())
            .and_then(|doc| sv.printer.print_document(&doc));
        let _ = sv.journal.append(NewEntry::new(
            EntryKind::MaintenanceAction,
            serde_json::json!({ "action": "test_print", "ok": result.is_ok(), "detail": result.as_ref().err() }),
        ));
        let m = w.global::<MaintenanceAdapter>();
        m.set_message(match result {
            Ok(()) => "测试页已打印。 The test page was printed.".into(),
            Err(e) => format!("测试打印失败：{e}").into(),
        });
        m.set_status(status_text(&sv).into());
    });
    let (weak, st, sv) = (window.as_weak(), state, services);
    m.on_exit(move || {
        let Some(w) = weak.upgrade() else { return };
        st.borrow_mut().pin.clear();
        if w.global::<AppAdapter>().get_page() == Page::Maintenance {
            let _ = sv
                .journal
                .append(NewEntry::new(EntryKind::MaintenanceAction, serde_json::json!({ "action": "logout" })));
        }
        let m = w.global::<MaintenanceAdapter>();
        m.set_pin_dots("".into());
        m.set_message("".into());
        m.set_status("".into());
        w.global::<AppAdapter>().set_page(Page::Home);
    });
}
