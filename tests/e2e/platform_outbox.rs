//! 一事一评's outbox across a kill: a rating is submitted to the platform's stand-in (which takes it, then
//! answers slowly), the sending kiosk process is killed before the answer, and the next run submits it again
//! with the same key: the platform counts one rating, the outbox marks it delivered, and a third run sends
//! nothing.

use crate::support::{KillOnDrop, config_in, free_port, kiosk, run, wait_for, workspace_root};
use std::process::Stdio;
use std::time::Duration;

/// What the stand-in has received: (distinct ratings, attempts).
fn received(port: u16, ca: &std::path::Path) -> Option<(u64, u64)> {
    let endpoint = kiosk::net::Endpoint::parse(&format!("https://127.0.0.1:{port}")).ok()?;
    let trust = kiosk::net::Trust::roots(kiosk::admin::tls::load_certs(ca).ok()?).ok()?;
    let mut client = kiosk::net::HttpClient::new(endpoint, trust, Duration::from_secs(2)).ok()?;
    let (status, body) = client.request("GET", "/v1/_standin/evaluations", &[], b"", 1 << 16).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&body).ok().filter(|_| status == 200)?;
    Some((v["ratings"].as_u64()?, v["attempts"].as_u64()?))
}

#[test]
fn a_rating_is_delivered_exactly_once_across_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let certs = dir.path().join("standin");
    let standin = kiosk()
        .args(["sim", "platform", "--listen", &format!("127.0.0.1:{port}"), "--fault", "slow", "--cert-dir"])
        .arg(&certs)
        .arg("--documents")
        .arg(workspace_root().join("config/sample-documents.jsonl"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _standin = KillOnDrop(standin);
    let ca = certs.join("platform.crt");
    wait_for(Duration::from_secs(10), || received(port, &ca)).expect("the stand-in platform");

    let config = config_in(dir.path());
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[platform]\n",
        &format!("[platform]\nurl = \"https://127.0.0.1:{port}\"\nca_file = \"{}\"\n", ca.display()),
    );
    // The stand-in answers after 5 s; the kiosk waits for it.
    let text = text.replace("timeout_seconds = 4", "timeout_seconds = 10");
    std::fs::write(&config, text).unwrap();

    // A rating, as the kiosk records it: its entry and its outbox message in one transaction.
    {
        let cfg = kiosk::config::Config::load(&config).unwrap();
        let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&cfg)).unwrap();
        journal
            .transact(|conn| {
                // Left for the follow-up call: the platform needs the number; the kiosk keeps it only until then.
                let message = serde_json::json!({
                    "transaction": { "kind": "hall_service" }, "level": 1, "channel": "kiosk", "contact": "13800138000"
                });
                kiosk::platform::outbox::enqueue_in(
                    conn,
                    kiosk::platform::outbox::EVALUATIONS,
                    &message,
                    jiff::Timestamp::now(),
                )?;
                Ok((vec![], ()))
            })
            .unwrap();
    }

    // Killed while the platform's answer is on its way.
    let sender = kiosk()
        .args(["outbox", "send", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut sender = KillOnDrop(sender);
    wait_for(Duration::from_secs(10), || received(port, &ca).filter(|r| r.0 == 1))
        .expect("the rating reached the platform");
    sender.0.kill().unwrap();
    let _ = sender.0.wait();
    let (_, status, _) = run(kiosk().args(["outbox", "status", "--config"]).arg(&config));
    assert!(status.contains("\"pending\":1"), "still waiting after the kill: {status}");

    // Restarted: submitted again with the same key; the platform keeps one.
    let (code, out, err) = run(kiosk().args(["outbox", "send", "--config"]).arg(&config));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("delivered 1"), "{out}");
    assert_eq!(received(port, &ca), Some((1, 2)), "one rating, submitted twice");
    let (_, status, _) = run(kiosk().args(["outbox", "status", "--config"]).arg(&config));
    assert!(status.contains("\"pending\":0") && status.contains("\"delivered\":1"), "{status}");
    // Issue #30 item 8: delivered, the telephone number is not kept in the kiosk.
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let body: String = conn.query_row("SELECT body FROM outbox", [], |r| r.get(0)).unwrap();
    assert!(!body.contains("13800138000") && body.contains("\"level\":1"), "{body}");

    // Nothing left to send.
    let (code, out, _) = run(kiosk().args(["outbox", "send", "--config"]).arg(&config));
    assert_eq!(code, Some(0));
    assert!(out.contains("delivered 0"), "{out}");
    assert_eq!(received(port, &ca), Some((1, 2)));
}
