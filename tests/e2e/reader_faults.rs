//! `kiosk run` with a real window and an ID-card reader that is unplugged and plugged back: both are journaled.

use crate::support::{KillOnDrop, Xvfb, config_in, fresh_credentials, kiosk, wait_for};
use std::process::Stdio;
use std::time::Duration;

fn kinds(db: &std::path::Path) -> Vec<String> {
    let Ok(conn) = rusqlite::Connection::open(db) else { return vec![] };
    let Ok(mut stmt) =
        conn.prepare("SELECT kind || ':' || coalesce(json_extract(payload, '$.device'), '') FROM entries ORDER BY seq")
    else {
        return vec![];
    };
    stmt.query_map([], |r| r.get(0)).map(|rows| rows.filter_map(Result::ok).collect()).unwrap_or_default()
}

#[test]
fn an_unplugged_reader_is_a_journaled_fault_that_clears_when_it_returns() {
    let x = Xvfb::start(1920, 1080);
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyIDREADER");
    let config = config_in(dir.path());
    // `kiosk run` starts only without the example's demo credentials.
    fresh_credentials(&config, "127.0.0.1:0");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("\nport = \"simulated\"", &format!("\nport = \"{}\"", link.display()));
    std::fs::write(&config, text).unwrap();
    let child = kiosk()
        .env("DISPLAY", &x.display)
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _kiosk = KillOnDrop(child);
    let db = dir.path().join("journal.sqlite3");
    let fault =
        wait_for(Duration::from_secs(30), || kinds(&db).contains(&"device_fault:id_reader".to_owned()).then_some(()));
    assert!(fault.is_some(), "no device_fault for the missing reader: {:?}", kinds(&db));

    // Plug it in: the reader simulator on a pty behind the configured path.
    let (_sim, pty) = crate::support::sim_reader(&[]);
    std::os::unix::fs::symlink(pty, &link).unwrap();
    let back = wait_for(Duration::from_secs(30), || {
        kinds(&db).contains(&"device_recovered:id_reader".to_owned()).then_some(())
    });
    assert!(back.is_some(), "no device_recovered: {:?}", kinds(&db));
    let k = kinds(&db);
    assert_eq!(
        k.iter().filter(|e| *e == "device_fault:id_reader").count(),
        1,
        "one fault while it was away, not one per retry: {k:?}"
    );
}
