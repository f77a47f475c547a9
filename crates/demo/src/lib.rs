//! What only the demo and the tests run: the provincial platform's stand-in (`kiosk sim platform`, the
//! demo's appointments, cases and documents over TLS). The box's build leaves it out.

pub mod standin;
