//! Full-frame software render of the home page at 1920×1080 (median of 60 frames), against a baseline
//! that only writes every pixel of a frame of the same size once. Goal: ≤ 16 ms median.

use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use kiosk::config::Config;
use slint::ComponentHandle;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        renderer_name: Some("software".into()),
        ..Default::default()
    })))
    .expect("the testing platform");
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo(dir.path());
    let window = kiosk::app::build_window(&config).unwrap();
    window.global::<kiosk::ui::HomeAdapter>().set_clock("2026-11-25 03:00".into());
    window.show().unwrap();
    let frames = 60;
    let _ = window.window().take_snapshot();
    let ours: Vec<Duration> = (0..frames)
        .map(|_| {
            let t = Instant::now();
            // take_snapshot renders the whole window into a fresh buffer: a full frame every time.
            std::hint::black_box(window.window().take_snapshot().unwrap());
            t.elapsed()
        })
        .collect();
    let mut frame = vec![0u8; 1920 * 1080 * 4];
    let base: Vec<Duration> = (0..frames)
        .map(|i| {
            let t = Instant::now();
            frame.iter_mut().for_each(|p| *p = i as u8);
            std::hint::black_box(&frame);
            t.elapsed()
        })
        .collect();
    let (o, b) = (median(ours), median(base));
    println!(
        "bench ui_full_frame_render_1920x1080: {o:.1} ms median (baseline writing every pixel once: {b:.2} ms, ratio {:.1}, goal <= 16 ms)",
        o / b
    );
}
