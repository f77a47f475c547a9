//! Device protocols for the kiosk: each device as a sans-IO codec, its transports and a simulator of the device side.
pub mod escpos;
pub mod idcard;
