//! The maintenance PIN pad's lockout survives a restart: it is rebuilt from the journal's login entries.

use crate::common::{drive, enter_pin, find};
use kiosk::config::Config;
use slint::ComponentHandle;

#[test]
fn a_restart_does_not_lift_a_pin_lockout() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    // The kiosk that was just locked out, then restarted: five wrong PINs are in its journal.
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&config)).unwrap();
    for attempt in 1..=5 {
        journal.append(kiosk::journal::payload::MaintenanceLoginFailed { attempt }.into()).unwrap();
    }
    journal.close();
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    drive(async move {
        enter_pin(&window, "246813").await?;
        find(&window, "尝试次数过多，请 5 分钟后再试。 Too many attempts; try again in 5 min.")
            .await
            .ok_or("the right PIN opened maintenance although the pad was locked before the restart")?;
        Ok(())
    });
    kiosk.shutdown(true).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let logins: i64 =
        conn.query_row("SELECT count(*) FROM entries WHERE kind = 'maintenance_login'", [], |r| r.get(0)).unwrap();
    assert_eq!(logins, 0);
}
