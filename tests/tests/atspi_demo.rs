//! `kiosk run` (the demo) in a real window under Xvfb, driven through the Linux accessibility tree (AT-SPI)
//! the way a screen reader or test robot would: take a number, the virtual printer receives the ticket.

use kiosk_e2e::{KillOnDrop, Xvfb, kiosk, run, wait_for, workspace_root};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn take_a_number_through_at_spi() {
    let x = Xvfb::start(1920, 1080);
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path().join("xdg");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    // A private session bus for the accessibility bus launcher, the kiosk and the robot.
    let bus = dir.path().join("session.sock");
    let address = format!("unix:path={}", bus.display());
    let dbus = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--nopidfile", &format!("--address={address}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon (scripts/test installs dbus)");
    let _dbus = KillOnDrop(dbus);
    wait_for(Duration::from_secs(10), || bus.exists().then_some(())).expect("the session bus");
    let env = |c: &mut Command| {
        c.env("DBUS_SESSION_BUS_ADDRESS", &address).env("XDG_RUNTIME_DIR", &runtime).env("DISPLAY", &x.display);
    };
    let mut launcher = Command::new("/usr/libexec/at-spi-bus-launcher");
    launcher.arg("--launch-immediately").stdout(Stdio::null()).stderr(Stdio::null());
    env(&mut launcher);
    let _launcher = KillOnDrop(launcher.spawn().expect("at-spi-bus-launcher (scripts/test installs at-spi2-core)"));
    // Applications expose their tree only when assistive technology is on.
    let enabled = wait_for(Duration::from_secs(10), || {
        let mut c = Command::new("dbus-send");
        c.args([
            "--session",
            "--print-reply",
            "--dest=org.a11y.Bus",
            "/org/a11y/bus",
            "org.freedesktop.DBus.Properties.Set",
            "string:org.a11y.Status",
            "string:IsEnabled",
            "variant:boolean:true",
        ]);
        env(&mut c);
        c.output().ok().filter(|o| o.status.success()).map(|_| ())
    });
    assert!(enabled.is_some(), "could not switch accessibility on over the session bus");

    let state = dir.path().join("demo");
    let mut demo = kiosk();
    demo.args(["demo", "--state-dir"]).arg(&state).stdout(Stdio::null()).stderr(Stdio::null());
    env(&mut demo);
    let _kiosk = KillOnDrop(demo.spawn().unwrap());

    let mut robot = Command::new("/usr/bin/python3");
    robot.arg(workspace_root().join("tests/atspi/drive.py")).args([
        "click:取号 Take a number",
        "click:帮办代办 Accompanied service",
        "wait:D3001",
        "wait:请取走您的号票 D3001 · 前面还有 0 人",
    ]);
    env(&mut robot);
    let (code, out, err) = run(&mut robot);
    assert_eq!(code, Some(0), "the AT-SPI robot failed:\n{out}{err}");

    let transcript =
        wait_for(Duration::from_secs(10), || std::fs::read_to_string(state.join("printed/job-0001.txt")).ok())
            .expect("the virtual printer received no ticket");
    assert!(transcript.contains("D3001") && transcript.contains("帮办代办"), "{transcript}");
    let conn = rusqlite::Connection::open(state.join("journal.sqlite3")).unwrap();
    let number: String = conn
        .query_row("SELECT json_extract(payload, '$.number') FROM entries WHERE kind = 'ticket_printed'", [], |r| {
            r.get(0)
        })
        .or_else(|_| {
            conn.query_row(
                "SELECT json_extract(payload, '$.number') FROM entries WHERE kind = 'ticket_issued'",
                [],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert_eq!(number, "D3001");
}
