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

/// The screen draws with the binary's own copy of the font (registered from `KIOSK_FONT`, the bytes the
/// printer and the PDFs use), not with a file the machine happens to have: the box has no CJK font of its
/// own, and this machine does (fonts-wqy-microhei), so a missing registration would pass unseen otherwise.
#[test]
fn the_window_draws_with_the_fonts_bytes_built_into_the_binary() {
    use kiosk::fonts::{KIOSK_FONT, KIOSK_FONT_FAMILY};
    i_slint_backend_testing::init_no_event_loop();
    assert!(!kiosk::ui::font::drawn_from_memory(KIOSK_FONT_FAMILY, KIOSK_FONT.len()), "registered too early");
    let dir = tempfile::tempdir().unwrap();
    let _window = kiosk::app::build_window(&Config::demo(dir.path())).unwrap();
    assert!(kiosk::ui::font::drawn_from_memory(KIOSK_FONT_FAMILY, KIOSK_FONT.len()));
    // Registering again (a second window in the process) is a no-op; bytes of no font, or of another
    // family than the one app.slint names, are refused with what to do.
    assert_eq!(kiosk::ui::font::register(KIOSK_FONT, KIOSK_FONT_FAMILY), Ok(()));
    let damaged = kiosk::ui::font::register_faces(b"not a font", KIOSK_FONT_FAMILY).unwrap_err();
    assert_eq!(damaged, kiosk::ui::font::FontError::NoFace(10));
    assert!(damaged.to_string().contains("reinstall the kiosk package"));
    let other = kiosk::ui::font::register_faces(KIOSK_FONT, "Noto Sans CJK SC").unwrap_err();
    assert!(
        other.to_string().contains(
            "holds the families \"WenQuanYi Micro Hei\" and \"WenQuanYi Micro Hei Mono\", but the screen draws with \"Noto Sans CJK SC\""
        ),
        "{other}"
    );
}
