//! The platform client against the stand-in over real TLS sockets, in each of the platform's failures: slow
//! (past the deadline), 500, a refused token, malformed JSON, a connection dropped, nothing listening. Each
//! is sorted into what the citizen is told, within the configured deadline, and nothing is made up; a rating
//! waits in the outbox while the platform is away and is retried with backoff.

use kiosk::config::PlatformSection;
use kiosk::demo::standin::{Fault, StandIn, spawn};
use kiosk::licence::platform::PlatformSource;
use kiosk::licence::store::{DocumentSource, Holder, SourceError};
use kiosk::platform::{Platform, PlatformError};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HOLDER: &str = "371329195003071012";

fn standin() -> StandIn {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/sample-documents.jsonl")).unwrap();
    StandIn::from_jsonl(&text, Some("t0ken".into())).unwrap()
}

fn section(dir: &std::path::Path, port: u16, cert: &std::path::Path, token: &str) -> PlatformSection {
    let token_file = dir.join("platform.token");
    std::fs::write(&token_file, token).unwrap();
    PlatformSection {
        url: Some(format!("https://127.0.0.1:{port}")),
        token_file: Some(token_file),
        ca_file: Some(cert.to_owned()),
        pin: None,
        timeout_seconds: 2,
        case_url: None,
    }
}

fn query(platform: Platform) -> Result<usize, SourceError> {
    let source = PlatformSource::new(Arc::new(platform), kiosk::licence::template::Templates::builtin().unwrap());
    source.for_holder(&Holder { id_number: HOLDER, subject: "subject-hmac" }).map(|d| d.len())
}

/// Each fault of the stand-in and what the technician's log says of it.
const FAULTS: [(Fault, &str); 5] = [
    (Fault::Slow, "did not answer in time"),
    (Fault::Error, "failed (HTTP 500)"),
    (Fault::WrongToken, "refused the kiosk's token"),
    (Fault::Malformed, "not the documented JSON"),
    (Fault::Unreachable, "cannot be reached"),
];

#[test]
fn every_platform_failure_is_told_plainly_and_within_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    // Answering as documented: the holder's documents.
    let ok = spawn(standin(), Fault::None, dir.path()).unwrap();
    let platform = Platform::from_config(&section(dir.path(), ok.port, &ok.cert, "t0ken"), "k-01").unwrap();
    assert!(query(platform).unwrap() > 0, "the sample holder has documents");

    for (fault, want) in FAULTS {
        let running = spawn(standin(), fault, dir.path()).unwrap();
        let platform =
            Platform::from_config(&section(dir.path(), running.port, &running.cert, "t0ken"), "k-01").unwrap();
        let started = Instant::now();
        let err = query(platform).expect_err("a failing platform gives no documents");
        assert!(started.elapsed() < Duration::from_secs(4), "{fault:?} took {:?}", started.elapsed());
        assert!(err.to_string().contains(want), "{fault:?}: {err}");
        // Nothing made up: the citizen hears that the platform cannot be reached, and what to do.
        if fault != Fault::Malformed {
            assert!(matches!(err, SourceError::Unavailable(_)), "{fault:?}: {err:?}");
        }
    }

    // Nothing listening at all.
    let port = crate::common::CLOSED_PORT;
    let platform = Platform::from_config(&section(dir.path(), port, &ok.cert, "t0ken"), "k-01").unwrap();
    let err = query(platform).unwrap_err();
    assert!(err.to_string().contains("cannot be reached"), "{err}");
}

#[test]
fn a_platform_with_another_certificate_is_not_talked_to() {
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(standin(), Fault::None, &dir.path().join("a")).unwrap();
    // A certificate the stand-in does not have (another stand-in's).
    let other = kiosk::demo::standin::certificate(&dir.path().join("b")).unwrap().0;
    let platform = Platform::from_config(&section(dir.path(), running.port, &other, "t0ken"), "k-01").unwrap();
    let err = query(platform).unwrap_err();
    assert!(err.to_string().contains("TLS handshake"), "{err}");
}

#[test]
fn the_citizen_hears_one_sentence_for_every_failure_and_another_for_no_record() {
    for e in [
        PlatformError::Unreachable("x".into()),
        PlatformError::TimedOut("x".into()),
        PlatformError::Refused(401),
        PlatformError::Server(500),
        PlatformError::Malformed("x".into()),
    ] {
        assert_eq!(e.citizen_zh(), "暂时无法连接省政务服务平台，请稍后再试，或到窗口办理。");
    }
    assert!(PlatformError::NotFound.citizen_zh().starts_with("没有查到"));
}

