//! `kiosk appointments import`: the day's appointments for when the platform cannot be reached — all or
//! nothing, a bad one named with its field, the ID numbers never stored.

use crate::support::{config_in, kiosk, run};

#[test]
fn an_import_is_all_or_nothing_and_keeps_no_id_number() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let file = dir.path().join("appointments.json");
    let write = |category: &str| {
        std::fs::write(
            &file,
            format!(
                r#"{{"date": "2026-11-27", "appointments": [
                    {{"code": "31000001", "id_number": "371329198812122020", "item_name": "户籍证明开具", "category": "A", "start": "2026-11-27T09:30:00+08:00"}},
                    {{"code": "31000002", "id_number": "371329195003071012", "item_name": "不动产登记", "category": "{category}", "start": "2026-11-27T10:00:00+08:00"}}
                ]}}"#
            ),
        )
        .unwrap()
    };
    let count = || {
        rusqlite::Connection::open(dir.path().join("journal.sqlite3"))
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM offline_appointments", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0)
    };

    write("Z");
    let (code, _, err) = run(kiosk().args(["appointments", "import", "--config"]).arg(&config).arg(&file));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("appointments[1]") && err.contains("category") && err.contains("Nothing was imported"),
        "{err}"
    );
    assert_eq!(count(), 0);

    write("B");
    let (code, out, err) = run(kiosk().args(["appointments", "import", "--config"]).arg(&config).arg(&file));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("imported 2 appointments for 2026-11-27"), "{out}");
    assert_eq!(count(), 2);
    for f in ["journal.sqlite3", "journal.sqlite3-wal"] {
        let bytes = std::fs::read(dir.path().join(f)).unwrap_or_default();
        assert!(!bytes.windows(18).any(|w| w == b"371329198812122020"), "an ID number in {f}");
    }

    std::fs::write(&file, "{\"date\": \"27.11.2026\", \"appointments\": []}").unwrap();
    let (code, _, err) = run(kiosk().args(["appointments", "import", "--config"]).arg(&config).arg(&file));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    assert_eq!(count(), 2, "a bad file changes nothing");
}

/// Issue #29: text from an imported file reached the terminal with its escape sequences. A name holding a
/// terminal command is refused with its place, and what the file said is echoed escaped, never raw.
#[test]
fn an_imported_name_or_value_with_terminal_commands_is_refused_and_never_echoed_raw() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let file = dir.path().join("appointments.json");
    let row = |item: &str, category: &str| {
        format!(
            r#"{{"date": "2026-11-27", "appointments": [
                {{"code": "31000001", "id_number": "371329198812122020", "item_name": "{item}", "category": "{category}", "start": "2026-11-27T09:30:00+08:00"}}
            ]}}"#
        )
    };
    for (text, says) in [
        (row("户籍\\u001b[2J证明", "A"), "item_name: holds the invisible character U+001B (ESC) at character 3"),
        (row(&"证".repeat(101), "A"), "item_name: is 101 characters long (at most 100)"),
        (row("户籍证明", "\\u001b]0;owned\\u0007"), "category: \"\\u{1b}]0;owned\\u{7}\" is not one of"),
    ] {
        std::fs::write(&file, text).unwrap();
        let (code, out, err) = run(kiosk().args(["appointments", "import", "--config"]).arg(&config).arg(&file));
        assert_eq!(code, Some(2), "{out}{err}");
        assert!(err.contains(says), "{err}");
        assert!(!out.contains('\u{1b}') && !err.contains('\u{1b}'), "an escape reached the terminal: {err:?}");
    }
}
