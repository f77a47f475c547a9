//! Every main page rendered by the software renderer and compared with committed references
//! (docs/screenshots/reference/). `UPDATE_SCREENSHOTS=1 cargo test -p kiosk --test screenshots` rewrites them.

use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use kiosk::config::{Config, Orientation};
use kiosk::ui::{AppAdapter, AppWindow, CategoryItem, HomeAdapter, Lang, Page, TakeNumberAdapter, TakeScreen, Theme};
use slint::{ComponentHandle, ModelRc, VecModel};
use std::path::{Path, PathBuf};

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots/reference")
}

fn categories(english: bool) -> ModelRc<CategoryItem> {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo(dir.path());
    let items: Vec<CategoryItem> = config
        .queue
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (name, subtitle) = if english { (&c.name_en, &c.name_zh) } else { (&c.name_zh, &c.name_en) };
            CategoryItem {
                prefix: c.prefix.clone().into(),
                name: name.into(),
                subtitle: subtitle.into(),
                waiting: i as i32 * 3,
                open: i != 1,
                note: if i == 1 { "不动产登记暂停取号，今天13:30开始。 Real estate registration is closed now; it opens today at 13:30.".into() } else { "".into() },
                requires_id: c.requires_id,
            }
        })
        .collect();
    ModelRc::new(VecModel::from(items))
}

/// Renders `window` to RGBA at its size.
fn snapshot(window: &AppWindow) -> (u32, u32, Vec<u8>) {
    let buf = window.window().take_snapshot().expect("the software renderer draws the window");
    (buf.width(), buf.height(), buf.as_bytes().to_vec())
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
                for (page, p) in [(Page::Home, "home"), (Page::TakeNumber, "take-number")] {
                    let mut config = Config::demo(dir.path());
                    config.ui.orientation = orientation;
                    config.ui.elder_mode = elder;
                    config.kiosk.languages =
                        if english { vec!["en".into(), "zh-CN".into()] } else { vec!["zh-CN".into(), "en".into()] };
                    let window = kiosk::app::build_window(&config).unwrap();
                    window.global::<HomeAdapter>().set_clock("2026-11-25 09:30".into());
                    window.global::<AppAdapter>().set_page(page);
                    let take = window.global::<TakeNumberAdapter>();
                    take.set_screen(TakeScreen::Categories);
                    take.set_categories(categories(english));
                    assert_eq!(window.global::<Lang>().get_english(), english);
                    assert_eq!(window.global::<Theme>().get_elder_mode(), elder);
                    window.show().unwrap();
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
