//! Fuzzes the ID-card frame decoder, reply interpretation and card text parser: no input may panic.
#![no_main]

use drivers::idcard::{Decoder, IdCard, Request, interpret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut d = Decoder::default();
    d.feed(&data[..split]);
    while let Some(f) = d.next_frame() {
        if let Ok(f) = f {
            for r in [Request::FindCard, Request::SelectCard, Request::SamId, Request::ReadText, Request::ReadTextWithFingerprint] {
                let _ = interpret(r, &f);
            }
        }
    }
    d.feed(&data[split..]);
    while d.next_frame().is_some() {}
    if data.len() >= 256 {
        let _ = IdCard::parse(&data[..256]);
    }
    let _ = drivers::idcard::decode_hex_reply(&String::from_utf8_lossy(data));
});
