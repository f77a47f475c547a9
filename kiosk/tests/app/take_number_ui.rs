//! Take a number through the real UI under Slint's testing backend, by accessible labels, against the
//! simulated ID-card reader (a pty) and the virtual printer (a socket): the number on screen is the journal's,
//! and the voice said each step.

use kiosk::config::Config;
use slint::ComponentHandle;

use crate::common::{drive, find, find_now, sleep};

#[test]
fn take_a_number_with_an_id_card_by_accessible_labels() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo(dir.path());
    // 帮办代办 (D) is open round the clock; let it require an ID card for this test.
    config.queue.categories[3].requires_id = true;
    // Every category open, so the list the voice reads is the same at any hour.
    config.queue.categories.iter_mut().for_each(kiosk::config::CategoryConfig::open_round_the_clock);
    config.admin.listen = "127.0.0.1:0".into();
    // Speak every step (silently: the texts are what is checked).
    config.voice.mode = kiosk::config::VoiceMode::Always;
    config.voice.engine = kiosk::config::VoiceEngine::None;
    let kiosk = kiosk::app::start(config).unwrap();
    let window = kiosk.window.clone_strong();
    let reader = kiosk.reader.clone();
    let voice = kiosk.voice.clone();
    let result = drive(async move {
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        find(&window, "帮办代办 Accompanied service").await.ok_or("no category D")?.invoke_accessible_default_action();
        find(&window, "请将身份证放在读卡器上 Please place your ID card on the reader")
            .await
            .ok_or("no card prompt")?;
        // The simulator panel's "place card" puts 张三丰 (76, a priority ticket) on the simulated reader.
        reader.simulator.as_ref().ok_or("no simulated reader")?.lock().map_err(|_| "sim")?.place(0);
        find(&window, "请取走您的号票 Please take your ticket").await.ok_or("no done screen")?;
        find(&window, "前面还有 0 人，请留意叫号 0 waiting ahead of you; please listen for your number")
            .await
            .ok_or("no waiting count")?;
        // The big number alone, as a citizen reads it.
        let number = find(&window, "D3001").await.ok_or("the number is not on screen")?;
        let shown = number.accessible_label().unwrap_or_default().to_string();
        // Nothing has been served yet: no rating here.
        if find_now(&window, "不满意 Dissatisfied").is_some() {
            return Err("the rating is offered right after taking a number");
        }
        // 再听一遍 says the number again.
        sleep(300).await;
        find(&window, "再听一遍 Repeat").await.ok_or("no repeat button")?.invoke_accessible_default_action();
        sleep(300).await;
        // 呼叫帮办 is on this page too, and says help is coming.
        find(&window, "呼叫帮办 Call for assistance")
            .await
            .ok_or("no 呼叫帮办 here")?
            .invoke_accessible_default_action();
        find(&window, "已呼叫，约 3 分钟到 Called: help in about 3 min").await.ok_or("no notice after calling")?;
        Ok::<String, &str>(shown)
    });
    let shown = result;
    let spoken: Vec<String> = voice.recent().into_iter().map(|s| s.text).collect();
    // Issue #30 item 2: the card is still on the reader, so the ticket's words remind of it.
    let done = "您的号码是 D 3 0 0 1 号，前面还有 0 人。请取走号票，到帮办代办服务台等候叫号。这是优先号。请取回您的身份证。证件还在读卡器上。";
    // Issue #30 item 3: the priority is said (张三丰 is 76), and 呼叫帮办 says help is coming.
    let help = "已通知工作人员，请稍候，约 3 分钟到。";
    let expected = [
        "请选择要办理的业务。1，综合业务；2，不动产登记；3，社保医保；4，帮办代办。",
        "请将身份证放在读卡器上。读卡器在屏幕右侧，放好后请勿移动",
        done,
        done,
        help,
    ];
    let mut rest = spoken.iter();
    for want in expected {
        assert!(rest.any(|s| s == want), "\"{want}\" was not spoken in order: {spoken:#?}");
    }
    assert!(voice.recent().iter().all(|s| !s.english), "a Chinese screen speaks Chinese");

    // Stopping the kiosk waits for every worker: what the screen showed is in the journal.
    kiosk.shutdown(true).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let (number, priority): (String, bool) = conn
        .query_row(
            "SELECT json_extract(payload, '$.number'), json_extract(payload, '$.priority') FROM entries WHERE kind = 'ticket_issued'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(number, shown, "the number on screen is the journal's");
    assert!(priority, "age from the card made it a priority ticket");
    let kinds: Vec<String> = conn
        .prepare(
            "SELECT kind FROM entries WHERE kind NOT IN ('boot', 'config_loaded', 'catalogue_loaded') ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        kinds,
        [
            "session_start",
            "card_read",
            "ticket_issued",
            "ticket_printed",
            "assistance_called",
            "session_end",
            "shutdown"
        ]
    );
    let from: String = conn
        .query_row("SELECT json_extract(payload, '$.from') FROM entries WHERE kind = 'assistance_called'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(from, "take_number", "the call says which page it came from");
    let issued_id: String = conn
        .query_row("SELECT json_extract(payload, '$.ticket_id') FROM entries WHERE kind = 'ticket_issued'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let transcript = std::fs::read_to_string(dir.path().join("printed/job-0001.txt")).unwrap();
    assert!(transcript.contains("D3001") && transcript.contains("优先 Priority"), "{transcript}");
    // Where to wait, in both languages; the QR rates this very ticket once it is served.
    assert!(transcript.contains("请到 帮办代办服务台 等候"), "{transcript}");
    assert!(transcript.contains("Please wait at the accompanied-service desk"), "{transcript}");
    assert!(transcript.contains(&format!("https://zwfw.example.invalid/rate/{issued_id}")), "{transcript}");
}

/// Issue #30 item 5: the paper runs out between the category list and the print. The number is issued and
/// said; 重新打印 (once the paper is back) prints the same number, and the journal has the failure and the
/// reprint. Before, the citizen was only told to go to the service desk.
#[test]
fn a_ticket_that_did_not_print_is_printed_again_with_the_same_number() {
    use drivers::escpos::virtual_printer::SimStatus;
    let dir = tempfile::tempdir().unwrap();
    let kiosk = quiet_kiosk(dir.path());
    let window = kiosk.window.clone_strong();
    let printer = kiosk.printer_sim.clone().expect("the demo's virtual printer");
    let sim = printer.clone();
    drive(async move {
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        let category = find(&window, "帮办代办 Accompanied service").await.ok_or("no category D")?;
        sim.set_status(SimStatus::PaperOut);
        category.invoke_accessible_default_action();
        find(&window, "D3001").await.ok_or("the number is not shown when the ticket did not print")?;
        let again = find(&window, "重新打印 Print again").await.ok_or("no 重新打印")?;
        sim.set_status(SimStatus::Ok);
        again.invoke_accessible_default_action();
        find(&window, "请取走您的号票 Please take your ticket").await.ok_or("not printed again")?;
        find(&window, "D3001").await.ok_or("not the same number")?;
        Ok::<(), &str>(())
    });
    kiosk.shutdown(true).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM entries WHERE kind LIKE 'ticket_%' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds, ["ticket_issued", "ticket_print_failed", "ticket_reprinted"], "{kinds:?}");
    let printed = std::fs::read_to_string(dir.path().join("printed/job-0001.txt")).unwrap();
    assert!(printed.contains("D3001"), "{printed}");
    assert_eq!(printer.jobs_printed(), 1);
}

/// Issue #30 item 5: the paper runs out while the category list is shown: the categories grey at once (the
/// printer's next probe) and say why, instead of taking a tap that issues a number nobody gets; they come
/// back when the paper does.
#[test]
fn a_printer_fault_that_starts_on_the_list_greys_the_categories_and_says_why() {
    use drivers::escpos::virtual_printer::SimStatus;
    let dir = tempfile::tempdir().unwrap();
    // 帮办代办 waits for the printer (it does not show its number on screen).
    let kiosk = quiet_kiosk_with(dir.path(), |c| {
        c.queue.categories.iter_mut().filter(|k| k.prefix == "D").for_each(|k| k.show_when_unprinted = false)
    });
    let window = kiosk.window.clone_strong();
    let sim = kiosk.printer_sim.clone().expect("the demo's virtual printer");
    drive(async move {
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        let category = find(&window, "帮办代办 Accompanied service").await.ok_or("no category D")?;
        if category.accessible_enabled() != Some(true) {
            return Err("the category is not usable before the fault");
        }
        sim.set_status(SimStatus::PaperOut);
        let mut greyed = false;
        for _ in 0..100 {
            if category.accessible_enabled() == Some(false) {
                greyed = true;
                break;
            }
            sleep(100).await;
        }
        if !greyed {
            return Err("the category was still usable ten seconds after the paper ran out");
        }
        let why = category.accessible_description().unwrap_or_default();
        if !why.starts_with("打印机缺纸") {
            return Err("the greyed category does not say why");
        }
        sim.set_status(SimStatus::Ok);
        for _ in 0..100 {
            if category.accessible_enabled() == Some(true) {
                return Ok(());
            }
            sleep(100).await;
        }
        Err("the category did not come back with the paper")
    });
    kiosk.shutdown(true).unwrap();
}

/// The demo kiosk with every category open and the voice off, on Slint's testing backend.
fn quiet_kiosk(dir: &std::path::Path) -> kiosk::app::Kiosk {
    quiet_kiosk_with(dir, |_| {})
}

fn quiet_kiosk_with(dir: &std::path::Path, change: impl FnOnce(&mut Config)) -> kiosk::app::Kiosk {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let mut config = Config::demo(dir);
    config.admin.listen = "127.0.0.1:0".into();
    config.queue.categories.iter_mut().for_each(kiosk::config::CategoryConfig::open_round_the_clock);
    config.voice.mode = kiosk::config::VoiceMode::Off;
    change(&mut config);
    kiosk::app::start(config).unwrap()
}

/// A number on screen when nothing can print (issue #32 item 4): with the ticket printer out of paper,
/// take-a-number still gives a number — on screen, large, with a QR code (number, category, time, ticket,
/// code) and a six-digit verification code, said aloud; journaled as issued and shown, not printed; it waits
/// like any ticket, and the counter that calls it gets the code the citizen's screen shows.
#[test]
fn with_the_printer_out_the_number_is_shown_on_screen_and_a_counter_calls_it() {
    use drivers::escpos::virtual_printer::SimStatus;
    use kiosk::ui::TakeNumberAdapter;
    let dir = tempfile::tempdir().unwrap();
    let kiosk = quiet_kiosk(dir.path());
    let window = kiosk.window.clone_strong();
    let sim = kiosk.printer_sim.clone().expect("the demo's virtual printer");
    let code: Result<String, String> = drive(async move {
        sim.set_status(SimStatus::PaperOut);
        find(&window, "取号 Take a number").await.ok_or("no 取号 tile")?.invoke_accessible_default_action();
        // Once the kiosk knows, the list says the number will be shown on screen.
        if crate::common::find_starting(&window, "打印机缺纸，请联系工作人员。号码将显示在屏幕上，请拍照记下")
            .await
            .is_none()
        {
            return Ok(Err("the list does not say the number will be shown on screen".to_owned()));
        }
        let general = find(&window, "综合业务 General services").await.ok_or("no category A")?;
        if general.accessible_enabled() != Some(true) {
            return Ok(Err("综合业务 is greyed although it shows its number on screen".to_owned()));
        }
        general.invoke_accessible_default_action();
        find(
            &window,
            "号票打印不了，请拍下或记住您的号码 The ticket cannot be printed: please take a photo of your number or note it",
        )
        .await
        .ok_or("no on-screen ticket")?;
        find(&window, "A001").await.ok_or("the number is not on screen")?;
        find(&window, "号票二维码").await.ok_or("no QR code on screen")?;
        let shown = crate::common::find_starting(&window, "验证码 ").await.ok_or("no verification code")?;
        let label = shown.accessible_label().unwrap_or_default().to_string();
        let code: String = label.chars().skip(4).take_while(char::is_ascii_digit).collect();
        if code.len() != 6 {
            return Ok(Err(format!("the verification code is not six digits: {label:?}")));
        }
        // The QR code holds the number, the category, the ticket and the code.
        let qr = window.global::<TakeNumberAdapter>().get_shown_qr().to_rgba8().ok_or("the QR is not an image")?;
        let (w, h) = (qr.width() as usize, qr.height() as usize);
        let pixels = qr.as_slice().to_vec();
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x].r);
        let read: Vec<String> =
            image.detect_grids().iter().filter_map(|g| g.decode().ok()).map(|(_, text)| text).collect();
        if !read.iter().any(|t| t.contains("A001") && t.contains("综合业务") && t.ends_with(&code)) {
            return Ok(Err(format!("the QR code reads {read:?}")));
        }
        // The code is read digit by digit, as a number is.
        let spoken = kiosk::ui::take_number::spoken_number(&code);
        if let Err(e) = crate::common::says(&window, &format!("请拍照或记下，验证码 {spoken}。")).await {
            return Ok(Err(e));
        }
        Ok(Ok(code))
    });
    kiosk.shutdown(true).unwrap();
    let code = code.unwrap();

    let conn = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    let (state, journaled): (String, String) = conn
        .query_row(
            "SELECT t.state, json_extract(e.payload, '$.code') FROM tickets t
               JOIN entries e ON e.kind = 'ticket_shown' AND json_extract(e.payload, '$.ticket_id') = t.id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((state.as_str(), journaled.as_str()), ("shown", code.as_str()), "journaled as shown with its code");
    let printed: i64 =
        conn.query_row("SELECT count(*) FROM entries WHERE kind = 'ticket_printed'", [], |r| r.get(0)).unwrap();
    assert_eq!(printed, 0, "nothing was printed");
    drop(conn);

    // It waits like any ticket: the counter calls it and reads back the code on the citizen's screen.
    // The configuration quiet_kiosk ran with.
    let mut config = Config::demo(dir.path());
    config.queue.categories.iter_mut().for_each(kiosk::config::CategoryConfig::open_round_the_clock);
    let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&config)).unwrap();
    let queue = kiosk::queue::Queue::new(&config, journal.clone()).unwrap();
    let waiting = queue.waiting_counts(jiff::Timestamp::now()).unwrap();
    assert_eq!(waiting.iter().find(|(p, _)| p == "A").map(|(_, n)| *n), Some(1), "it waits");
    let req = kiosk::admin::counter::ApiRequest::CallNext { counter: "3".into(), categories: vec!["A".into()] };
    let r = kiosk::admin::counter::handle(&queue, config.tz(), config.rollover_minutes(), req, jiff::Timestamp::now());
    assert_eq!(r.body["called"]["number"], "A001", "{}", r.body);
    assert_eq!(r.body["called"]["shown_code"].as_str(), Some(code.as_str()), "{}", r.body);
    journal.close();
}
