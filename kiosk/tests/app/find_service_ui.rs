//! 事项查询 through the real UI under Slint's testing backend, by accessible labels: 不动产登记 found by "bdc",
//! its page opened, its guide printed on the virtual printer (the transcript checked), and a number taken
//! for it straight from the item's page; the searches, views and prints are in the journal.

use kiosk::config::Config;
use slint::ComponentHandle;

use crate::common::{drive, find, find_now};

#[test]
fn find_real_estate_registration_by_bdc_print_its_guide_and_take_a_number() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    // 不动产登记's counters (B) open round the clock for the test, whatever the hour it runs.
    config.queue.categories[1].open_round_the_clock();
    config.voice.mode = kiosk::config::VoiceMode::Always;
    config.voice.engine = kiosk::config::VoiceEngine::None;
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let reader = kiosk.reader.clone();
    drive(async move {
        find(&window, "事项查询 Find a service").await.ok_or("no 事项查询 tile")?.invoke_accessible_default_action();
        find(&window, "事项目录更新于 2026-11-20（样例目录） Catalogue of 2026-11-20 (a sample)")
            .await
            .ok_or("the catalogue's date is not on the search page")?;
        for key in ["B", "D", "C"] {
            find(&window, key).await.ok_or("no letter keys")?.invoke_accessible_default_action();
        }
        find(&window, "已输入 BDC").await.ok_or("the field does not show BDC")?;
        let first =
            find(&window, "不动产登记 县自然资源和规划局").await.ok_or("不动产登记 is not among the results")?;
        if find_now(&window, "居民身份证申领 县公安局").is_some() {
            return Err("an unrelated item is shown for bdc");
        }
        first.invoke_accessible_default_action();
        find(&window, "所需材料 What to bring").await.ok_or("no materials on the item page")?;
        find(&window, "居民身份证 · 原件 × 1").await.ok_or("no checklist row for the ID card")?;
        find(
            &window,
            "法定时限 30 个工作日，承诺时限 5 个工作日 Legal time limit 30 working days, promised 5 working days",
        )
        .await
        .ok_or("no time limits")?;
        find(&window, "本大厅 二楼 不动产专区 This hall, the real estate area, 2nd floor")
            .await
            .ok_or("this hall's counters are not named")?;
        find(&window, "网上办理二维码").await.ok_or("no online QR")?;
        find(&window, "打印办事指南 Print the guide")
            .await
            .ok_or("no print button")?
            .invoke_accessible_default_action();
        find(&window, "办事指南已打印，请在出纸口取走 The guide is printed; please take it from the slot")
            .await
            .ok_or("the guide was not printed")?;
        find(&window, "取号办理 Take a number for it").await.ok_or("no 取号办理")?.invoke_accessible_default_action();
        // 不动产登记 needs the ID card: the take-a-number card prompt, then the ticket.
        find(&window, "请将身份证放在读卡器上 Please place your ID card on the reader")
            .await
            .ok_or("take-a-number did not open at the card prompt")?;
        reader.simulator.as_ref().ok_or("no simulated reader")?.lock().map_err(|_| "sim")?.place(0);
        find(&window, "请取走您的号票 Please take your ticket").await.ok_or("no ticket")?;
        find(&window, "B1001").await.ok_or("not a 不动产登记 number")?;
        Ok::<(), &str>(())
    });
    kiosk.shutdown(true).unwrap();

    let guide = std::fs::read_to_string(dir.path().join("printed/job-0001.txt")).unwrap();
    for want in [
        "办事指南",
        "不动产登记",
        "□ 居民身份证（原件）× 1",
        "法定时限 30 个工作日；承诺时限 5 个工作日",
        "二楼 不动产专区",
    ] {
        assert!(guide.contains(want), "{want} missing from the guide: {guide}");
    }
    assert!(guide.contains("https://zwfw.example.invalid/item/371329-ZR-001"), "no online QR: {guide}");
    let ticket = std::fs::read_to_string(dir.path().join("printed/job-0002.txt")).unwrap();
    assert!(ticket.contains("B1001"), "{ticket}");

    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let rows: Vec<String> = conn
        .prepare(
            "SELECT kind || ' ' || payload FROM entries WHERE kind IN ('catalogue_search', 'catalogue_item_viewed', \
             'guide_printed', 'session_start', 'session_end', 'ticket_issued') ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let kinds: Vec<&str> = rows.iter().map(|r| r.split(' ').next().unwrap()).collect();
    // Each session's entries in order; the two sessions' workers may interleave the hand-over.
    assert_eq!(
        kinds[..4],
        ["session_start", "catalogue_search", "catalogue_item_viewed", "guide_printed"],
        "{rows:#?}"
    );
    assert!(rows[1].contains("\"query\":\"bdc\"") && rows[1].contains("\"opened\":\"371329-ZR-001\""), "{}", rows[1]);
    assert!(rows[3].contains("\"ok\":true"), "{}", rows[3]);
    let rest = &rows[4..];
    assert_eq!(rest.len(), 4, "{rows:#?}");
    let at = |want: &str| rest.iter().position(|r| r.contains(want)).unwrap_or_else(|| panic!("{want}: {rows:#?}"));
    at("handed_over");
    assert!(at("\"flow\":\"take_number\"") < at("ticket_issued"), "{rows:#?}");
    assert!(at("ticket_issued") < at("\"reason\":\"shutdown\""), "{rows:#?}");
    let loaded: String =
        conn.query_row("SELECT payload FROM entries WHERE kind = 'catalogue_loaded'", [], |r| r.get(0)).unwrap();
    assert!(loaded.contains("\"source\":\"start\"") && loaded.contains("\"items\":301"), "{loaded}");
}

