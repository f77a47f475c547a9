//! Second-generation ID-card readers over the GA/T 467 SAM serial protocol: frames, card text, the reader task, a simulator.

pub mod card;
pub mod fixtures;
pub mod frame;
pub mod reader;
pub mod reply;
pub mod sim;

pub use card::{CardDate, CardError, CardKind, Gender, IdCard, Validity};
pub use frame::{Decoder, Frame, FrameError, Request, SamStatus};
pub use reader::{CardWatch, Next, ReaderEvent, Sam, SamInfo, run_reader, run_reader_until};
pub use reply::{HexReplyError, Reply, ReplyError, decode_hex_reply, interpret};
pub use sim::{Fault, SamSim};
