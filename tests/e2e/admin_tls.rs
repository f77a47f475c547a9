//! The staff API over TLS with a certificate from `kiosk admin gen-cert`: county staff pull 10,000 entries
//! in pages of 500 with `kiosk-county journal pull` and the pinned fingerprint, and the result verifies; a wrong
//! pin keeps nothing; roles hold; /metrics parses with Prometheus's own parser; health and stats answer.

use crate::support::{
    KillOnDrop, config_in, county, free_port, fresh_credentials, kiosk, run, staff_api_tls, wait_for,
};
use kiosk::admin::client::{Endpoint, StaffClient};
use std::path::Path;
use std::time::Duration;

const ENTRIES: u64 = 10_000;

fn fill_journal(config: &Path) {
    let config = kiosk::config::Config::load(config).unwrap();
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&config)).unwrap();
    for batch in 0..ENTRIES / 1000 {
        journal
            .transact(move |_| {
                let entries = (0..1000)
                    .map(|i| {
                        kiosk::journal::NewEntry::new(
                            kiosk::journal::EntryKind::Evaluation,
                            serde_json::json!({ "level": 5 - (i % 2), "batch": batch }),
                        )
                    })
                    .collect();
                Ok((entries, ()))
            })
            .unwrap();
    }
    journal.close();
}

fn client(port: u16, pin: &str, token: &str) -> StaffClient {
    let endpoint = Endpoint::parse(&format!("https://127.0.0.1:{port}")).unwrap();
    let pin = kiosk::admin::tls::parse_pin(pin).unwrap();
    StaffClient::new(endpoint, Some(pin), zeroize::Zeroizing::new(token.to_owned())).unwrap()
}

