//! Every text/background pair of the palette meets the elder-mode contrast floor (4.5 : 1, WCAG 2 relative
//! luminance), read from the running UI's Theme so the check follows common.slint.

use kiosk::ui::{AppWindow, Theme};
use slint::{Color, ComponentHandle};

fn luminance(c: Color) -> f64 {
    let lin = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.03928 { s / 12.92 } else { ((s + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * lin(c.red()) + 0.7152 * lin(c.green()) + 0.0722 * lin(c.blue())
}

/// `fg` drawn at `opacity` over `bg`, as the English line under a Chinese one is.
fn over(fg: Color, bg: Color, opacity: f64) -> Color {
    let mix = |f: u8, b: u8| (f64::from(f) * opacity + f64::from(b) * (1.0 - opacity)).round() as u8;
    Color::from_rgb_u8(mix(fg.red(), bg.red()), mix(fg.green(), bg.green()), mix(fg.blue(), bg.blue()))
}

fn contrast(a: Color, b: Color) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn palette_pairs_reach_4_5_to_1() {
    i_slint_backend_testing::init_no_event_loop();
    let window = AppWindow::new().unwrap();
    let t = window.global::<Theme>();
    // (what, text colour, background colour) for every pairing the pages use.
    let pairs = [
        ("text on background", t.get_text(), t.get_background()),
        ("muted text on background", t.get_text_muted(), t.get_background()),
        ("text on surface (idle prompt)", t.get_text(), t.get_surface()),
        ("messages in primary on background", t.get_primary(), t.get_background()),
        ("button label on primary", t.get_on_primary(), t.get_primary()),
        ("button label on pressed primary", t.get_on_primary(), t.get_primary_dark()),
        ("label on a disabled tile", t.get_on_primary(), t.get_disabled()),
        ("card label on the card picture", t.get_text(), Color::from_rgb_u8(0xe8, 0xee, 0xf6)),
        ("呼叫帮办's label on its colour", t.get_on_primary(), t.get_help()),
        ("呼叫帮办 pressed", t.get_on_primary(), t.get_help_dark()),
        ("an English line on the background", over(t.get_text(), t.get_background(), 0.85), t.get_background()),
        (
            "a muted English line on the background",
            over(t.get_text_muted(), t.get_background(), 0.85),
            t.get_background(),
        ),
        ("an English line on a button", over(t.get_on_primary(), t.get_primary(), 0.85), t.get_primary()),
        ("an English line on a disabled tile", over(t.get_on_primary(), t.get_disabled(), 0.85), t.get_disabled()),
        ("an English line in primary", over(t.get_primary(), t.get_background(), 0.85), t.get_background()),
        ("an English line on 呼叫帮办", over(t.get_on_primary(), t.get_help(), 0.85), t.get_help()),
        // The rating scale: white words on each level's colour, the English line too.
        ("非常满意 on its green", over(t.get_on_primary(), t.get_rating_5(), 0.85), t.get_rating_5()),
        ("满意 on its green", over(t.get_on_primary(), t.get_rating_4(), 0.85), t.get_rating_4()),
        ("基本满意 on its amber", over(t.get_on_primary(), t.get_rating_3(), 0.85), t.get_rating_3()),
        ("不满意 on its orange", over(t.get_on_primary(), t.get_rating_2(), 0.85), t.get_rating_2()),
        ("非常不满意 on its red", over(t.get_on_primary(), t.get_rating_1(), 0.85), t.get_rating_1()),
    ];
    let failing: Vec<String> = pairs
        .iter()
        .map(|(what, fg, bg)| (what, contrast(*fg, *bg)))
        .filter(|(_, ratio)| *ratio < 4.5)
        .map(|(what, ratio)| format!("{what}: {ratio:.2} : 1"))
        .collect();
    assert!(failing.is_empty(), "below 4.5 : 1: {failing:?}");
    // The check itself can fail: grey on white is below the floor.
    assert!(contrast(Color::from_rgb_u8(0x99, 0x99, 0x99), Color::from_rgb_u8(0xff, 0xff, 0xff)) < 4.5);
}
