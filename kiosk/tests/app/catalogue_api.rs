//! PUT /api/v1/catalogue over a real socket: a staff token installs a new catalogue (validated, swapped,
//! journaled with its digest); a bad file is refused with its line, item and field and changes nothing;
//! other roles are refused.

use kiosk::admin::client::{Endpoint, StaffClient};
use kiosk::catalogue::store::CatalogueStore;
use kiosk::catalogue::{SAMPLE_CATALOGUE, SAMPLE_PARTNERS};
use kiosk::config::Config;

#[test]
fn staff_install_a_catalogue_and_a_bad_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&config)).unwrap();
    let queue = kiosk::queue::Queue::new(&config, journal.clone()).unwrap();
    let store = CatalogueStore::open(dir.path(), Default::default()).unwrap();
    let devices = kiosk::admin::Devices { catalogue: Some(store.clone()), ..Default::default() };
    let mut server = kiosk::admin::start(&config, queue, devices).unwrap();
    let port = server.local_addr.port();
    let client = |token: &str| {
        let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        StaffClient::new(endpoint, None, zeroize::Zeroizing::new(token.to_owned())).unwrap()
    };
    let mut staff = client("demo-staff-token");
    let before = store.get().digest.clone();

    // A bad file: refused with where and why; nothing in use or on disk changes.
    let bad = SAMPLE_CATALOGUE.replacen("department = \"zr\"", "department = \"nowhere\"", 1);
    let (status, answer) = staff.request("PUT", "/api/v1/catalogue", bad.as_bytes()).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer.contains("371329-ZR-001") && answer.contains("department") && answer.contains("nowhere"),
        "{answer}"
    );
    assert!(answer.contains("Nothing was changed"), "{answer}");
    assert_eq!(store.get().digest, before);
    assert!(!dir.path().join("catalogue").exists(), "nothing was written");
    // A fee text with printer commands in it (ESC @ starts a second job, ESC p kicks the cash drawer):
    // refused with its place, so no guide can ever carry them.
    let hostile = SAMPLE_CATALOGUE.replacen("fee = \"", "fee = \"\\u001B@\\u001Bp\\u0000\\u0019", 1);
    let (status, answer) = staff.request("PUT", "/api/v1/catalogue", hostile.as_bytes()).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status, 422, "{answer}");
    assert!(answer.contains(".fee") && answer.contains("U+001B (ESC)"), "{answer}");
    assert_eq!(store.get().digest, before);
    let (status, _) = staff.request("PUT", "/api/v1/catalogue", b"\xff\xfe not text").unwrap();
    assert_eq!(status, 400);
    let (status, _) = staff.request("PUT", "/api/v1/catalogue/partners", b"[partners]\nupdated = \"soon\"\n").unwrap();
    assert_eq!(status, 422);

    // Other roles may not.
    for token in ["demo-counter-token", "demo-technician-token"] {
        let (status, _) = client(token).request("PUT", "/api/v1/catalogue", SAMPLE_CATALOGUE.as_bytes()).unwrap();
        assert_eq!(status, 403, "{token}");
    }

    // A good one: in use at once, and journaled with its digest.
    let newer = SAMPLE_CATALOGUE.replace("updated = \"2026-11-20\"", "updated = \"2026-12-01\"");
    let (status, answer) = staff.request("PUT", "/api/v1/catalogue", newer.as_bytes()).unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["updated"], "2026-12-01");
    assert_eq!(answer["points"], 40, "the partner points stay");
    let digest = answer["digest"].as_str().unwrap().to_owned();
    assert_ne!(digest, before);
    assert_eq!(store.get().digest, digest);
    let (status, info) = staff.get("/api/v1/catalogue").unwrap();
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&info).contains(&digest));
    let (status, _) = staff.request("PUT", "/api/v1/catalogue/partners", SAMPLE_PARTNERS.as_bytes()).unwrap();
    assert_eq!(status, 200);
    server.stop();

    // A restart uses the installed one.
    assert_eq!(CatalogueStore::open(dir.path(), Default::default()).unwrap().get().header.updated, "2026-12-01");
    let conn = kiosk::journal::open_read_only(&journal.settings().path).unwrap();
    let loaded: Vec<String> = conn
        .prepare("SELECT payload FROM entries WHERE kind = 'catalogue_loaded' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(loaded.len(), 2, "{loaded:?}");
    assert!(loaded[0].contains(&digest) && loaded[0].contains("\"source\":\"api\""), "{}", loaded[0]);
}
