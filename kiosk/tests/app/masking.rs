//! One masking rule everywhere a personal datum is shown (issue #30 item 9): with 李小梅's card, the licence
//! flow (greeting, document list, the copies screen with its preview) and 办件查询 (the list of her cases and
//! a case's page) are walked, and every text and label on screen is searched for her whole name, her whole ID
//! number, a whole credit code or a whole case number. Before, the list showed 李小梅 under a greeting of
//! 李*梅, and a case number masked in the list was whole on the next page.

use kiosk::demo::standin::Fault;
use slint::ComponentHandle;

use crate::common::appointments::config_and_standin;
use crate::common::{drive, find, find_starting, on_screen, sleep};

/// What must never be shown whole.
const WHOLE: [&str; 7] = [
    "李小梅",
    "371329198812122020",
    "张三丰",
    "371329195003071012",
    "91371329MA3DEMO01X",
    "202611200123",
    "202611150456",
];

/// Every label on screen that shows one of [`WHOLE`], with where the walk was.
fn unmasked(window: &kiosk::ui::AppWindow, at: &str) -> Vec<String> {
    on_screen(window)
        .into_iter()
        .filter(|(_, label)| WHOLE.iter().any(|w| label.contains(w)))
        .map(|(_, label)| format!("{at}: {label}"))
        .collect()
}

#[test]
fn walking_the_licence_and_case_pages_with_a_card_shows_nothing_whole() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let (config, _standin) = config_and_standin(dir.path(), Fault::None);
    let samples = dir.path().join("samples.jsonl");
    std::fs::write(&samples, kiosk::licence::SAMPLE_DOCUMENTS).unwrap();
    kiosk::cli::import_file(&config, &samples).unwrap();
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let reader = kiosk.reader.clone();
    let found = drive(async move {
        let sim = reader.simulator.clone().ok_or("no simulated reader")?;
        let mut found = vec![];
        // The licence page with card `i` on the reader, greeted by the masked name, its list searched.
        let documents_of = async |i: usize, greeting: &'static str, at: &str| -> Result<Vec<String>, &'static str> {
            find(&window, "证照打印 Print a licence")
                .await
                .ok_or("no licence tile")?
                .invoke_accessible_default_action();
            find(&window, "请将身份证放在读卡器上 Please place your ID card on the reader").await.ok_or("no prompt")?;
            sim.lock().map_err(|_| "sim")?.place(i);
            find(&window, greeting).await.ok_or("no greeting")?;
            sleep(300).await;
            Ok(unmasked(&window, at))
        };
        // 张三丰's certificates name him as their holder.
        found.extend(documents_of(0, "张*丰，您好 Hello, 张*丰", "张三丰's document list").await?);
        sim.lock().map_err(|_| "sim")?.remove();
        find(&window, "取号 Take a number").await.ok_or("taking the card did not end the session")?;
        sleep(300).await;
        found.extend(documents_of(1, "李*梅，您好 Hello, 李*梅", "李小梅's document list").await?);
        find_starting(&window, "营业执照（副本）")
            .await
            .ok_or("no business licence")?
            .invoke_accessible_default_action();
        find(&window, "增加 + More +").await.ok_or("no copies screen")?;
        sleep(500).await;
        found.extend(unmasked(&window, "the copies screen"));
        find_starting(&window, "返回首页").await.ok_or("no home button")?.invoke_accessible_default_action();
        sleep(300).await;
        // The card is still on the reader: 办件查询 reads it at once.
        if find_starting(&window, "返回首页").await.is_some() {
            find_starting(&window, "返回首页").await.ok_or("no home button")?.invoke_accessible_default_action();
        }
        find(&window, "办件查询 Case progress").await.ok_or("no 办件查询 tile")?.invoke_accessible_default_action();
        find(&window, "您的办件 Your cases").await.ok_or("no list of cases")?;
        found.extend(unmasked(&window, "the list of cases"));
        find(&window, "不动产登记  2026****0123  已办结")
            .await
            .ok_or("no finished case")?
            .invoke_accessible_default_action();
        find(&window, "办件编号 2026****0123 Case number 2026****0123").await.ok_or("not the case's page, masked")?;
        found.extend(unmasked(&window, "the case's page"));
        Ok(found)
    });
    kiosk.shutdown(true).unwrap();
    assert!(found.is_empty(), "shown whole: {found:#?}");
}
