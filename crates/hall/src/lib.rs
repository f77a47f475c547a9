//! The hall's shared PostgreSQL as a kiosk uses it: the address and its deadlines (shared with the county
//! tool), the hall counter that numbers one queue for every kiosk of a hall, and that queue itself (`queue`:
//! the hall's tickets in order, called by any counter).

pub mod counter;
mod db;
pub mod queue;

pub use db::{DbAddress, DbError, describe, pg_message};
