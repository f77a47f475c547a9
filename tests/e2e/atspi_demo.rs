//! `kiosk demo` in a real window under Xvfb, driven through the Linux accessibility tree (AT-SPI) the way a
//! screen reader or test robot would: take a number (the virtual printer receives the ticket); and, in elder
//! mode and portrait, print a licence and take a number with the voice going to speech-dispatcher's
//! protocol on a real socket; find 不动产登记 by "bdc", print its guide and take a number for it; and check in
//! an appointment with the card, and request 政务专递 for a finished case, against the demo's platform stand-in.

use crate::support::{FakeSpeechd, KillOnDrop, Xvfb, kiosk, run, wait_for, workspace_root};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A private X server, session bus and accessibility bus, with accessibility switched on.
struct Desktop {
    x: Xvfb,
    dir: tempfile::TempDir,
    address: String,
    runtime: std::path::PathBuf,
    _dbus: KillOnDrop,
    _launcher: KillOnDrop,
    _serial: std::sync::MutexGuard<'static, ()>,
}

/// One desktop at a time: five X servers, accessibility buses and kiosks at once on two cores made the robot
/// miss a card placement now and then.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Desktop {
    fn start(width: u32, height: u32) -> Desktop {
        let serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let x = Xvfb::start(width, height);
        let dir = tempfile::tempdir().unwrap();
        let runtime = dir.path().join("xdg");
        std::fs::create_dir(&runtime).unwrap();
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        // A private session bus for the accessibility bus launcher, the kiosk and the robot.
        let bus = dir.path().join("session.sock");
        let address = format!("unix:path={}", bus.display());
        let dbus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", &format!("--address={address}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (scripts/test installs dbus)");
        let dbus = KillOnDrop(dbus);
        wait_for(Duration::from_secs(10), || bus.exists().then_some(())).expect("the session bus");
        let mut desktop = Desktop {
            x,
            dir,
            address,
            runtime,
            _dbus: dbus,
            _launcher: KillOnDrop(Command::new("true").spawn().unwrap()),
            _serial: serial,
        };
        let mut launcher = Command::new("/usr/libexec/at-spi-bus-launcher");
        launcher.arg("--launch-immediately").stdout(Stdio::null()).stderr(Stdio::null());
        desktop.env(&mut launcher);
        desktop._launcher =
            KillOnDrop(launcher.spawn().expect("at-spi-bus-launcher (scripts/test installs at-spi2-core)"));
        // Applications expose their tree only when assistive technology is on.
        let enabled = wait_for(Duration::from_secs(10), || {
            let mut c = Command::new("dbus-send");
            c.args([
                "--session",
                "--print-reply",
                "--dest=org.a11y.Bus",
                "/org/a11y/bus",
                "org.freedesktop.DBus.Properties.Set",
                "string:org.a11y.Status",
                "string:IsEnabled",
                "variant:boolean:true",
            ]);
            desktop.env(&mut c);
            c.output().ok().filter(|o| o.status.success()).map(|_| ())
        });
        assert!(enabled.is_some(), "could not switch accessibility on over the session bus");
        desktop
    }

    fn env(&self, c: &mut Command) {
        c.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("DISPLAY", &self.x.display);
    }

    /// Starts `kiosk demo` with `args` on this desktop, its log kept for a failed step's report.
    fn kiosk(&self, args: &[&std::ffi::OsStr]) -> KillOnDrop {
        let log = std::fs::File::create(self.dir.path().join("kiosk.log")).unwrap();
        let mut demo = kiosk();
        demo.arg("demo").args(args).env("RUST_LOG", "info").stdout(Stdio::null()).stderr(log);
        self.env(&mut demo);
        KillOnDrop(demo.spawn().unwrap())
    }

    /// Runs the robot through `steps` (click:LABEL, wait:LABEL, click:LABEL=>EXPECT), each once; fails the
    /// test with what the robot and the kiosk said if one fails.
    fn robot(&self, steps: &[&str]) {
        let mut robot = Command::new("/usr/bin/python3");
        robot.arg(workspace_root().join("tests/atspi/drive.py")).args(steps);
        self.env(&mut robot);
        let (code, out, err) = run(&mut robot);
        if code != Some(0) {
            let log = std::fs::read_to_string(self.dir.path().join("kiosk.log")).unwrap_or_default();
            panic!("the AT-SPI robot failed:\n{out}{err}\nthe kiosk said:\n{log}");
        }
    }
}

