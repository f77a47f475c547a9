//! Full-frame software render of the home page at 1920×1080, the way the box draws (Slint's software
//! renderer into a frame buffer, every frame a full repaint): median of 60 frames in 16-bit RGB565 and in
//! 32-bit RGBA, against a baseline that only writes every pixel of a frame once. Goal: ≤ 16 ms median.

use kiosk::config::Config;
use slint::ComponentHandle;
use slint::platform::software_renderer::{MinimalSoftwareWindow, PremultipliedRgbaColor, Rgb565Pixel, TargetPixel};
use std::time::{Duration, Instant};

const W: usize = 1920;
const H: usize = 1080;
const FRAMES: usize = 60;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn frames<P: TargetPixel + Copy + AsRgba>(window: &MinimalSoftwareWindow, blank: P) -> f64 {
    let mut buffer = vec![blank; W * H];
    let times = (0..FRAMES + 1)
        .map(|_| {
            window.request_redraw();
            let t = Instant::now();
            window.draw_if_needed(|renderer| {
                renderer.render(&mut buffer, W);
            });
            std::hint::black_box(&buffer);
            t.elapsed()
        })
        .skip(1) // the first frame also lays out and fills the glyph cache
        .collect();
    // A frame of the home page has text and tiles: it must not be one flat colour.
    let painted = buffer.iter().filter(|p| p.as_rgba8() != buffer[0].as_rgba8()).count();
    assert!(painted > W * H / 5, "only {painted} pixels differ from the corner: the page was not drawn");
    median(times)
}

fn main() {
    let window = kiosk::ui::headless::install(W as u32, H as u32).expect("the headless renderer");
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo(dir.path());
    let ui = kiosk::app::build_window(&config).unwrap();
    ui.global::<kiosk::ui::HomeAdapter>().set_clock("2026-11-25 03:00".into());
    ui.show().unwrap();

    let rgb565 = frames(&window, Rgb565Pixel(0));
    let rgba = frames(&window, PremultipliedRgbaColor::default());
    let mut frame = vec![0u32; W * H];
    let base = median(
        (0..FRAMES)
            .map(|i| {
                let t = Instant::now();
                frame.iter_mut().for_each(|p| *p = i as u32);
                std::hint::black_box(&frame);
                t.elapsed()
            })
            .collect(),
    );
    for (name, ms) in [("rgb565", rgb565), ("rgba", rgba)] {
        println!(
            "bench ui_full_frame_render_1920x1080_{name}: {ms:.1} ms median (baseline writing every pixel once: {base:.2} ms, ratio {:.0}, goal <= 16 ms)",
            ms / base
        );
    }
}

/// The pixel as comparable bytes, for the drawn-at-all check.
trait AsRgba {
    fn as_rgba8(&self) -> [u8; 4];
}

impl AsRgba for Rgb565Pixel {
    fn as_rgba8(&self) -> [u8; 4] {
        let [lo, hi] = self.0.to_le_bytes();
        [lo, hi, 0, 0]
    }
}

impl AsRgba for PremultipliedRgbaColor {
    fn as_rgba8(&self) -> [u8; 4] {
        [self.red, self.green, self.blue, self.alpha]
    }
}
