//! 办件查询 and 政务专递 through the real UI under Slint's testing backend, against the platform's stand-in
//! over TLS: the card lists the holder's cases (numbers masked), a finished case's steps and its status slip
//! (checked on the virtual printer), 邮寄到家 to a saved address (masked), confirmed, submitted once,
//! journaled with the address id only, its slip printed; a number finds one case; no ID number or address
//! reaches the journal.

use kiosk::demo::standin::Fault;
use slint::ComponentHandle;

use crate::common::appointments::{config_and_standin, journal_rows};
use crate::common::{drive, find, find_starting, says, sleep};

#[test]
fn a_finished_case_found_by_the_card_is_posted_home() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let (config, standin) = config_and_standin(dir.path(), Fault::None);
    // Every request that changes something on the platform must already be in the journal when it arrives:
    // the stand-in looks, as each arrives, for the entry (or the outbox row written with it) of its key.
    let seen: std::sync::Arc<std::sync::Mutex<Vec<(String, bool)>>> = Default::default();
    let (journal_file, log) = (dir.path().join("journal.sqlite3"), seen.clone());
    standin.standin.watch_side_effects(std::sync::Arc::new(move |path: &str, body: &[u8]| {
        let key = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["idempotency_key"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let held = rusqlite::Connection::open(&journal_file).is_ok_and(|c| {
            let (sql, found): (&str, i64) = if path == "/v1/delivery/requests" {
                ("SELECT count(*) FROM entries WHERE kind = 'delivery_intent' AND json_extract(payload, '$.idempotency_key') = ?1", 0)
            } else {
                ("SELECT count(*) FROM outbox WHERE key = ?1", 0)
            };
            c.query_row(sql, [&key], |r| r.get::<_, i64>(0)).unwrap_or(found) > 0
        });
        log.lock().unwrap().push((path.to_owned(), held));
    }));
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let reader = kiosk.reader.clone();
    drive(async move {
        let sim = reader.simulator.clone().ok_or("no simulated reader")?;
        find(&window, "办件查询 Case progress").await.ok_or("no 办件查询 tile")?.invoke_accessible_default_action();
        find(&window, "或输入办件编号 Or type the case number").await.ok_or("no number entry")?;
        sim.lock().map_err(|_| "sim")?.place(1);
        find(&window, "您的办件 Your cases").await.ok_or("no list of cases")?;
        find(&window, "社会保障卡补换  2026****0456  办理中").await.ok_or("the open case is not listed, masked")?;
        find(&window, "不动产登记  2026****0123  已办结")
            .await
            .ok_or("the finished case is not listed, masked")?
            .invoke_accessible_default_action();
        find(&window, "办件编号 2026****0123 Case number 2026****0123").await.ok_or("not the case's page")?;
        find(&window, "尚未到这一步 Not yet").await.ok_or("送达 is not shown as not reached")?;
        // The voice says where the case is (issue #30 item 3), the addresses in order, and the one to confirm.
        if let Err(e) = says(&window, "不动产登记：已办结。可以打印进度单。").await {
            return Ok(Err(e));
        }
        find(&window, "打印进度单 Print the progress").await.ok_or("no slip")?.invoke_accessible_default_action();
        find(&window, "进度单已打印，请在出纸口取走 The slip is printed; please take it from the slot")
            .await
            .ok_or("the slip was not printed")?;
        find(&window, "邮寄到家 Post it home").await.ok_or("no 邮寄到家")?.invoke_accessible_default_action();
        if let Err(e) = says(&window, "请选择收件地址。1，").await {
            return Ok(Err(e));
        }
        find(&window, "临沭县临沭街道滨河路***号 李**")
            .await
            .ok_or("no saved address")?
            .invoke_accessible_default_action();
        find(&window, "确认邮寄 Confirm").await.ok_or("not asked to confirm")?;
        if let Err(e) = says(&window, "请确认把“不动产登记”的材料邮寄到：临沭县临沭街道滨河路***号 李**。").await
        {
            return Ok(Err(e));
        }
        find(&window, "确认邮寄 Confirm").await.ok_or("not asked to confirm")?.invoke_accessible_default_action();
        find_starting(&window, "已申请邮寄到 临沭县临沭街道滨河路***号 李**，申请编号 D0001")
            .await
            .ok_or("the request was not accepted")?;
        // 一事一评: the case query is rated once, and goes to the outbox for the platform.
        find(&window, "非常满意 Very satisfied").await.ok_or("no rating offered")?.invoke_accessible_default_action();
        find(&window, "感谢您的评价 Thank you for your rating").await.ok_or("the rating was not taken")?;
        sim.lock().map_err(|_| "sim")?.remove();
        find(&window, "取号 Take a number").await.ok_or("not back home")?;
        sleep(1500).await;

        // By its number: the one case, straight to its page; delivered already, so no 邮寄到家.
        find(&window, "办件查询 Case progress").await.ok_or("no tile")?.invoke_accessible_default_action();
        for k in "202611200123".chars() {
            find(&window, &k.to_string()).await.ok_or("no digit pad")?.invoke_accessible_default_action();
        }
        find(&window, "查询办件 Find the case").await.ok_or("no 查询")?.invoke_accessible_default_action();
        find(&window, "已申请邮寄到家 Posting home requested").await.ok_or("the request is not shown")?;
        if crate::common::find_now(&window, "邮寄到家 Post it home").is_some() {
            return Err("posting offered twice");
        }
        Ok::<Result<(), String>, &str>(Ok(()))
    })
    .unwrap();
    kiosk.shutdown(true).unwrap();

    let slip = std::fs::read_to_string(dir.path().join("printed/job-0001.txt")).unwrap();
    for want in [
        "办件进度",
        "不动产登记",
        "办件编号 2026****0123",
        "[qr] https://zwfw.example.invalid/case/202611200123",
        "■ 受理",
        "■ 办结",
        "□ 送达 未到",
    ] {
        assert!(slip.contains(want), "{want} missing from the slip: {slip}");
    }
    let posted = std::fs::read_to_string(dir.path().join("printed/job-0002.txt")).unwrap();
    assert!(posted.contains("政务专递") && posted.contains("申请编号 D0001"), "{posted}");
    assert_eq!(standin.standin.delivery_count(), 1, "one delivery request reached the platform");
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().any(|(p, _)| p == "/v1/delivery/requests"), "{seen:?}");
    assert!(seen.iter().all(|(_, held)| *held), "a request reached the platform before the journal held it: {seen:?}");
    let order = journal_rows(dir.path(), "'delivery_intent', 'delivery_requested'");
    assert_eq!(order.len(), 2, "{order:#?}");
    assert!(order[0].contains("\"idempotency_key\"") && order[1].contains("\"request_id\":\"D0001\""), "{order:#?}");
    let rows = journal_rows(dir.path(), "'delivery_requested'");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert!(
        rows[0].contains("\"case_number\":\"202611200123\"")
            && rows[0].contains("\"address_id\":\"addr-2\"")
            && rows[0].contains("\"request_id\":\"D0001\""),
        "{}",
        rows[0]
    );
    let rated = journal_rows(dir.path(), "'evaluation'");
    assert_eq!(rated.len(), 1, "{rated:#?}");
    assert!(
        rated[0].contains("\"kind\":\"case_query\"") && rated[0].contains("\"case_number\":\"202611200123\""),
        "{}",
        rated[0]
    );
    let bytes = std::fs::read(dir.path().join("journal.sqlite3")).unwrap();
    for secret in ["371329198812122020", "滨河路"] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} in the journal");
    }
}
