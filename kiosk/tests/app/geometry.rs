//! Nothing is ever cut off: every page × orientation × language × mode, checked from element geometry
//! rather than by eye. Every text reports whether it fits the box its layout gave it (`Fit` in
//! common.slint, read from the accessible id); every button and text lies inside the window; nothing
//! overlaps what it is not part of; Home and 呼叫帮办 are on every citizen page; elder mode is measurably
//! larger (targets ≥ 72 px, body text ≥ 1.4× standard).

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery, TestingBackend, TestingBackendOptions};
use kiosk::config::{Config, Orientation};
use kiosk::ui::{AppWindow, HomeAdapter, Theme};
use slint::ComponentHandle;

use crate::common::pages::{CASES, LONG_CASES, show_case};
use kiosk::flows::core::Reason;

#[derive(Debug, Clone, Copy)]
struct Rect {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

impl Rect {
    fn of(e: &ElementHandle) -> Rect {
        let (p, s) = (e.absolute_position(), e.size());
        Rect { x: p.x, y: p.y, w: s.width, h: s.height }
    }
    fn contains(&self, o: &Rect) -> bool {
        const SLACK: f32 = 0.5;
        o.x >= self.x - SLACK
            && o.y >= self.y - SLACK
            && o.x + o.w <= self.x + self.w + SLACK
            && o.y + o.h <= self.y + self.h + SLACK
    }
    fn overlap(&self, o: &Rect) -> f32 {
        let w = (self.x + self.w).min(o.x + o.w) - self.x.max(o.x);
        let h = (self.y + self.h).min(o.y + o.h) - self.y.max(o.y);
        if w > 0.0 && h > 0.0 { w * h } else { 0.0 }
    }
    fn is_empty(&self) -> bool {
        self.w < 0.5 || self.h < 0.5
    }
}

/// One thing on screen the test checks: a button or a text that reports its fit.
struct Item {
    what: String,
    rect: Rect,
    button: bool,
    /// `Some((fits, font size))` for a text.
    fit: Option<(bool, f32)>,
}

fn label(e: &ElementHandle) -> String {
    let l = e.accessible_label().map(|l| l.to_string()).unwrap_or_default();
    if l.is_empty() { format!("<{}>", e.type_name().unwrap_or_default()) } else { l }
}

/// What the test checks on a page: its buttons and texts, the plain Text elements, and the box of a modal
/// question covering the page, if one does.
fn items(window: &AppWindow) -> (Vec<Item>, Vec<Rect>, Option<Rect>) {
    let mut out = vec![];
    let mut plain_texts = vec![];
    let mut modal = None;
    for e in ElementQuery::from_root(window).match_descendants().find_all() {
        let rect = Rect::of(&e);
        if rect.is_empty() {
            continue;
        }
        let id = e.accessible_id().map(|s| s.to_string()).unwrap_or_default();
        if id == "modal" {
            modal = Some(rect);
        }
        let fit = id.split_once(' ').and_then(|(verdict, size)| match verdict {
            "fits" | "overflow" => size.parse::<f32>().ok().map(|s| (verdict == "fits", s)),
            _ => None,
        });
        let button = e.accessible_role() == Some(AccessibleRole::Button);
        if e.type_name().as_deref() == Some("Text") {
            plain_texts.push(rect);
        }
        if button || fit.is_some() {
            out.push(Item { what: label(&e), rect, button, fit });
        }
    }
    (out, plain_texts, modal)
}

/// Every reason a citizen can be told, with the longest names the sample data has: each is shown on
/// take-a-number's and the licence's failure screens (issue #30 item 6: every error state).
fn every_reason() -> Vec<Reason> {
    use kiosk::flows::core::{A4Trouble, Named, PrinterTrouble};
    let category =
        Named::new("不动产登记（含抵押、转移、变更）", "Real estate registration (mortgage, transfer, change)");
    let mut all = vec![
        Reason::CardExpired,
        Reason::CardUnreadable,
        Reason::ReaderUnavailable,
        Reason::CategoryClosed { name: category.clone(), opens: Named::new("明天 08:30", "tomorrow at 08:30") },
        Reason::NumbersExhausted { name: category.clone(), first: "B001".into(), last: "B999".into() },
        Reason::DailyLimit { name: category.clone(), limit: 2 },
        Reason::QueueUnavailable,
        Reason::TicketFailed,
        Reason::LicenceUnavailable,
        Reason::NoDocuments,
        Reason::LookupUnavailable,
        Reason::DocumentGone,
        Reason::CopyLimit { allowed: 5 },
        Reason::LicenceFailed,
        Reason::TicketUnknown { number: "B1024".into() },
        Reason::TicketNotServed { number: "B1024".into() },
        Reason::TicketRated { number: "B1024".into() },
        Reason::PlatformUnavailable,
        Reason::NoAppointments,
        Reason::NoCases,
        Reason::NoAddresses,
    ];
    let printer = [
        PrinterTrouble::PaperOut,
        PrinterTrouble::CoverOpen,
        PrinterTrouble::Cutter,
        PrinterTrouble::Unavailable,
        PrinterTrouble::Broken,
    ];
    all.extend(printer.map(Reason::Printer));
    all.extend(printer.map(|trouble| Reason::TicketNotPrinted { number: "B1024".into(), trouble }));
    all.extend(
        [
            A4Trouble::PaperOut,
            A4Trouble::Jam,
            A4Trouble::Toner,
            A4Trouble::CoverOpen,
            A4Trouble::Unavailable,
            A4Trouble::JobFailed,
        ]
        .map(Reason::A4),
    );
    all
}

/// A page to check: its name in a failure, the page case it starts from, and what is changed on it.
type Walk = (String, &'static str, Box<dyn Fn(&AppWindow)>);

/// What is walked: each page of [`CASES`] and [`LONG_CASES`]; each again after 呼叫帮办 (its longer
/// "staff are on their way" line); every reason on the two failure screens.
fn walks() -> Vec<Walk> {
    let mut walks: Vec<Walk> = vec![];
    for case in CASES.into_iter().chain(LONG_CASES) {
        walks.push((case.to_owned(), case, Box::new(|_: &AppWindow| {})));
        walks.push((
            format!("{case} after 呼叫帮办"),
            case,
            Box::new(|w: &AppWindow| w.global::<kiosk::ui::Guide>().set_help_called(true)),
        ));
    }
    for reason in every_reason() {
        let (r, ticket) = (reason.clone(), format!("ticket-failed: {reason:?}"));
        walks.push((
            ticket,
            "ticket-failed",
            Box::new(move |w: &AppWindow| {
                let take = w.global::<kiosk::ui::TakeNumberAdapter>();
                take.set_can_reprint(matches!(r, Reason::TicketNotPrinted { .. }));
                take.set_reason(kiosk::ui::reasons::to_ui(&r));
            }),
        ));
        let (r, licence) = (reason.clone(), format!("licence failed: {reason:?}"));
        walks.push((
            licence,
            "licence-card",
            Box::new(move |w: &AppWindow| {
                let l = w.global::<kiosk::ui::LicenceAdapter>();
                l.set_screen(kiosk::ui::LicenceScreen::Failed);
                l.set_reason(kiosk::ui::reasons::to_ui(&r));
            }),
        ));
    }
    walks
}

fn is_latin(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii() || "–—…·’“”".contains(c))
}

#[test]
fn nothing_is_cut_off_on_any_page_in_any_orientation_language_or_mode() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        renderer_name: Some("software".into()),
        ..Default::default()
    })))
    .ok();
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut standard_body = 0.0;
    let mut elder_body = 0.0;
    for (orientation, o, (w, h)) in
        [(Orientation::Landscape, "landscape", (1920.0, 1080.0)), (Orientation::Portrait, "portrait", (1080.0, 1920.0))]
    {
        for (english, lang) in [(false, "zh"), (true, "en")] {
            for (elder, mode) in [(false, "standard"), (true, "elder")] {
                for (name, case, vary) in walks() {
                    let mut config = Config::demo(dir.path());
                    config.ui.orientation = orientation;
                    config.ui.elder_mode = elder;
                    config.ui.hotline = "0539-6212345".into();
                    config.ui.logo =
                        Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/logo-demo.svg"));
                    config.kiosk.languages =
                        if english { vec!["en".into(), "zh-CN".into()] } else { vec!["zh-CN".into(), "en".into()] };
                    let window = kiosk::app::build_window(&config).unwrap();
                    let home = window.global::<HomeAdapter>();
                    home.set_clock("2026-11-25 09:30".into());
                    home.set_weekday(3);
                    show_case(&window, case, english);
                    vary(&window);
                    window.show().unwrap();
                    let body = window.global::<Theme>().get_body_size();
                    if elder {
                        elder_body = body
                    } else {
                        standard_body = body
                    }
                    let at = format!("{name} ({o}, {lang}, {mode})");
                    let screen = Rect { x: 0.0, y: 0.0, w, h };
                    let (found, plain_texts, modal) = items(&window);
                    checked += found.len();
                    // A modal question covers the page under it: only what is on it counts.
                    if let Some(m) = modal
                        && !screen.contains(&m)
                    {
                        failures.push(format!("{at}: the question is not fully on screen: {m:?}"));
                    }
                    let found: Vec<&Item> =
                        found.iter().filter(|i| modal.is_none_or(|m| m.contains(&i.rect))).collect();
                    for i in &found {
                        if !screen.contains(&i.rect) {
                            failures.push(format!("{at}: \"{}\" is not fully on screen: {:?}", i.what, i.rect));
                        }
                        if let Some((false, _)) = i.fit {
                            failures.push(format!("{at}: \"{}\" does not fit its box {:?}", i.what, i.rect));
                        }
                        if elder && i.button && (i.rect.w < 72.0 || i.rect.h < 72.0) {
                            failures.push(format!(
                                "{at}: the button \"{}\" is {:.0} × {:.0} px, under 72 px",
                                i.what, i.rect.w, i.rect.h
                            ));
                        }
                        // Elder mode: body text 1.4× standard; only an English line under a Chinese one
                        // may be smaller, and it too grows 1.4×.
                        if let (true, Some((_, size))) = (elder && !case.starts_with("maintenance"), i.fit) {
                            let secondary = is_latin(&i.what) && size >= 1.4 * 18.0;
                            if size < 1.4 * 24.0 && !secondary {
                                failures.push(format!("{at}: \"{}\" is {size} px in elder mode", i.what));
                            }
                        }
                    }
                    // Every text is checked: each plain Text lies inside something that reports its fit.
                    for t in &plain_texts {
                        if modal.is_some_and(|m| !m.contains(t)) {
                            continue;
                        }
                        if !found.iter().any(|i| i.fit.is_some() && i.rect.contains(t)) {
                            let near: Vec<String> = found
                                .iter()
                                .filter(|i| i.rect.overlap(t) > 0.0)
                                .map(|i| format!("{} {:?}", i.what, i.rect))
                                .collect();
                            failures.push(format!(
                                "{at}: a text at {t:?} reports no fit (use Line or BiText); it overlaps {near:?}"
                            ));
                        }
                    }
                    // Nothing overlaps what it is not part of.
                    for (n, a) in found.iter().enumerate() {
                        for b in &found[n + 1..] {
                            let nested = a.rect.contains(&b.rect) || b.rect.contains(&a.rect);
                            if !nested && a.rect.overlap(&b.rect) > 1.0 {
                                failures.push(format!(
                                    "{at}: \"{}\" {:?} overlaps \"{}\" {:?}",
                                    a.what, a.rect, b.what, b.rect
                                ));
                            }
                        }
                    }
                    // Home and 呼叫帮办 never leave the screen (Home waits while a job prints).
                    let has = |zh: &str, en: &str| {
                        found.iter().any(|i| i.button && (i.what.starts_with(zh) || i.what.starts_with(en)))
                    };
                    if modal.is_none() && !case.starts_with("maintenance") {
                        if !has("呼叫帮办", "Call for assistance") && !has("已呼叫", "Called: help") {
                            failures.push(format!("{at}: no 呼叫帮办 on the page"));
                        }
                        // A ticket at the printer (still-working) is followed to its end: Home comes back after.
                        if case != "home" && case != "still-working" && !has("返回首页", "Home") {
                            failures.push(format!("{at}: no way home on the page"));
                        }
                    }
                    window.hide().unwrap();
                }
            }
        }
    }
    assert!(checked > 2_000, "the walk found the pages' buttons and texts: {checked}");
    assert!(elder_body >= 1.4 * standard_body, "elder body text {elder_body} px vs standard {standard_body} px");
    failures.sort();
    failures.dedup();
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}
