//! Second-generation ID-card readers over the GA/T 467 SAM serial protocol: frames, card text, the reader task, a simulator.

pub mod card;
pub mod frame;

pub use card::{CardDate, CardError, CardKind, Gender, IdCard, Validity};
pub use frame::{Decoder, Frame, FrameError, Request, SamStatus};
