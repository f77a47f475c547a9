//! docs/openapi.json and the server agree: every documented path and method is served to a token of the
//! role the document names, refused (403) to another role, and nothing undocumented answers.

use kiosk::admin::client::{Endpoint, StaffClient};
use kiosk::config::Config;

#[test]
fn every_documented_endpoint_is_served_to_its_role_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&config)).unwrap();
    journal.append(kiosk::journal::payload::Boot { version: "test".into() }.into()).unwrap();
    let queue = kiosk::queue::Queue::new(&config, journal.clone()).unwrap();
    // The demo's virtual ticket printer, so the technician's test print has a printer to print on.
    let sim = kiosk::devices::ticket_printer::simulated(&config).unwrap().unwrap();
    let printer = kiosk::devices::TicketPrinter::from_config(&config, Some(sim.address.clone())).unwrap();
    let catalogue = kiosk::catalogue::store::CatalogueStore::open(dir.path(), Default::default()).unwrap();
    let devices =
        kiosk::admin::Devices { printer: Some(printer.clone()), catalogue: Some(catalogue), ..Default::default() };
    let mut server = kiosk::admin::start(&config, queue, devices).unwrap();
    let port = server.local_addr.port();
    let client = |token: &str| {
        let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        StaffClient::new(endpoint, None, zeroize::Zeroizing::new(token.to_owned())).unwrap()
    };
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/openapi.json")).expect("docs/openapi.json is JSON");
    let roles = ["counter", "staff", "technician"];
    for (path, methods) in spec["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let role = op["x-role"].as_str().unwrap();
            let concrete =
                path.replace("{counter}", "5").replace("{id}", "no-such-ticket").replace("{action}", "complete");
            let body = match concrete.as_str() {
                c if c.ends_with("call-next") => r#"{"categories":["A"]}"#,
                c if c.ends_with("/catalogue") && method == "put" => kiosk::catalogue::SAMPLE_CATALOGUE,
                c if c.ends_with("/partners") => kiosk::catalogue::SAMPLE_PARTNERS,
                _ => "",
            };
            let (status, answer) = client(&format!("demo-{role}-token"))
                .request(&method.to_uppercase(), &concrete, body.as_bytes())
                .unwrap();
            let answer = String::from_utf8_lossy(&answer);
            // An unknown ticket is the handler's 404 with its own sentence, not the router's.
            assert!(
                status == 200 || (status == 404 && answer.contains("no-such-ticket")),
                "{method} {concrete} as {role}: {status} {answer}"
            );
            for other in roles.iter().filter(|r| **r != role) {
                let (status, _) =
                    client(&format!("demo-{other}-token")).request(&method.to_uppercase(), &concrete, b"").unwrap();
                assert_eq!(status, 403, "{method} {concrete} as {other}");
            }
        }
    }
    let (status, answer) = client("demo-staff-token").get("/api/v1/nothing").unwrap();
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&answer));
    let (status, _) = client("demo-counter-token").request("DELETE", "/api/v1/queue", b"").unwrap();
    assert_eq!(status, 405);
    server.stop();
    printer.stop();
    let mut sim_server = sim.server;
    sim_server.stop();
    let printed = std::fs::read_to_string(dir.path().join("printed/job-0001.txt")).unwrap();
    assert!(printed.contains("打印测试"), "the test page came out: {printed}");
    let conn = kiosk::journal::open_read_only(&journal.settings().path).unwrap();
    let detail: String = conn
        .query_row("SELECT json_extract(payload, '$.detail') FROM entries WHERE kind = 'maintenance_action'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(detail, "staff API, token demo-technician");
    journal.close();
}