#[test]
fn take_a_number_through_at_spi() {
    let desktop = Desktop::start(1920, 1080);
    let state = desktop.dir.path().join("demo");
    let _kiosk = desktop.kiosk(&["--state-dir".as_ref(), state.as_os_str()]);

    desktop.robot(&[
        "click:取号 Take a number=>帮办代办 Accompanied service",
        "click:帮办代办 Accompanied service=>请取走您的号票 Please take your ticket",
        "wait:D3001",
    ]);

    let transcript =
        wait_for(Duration::from_secs(10), || std::fs::read_to_string(state.join("printed/job-0001.txt")).ok())
            .expect("the virtual printer received no ticket");
    assert!(transcript.contains("D3001") && transcript.contains("帮办代办"), "{transcript}");
    let conn = rusqlite::Connection::open(state.join("journal.sqlite3")).unwrap();
    let number: String = conn
        .query_row("SELECT json_extract(payload, '$.number') FROM entries WHERE kind = 'ticket_printed'", [], |r| {
            r.get(0)
        })
        .or_else(|_| {
            conn.query_row(
                "SELECT json_extract(payload, '$.number') FROM entries WHERE kind = 'ticket_issued'",
                [],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert_eq!(number, "D3001");
}

#[test]
fn elder_mode_in_portrait_prints_a_licence_and_takes_a_number_with_voice() {
    // A licence: the card on the reader (the demo's simulator panel).
    let to_the_card = [
        "click:证照打印 Print a licence=>请将身份证放在读卡器上 Please place your ID card on the reader",
        "click:模拟器 Simulator=>放卡 Place: 李** 居民身份证",
        "click:放卡 Place: 李** 居民身份证=>李*梅，您好 Hello, 李*梅",
    ];
    // Once a flaky card placement was retried here on a fresh desktop; the cause was the reader (a reply
    // that waited for a held-up thread was called a timeout, and the desynchronised SAM never recovered:
    // drivers' idcard_pty tests). Each step is clicked once.
    let desktop = Desktop::start(1080, 1920);
    let speechd = FakeSpeechd::start(desktop.dir.path());
    let state = desktop.dir.path().join("demo");
    let _kiosk = desktop.kiosk(&[
        // Every category open: the list the voice reads is the same at any hour.
        "--all-hours".as_ref(),
        "--portrait".as_ref(),
        "--elder".as_ref(),
        "--voice-socket".as_ref(),
        speechd.path.as_os_str(),
        "--state-dir".as_ref(),
        state.as_os_str(),
    ]);
    desktop.robot(&to_the_card);
    desktop.robot(&[
        // The business licence, one copy.
        "click:营业执照（副本） Business licence (copy) · 临沭县小梅示例柳编工艺品有限公司 9137**********O01X=>开始打印 Print",
        // Printing is clicked once: a second click while a slow job runs would print twice.
        "click:开始打印 Print",
        "wait:此证照还可打印 4 份 4 more copies allowed",
        "click:非常满意 Very satisfied=>感谢您的评价 Thank you for your rating",
        "click:取卡 Remove card",
        // Then a number, from home.
        "click:取号 Take a number=>帮办代办 Accompanied service",
        "click:帮办代办 Accompanied service=>请取走您的号票 Please take your ticket",
        "click:再听一遍 Repeat",
    ]);
    let texts = wait_for(Duration::from_secs(10), || {
        let t = speechd.texts();
        (t.iter().filter(|s| s.starts_with("您的号码是 D 3 0 0 1 号")).count() >= 2).then_some(t)
    })
    .unwrap_or_else(|| panic!("the number was not said twice (once, then 再听一遍): {:#?}", speechd.texts()));
    let mut rest = texts.iter();
    for want in [
        "请将身份证放在读卡器上。读卡器在屏幕右侧，放好后请勿移动",
        "请选择要打印的证照。1，营业执照（副本）；2，就业登记证明。",
        "请选择份数，然后点开始打印。",
        // Issue #30 item 8: the levels are read out, in order.
        "打印完成。请从打印机取走证照，并取回您的身份证。请评价本次服务：五，非常满意；四，满意；三，基本满意；二，不满意；一，非常不满意。",
        "感谢您的评价。",
        "请选择要办理的业务。1，综合业务；2，不动产登记；3，社保医保；4，帮办代办。",
        "您的号码是 D 3 0 0 1 号，前面还有 0 人。请取走号票，到帮办代办服务台等候叫号。",
    ] {
        assert!(rest.any(|s| s == want), "\"{want}\" was not said in order: {texts:#?}");
    }
    let lines = speechd.lines();
    assert!(lines.iter().any(|l| l == "SET SELF LANGUAGE zh"), "{lines:#?}");
    assert!(lines.iter().any(|l| l == "SET SELF RATE -25"), "elder mode speaks slowly: {lines:#?}");
    assert!(lines.iter().any(|l| l == "CANCEL SELF"), "a new screen cuts the old prompt: {lines:#?}");
    let pdfs = std::fs::read_dir(state.join("licence-prints")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(pdfs, 1, "one licence printed");
    assert!(
        wait_for(Duration::from_secs(10), || std::fs::read_to_string(state.join("printed/job-0001.txt")).ok())
            .is_some_and(|t| t.contains("D3001")),
        "the ticket was printed"
    );
}

#[test]
fn find_real_estate_registration_by_bdc_print_its_guide_and_take_a_number_through_at_spi() {
    let desktop = Desktop::start(1920, 1080);
    let state = desktop.dir.path().join("demo");
    // 不动产登记's counters keep office hours in the demo; the robot runs at any hour.
    let _kiosk = desktop.kiosk(&["--all-hours".as_ref(), "--state-dir".as_ref(), state.as_os_str()]);

    desktop.robot(&[
        "click:事项查询 Find a service=>事项目录更新于 2026-11-20（样例目录） Catalogue of 2026-11-20 (a sample)",
        // Each key until the field shows it: an accessibility action sent while the tree is being updated
        // for the previous key's results can be dropped by the toolkit (seen once in a full run), and a
        // key pressed twice would be a wrong query, so the robot checks each before the next.
        "click:B=>已输入 B",
        "click:D=>已输入 BD",
        "click:C=>已输入 BDC",
        "click:不动产登记 县自然资源和规划局=>居民身份证 · 原件 × 1",
        "click:打印办事指南 Print the guide",
        "wait:办事指南已打印，请在出纸口取走 The guide is printed; please take it from the slot",
        "click:取号办理 Take a number for it=>请将身份证放在读卡器上 Please place your ID card on the reader",
        "click:模拟器 Simulator=>放卡 Place: 李** 居民身份证",
        "click:放卡 Place: 李** 居民身份证=>B1001",
        "wait:请取走您的号票 Please take your ticket",
    ]);

    let guide = wait_for(Duration::from_secs(10), || std::fs::read_to_string(state.join("printed/job-0001.txt")).ok())
        .expect("the virtual printer received no guide");
    for want in ["办事指南", "不动产登记", "□ 居民身份证（原件）× 1", "法定时限 30 个工作日；承诺时限 5 个工作日"]
    {
        assert!(guide.contains(want), "{want} missing from the guide: {guide}");
    }
    let ticket = wait_for(Duration::from_secs(10), || std::fs::read_to_string(state.join("printed/job-0002.txt")).ok())
        .expect("the virtual printer received no ticket");
    assert!(ticket.contains("B1001") && ticket.contains("不动产登记"), "{ticket}");
    let conn = rusqlite::Connection::open(state.join("journal.sqlite3")).unwrap();
    let kinds: Vec<String> = conn
        .prepare(
            "SELECT kind || ' ' || payload FROM entries WHERE kind IN ('catalogue_search', 'catalogue_item_viewed', \
             'guide_printed', 'ticket_issued') ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds.len(), 4, "{kinds:#?}");
    assert!(
        kinds[0].starts_with("catalogue_search") && kinds[0].contains("\"opened\":\"371329-ZR-001\""),
        "{kinds:#?}"
    );
    assert!(kinds[1].starts_with("catalogue_item_viewed"), "{kinds:#?}");
    assert!(kinds[2].starts_with("guide_printed") && kinds[2].contains("\"ok\":true"), "{kinds:#?}");
    assert!(kinds[3].starts_with("ticket_issued") && kinds[3].contains("B1001"), "{kinds:#?}");
}

#[test]
fn check_in_an_appointment_with_the_card_through_at_spi() {
    let desktop = Desktop::start(1920, 1080);
    let state = desktop.dir.path().join("demo");
    // The demo's platform stand-in has an appointment for 李小梅 ten minutes from its start.
    let _kiosk = desktop.kiosk(&["--all-hours".as_ref(), "--state-dir".as_ref(), state.as_os_str()]);

    desktop.robot(&[
        "click:预约签到 Appointment check-in=>或输入预约码 Or type your appointment code",
        "click:模拟器 Simulator=>放卡 Place: 李** 居民身份证",
        "click:放卡 Place: 李** 居民身份证=>您今天的预约 Your appointments today",
        "click:签到 Check in=>签到成功，请取走您的号票 You are checked in; please take your ticket",
    ]);

    let ticket = wait_for(Duration::from_secs(10), || std::fs::read_to_string(state.join("printed/job-0001.txt")).ok())
        .expect("the virtual printer received no ticket");
    assert!(ticket.contains("A001"), "{ticket}");
    let conn = rusqlite::Connection::open(state.join("journal.sqlite3")).unwrap();
    let checked: String =
        conn.query_row("SELECT payload FROM entries WHERE kind = 'appointment_checked_in'", [], |r| r.get(0)).unwrap();
    assert!(checked.contains("\"code\":\"26112701\"") && checked.contains("\"offline\":false"), "{checked}");
    let priority: bool = conn
        .query_row("SELECT json_extract(payload, '$.priority') FROM entries WHERE kind = 'ticket_issued'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(priority, "a priority ticket");
    drop(conn);
    drop(_kiosk);
    // The holder's ID number crossed to the platform over TLS only: nowhere in the journal, its WAL (with
    // the outbox), or the kiosk's log.
    let id = b"371329198812122020";
    for (f, must) in [("demo/journal.sqlite3", true), ("demo/journal.sqlite3-wal", false), ("kiosk.log", true)] {
        let bytes = std::fs::read(desktop.dir.path().join(f)).unwrap_or_default();
        assert!(!must || !bytes.is_empty(), "{f} is missing");
        assert!(!bytes.windows(id.len()).any(|w| w == id), "the ID number is in {f}");
    }
}

#[test]
fn request_posting_home_for_a_finished_case_through_at_spi() {
    let desktop = Desktop::start(1920, 1080);
    let state = desktop.dir.path().join("demo");
    let _kiosk = desktop.kiosk(&["--state-dir".as_ref(), state.as_os_str()]);

    desktop.robot(&[
        // Each click once, through its accessibility action; the next page must show.
        "click:办件查询 Case progress=>或输入办件编号 Or type the case number",
        "click:模拟器 Simulator=>放卡 Place: 李** 居民身份证",
        "click:放卡 Place: 李** 居民身份证=>不动产登记  2026****0123  已办结",
        "click:不动产登记  2026****0123  已办结=>邮寄到家 Post it home",
        "click:邮寄到家 Post it home=>临沭县青云镇青云路**号 李**",
        "click:临沭县青云镇青云路**号 李**=>确认邮寄 Confirm",
        "click:确认邮寄 Confirm=>已申请邮寄到 临沭县青云镇青云路**号 李**，申请编号 D0001 To be posted to 临沭县青云镇青云路**号 李**; request D0001",
        "wait:已申请邮寄到 临沭县青云镇青云路**号 李**，申请编号 D0001 To be posted to 临沭县青云镇青云路**号 李**; request D0001",
    ]);

    let slip = wait_for(Duration::from_secs(10), || std::fs::read_to_string(state.join("printed/job-0001.txt")).ok())
        .expect("the virtual printer received no slip");
    assert!(slip.contains("政务专递") && slip.contains("临沭县青云镇青云路**号"), "{slip}");
    let conn = rusqlite::Connection::open(state.join("journal.sqlite3")).unwrap();
    let requested: String =
        conn.query_row("SELECT payload FROM entries WHERE kind = 'delivery_requested'", [], |r| r.get(0)).unwrap();
    assert!(
        requested.contains("\"case_number\":\"202611200123\"") && requested.contains("\"address_id\":\"addr-1\""),
        "{requested}"
    );
}
