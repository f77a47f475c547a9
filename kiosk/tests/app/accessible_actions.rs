//! Every button a screen reader sees can be pressed by it (issue #30 item 10): on every page, each element
//! with the button role is pressed through its accessibility action alone, and the press must reach the
//! kiosk (it counts as activity, as every press does). A button with no action — the take-a-number
//! categories were push buttons without one — fails here, named with its page.

use i_slint_backend_testing::{AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions};
use kiosk::config::Config;
use kiosk::ui::{Activity, AppWindow};
use slint::ComponentHandle;
use std::cell::Cell;
use std::rc::Rc;

use crate::common::on_screen;
use crate::common::pages::{CASES, LONG_CASES, show_case};

/// The page's buttons that are on screen, in tree order, with their labels: the first three of each kind of
/// element (an action belongs to the component, so the 36 keys of a keyboard need not all be pressed).
fn buttons(window: &AppWindow) -> Vec<(ElementHandle, String)> {
    let mut per_kind = std::collections::HashMap::<String, usize>::new();
    on_screen(window)
        .into_iter()
        .filter(|(e, _)| e.accessible_role() == Some(AccessibleRole::Button) && e.accessible_enabled() != Some(false))
        .filter(|(e, _)| {
            let n = per_kind.entry(e.type_name().map(|t| t.to_string()).unwrap_or_default()).or_default();
            *n += 1;
            *n <= 3
        })
        .collect()
}

#[test]
fn every_button_on_every_page_can_be_pressed_through_its_accessibility_action() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        renderer_name: Some("software".into()),
        ..Default::default()
    })))
    .ok();
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo(dir.path());
    let window = kiosk::app::build_window(&config).unwrap();
    window.show().unwrap();
    let touches = Rc::new(Cell::new(0));
    let t = touches.clone();
    window.global::<Activity>().on_touched(move || t.set(t.get() + 1));
    let (mut failures, mut pressed) = (Vec::new(), 0);
    for case in CASES.into_iter().chain(LONG_CASES) {
        show_case(&window, case, false);
        let count = buttons(&window).len();
        // The page set up again before each press: a press may leave it.
        for n in 0..count {
            show_case(&window, case, false);
            let Some((button, label)) = buttons(&window).into_iter().nth(n) else {
                failures.push(format!("{case}: button {n} of {count} is gone when the page is shown again"));
                continue;
            };
            touches.set(0);
            button.invoke_accessible_default_action();
            pressed += 1;
            if touches.get() == 0 {
                failures.push(format!("{case}: the button \"{label}\" offers no press to a screen reader"));
            }
        }
    }
    window.hide().unwrap();
    assert!(pressed > 100, "the walk pressed the pages' buttons: {pressed}");
    failures.sort();
    failures.dedup();
    assert!(failures.is_empty(), "{} buttons:\n{}", failures.len(), failures.join("\n"));
}
