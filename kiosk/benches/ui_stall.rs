//! The UI thread never waits for the journal: 100 take-a-number sessions through the real UI (Slint's
//! testing backend, the demo's virtual printer), once with the journal as it is and once with every commit
//! slowed to 200 ms by the journal's test hook. Reports the longest UI-thread callback of each run (every
//! flow input and every inbox letter is timed). Goal: ≤ 16 ms with 200 ms commits, and a ratio near 1.

use kiosk::config::Config;
use kiosk::ui::{AppAdapter, HomeAdapter, Page, TakeNumberAdapter, TakeScreen, TileKind};
use slint::ComponentHandle;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

const SESSIONS: usize = 100;

#[path = "../tests/app/common/mod.rs"]
mod common;
use common::sleep;

/// Runs `SESSIONS` sessions; returns the longest UI callback and the wall time.
fn run(commit_delay: Duration) -> (Duration, Duration) {
    kiosk::journal::set_test_commit_delay(commit_delay);
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let started = Instant::now();
    let outcome: Rc<Cell<Option<Result<Duration, String>>>> = Rc::new(Cell::new(None));
    let out = outcome.clone();
    slint::spawn_local(async move {
        let result = async {
            kiosk::ui::inbox::reset_longest();
            for n in 0..SESSIONS {
                window.global::<HomeAdapter>().invoke_tile_activated(TileKind::TakeNumber);
                let take = window.global::<TakeNumberAdapter>();
                // The categories arrive from the flow's worker (waiting counts are a journal read).
                let deadline = Instant::now() + Duration::from_secs(60);
                while take.get_categories().row_count() == 0 {
                    if Instant::now() > deadline {
                        return Err(format!("session {n}: no categories"));
                    }
                    sleep(5).await;
                }
                take.invoke_choose("A".into());
                while take.get_screen() != TakeScreen::Done {
                    if Instant::now() > deadline {
                        return Err(format!("session {n}: no ticket ({:?})", take.get_screen()));
                    }
                    sleep(5).await;
                }
                window.global::<kiosk::ui::SessionAdapter>().invoke_cancel();
                while window.global::<AppAdapter>().get_page() != Page::Home {
                    sleep(5).await;
                }
            }
            Ok(kiosk::ui::inbox::longest())
        }
        .await;
        out.set(Some(result));
        let _ = slint::quit_event_loop();
    })
    .unwrap();
    slint::run_event_loop_until_quit().unwrap();
    let wall = started.elapsed();
    kiosk.shutdown(true).unwrap();
    kiosk::journal::set_test_commit_delay(Duration::ZERO);
    match outcome.take() {
        Some(Ok(longest)) => (longest, wall),
        Some(Err(e)) => panic!("{e}"),
        None => panic!("the sessions did not run"),
    }
}

use slint::Model;

fn main() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let (base, base_wall) = run(Duration::ZERO);
    let (slow, slow_wall) = run(Duration::from_millis(200));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bench ui_stall: longest UI-thread callback {:.2} ms over {SESSIONS} take-a-number sessions with 200 ms journal commits ({:.0} s) (baseline normal commits: {:.2} ms ({:.0} s), ratio {:.2}, goal <= 16 ms)",
        ms(slow),
        slow_wall.as_secs_f64(),
        ms(base),
        base_wall.as_secs_f64(),
        ms(slow) / ms(base).max(0.001),
    );
}
