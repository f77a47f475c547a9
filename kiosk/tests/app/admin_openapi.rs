//! docs/openapi.json and the server agree: every documented path and method is served to a token of the
//! role the document names, refused (403) to another role, and nothing undocumented answers; every bound the
//! document states is the server's, at the bound and one past it, and every status it answers is documented.

use kiosk::admin::client::{Endpoint, StaffClient};
use kiosk::config::Config;

/// The demo configuration serving on a free loopback port, its journal (one entry) and queue.
fn demo_kiosk(dir: &std::path::Path) -> (Config, kiosk::journal::Journal, kiosk::queue::Queue) {
    let mut config = Config::demo(dir);
    config.admin.listen = "127.0.0.1:0".into();
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&config)).unwrap();
    journal.append(kiosk::journal::payload::Boot { version: "test".into() }.into()).unwrap();
    let queue = kiosk::queue::Queue::new(&config, journal.clone()).unwrap();
    (config, journal, queue)
}

#[test]
fn every_documented_endpoint_is_served_to_its_role_only() {
    let dir = tempfile::tempdir().unwrap();
    let (config, journal, queue) = demo_kiosk(dir.path());
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
            // Required query parameters with their documented examples.
            let required: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| format!("{}={}", p["name"].as_str().unwrap(), p["example"].as_str().unwrap()))
                .collect();
            let concrete = if required.is_empty() { concrete } else { format!("{concrete}?{}", required.join("&")) };
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

