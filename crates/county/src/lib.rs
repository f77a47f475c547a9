//! The county's side of the kiosks (docs/fleet.md): the fleet file, pulled pages checked against the
//! county's copy, PostgreSQL storage and migrations, the pull of every kiosk, and the HTML report. Built
//! without Slint and without the kiosk's devices: the county's server links only this.

pub mod fleet;
