//! `kiosk demo` in a real window under Xvfb: the window appears and the six tiles are drawn; without a display
//! it says how to run it.

use crate::support::{KillOnDrop, Xvfb, kiosk, wait_for};
use std::time::Duration;

/// Close to the tiles' government red (#b4191f), allowing for antialiasing.
fn is_tile_red(p: [u8; 3]) -> bool {
    p[0] > 150 && p[1] < 60 && p[2] < 70
}

#[test]
fn demo_shows_the_home_tiles_in_a_real_window() {
    let x = Xvfb::start(1920, 1080);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let child = kiosk()
        .env("DISPLAY", &x.display)
        .arg("demo")
        .arg("--state-dir")
        .arg(&state)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("kiosk.log")).unwrap())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let shot = dir.path().join("screen.png");

    // Tiles sit below the title row: three columns by two rows across the screen.
    let drawn = wait_for(Duration::from_secs(60), || {
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!(
                "kiosk demo exited with {status}: {}",
                std::fs::read_to_string(dir.path().join("kiosk.log")).unwrap()
            );
        }
        let img = x.screenshot(&shot)?;
        let red = img.fraction(0, 200, 1920, 1080, is_tile_red);
        // White title text inside the first tile.
        let text = img.fraction(60, 200, 640, 600, |p| p.iter().all(|&c| c > 230));
        (red > 0.4 && text > 0.005).then_some((red, text))
    });
    assert!(
        drawn.is_some(),
        "the tile area stayed blank; last screenshot at {}; log: {}",
        shot.display(),
        std::fs::read_to_string(dir.path().join("kiosk.log")).unwrap_or_default()
    );
    assert!(state.is_dir(), "the demo names and creates its state folder");

    // Tap 取号 (the first tile), then 综合业务 (the first category): a ticket on the demo's virtual printer.
    let click = |x_: &str, y: &str| {
        let ok = std::process::Command::new("xdotool")
            .env("DISPLAY", &x.display)
            .args(["mousemove", x_, y, "click", "1"])
            .status()
            .unwrap();
        assert!(ok.success());
    };
    click("340", "350");
    std::thread::sleep(Duration::from_millis(1500));
    click("500", "360");
    let job = state.join("printed/job-0001.txt");
    let transcript =
        wait_for(Duration::from_secs(30), || std::fs::read_to_string(&job).ok().filter(|t| t.contains("[cut]")));
    let transcript = transcript.unwrap_or_else(|| {
        panic!("no ticket printed; log: {}", std::fs::read_to_string(dir.path().join("kiosk.log")).unwrap_or_default())
    });
    assert!(transcript.contains("[center x4 bold] A001"), "{transcript}");
    let png = state.join("printed/job-0001.png");
    assert!(wait_for(Duration::from_secs(20), || png.exists().then_some(())).is_some(), "the ticket PNG is drawn");
    // The paper is out before the kiosk hears the printer's final status: wait for the outcome row.
    let kinds_now = || -> Vec<String> {
        let conn = rusqlite::Connection::open(state.join("journal.sqlite3")).unwrap();
        let mut stmt = conn.prepare("SELECT kind FROM entries ORDER BY seq").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    let kinds = wait_for(Duration::from_secs(20), || {
        let k = kinds_now();
        k.iter().any(|x| x == "ticket_printed").then_some(k)
    })
    .unwrap_or_else(kinds_now);
    assert_eq!(
        kinds,
        ["boot", "config_loaded", "catalogue_loaded", "session_start", "ticket_issued", "ticket_printed"]
    );
    // The screen tells the citizen their number.
    let shown = wait_for(Duration::from_secs(10), || {
        let img = x.screenshot(&shot)?;
        // The big red number in the middle of the screen.
        (img.fraction(600, 480, 1320, 680, is_tile_red) > 0.05).then_some(())
    });
    assert!(shown.is_some(), "the ticket number is not on screen; see {}", shot.display());
    if let Ok(keep) = std::env::var("KIOSK_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }

    // SIGTERM with the citizen's session still open: the session ends, the device owners close, the journal
    // says `shutdown` and seals its head, and the process exits 0.
    let pid = child.0.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = wait_for(Duration::from_secs(20), || child.0.try_wait().unwrap());
    let log = std::fs::read_to_string(dir.path().join("kiosk.log")).unwrap_or_default();
    let status = status.unwrap_or_else(|| panic!("kiosk demo did not stop on SIGTERM; log: {log}"));
    assert!(status.success(), "kiosk demo exited with {status} on SIGTERM; log: {log}");
    let conn = rusqlite::Connection::open(state.join("journal.sqlite3")).unwrap();
    let last: Vec<(String, String)> = conn
        .prepare("SELECT kind, coalesce(payload, '') FROM entries ORDER BY seq DESC LIMIT 2")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(last[1].0, "session_end", "{last:?}");
    assert!(last[1].1.contains("\"reason\":\"shutdown\""), "{last:?}");
    assert_eq!(last[0].0, "shutdown", "{last:?}");
    let (head, signed): (i64, i64) = conn
        .query_row("SELECT (SELECT max(seq) FROM entries), (SELECT max(seq) FROM seals)", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(signed, head, "the last seal covers the shutdown entry");
}

#[test]
fn demo_without_an_x_display_says_how_to_run_it() {
    // No display at all; a Wayland session without XWayland (the window is an X11 one).
    for (wayland, says) in [(None, "no display"), (Some("wayland-0"), "XWayland")] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = crate::support::kiosk();
        cmd.args(["demo", "--state-dir"]).arg(dir.path().join("demo")).env_remove("DISPLAY");
        match wayland {
            Some(w) => cmd.env("WAYLAND_DISPLAY", w),
            None => cmd.env_remove("WAYLAND_DISPLAY"),
        };
        let (code, _, err) = crate::support::run(&mut cmd);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(says) && err.contains("xvfb-run"), "{err}");
        assert!(!dir.path().join("demo").exists(), "nothing was made");
    }
}

#[test]
fn snapshot_draws_the_home_page_without_a_display() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("home.png");
    let (code, out, err) = crate::support::run(crate::support::kiosk().args(["snapshot", "--out"]).arg(&png));
    assert_eq!(code, Some(0), "{out}{err}");
    let img = crate::support::Rgb::load(&png).expect("a PNG");
    assert_eq!((img.width, img.height), (1920, 1080));
    // The same tiles as the real window: red across the tile area, white titles in the first tile.
    assert!(img.fraction(0, 200, 1920, 1080, is_tile_red) > 0.4);
    assert!(img.fraction(60, 200, 640, 600, |p| p.iter().all(|&c| c > 230)) > 0.005);
}
