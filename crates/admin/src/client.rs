//! The staff API's client (the `net` crate's), under the name the kiosk's tools and tests know it by.

pub use net::Endpoint;
pub use net::staff::{StaffClient, StaffError};
