//! The home window under Slint's testing backend: the six tiles are buttons found by their accessible labels.

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use kiosk::config::Config;
use slint::ComponentHandle;

const TILES: [&str; 6] = [
    "取号 Take a number",
    "证照打印 Print a licence",
    "事项查询 Find a service",
    "办件查询 Case progress",
    "预约签到 Appointment check-in",
    "好差评 Rate our service",
];

#[test]
fn six_home_tiles_are_accessible_buttons() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo(dir.path());
    let window = kiosk::app::build_window(&config).unwrap();
    window.show().unwrap();

    let activated = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = activated.clone();
    window.global::<kiosk::ui::HomeAdapter>().on_tile_activated(move |kind| log.borrow_mut().push(kind));

    for label in TILES {
        let found: Vec<ElementHandle> = ElementHandle::find_by_accessible_label(&window, label).collect();
        assert_eq!(found.len(), 1, "exactly one element labelled {label:?}");
        let tile = &found[0];
        assert_eq!(tile.accessible_role(), Some(AccessibleRole::Button), "{label:?} is a button");
        assert_eq!(tile.accessible_enabled(), Some(true));
        let size = tile.size();
        assert!(size.width >= 200.0 && size.height >= 120.0, "{label:?} is a large target: {size:?}");
        tile.invoke_accessible_default_action();
    }
    assert_eq!(activated.borrow().len(), 6, "every tile's default action reaches the adapter");

    let hall = ElementHandle::find_by_accessible_label(&window, "临沭县24小时政务服务大厅").count();
    assert_eq!(hall, 1, "the hall name from the config is on screen");
}
