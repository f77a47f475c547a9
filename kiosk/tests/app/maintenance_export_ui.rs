//! 导出日志 from the maintenance screen: the progress shows, the journal lands in the export folder (as on a
//! USB stick), reads back verified, and the screen says so.

use crate::common::{drive, enter_pin, find, press, sleep};
use kiosk::config::Config;
use kiosk::ui::{MaintenanceAdapter, MaintenanceNotice};
use slint::ComponentHandle;

#[test]
fn the_maintenance_screen_exports_the_journal_and_says_it_verified() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let usb = dir.path().join("usb");
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    config.admin.export_dir = Some(usb.clone());
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let said = drive(async move {
        enter_pin(&window, "246813").await?;
        find(&window, "设备维护 Maintenance").await.ok_or("the right PIN did not open maintenance")?;
        press(&window, "导出日志 Export journal").await?;
        let m = window.global::<MaintenanceAdapter>();
        for _ in 0..400 {
            if m.get_notice() == MaintenanceNotice::ExportDone {
                return Ok((m.invoke_notice_text().to_string(), m.get_export_progress()));
            }
            if m.get_notice() == MaintenanceNotice::ExportFailed {
                return Err("the export failed");
            }
            sleep(50).await;
        }
        Err("the export never finished")
    });
    kiosk.shutdown(true).unwrap();
    let (text, progress) = said;
    assert!(progress < 0.0, "the progress bar is gone when done");
    let files: Vec<_> = std::fs::read_dir(&usb).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("journal-") && name.ends_with(".jsonl"), "{name}");
    assert!(text.starts_with("日志已导出并校验完毕：") && text.contains(&name), "{text}");
    assert!(matches!(kiosk::journal::verify_path(&files[0], None).unwrap(), kiosk::journal::Verdict::Intact { .. }));
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let n: i64 =
        conn.query_row("SELECT count(*) FROM entries WHERE kind = 'journal_exported'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}
