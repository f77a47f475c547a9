//! The voice with real parts: espeak-ng renders a prompt to a WAV that sox finds non-silent and of a
//! plausible length; speech-dispatcher's protocol on a real socket carries the text, the language, the
//! voice, the volume and elder mode's slower rate; bad input is refused with where and why.

use crate::support::{FakeSpeechd, config_in, kiosk, run};

/// (length in seconds, RMS amplitude) from `sox FILE -n stat`.
fn sox_stat(wav: &std::path::Path) -> (f64, f64) {
    let out = std::process::Command::new("sox")
        .arg(wav)
        .args(["-n", "stat"])
        .output()
        .expect("sox (scripts/test installs it)");
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in sox's report:\n{text}"))
    };
    (field("Length (seconds)"), field("RMS     amplitude"))
}

#[test]
fn a_prompt_renders_to_speech_of_plausible_length() {
    let dir = tempfile::tempdir().unwrap();
    for (text, english, min, max) in [
        ("您的号码是 A 0 2 3 号，前面还有 5 人。请取走号票，留意叫号。", false, 3.0, 20.0),
        ("Your number is A 0 2 3. 5 waiting ahead of you.", true, 2.0, 15.0),
    ] {
        let wav = dir.path().join("prompt.wav");
        let mut cmd = kiosk();
        cmd.args(["voice", "--wav"]).arg(&wav);
        if english {
            cmd.arg("--english");
        }
        let (code, out, err) = run(cmd.arg(text));
        assert_eq!(code, Some(0), "{out}{err}");
        let (seconds, rms) = sox_stat(&wav);
        assert!((min..max).contains(&seconds), "\"{text}\" took {seconds} s");
        assert!(rms > 0.02, "\"{text}\" is near silence: RMS {rms}");
        // Elder mode speaks the same text more slowly.
        let slow = dir.path().join("slow.wav");
        let mut cmd = kiosk();
        cmd.args(["voice", "--slow", "--wav"]).arg(&slow);
        if english {
            cmd.arg("--english");
        }
        assert_eq!(run(cmd.arg(text)).0, Some(0));
        let (slow_seconds, _) = sox_stat(&slow);
        assert!(slow_seconds > seconds * 1.1, "slow {slow_seconds} s vs {seconds} s");
    }
}

#[test]
fn speech_dispatcher_gets_the_text_language_voice_volume_and_rate() {
    let dir = tempfile::tempdir().unwrap();
    let speechd = FakeSpeechd::start(dir.path());
    let config = config_in(dir.path());
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "# socket = \"/run/user/1000/speech-dispatcher/speechd.sock\"",
        &format!("socket = \"{}\"", speechd.path.display()),
    );
    std::fs::write(&config, text).unwrap();
    let (code, out, err) = run(kiosk().args(["voice", "--config"]).arg(&config).arg(".请取号"));
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) =
        run(kiosk().args(["voice", "--english", "--slow", "--config"]).arg(&config).arg("Please take a number"));
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(speechd.texts(), [".请取号", "Please take a number"], "a leading dot is escaped on the wire and back");
    // Issue #30 item 3: English speech leaves the Chinese in it to the Chinese voice, and a range of windows is
    // said as a range ("1 to 3", not "1 3").
    let (code, out, err) = run(kiosk()
        .args(["voice", "--english", "--config"])
        .arg(&config)
        .arg("Your ticket for 不动产登记: windows 1–3"));
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(speechd.texts()[2..], ["Your ticket for", "不动产登记:", "windows 1 to 3"]);
    let lines = speechd.lines();
    // The third connection: English, then Chinese, then English again, each part its own SPEAK.
    let third = lines.iter().enumerate().filter(|(_, l)| l.starts_with("SET SELF CLIENT_NAME")).nth(2).unwrap().0;
    let mut rest = lines[third..].iter();
    for want in ["SET SELF LANGUAGE en", "SPEAK", "SET SELF LANGUAGE zh", "SPEAK", "SET SELF LANGUAGE en", "SPEAK"] {
        assert!(rest.any(|l| l == want), "{want} was not sent in order: {lines:#?}");
    }
    for want in [
        "SET SELF CLIENT_NAME kiosk:kiosk:guidance",
        "SET SELF LANGUAGE zh",
        "SET SELF SYNTHESIS_VOICE cmn-latn-pinyin",
        "SET SELF VOLUME 60",
        "SET SELF RATE 0",
        "SET SELF LANGUAGE en",
        "SET SELF SYNTHESIS_VOICE en",
        "SET SELF RATE -25",
        "SPEAK",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want} was not sent: {lines:#?}");
    }
}

#[test]
fn bad_voice_input_is_refused_with_where_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(kiosk().args(["voice", "  "]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("Nothing to say"), "{err}");
    let config = config_in(dir.path());
    for (from, to, field) in [
        ("volume = 80", "volume = 150", "voice.volume"),
        ("voice_zh = \"cmn-latn-pinyin\"", "voice_zh = \"cmn; rm -rf /\"", "voice.voice_zh"),
        ("mode = \"elder\"", "mode = \"loud\"", "voice.mode"),
        ("assistance_minutes = 3", "assistance_minutes = 0", "ui.assistance_minutes"),
        ("# logo = \"/etc/kiosk/logo.svg\"", "logo = \"/nonexistent/logo.svg\"", "ui.logo"),
    ] {
        let text = std::fs::read_to_string(dir.path().join("kiosk.toml")).unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, text.replace(from, to)).unwrap();
        let (code, _, err) = run(kiosk().args(["config", "check"]).arg(&bad));
        assert_eq!(code, Some(2), "{to}: {err}");
        assert!(err.contains(field) && err.contains("bad.toml:"), "{to}: {err}");
    }
    let _ = config;
}