/// An item's page says where to go (issue #30 items 3 and 4): the voice reads the item, its materials in order
/// and this hall's counters; the citizen picks a town and sees each partner point there with its address,
/// hours and telephone, the English line under it in English; the voice names the first point.
#[test]
fn an_items_page_reads_its_materials_and_names_the_towns_points_with_address_and_telephone() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    config.voice.mode = kiosk::config::VoiceMode::Always;
    config.voice.engine = kiosk::config::VoiceEngine::None;
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let voice = kiosk.voice.clone();
    drive(async move {
        find(&window, "事项查询 Find a service").await.ok_or("no 事项查询 tile")?.invoke_accessible_default_action();
        for key in ["S", "B", "K"] {
            find(&window, key).await.ok_or("no letter keys")?.invoke_accessible_default_action();
        }
        crate::common::find_starting(&window, "社会保障卡申领")
            .await
            .ok_or("社会保障卡申领 is not found by SBK")?
            .invoke_accessible_default_action();
        find(&window, "所需材料 What to bring").await.ok_or("no materials on the item page")?;
        crate::common::sleep(100).await;
        let said = voice.recent().last().map(|s| s.text.clone()).unwrap_or_default();
        if said
            != "社会保障卡申领。所需材料：1，居民身份证；2，近期二寸免冠彩色照片。可在本大厅6–8 号窗口办理。\
                可以打印办事指南，或直接取号办理。"
        {
            return Ok(Err(format!("the item page said {said:?}")));
        }
        crate::common::find_starting(&window, "查看我所在镇（街道）的办理地点")
            .await
            .ok_or("no town button")?
            .invoke_accessible_default_action();
        crate::common::find_starting(&window, "临沭街道")
            .await
            .ok_or("临沭街道 is not among the towns")?
            .invoke_accessible_default_action();
        find(
            &window,
            "合作网点：临沭农商银行临沭支行，临沭街道临沭路1号，08:30-17:00，电话 0539-6010037 \
             Partner point: Linshu Rural Commercial Bank, Linshu Branch, No. 1, Linshu Road, Linshu Subdistrict, \
             08:30-17:00, tel. 0539-6010037",
        )
        .await
        .ok_or("the town's partner point is not shown with its address and telephone")?;
        crate::common::sleep(100).await;
        let said = voice.recent().last().map(|s| s.text.clone()).unwrap_or_default();
        if !said
            .contains("在临沭街道，可到临沭农商银行临沭支行，临沭街道临沭路1号，08:30-17:00，电话 0539-6010037办理。")
        {
            return Ok(Err(format!("the item page in a town said {said:?}")));
        }
        Ok(Ok(()))
    })
    .unwrap();
    kiosk.shutdown(true).unwrap();
}
