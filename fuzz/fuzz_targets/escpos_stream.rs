//! Fuzzes the virtual printer's ESC/POS decoder and status parsing: no byte stream may panic.
#![no_main]

use drivers::escpos::PrinterStatus;
use drivers::escpos::decode::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::default();
    let mut job = Vec::new();
    for chunk in data.chunks(7) {
        d.feed(chunk);
        while let Some(c) = d.next_command() {
            job.push(c);
        }
    }
    let _ = drivers::escpos::virtual_printer::transcript(&job);
    let _ = drivers::escpos::virtual_printer::render_png(&job, 384, None);
    let mut st = PrinterStatus::default();
    for (i, b) in data.iter().enumerate() {
        let _ = st.apply((i % 4) as u8 + 1, *b);
    }
});
