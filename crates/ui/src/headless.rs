//! The kiosk's window without a display: Slint's software renderer drawing into memory, as the box's
//! linuxkms backend draws into a frame buffer. `kiosk snapshot` and the full-frame render benchmark use it.

use slint::PhysicalSize;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use std::rc::Rc;

struct Headless(Rc<MinimalSoftwareWindow>);

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.0.clone())
    }
}

/// Makes this process's windows headless, `width` × `height` pixels; returns the one window to draw
/// (`request_redraw`, then `draw_if_needed` with the renderer). Once per process, before any window.
pub fn install(width: u32, height: u32) -> Result<Rc<MinimalSoftwareWindow>, slint::PlatformError> {
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    window.set_size(PhysicalSize::new(width, height));
    slint::platform::set_platform(Box::new(Headless(window.clone())))
        .map_err(|e| slint::PlatformError::Other(format!("cannot set up the headless renderer: {e}")))?;
    Ok(window)
}
