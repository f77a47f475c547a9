//! Every main page rendered by the software renderer and compared with committed references
//! (docs/screenshots/reference/, kept at half size to keep the repository small).
//! `UPDATE_SCREENSHOTS=1 cargo test -p kiosk --test app screenshots` rewrites them.

use i_slint_backend_testing::{AccessibleRole, ElementQuery, TestingBackend, TestingBackendOptions};
use kiosk::config::{Config, Orientation};
use kiosk::ui::{AppWindow, HomeAdapter, Lang, Theme};
use slint::ComponentHandle;
use std::path::{Path, PathBuf};

use crate::common::pages::{CASES, show_case};

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots/reference")
}

/// Renders `window` to RGBA at half its size (2×2 pixels averaged).
fn snapshot(window: &AppWindow) -> (u32, u32, Vec<u8>) {
    let buf = window.window().take_snapshot().expect("the software renderer draws the window");
    let (w, h, full) = (buf.width(), buf.height(), buf.as_bytes());
    let (hw, hh) = (w / 2, h / 2);
    let mut half = Vec::with_capacity((hw * hh * 4) as usize);
    for y in 0..hh {
        for x in 0..hw {
            for c in 0..4 {
                let at = |dx: u32, dy: u32| u32::from(full[(((2 * y + dy) * w + 2 * x + dx) * 4 + c) as usize]);
                half.push(((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4) as u8);
            }
        }
    }
    (hw, hh, half)
}

fn load_png(path: &Path) -> Option<(u32, u32, Vec<u8>)> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).ok()?));
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).ok()?;
    (info.color_type == png::ColorType::Rgba).then(|| (info.width, info.height, buf[..info.buffer_size()].to_vec()))
}

fn save_png(path: &Path, (w, h, rgba): &(u32, u32, Vec<u8>)) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(std::fs::File::create(path).unwrap()), *w, *h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Best);
    enc.write_header().unwrap().write_image_data(rgba).unwrap();
}

/// Share of pixels that differ noticeably (any channel by more than 48).
fn difference(a: &(u32, u32, Vec<u8>), b: &(u32, u32, Vec<u8>)) -> f64 {
    if (a.0, a.1) != (b.0, b.1) {
        return 1.0;
    }
    let differing =
        a.2.chunks(4)
            .zip(b.2.chunks(4))
            .filter(|(p, q)| p.iter().zip(q.iter()).any(|(x, y)| x.abs_diff(*y) > 48))
            .count();
    differing as f64 / (a.0 as f64 * a.1 as f64)
}

#[test]
fn every_main_page_matches_its_reference() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        renderer_name: Some("software".into()),
        ..Default::default()
    })))
    .ok();
    let dir = tempfile::tempdir().unwrap();
    let update = std::env::var_os("UPDATE_SCREENSHOTS").is_some();
    let mut failures = Vec::new();
    for (orientation, o) in [(Orientation::Landscape, "landscape"), (Orientation::Portrait, "portrait")] {
        for (english, lang) in [(false, "zh"), (true, "en")] {
            for (elder, mode) in [(false, "standard"), (true, "elder")] {
                for p in CASES {
                    let mut config = Config::demo(dir.path());
                    config.ui.logo = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/logo-demo.svg"));
                    config.ui.orientation = orientation;
                    config.ui.elder_mode = elder;
                    config.kiosk.languages =
                        if english { vec!["en".into(), "zh-CN".into()] } else { vec!["zh-CN".into(), "en".into()] };
                    let window = kiosk::app::build_window(&config).unwrap();
                    window.global::<HomeAdapter>().set_clock("2026-11-25 09:30".into());
                    window.global::<HomeAdapter>().set_weekday(3);
                    window.global::<kiosk::ui::Guide>().set_hotline("0539-6212345".into());
                    show_case(&window, p, english);
                    assert_eq!(window.global::<Lang>().get_english(), english);
                    assert_eq!(window.global::<Theme>().get_elder_mode(), elder);
                    window.show().unwrap();
                    if elder {
                        // Elder mode: every touch target on every page is at least 60 × 60 logical px.
                        for b in
                            ElementQuery::from_root(&window).match_accessible_role(AccessibleRole::Button).find_all()
                        {
                            let size = b.size();
                            if size.width < 60.0 || size.height < 60.0 {
                                failures.push(format!(
                                    "{p} ({o}, {lang}): the button \"{}\" is {:.0} × {:.0} px in elder mode",
                                    b.accessible_label().unwrap_or_default(),
                                    size.width,
                                    size.height
                                ));
                            }
                        }
                    }
                    let shot = snapshot(&window);
                    window.hide().unwrap();
                    let name = format!("{p}-{o}-{lang}-{mode}.png");
                    let reference = reference_dir().join(&name);
                    if update {
                        save_png(&reference, &shot);
                        continue;
                    }
                    match load_png(&reference) {
                        None => failures.push(format!("{name}: no reference (run with UPDATE_SCREENSHOTS=1)")),
                        Some(r) => {
                            let d = difference(&shot, &r);
                            if d > 0.01 {
                                let actual = std::env::temp_dir().join(format!("actual-{name}"));
                                save_png(&actual, &shot);
                                failures.push(format!(
                                    "{name}: {:.1} % of pixels differ; see {}",
                                    d * 100.0,
                                    actual.display()
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