/// Each operation driven with the document's own boundary values: at a bound the server does not refuse
/// (400), one past it the server does; every answer's status is one the operation documents. A fuzzer driven
/// by the document found bounds it did not state (seqs past 64 bits, stats over 366 days, empty categories)
/// and an undocumented 409.
#[test]
fn every_bound_the_document_states_is_the_servers() {
    let dir = tempfile::tempdir().unwrap();
    let (config, journal, queue) = demo_kiosk(dir.path());
    // No catalogue: `kiosk admin serve` beside a stopped kiosk, whose catalogue calls answer 409.
    let mut server = kiosk::admin::start(&config, queue, kiosk::admin::Devices::default()).unwrap();
    let port = server.local_addr.port();
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/openapi.json")).expect("docs/openapi.json is JSON");
    let call = |role: &str, method: &str, path: &str, body: &str| -> u16 {
        let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let mut client =
            StaffClient::new(endpoint, None, zeroize::Zeroizing::new(format!("demo-{role}-token"))).unwrap();
        client.request(method, path, body.as_bytes()).unwrap().0
    };
    let mut checked = 0;
    for (path, methods) in spec["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let role = op["x-role"].as_str().unwrap();
            let documented = |status: u16| op["responses"].get(status.to_string()).is_some();
            let (m, base_body) =
                (method.to_uppercase(), if path.ends_with("call-next") { r#"{"categories":["A"]}"# } else { "" });
            let fill = |over: Option<(&str, String)>| {
                let mut p = path.clone();
                for (name, default) in [("counter", "5"), ("id", "no-such-ticket"), ("action", "complete")] {
                    let value = match &over {
                        Some((n, v)) if *n == name => v.clone(),
                        _ => default.to_owned(),
                    };
                    p = p.replace(&format!("{{{name}}}"), &value);
                }
                p
            };
            let mut ask = |path: String, body: &str, expect_refused: bool, what: &str| {
                let status = call(role, &m, &path, body);
                assert!(documented(status), "{m} {path} ({what}) answered {status}, which the document does not list");
                if expect_refused {
                    assert_eq!(status, 400, "{m} {path} ({what}) is outside the document's bounds");
                } else {
                    assert_ne!(status, 400, "{m} {path} ({what}) is inside the document's bounds");
                }
                checked += 1;
            };
            // Required query parameters carry their documented example in every request but the one that
            // tries a value of that parameter.
            let required: Vec<(String, String)> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| {
                    let example = p["example"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{path}: a required parameter without an example"));
                    (p["name"].as_str().unwrap().to_owned(), example.to_owned())
                })
                .collect();
            let with_required = |base: String, except: &str, value: Option<String>| -> String {
                let mut pairs: Vec<String> =
                    required.iter().filter(|(n, _)| n != except).map(|(n, e)| format!("{n}={e}")).collect();
                if let Some(v) = value {
                    pairs.push(format!("{except}={v}"));
                }
                if pairs.is_empty() { base } else { format!("{base}?{}", pairs.join("&")) }
            };
            ask(with_required(fill(None), "", None), base_body, false, "the plain request");
            for prm in op["parameters"].as_array().into_iter().flatten() {
                let (name, schema) = (prm["name"].as_str().unwrap(), &prm["schema"]);
                let query = |v: String| with_required(fill(None), name, Some(v));
                match (prm["in"].as_str().unwrap(), schema["type"].as_str().unwrap()) {
                    ("query", "string") if schema.get("enum").is_some() => {
                        for v in schema["enum"].as_array().unwrap() {
                            ask(query(v.as_str().unwrap().to_owned()), base_body, false, "a value it lists");
                        }
                        ask(query("xx".into()), base_body, true, "a value it does not list");
                    }
                    ("query", "string") if schema.get("maxLength").is_some() => {
                        let max = schema["maxLength"].as_u64().unwrap() as usize;
                        ask(query("9".repeat(max + 1)), base_body, true, "one longer than its longest");
                        ask(query(String::new()), base_body, true, "empty");
                    }
                    ("query", "integer") => {
                        let (min, max) = (schema["minimum"].as_u64().unwrap(), schema["maximum"].as_u64());
                        let max = max.unwrap_or_else(|| panic!("{path} {name}: an integer without a maximum"));
                        ask(query(min.to_string()), base_body, false, "the minimum");
                        ask(query(max.to_string()), base_body, false, "the maximum");
                        ask(query((u128::from(max) + 1).to_string()), base_body, true, "one past the maximum");
                        if min > 0 {
                            ask(query((min - 1).to_string()), base_body, true, "one under the minimum");
                        }
                        ask(query(format!("{}0", u64::MAX)), base_body, true, "beyond 64 bits");
                    }
                    ("query", "string") if schema["format"] == "date" => {
                        ask(query("2026-11-25".into()), base_body, false, "a date");
                        ask(query("2026-02-30".into()), base_body, true, "no such date");
                        if let Some(days) = schema["x-max-days"].as_i64() {
                            let from = jiff::civil::date(2026, 1, 1);
                            let to = |d: i64| from.checked_add(jiff::Span::new().days(d - 1)).unwrap();
                            let range = |d: i64| format!("{}?from={from}&to={}", fill(None), to(d));
                            ask(range(days), base_body, false, "the longest range");
                            ask(range(days + 1), base_body, true, "one day longer");
                            ask(
                                format!("{}?from=2026-01-02&to=2026-01-01", fill(None)),
                                base_body,
                                true,
                                "to before from",
                            );
                        }
                    }
                    ("path", "string") if schema.get("enum").is_none() => {
                        let max = schema["maxLength"].as_u64().unwrap() as usize;
                        assert_eq!(schema["minLength"], 1, "{path} {name}");
                        ask(fill(Some((name, "x".repeat(max)))), base_body, false, "the longest");
                        ask(fill(Some((name, "x".repeat(max + 1)))), base_body, true, "one longer");
                    }
                    ("path", "string") => {}
                    other => panic!("{path} {name}: no boundary values for {other:?}; add them here"),
                }
            }
            if let Some(body) = op.pointer("/requestBody/content/application~1json/schema/properties/categories") {
                let (min, max) =
                    (body["minItems"].as_u64().unwrap() as usize, body["maxItems"].as_u64().unwrap() as usize);
                let (shortest, longest) = (
                    body["items"]["minLength"].as_u64().unwrap() as usize,
                    body["items"]["maxLength"].as_u64().unwrap() as usize,
                );
                let list = |n: usize, item: &str| serde_json::json!({ "categories": vec![item; n] }).to_string();
                let p = fill(None);
                ask(p.clone(), &list(min, "A"), false, "the fewest categories");
                ask(p.clone(), &list(max, "A"), false, "the most categories");
                ask(p.clone(), &list(min.saturating_sub(1), "A"), true, "too few categories");
                ask(p.clone(), &list(max + 1, "A"), true, "too many categories");
                ask(p.clone(), &list(1, &"A".repeat(shortest.saturating_sub(1))), true, "an empty category");
                ask(p.clone(), &list(1, &"A".repeat(longest + 1)), true, "a category too long");
            }
        }
    }
    assert!(checked > 40, "{checked} requests");
    server.stop();
    journal.close();
}