#[test]
fn a_rating_waits_in_the_outbox_while_the_platform_is_away_and_is_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let config = kiosk::config::Config::demo(dir.path());
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&config)).unwrap();
    let now = jiff::Timestamp::now();
    journal
        .transact(move |conn| {
            let message =
                serde_json::json!({ "transaction": { "kind": "hall_service" }, "level": 4, "channel": "kiosk" });
            kiosk::platform::outbox::enqueue_in(conn, kiosk::platform::outbox::EVALUATIONS, &message, now)?;
            Ok((vec![], ()))
        })
        .unwrap();
    let attempts = || -> i64 {
        let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
        conn.query_row("SELECT attempts FROM outbox", [], |r| r.get(0)).unwrap()
    };

    // Away: nothing listens.
    let running = spawn(standin(), Fault::None, dir.path()).unwrap();
    let away = crate::common::CLOSED_PORT;
    let platform = Platform::from_config(&section(dir.path(), away, &running.cert, "t0ken"), "k-01").unwrap();
    assert_eq!(kiosk::platform::outbox::send_due(&journal, &platform, now).unwrap(), (0, 1));
    let status = kiosk::platform::outbox::status(&journal).unwrap();
    assert!(status.last_error.as_deref().is_some_and(|e| e.contains("cannot be reached")), "{status:?}");
    assert_eq!(attempts(), 1);
    // Not due again for 5 s.
    assert_eq!(kiosk::platform::outbox::send_due(&journal, &platform, now).unwrap(), (0, 1));
    assert_eq!(attempts(), 1, "no attempt before the backoff has passed");

    // Back: the next pass after the backoff delivers it, once.
    let platform = Platform::from_config(&section(dir.path(), running.port, &running.cert, "t0ken"), "k-01").unwrap();
    let later = now + jiff::SignedDuration::from_secs(6);
    assert_eq!(kiosk::platform::outbox::send_due(&journal, &platform, later).unwrap(), (1, 0));
    assert_eq!(running.standin.evaluation_count(), 1);
    assert_eq!(kiosk::platform::outbox::send_due(&journal, &platform, later).unwrap(), (0, 0));
    assert_eq!(running.standin.evaluation_count(), 1);
}

#[test]
fn every_path_of_the_platform_meets_every_fault_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = kiosk::demo::standin::SAMPLE_FIXTURES;
    for (fault, want) in FAULTS {
        let s = standin().with_fixtures(fixtures, jiff::Timestamp::now()).unwrap();
        let running = spawn(s, fault, dir.path()).unwrap();
        let platform =
            Platform::from_config(&section(dir.path(), running.port, &running.cert, "t0ken"), "k-01").unwrap();
        let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()).date();
        let calls: Vec<(&str, Result<(), PlatformError>)> = vec![
            ("appointments", platform.appointments(Some(HOLDER), None, &today.to_string()).map(drop)),
            ("cases", platform.cases(Some("202611200123"), None).map(drop)),
            ("addresses", platform.addresses("202611200123").map(drop)),
            ("delivery", platform.request_delivery("202611200123", "addr-1", "key-1").map(drop)),
            (
                "evaluation",
                platform
                    .call::<_, serde_json::Value>(
                        "POST",
                        kiosk::platform::outbox::EVALUATIONS,
                        Some(&serde_json::json!({"idempotency_key": "k", "level": 5, "transaction": {"kind": "hall_service"}})),
                        kiosk::platform::bounds::MAX_LIST_ANSWER,
                    )
                    .map(drop),
            ),
        ];
        for (path, result) in calls {
            let err = result.expect_err("a failing platform answers nothing usable");
            assert!(err.to_string().contains(want), "{fault:?} {path}: {err}");
            assert_eq!(err.citizen_zh(), "暂时无法连接省政务服务平台，请稍后再试，或到窗口办理。", "{fault:?} {path}");
        }
        assert_eq!(running.standin.delivery_count(), if fault == Fault::Slow { 1 } else { 0 }, "{fault:?}");
    }
}

/// A hostile or broken platform cannot exhaust the kiosk or draw what it cannot: 80,000 appointments (an
/// answer past the 1 MiB read for a list), 51 appointments (past the 50 rows of one answer) and one name
/// of 200,000 characters are refused as not the documented answer (the citizen is told the platform cannot
/// be used now); a name with terminal and bidirectional controls in it arrives printable.
#[test]
fn answers_past_their_bounds_are_refused_at_the_edge() {
    let dir = tempfile::tempdir().unwrap();
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()).date();
    let fixtures = |n: usize, name: &str| {
        let rows: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                serde_json::json!({"code": format!("{:08}", 26_000_000 + i), "id_number": HOLDER, "item_name": name,
                    "category": "B", "start_in_minutes": 5})
            })
            .collect();
        serde_json::json!({ "appointments": rows, "cases": [] }).to_string()
    };
    let ask = |fixtures: String| {
        let s = standin().with_fixtures(&fixtures, jiff::Timestamp::now()).unwrap();
        let running = spawn(s, Fault::None, dir.path()).unwrap();
        let platform =
            Platform::from_config(&section(dir.path(), running.port, &running.cert, "t0ken"), "k-01").unwrap();
        platform.appointments(Some(HOLDER), None, &today.to_string())
    };
    for (fixtures, says) in [
        (fixtures(80_000, "不动产登记"), "larger than the 1048576 bytes read for it"),
        (fixtures(51, "不动产登记"), "51 appointments in one answer (at most 50)"),
        (fixtures(1, &"登".repeat(200_000)), "item_name is 200000 characters long (at most 100)"),
    ] {
        let err = ask(fixtures).expect_err("refused");
        assert!(matches!(err, PlatformError::Malformed(_)) && err.to_string().contains(says), "{err}");
        assert_eq!(err.citizen_zh(), "暂时无法连接省政务服务平台，请稍后再试，或到窗口办理。");
    }
    let got = ask(fixtures(50, "不动产\u{1b}[2J登记\u{202e}")).unwrap();
    assert_eq!(got.len(), 50);
    assert!(got.iter().all(|a| a.item_name == "不动产[2J登记"), "{:?}", got[0].item_name);
}
