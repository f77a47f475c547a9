//! Queue numbering against a real journal file: concurrency, business-day rollover, restarts, bands, limits, hours.

use kiosk::config::Config;
use kiosk::journal::{Journal, JournalSettings};
use kiosk::queue::{Queue, QueueError};
use std::path::Path;

fn config(dir: &Path) -> Config {
    Config::demo(dir)
}

fn open(dir: &Path) -> Queue {
    let c = config(dir);
    Queue::new(&c, Journal::open(JournalSettings::from_config(&c)).unwrap()).unwrap()
}

/// A local time in the hall's zone (Asia/Shanghai).
fn at(local: &str) -> jiff::Timestamp {
    local.parse::<jiff::civil::DateTime>().unwrap().in_tz("Asia/Shanghai").unwrap().timestamp()
}

#[test]
fn eight_threads_issue_four_thousand_unique_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    let mut wide = c.queue.categories[0].clone();
    (wide.prefix, wide.first, wide.last) = ("E".into(), 5000, 9999);
    c.queue.categories.push(wide);
    let queue = Queue::new(&c, Journal::open(JournalSettings::from_config(&c)).unwrap()).unwrap();
    let now = at("2026-11-25T10:00");
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let q = queue.clone();
            std::thread::spawn(move || {
                (0..500).map(|_| q.issue("E", now, None, false, "").unwrap().0.number).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut numbers: Vec<u32> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (5000..9000).collect::<Vec<u32>>(), "4000 tickets: every number once, no gaps");
}

#[test]
fn an_exhausted_band_is_refused_clearly_and_never_wraps() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open(dir.path());
    let now = at("2026-11-25T10:00");
    for _ in 3001..=3999 {
        queue.issue("D", now, None, false, "").unwrap();
    }
    let err = queue.issue("D", now, None, false, "").unwrap_err().to_string();
    assert!(err.contains("D3001–D3999") && err.contains("please ask a member of staff"), "{err}");
    assert_eq!(queue.issue("A", now, None, false, "").unwrap().0.display, "A001", "other bands are untouched");
}

#[test]
fn numbers_restart_after_the_rollover_and_history_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open(dir.path());
    assert_eq!(queue.issue("A", at("2026-11-25T22:00"), None, false, "").unwrap().0.display, "A001");
    assert_eq!(
        queue.issue("A", at("2026-11-26T03:59"), None, false, "").unwrap().0.display,
        "A002",
        "before 04:00 it is still the 25th"
    );
    let (t, _) = queue.issue("A", at("2026-11-26T04:00"), None, false, "").unwrap();
    assert_eq!((t.display.as_str(), t.business_day.as_str()), ("A001", "2026-11-26"));
    drop(queue);
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM tickets", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 3, "the rollover clears nothing");
}

#[test]
fn a_restart_mid_day_continues_the_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-11-25T10:00");
    {
        let queue = open(dir.path());
        queue.issue("A", now, None, false, "").unwrap();
        queue.issue("A", now, None, false, "").unwrap();
    }
    let queue = open(dir.path());
    assert_eq!(queue.issue("A", now, None, false, "").unwrap().0.display, "A003");
}

#[test]
fn a_closed_category_says_when_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open(dir.path());
    // Wednesday 12:30: B is open 08:30–12:00 and 13:30–17:30 on weekdays.
    let err = queue.issue("B", at("2026-11-25T12:30"), None, false, "").unwrap_err();
    assert!(matches!(err, QueueError::Closed { .. }));
    assert!(err.to_string().contains("today at 13:30"), "{err}");
    // Saturday evening: next opening is Monday morning.
    let err = queue.issue("B", at("2026-11-28T19:00"), None, false, "").unwrap_err().to_string();
    assert!(err.contains("on 2026-11-30 at 08:30") && err.contains("11月30日08:30"), "{err}");
    assert!(queue.issue("B", at("2026-11-25T09:00"), None, false, "").is_ok());
}

#[test]
fn the_daily_limit_per_person_counts_by_subject() {
    let dir = tempfile::tempdir().unwrap();
    let queue = open(dir.path());
    let now = at("2026-11-25T09:00");
    let subject = queue.journal().subject_key().subject("37132919800101123X");
    queue.issue("B", now, Some(subject.clone()), false, "").unwrap();
    queue.issue("B", now, Some(subject.clone()), false, "").unwrap();
    let err = queue.issue("B", now, Some(subject), false, "").unwrap_err().to_string();
    assert!(err.contains("already taken 2"), "{err}");
    let other = queue.journal().subject_key().subject("110101199003077777");
    assert!(queue.issue("B", now, Some(other), false, "").is_ok());
}
