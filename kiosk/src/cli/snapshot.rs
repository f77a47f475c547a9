//! `kiosk snapshot`: the home page drawn by Slint's software renderer into a PNG, with no display, window
//! system or GPU. A box's build (aarch64, under qemu in `scripts/box-check`) is compared with the x86 build's
//! picture this way, and a technician can see what a configuration's home screen will look like.

use crate::config::{Config, Orientation};
use anyhow::Context;
use slint::ComponentHandle;
use slint::platform::software_renderer::PremultipliedRgbaColor;
use std::path::Path;

/// Draws the home page of `config` (the demo's without one) at the clock `clock` into `out`.
pub fn run(config: Option<&Path>, clock: &str, out: &Path) -> anyhow::Result<()> {
    let state = tempfile::tempdir()?;
    let config = match config {
        Some(path) => super::load_config(path)?,
        None => Config::demo(state.path()),
    };
    let (w, h) = match config.ui.orientation {
        Orientation::Landscape => (1920u32, 1080u32),
        Orientation::Portrait => (1080, 1920),
    };
    let window = crate::ui::headless::install(w, h)?;
    let ui = crate::app::build_window(&config)?;
    ui.global::<crate::ui::HomeAdapter>().set_clock(clock.into());
    ui.show().context("cannot show the home page to the headless renderer")?;
    let mut buffer = vec![PremultipliedRgbaColor::default(); (w * h) as usize];
    window.request_redraw();
    window.draw_if_needed(|renderer| {
        renderer.render(&mut buffer, w as usize);
    });
    let mut rgb = Vec::with_capacity(buffer.len() * 3);
    for p in &buffer {
        rgb.extend_from_slice(&[p.red, p.green, p.blue]);
    }
    let file = std::fs::File::create(out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&rgb)?;
    println!("{}: the home page, {w}x{h}, drawn by the software renderer.", out.display());
    Ok(())
}
