//! Long lists turn a page at a time (issue #29 item 3): the most appointments, cases or addresses the
//! platform's bounds let through (50) are each shown exactly once, page by page with 下一页, and the pager
//! says where the citizen is; 2,000 rows used to run off the screen. The geometry test checks that each page
//! fits, in every orientation, language and mode.

use i_slint_backend_testing::{ElementHandle, TestingBackend, TestingBackendOptions};
use kiosk::config::Config;
use slint::ComponentHandle;

use crate::common::on_screen;
use crate::common::pages::{LONG_CASES, show_case};

fn labelled(window: &kiosk::ui::AppWindow, wanted: &dyn Fn(&str) -> bool) -> Vec<(ElementHandle, String)> {
    on_screen(window).into_iter().filter(|(_, l)| wanted(l)).collect()
}

#[test]
fn the_longest_lists_the_platform_may_send_are_shown_page_by_page() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        renderer_name: Some("software".into()),
        ..Default::default()
    })))
    .ok();
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo(dir.path());
    let rows = kiosk::platform::bounds::MAX_ROWS;
    for (case, marker) in LONG_CASES.into_iter().zip(["社会保障卡补换", "高龄津贴申领", "单元"]) {
        let window = kiosk::app::build_window(&config).unwrap();
        show_case(&window, case, false);
        window.show().unwrap();
        let mut seen: Vec<String> = Vec::new();
        let mut pages = Vec::new();
        for _ in 0..=rows {
            // A row's label is found on its element and on the texts inside it: each once per page.
            let mut on_page: Vec<String> =
                labelled(&window, &|l| l.contains(marker)).into_iter().map(|(_, l)| l).collect();
            on_page.sort();
            on_page.dedup();
            assert!(!on_page.is_empty(), "{case}: a page without rows");
            seen.extend(on_page);
            let status = labelled(&window, &|l| l.starts_with("第 ") && l.contains(" 页，共 "));
            pages.push(status.first().map(|(_, l)| l.clone()).unwrap_or_default());
            let next = labelled(&window, &|l| l.starts_with("下一页"));
            let (next, _) = next.first().unwrap_or_else(|| panic!("{case}: no 下一页 under a list of {rows}"));
            if next.accessible_enabled() == Some(false) {
                break;
            }
            next.invoke_accessible_default_action();
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (rows, rows), "{case}: every row once: {seen:?}");
        let last = pages.last().unwrap();
        assert!(
            pages[0].starts_with("第 1 页，共 ")
                && last.starts_with(&format!("第 {} 页，共 {}", pages.len(), pages.len())),
            "{case}: {pages:?}"
        );
        window.hide().unwrap();
    }
}
