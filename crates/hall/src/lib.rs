//! The hall's shared PostgreSQL as a kiosk uses it: the address and its deadlines (shared with the county
//! tool), and the hall counter that numbers one queue for every kiosk of a hall.

pub mod counter;
mod db;

pub use db::{DbAddress, DbError, describe, pg_message};
