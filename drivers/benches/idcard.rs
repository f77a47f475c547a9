//! ID-card reader benchmarks over a real pty with the simulator pacing replies at 115200 baud:
//! a full find + select + read against the wire time of its bytes, and card-on to CardInserted latency.

use drivers::idcard::sim::{SamSim, serve};
use drivers::idcard::{ReaderEvent, Sam, fixtures, run_reader};
use serialport::{SerialPort, TTYPort};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const CARDS: &str = include_str!("../../config/cards.toml");

fn sim(paced: bool) -> (Arc<Mutex<SamSim>>, TTYPort) {
    let (mut master, slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_secs(3600)).unwrap();
    let s = Arc::new(Mutex::new(SamSim::new(fixtures::load(CARDS).unwrap())));
    let served = s.clone();
    std::thread::spawn(move || serve(served, master, paced));
    (s, slave)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let (state, mut slave) = sim(true);
    slave.set_timeout(Duration::from_millis(20)).unwrap();
    let mut sam = Sam::new(slave);
    sam.init().unwrap();
    state.lock().unwrap().place(0);
    let mut times = Vec::new();
    let mut wire = Vec::new();
    for _ in 0..20 {
        sam.bytes_exchanged = 0;
        let t = Instant::now();
        sam.read_card().unwrap().unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        wire.push(sam.bytes_exchanged as f64 * 10.0 / 115_200.0 * 1000.0);
    }
    let (m, w) = (median(times), median(wire));
    println!(
        "bench idcard_find_select_read: {m:.1} ms (baseline wire time of the bytes at 115200 baud: {w:.1} ms, ratio {:.2}, goal <= 1.1)",
        m / w
    );

    let (state, slave) = sim(true);
    let path = slave.name().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || run_reader(&path, 115_200, Duration::from_millis(250), tx));
    assert!(matches!(rx.recv_timeout(Duration::from_secs(10)), Ok(ReaderEvent::Ready(_))));
    let mut lat = Vec::new();
    for i in 0..10 {
        std::thread::sleep(Duration::from_millis(137 * (i % 3) + 50));
        let t = Instant::now();
        state.lock().unwrap().place(i as usize % 2);
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(ReaderEvent::CardInserted(_)) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
            other => panic!("{other:?}"),
        }
        state.lock().unwrap().remove();
        assert!(matches!(rx.recv_timeout(Duration::from_secs(10)), Ok(ReaderEvent::CardRemoved)));
    }
    let m = median(lat);
    println!(
        "bench idcard_card_on_to_inserted: {m:.1} ms (baseline wire time + half the 250 ms poll: {:.1} ms, ratio {:.2}, goal < 1000 ms)",
        w + 125.0,
        m / (w + 125.0)
    );
    drop(slave);
}