#[test]
fn county_staff_pull_the_journal_over_tls_with_a_pinned_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = config_in(dir.path());
    let creds = fresh_credentials(&config, &format!("127.0.0.1:{port}"));
    let key = dir.path().join("admin-key.pem");
    let (out, pin) = staff_api_tls(&config);
    assert!(out.contains("SHA-256 fingerprint:"), "{out}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o077, 0, "the key is the kiosk user's alone");
    let (code, _, err) = run(kiosk().args(["admin", "gen-cert", "--config"]).arg(&config));
    assert_eq!(code, Some(2), "an existing certificate is kept without --force");
    assert!(err.contains("--force"), "{err}");

    fill_journal(&config);
    let (code, pubkey, err) = run(kiosk().args(["journal", "pubkey", "--config"]).arg(&config));
    assert_eq!(code, Some(0), "{err}");

    let server = kiosk().args(["admin", "serve", "--config"]).arg(&config).spawn().unwrap();
    let _server = KillOnDrop(server);
    let mut tech = client(port, &pin, &creds.technician);
    let health = wait_for(Duration::from_secs(20), || tech.get("/api/v1/health").ok()).expect("the API answers");
    assert_eq!(health.0, 200);
    let health: serde_json::Value = serde_json::from_slice(&health.1).unwrap();
    assert_eq!(health["journal"]["head_seq"], ENTRIES, "{health}");
    assert_eq!(health["devices"]["ticket_printer"]["state"], "not_driven", "{health}");
    assert!(health["disk"]["free_bytes"].as_u64().unwrap() > 0, "{health}");

    // Plain HTTP to the TLS port gets no HTTP answer.
    let (status, _) = crate::support::http(port, "GET", "/api/v1/health", Some(&creds.technician), "");
    assert_eq!(status, 0);

    // Roles: the counter token cannot read the journal; the staff token cannot ask for health.
    let (status, body) = client(port, &pin, &creds.counter).get("/api/v1/journal").unwrap();
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let mut staff = client(port, &pin, &creds.staff);
    assert_eq!(staff.get("/api/v1/health").unwrap().0, 403);
    let (status, body) = staff.get("/api/v1/journal?after_seq=x").unwrap();
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let (status, _) = staff.get("/api/v1/journal?limit=5001").unwrap();
    assert_eq!(status, 400);

    // The pull, in pages of 500.
    let token_file = dir.path().join("staff.token");
    std::fs::write(&token_file, format!("{}\n", creds.staff)).unwrap();
    let pulled = dir.path().join("pulled.jsonl");
    let url = format!("https://127.0.0.1:{port}");
    let pull = |pin: &str, out: &Path| {
        run(county()
            .args(["journal", "pull", "--url", &url, "--pin", pin, "--page-size", "500", "--pubkey", pubkey.trim()])
            .arg("--token-file")
            .arg(&token_file)
            .arg("--out")
            .arg(out))
    };
    let (code, out, err) = pull(&pin, &pulled);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(&format!("{ENTRIES} entries (seq 1–{ENTRIES}) in 21 requests, verified")), "{out}");
    let text = std::fs::read_to_string(&pulled).unwrap();
    let seqs: Vec<u64> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["seq"].as_u64())
        .collect();
    assert_eq!(seqs, (1..=ENTRIES).collect::<Vec<_>>(), "every entry exactly once, in order");
    let (code, out, err) = run(kiosk().args(["journal", "verify", "--pubkey", pubkey.trim()]).arg(&pulled));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(&format!("intact: {ENTRIES} entries")), "{out}");
    // Issue #28 item 1: the joined file carries every page's own proof, so the kiosk's signatures, not the
    // county tool, prove it contiguous; a range deleted and the file relabelled in any way is refused.
    assert!(
        out.contains(&format!(
            "joined from 20 page(s), each signed by the kiosk: seq 1–{ENTRIES} is proven contiguous"
        )),
        "{out}"
    );
    let pulled_lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert!(pulled_lines[0].contains("\"version\":4"), "{}", pulled_lines[0]);
    let is_entry = |l: &str| serde_json::from_str::<serde_json::Value>(l).ok().and_then(|v| v["seq"].as_u64());
    let without_range = |from: u64, to: u64| -> Vec<String> {
        pulled_lines.iter().filter(|l| is_entry(l).is_none_or(|s| s < from || s > to)).cloned().collect()
    };
    let page_of = |l: &str| -> Option<u64> {
        serde_json::from_str::<serde_json::Value>(l).ok().and_then(|v| v["page"]["export"]["first_seq"].as_u64())
    };
    let check_refused = |name: &str, lines: Vec<String>| {
        let path = dir.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let (code, out, err) = run(kiosk().args(["journal", "verify", "--pubkey", pubkey.trim()]).arg(&path));
        assert_eq!(code, Some(1), "{name} was not refused: {out}{err}");
        err
    };
    // A page's entries and its proof deleted from the middle.
    let mut cut: Vec<String> = without_range(1001, 1500);
    cut.retain(|l| page_of(l) != Some(1001));
    let err = check_refused("cut-middle.jsonl", cut.clone());
    assert!(err.contains("entries 1001 to 1500 are missing"), "{err}");
    // The same, relabelled contiguous false (a gap would then be allowed in a version 3 file).
    let mut relabelled = cut.clone();
    relabelled[0] = relabelled[0].replace("\"contiguous\":true", "\"contiguous\":false");
    assert!(check_refused("cut-not-contiguous.jsonl", relabelled).contains("must be contiguous"));
    // Relabelled version 1 or 2, the proofs dropped and the last checkpoint kept as a v1 file's closing line.
    for version in [1, 2, 3] {
        let mut old = cut.clone();
        old[0] = old[0]
            .replace("\"version\":4", &format!("\"version\":{version}"))
            .replace("\"contiguous\":true", "\"contiguous\":false");
        let last_checkpoint =
            serde_json::from_str::<serde_json::Value>(old.last().unwrap()).unwrap()["page"]["checkpoint"].clone();
        old.retain(|l| page_of(l).is_none());
        old.push(serde_json::json!({ "checkpoint": last_checkpoint }).to_string());
        let err = check_refused(&format!("cut-v{version}.jsonl"), old);
        if version < 3 {
            assert!(err.contains("NOT VERIFIED") && err.contains("--accept-old-format"), "{err}");
        } else {
            assert!(err.contains("lacks the export's signed statement") || err.contains("deleted entry"), "{err}");
        }
    }
    // The first pages cut off with their proofs: what is left starts at 1001, and says so; the last page's
    // proof dropped: the entries it covered are no longer proven.
    let mut tail: Vec<String> = without_range(1, 1000);
    tail.retain(|l| page_of(l).is_none_or(|f| f > 1000));
    let path = dir.path().join("from-1001.jsonl");
    std::fs::write(&path, tail.join("\n") + "\n").unwrap();
    let (code, out, err) = run(kiosk().args(["journal", "verify", "--pubkey", pubkey.trim()]).arg(&path));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(&format!("seq 1001–{ENTRIES} is proven contiguous")), "it proves only what it holds: {out}");
    let mut no_last_proof = pulled_lines.clone();
    no_last_proof.pop();
    assert!(check_refused("no-last-proof.jsonl", no_last_proof).contains("does not cover the last entry"));

    // A page on its own verifies too, with the kiosk's own tool.
    let (status, page) = staff.get("/api/v1/journal?after_seq=4000&limit=250").unwrap();
    assert_eq!(status, 200);
    let page_file = dir.path().join("page.jsonl");
    std::fs::write(&page_file, &page).unwrap();
    let (code, out, err) = run(kiosk().args(["journal", "verify", "--pubkey", pubkey.trim()]).arg(&page_file));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("intact: 250 entries (seq 4001–4250), ") && out.contains("1 signed checkpoint"), "{out}");

    // A wrong pin: the handshake is refused and nothing is kept.
    let wrong = format!("sha256:{}", "0".repeat(64));
    let elsewhere = dir.path().join("wrong.jsonl");
    let (code, _, err) = pull(&wrong, &elsewhere);
    assert_ne!(code, Some(0));
    assert!(err.contains("TLS") || err.contains("pinned"), "{err}");
    assert!(!elsewhere.exists());
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().starts_with(".tmp")),
        "no half file left"
    );

    // The checkpoint, stats and metrics.
    let (status, body) = staff.get("/api/v1/checkpoint").unwrap();
    assert_eq!(status, 200);
    let cp: serde_json::Value = serde_json::from_slice(&body).unwrap();
    // Signed by the current epoch's key, which the newest seal hands over to; the seal goes to the county.
    assert_eq!(cp["checkpoint"]["public_key"], cp["seal"]["next_public_key"], "{cp}");
    assert_ne!(cp["checkpoint"]["public_key"], pubkey.trim(), "the root key was erased after the first epoch");
    let health: serde_json::Value = serde_json::from_slice(&tech.get("/api/v1/health").unwrap().1).unwrap();
    assert_eq!(cp["checkpoint"]["seq"], health["journal"]["head_seq"], "the checkpoint covers the head: {cp}");
    let (status, body) = staff.get("/api/v1/stats?x=1").unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let stats: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(stats["ratings"]["5"], ENTRIES / 2, "{stats}");
    assert_eq!(stats["good_rate"], 1.0, "levels 4 and 5 are good: {stats}");
    let (status, _) = staff.get("/api/v1/stats?from=2026-11-30&to=2026-11-01").unwrap();
    assert_eq!(status, 400);

    let (status, body) = staff.get("/metrics").unwrap();
    assert_eq!(status, 200);
    let metrics = dir.path().join("metrics.txt");
    std::fs::write(&metrics, &body).unwrap();
    let parsed = std::process::Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(
            "import sys\nfrom prometheus_client.parser import text_string_to_metric_families\n\
             for f in text_string_to_metric_families(open(sys.argv[1]).read()):\n    \
             for s in f.samples:\n        print(s.name, dict(sorted(s.labels.items())), s.value)",
        )
        .arg(&metrics)
        .output()
        .unwrap();
    let samples = String::from_utf8_lossy(&parsed.stdout);
    assert!(parsed.status.success(), "{}", String::from_utf8_lossy(&parsed.stderr));
    assert!(samples.contains(&format!("kiosk_journal_seq {{}} {}.0", ENTRIES)), "{samples}");
    assert!(
        samples.contains("kiosk_ratings_total {'level': '5'} 0.0"),
        "ratings count since this process started: {samples}"
    );
    assert!(samples.contains("kiosk_seconds_since_last_seal {}"), "{samples}");
    assert!(samples.contains("kiosk_journal_unsealed_entries {} "), "{samples}");
}
