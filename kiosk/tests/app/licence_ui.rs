//! Print a licence through the real UI under Slint's testing backend, by accessible labels: an expired card
//! is refused, taking the card away ends the session, a valid card prints two copies on the simulated A4 printer.

use kiosk::config::Config;
use slint::ComponentHandle;

use crate::common::{drive, find, sleep, stays_on};

const BUSINESS_LICENCE: &str =
    "营业执照（副本） Business licence (copy) · 临沭县小梅示例柳编工艺品有限公司 9137**********O01X";

#[test]
fn print_a_business_licence_by_accessible_labels() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    config.admin.listen = "127.0.0.1:0".into();
    let samples = dir.path().join("samples.jsonl");
    std::fs::write(&samples, kiosk::licence::SAMPLE_DOCUMENTS).unwrap();
    kiosk::cli::import_file(&config, &samples).unwrap();
    // Speak every step (silently: the texts are what is checked).
    config.voice.mode = kiosk::config::VoiceMode::Always;
    config.voice.engine = kiosk::config::VoiceEngine::None;
    let kiosk = kiosk::app::start(config).unwrap();
    let voice = kiosk.voice.clone();
    let window = kiosk.window.clone_strong();
    let reader = kiosk.reader.clone();
    drive(async move {
        let sim = reader.simulator.clone().ok_or("no simulated reader")?;
        let place = |i: usize| sim.lock().map(|mut s| s.place(i)).map_err(|_| "sim");
        let remove = || sim.lock().map(|mut s| s.remove()).map_err(|_| "sim");

        // An expired card (王建国) is refused on the card prompt, with what to do.
        find(&window, "证照打印 Print a licence").await.ok_or("no licence tile")?.invoke_accessible_default_action();
        find(&window, "请将身份证放在读卡器上 Please place your ID card on the reader")
            .await
            .ok_or("no card prompt")?;
        place(2)?;
        find(&window, "此身份证已过期 This ID card has expired").await.ok_or("the expired card was not refused")?;
        find(&window, "请换一张有效证件，或点“呼叫帮办” Use a valid card, or tap Call for assistance")
            .await
            .ok_or("no next step for an expired card")?;
        remove()?;
        sleep(600).await;

        // 李小梅's documents appear; taking the card away ends the session and clears the screen.
        place(1)?;
        find(&window, BUSINESS_LICENCE).await.ok_or("no business licence in the list")?;
        remove()?;
        find(&window, "取号 Take a number").await.ok_or("card removal did not end the session")?;

        // Again, and this time print two copies.
        find(&window, "证照打印 Print a licence").await.ok_or("no licence tile")?.invoke_accessible_default_action();
        place(1)?;
        let row = find(&window, BUSINESS_LICENCE).await.ok_or("no business licence")?;
        // The holder is greeted by the masked name on the card.
        find(&window, "李*梅，您好 Hello, 李*梅").await.ok_or("no greeting")?;
        if !stays_on(&window, kiosk::ui::Page::Licence, 2_500).await {
            return Err("another flow's timer took the licence page away");
        }
        row.invoke_accessible_default_action();
        let more = find(&window, "增加 + More +").await.ok_or("no copies screen")?;
        // A citizen reads the screen before tapping (the voice speaks a screen once it has been shown).
        sleep(300).await;
        more.invoke_accessible_default_action();
        find(&window, "份数 2").await.ok_or("copies did not go up")?;
        find(&window, "开始打印 Print").await.ok_or("no print button")?.invoke_accessible_default_action();
        find(&window, "此证照还可打印 3 份 3 more copies allowed").await.ok_or("no done screen")?;
        find(&window, "满意 Satisfied").await.ok_or("no rating")?.invoke_accessible_default_action();
        find(&window, "感谢您的评价 Thank you for your rating").await.ok_or("no thanks")?;
        Ok::<(), &str>(())
    });

    // The voice said each step, in order, in Chinese.
    let spoken: Vec<String> = voice.recent().into_iter().map(|s| s.text).collect();
    let expected = [
        "请将身份证放在读卡器上。读卡器在屏幕右侧，放好后请勿移动",
        "此身份证已过期。请换一张有效证件，或点“呼叫帮办”",
        // Issue #30 item 3: the choices are read after the question, numbered.
        "请选择要打印的证照。1，营业执照（副本）；2，就业登记证明。",
        "请选择份数，然后点开始打印。",
        // Issue #30 item 8: the levels are read out, in order.
        "打印完成。请从打印机取走证照，并取回您的身份证。请评价本次服务：五，非常满意；四，满意；三，基本满意；二，不满意；一，非常不满意。",
        "感谢您的评价。",
    ];
    let mut rest = spoken.iter();
    for want in expected {
        assert!(rest.any(|s| s == want), "\"{want}\" was not spoken in order: {spoken:#?}");
    }

    // Stopping the kiosk waits for every worker: what the screen showed is in the journal.
    kiosk.shutdown(true).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT kind, coalesce(payload, '') FROM entries WHERE kind IN ('session_start', 'session_end', 'licence_print_requested', 'licence_printed', 'evaluation') ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "session_start",
            "session_end",
            "session_start",
            "licence_print_requested",
            "licence_printed",
            "evaluation",
            "session_end"
        ],
        "{rows:#?}"
    );
    assert!(rows[1].1.contains("card_removed"), "{}", rows[1].1);
    // The expired card was refused by the same card rule as a ticket's, and journaled the same way.
    let refused: Vec<String> = conn
        .prepare("SELECT json_extract(payload, '$.purpose') || ':' || json_extract(payload, '$.reason') FROM entries WHERE kind = 'card_read_failed'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(refused, ["licence:expired"]);
    assert!(rows[6].1.contains("shutdown"), "the session open at shutdown ends with it: {}", rows[6].1);
    assert!(rows[3].1.contains("\"copies\":2") && rows[3].1.contains("BL-91371329MA3DEMO01"), "{}", rows[3].1);
    let printed: serde_json::Value = serde_json::from_str(&rows[4].1).unwrap();
    let rating: serde_json::Value = serde_json::from_str(&rows[5].1).unwrap();
    assert_eq!(rating["transaction"]["print_id"], printed["print_id"], "the rating is tied to this print");
    let pdfs: Vec<_> =
        std::fs::read_dir(dir.path().join("licence-prints")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(pdfs.len(), 1, "{pdfs:?}");
    assert!(pdfs[0].to_string_lossy().ends_with("-x2.pdf"), "{pdfs:?}");
    assert!(std::fs::read(&pdfs[0]).unwrap().starts_with(b"%PDF-"));
}
