//! Spoken guidance: the voice's one owner thread, which speaks what the page says (the UI's `Voice.prompt`,
//! worded by the translation catalogue) through speech-dispatcher or espeak-ng, newest first: a new prompt
//! cuts the one still speaking. The texts asked for are kept (the last 64) for the maintenance screen and
//! tests; the engine never blocks the UI thread.

pub mod ssip;

use config::{VoiceEngine, VoiceSection};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many spoken texts are kept.
const KEPT: usize = 64;
/// How long to wait before trying an engine that failed again.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// One text the kiosk asked to be spoken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spoken {
    pub text: String,
    pub english: bool,
    /// Spoken slower, for elder mode.
    pub slow: bool,
}

enum Order {
    Say(Spoken),
    Stop,
}

/// What is actually said for `spoken`, in order: ranges of numbers as a person says them ("1–3 号窗口" →
/// "1到3号窗口", "windows 1–3" → "windows 1 to 3"), and in English the Chinese in it (a name, an item the
/// catalogue has no English for) said by the Chinese voice, never spelled out letter by letter by the English
/// one. Sans-IO: the engines speak the parts in turn.
pub fn utterances(spoken: &Spoken) -> Vec<Spoken> {
    let text = say_ranges(&spoken.text, spoken.english);
    if !spoken.english {
        return vec![Spoken { text, ..spoken.clone() }];
    }
    let mut parts: Vec<Spoken> = Vec::new();
    for c in text.chars() {
        // Spaces and marks between two runs stay with the run they follow.
        let chinese = if is_chinese(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (parts.last_mut(), chinese) {
            (Some(last), None) => last.text.push(c),
            (Some(last), Some(zh)) if last.english != zh => last.text.push(c),
            (_, Some(zh)) => parts.push(Spoken { text: c.to_string(), english: !zh, slow: spoken.slow }),
            (None, None) => parts.push(Spoken { text: c.to_string(), english: true, slow: spoken.slow }),
        }
    }
    parts.retain(|p| p.text.chars().any(char::is_alphanumeric));
    parts.iter_mut().for_each(|p| p.text = p.text.trim().to_owned());
    parts
}

/// Han characters and the marks of Chinese text.
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3134F}')
}

/// "1–3" (an en dash, a tilde or an em dash between digits; not a hyphen, which dates use) as said: "1到3" in Chinese, "1 to 3" in English.
fn say_ranges(text: &str, english: bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, c) in chars.iter().enumerate() {
        let between_digits = i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(|n| {
                n.is_ascii_digit() || (*n == ' ' && chars.get(i + 2).is_some_and(char::is_ascii_digit))
            });
        if between_digits && matches!(c, '–' | '~' | '—' | '～') {
            out.push_str(if english { " to " } else { "到" });
        } else {
            out.push(*c);
        }
    }
    out
}

/// The voice's handle: cheap to clone; `say` never blocks.
#[derive(Clone)]
pub struct Speaker {
    orders: Sender<Order>,
    recent: Arc<Mutex<VecDeque<Spoken>>>,
    owner: Arc<Mutex<Option<owner::Owned>>>,
}

impl Speaker {
    /// Starts the voice's owner thread with the configured engine.
    pub fn start(settings: &VoiceSection) -> Speaker {
        let (orders, rx) = channel();
        let settings = settings.clone();
        let owner = owner::Owned::spawn("voice", move |_| run(rx, &settings));
        let owner = match owner {
            Ok(h) => Some(h),
            Err(e) => {
                log::error!("the voice could not start ({e}); the kiosk stays silent");
                None
            }
        };
        Speaker { orders, recent: Arc::default(), owner: Arc::new(Mutex::new(owner)) }
    }

    /// Speaks `text` now, cutting off what is still being spoken.
    pub fn say(&self, spoken: Spoken) {
        let text = spoken.text.trim();
        if text.is_empty() {
            return;
        }
        let spoken = Spoken { text: text.to_string(), ..spoken };
        if let Ok(mut r) = self.recent.lock() {
            if r.len() == KEPT {
                r.pop_front();
            }
            r.push_back(spoken.clone());
        }
        let _ = self.orders.send(Order::Say(spoken));
    }

    /// The texts asked for, oldest first (the last 64).
    pub fn recent(&self) -> Vec<Spoken> {
        self.recent.lock().map(|r| r.iter().cloned().collect()).unwrap_or_default()
    }

    /// Stops speaking and ends the owner thread (at shutdown).
    pub fn stop(&self) {
        let _ = self.orders.send(Order::Stop);
        if let Some(mut owned) = self.owner.lock().ok().and_then(|mut o| o.take()) {
            owned.stop();
        }
    }
}

/// Why the voice could not say something.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("espeak-ng could not be started ({0}); install the espeak-ng package")]
    NoEspeak(std::io::Error),
    #[error("espeak-ng failed ({0})")]
    Espeak(String),
    #[error("speech-dispatcher is not answering on {} ({why})", socket.display())]
    NotAnswering { socket: std::path::PathBuf, why: std::io::Error },
    #[error("speech-dispatcher {0}")]
    Dispatcher(String),
    #[error("{0}; {1}")]
    Both(Box<VoiceError>, Box<VoiceError>),
}

/// Something that speaks.
trait Engine {
    fn speak(&mut self, spoken: &Spoken) -> Result<(), VoiceError>;
    fn cancel(&mut self);
    /// Speaks the parts of one text in turn (see [`utterances`]).
    fn speak_all(&mut self, parts: &[Spoken]) -> Result<(), VoiceError> {
        parts.iter().try_for_each(|p| self.speak(p))
    }
}

fn run(rx: Receiver<Order>, settings: &VoiceSection) {
    // speech-dispatcher first; where it cannot speak (not installed, no sound server), espeak-ng directly,
    // so the kiosk is not silent when the box can speak.
    let mut engines: Vec<Box<dyn Engine>> = match settings.engine {
        VoiceEngine::SpeechDispatcher => vec![
            Box::new(SpeechDispatcher::new(settings)),
            Box::new(EspeakNg { settings: settings.clone(), child: None }),
        ],
        VoiceEngine::EspeakNg => vec![Box::new(EspeakNg { settings: settings.clone(), child: None })],
        VoiceEngine::None => vec![Box::new(Silent)],
    };
    // When each engine last failed: it is left alone for a minute.
    let mut failed_at: Vec<Option<Instant>> = vec![None; engines.len()];
    while let Ok(order) = rx.recv() {
        // Only the newest prompt matters: the page has moved on past the ones queued behind it.
        let mut newest = order;
        while let Ok(next) = rx.try_recv() {
            if matches!(newest, Order::Stop) {
                break;
            }
            newest = next;
        }
        let Order::Say(spoken) = newest else { break };
        engines.iter_mut().for_each(|e| e.cancel());
        for (engine, failed) in engines.iter_mut().zip(failed_at.iter_mut()) {
            if failed.is_some_and(|t| t.elapsed() < RETRY_AFTER) {
                continue;
            }
            match engine.speak_all(&utterances(&spoken)) {
                Ok(()) => {
                    *failed = None;
                    break;
                }
                Err(e) => {
                    if failed.is_none() {
                        log::warn!("{e}; that engine is left alone for a minute");
                    }
                    *failed = Some(Instant::now());
                }
            }
        }
    }
    engines.iter_mut().for_each(|e| e.cancel());
}

struct Silent;

impl Engine for Silent {
    fn speak(&mut self, _: &Spoken) -> Result<(), VoiceError> {
        Ok(())
    }
    fn cancel(&mut self) {}
}

/// The espeak-ng command that speaks `spoken` (or writes it to `wav`); the text goes on stdin, never as an
/// argument.
pub fn espeak_command(settings: &VoiceSection, spoken: &Spoken, wav: Option<&Path>) -> Command {
    let mut cmd = Command::new("espeak-ng");
    let voice = if spoken.english { &settings.voice_en } else { &settings.voice_zh };
    // espeak-ng's amplitude runs 0–200 with 100 its default, above which it clips: the config's 0–100 is
    // the amplitude itself.
    let amplitude = settings.volume.min(100);
    let speed = if spoken.slow { 135 } else { 165 };
    cmd.args(["-v", voice, "-a", &amplitude.to_string(), "-s", &speed.to_string(), "--stdin"]);
    if let Some(wav) = wav {
        cmd.arg("-w").arg(wav);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

/// Renders `spoken` to a WAV file with espeak-ng, as the kiosk would speak it (`kiosk voice render`, tests).
pub fn render_wav(settings: &VoiceSection, spoken: &Spoken, wav: &Path) -> Result<(), VoiceError> {
    let mut child = espeak_command(settings, spoken, Some(wav)).spawn().map_err(VoiceError::NoEspeak)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(spoken.text.as_bytes())
            .map_err(|e| VoiceError::Espeak(format!("it did not take the text ({e})")))?;
    }
    let out = child.wait_with_output().map_err(|e| VoiceError::Espeak(e.to_string()))?;
    if !out.status.success() {
        return Err(VoiceError::Espeak(format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim())));
    }
    Ok(())
}

/// Renders `spoken` to WAV bytes with espeak-ng within `deadline` (the calling display's announcements): a
/// synthesiser that hangs is killed at the deadline, and the temporary file is removed either way.
pub fn render_wav_bytes(settings: &VoiceSection, spoken: &Spoken, deadline: Duration) -> Result<Vec<u8>, VoiceError> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let wav = std::env::temp_dir().join(format!("kiosk-announcement-{}-{n}.wav", std::process::id()));
    let outcome = (|| {
        let mut child = espeak_command(settings, spoken, Some(&wav)).spawn().map_err(VoiceError::NoEspeak)?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(spoken.text.as_bytes())
                .map_err(|e| VoiceError::Espeak(format!("it did not take the text ({e})")))?;
        }
        let until = Instant::now() + deadline;
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => break,
                Ok(Some(status)) => return Err(VoiceError::Espeak(format!("it ended with {status}"))),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(10)),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(VoiceError::Espeak(format!("it did not finish within {deadline:?}")));
                }
                Err(e) => return Err(VoiceError::Espeak(e.to_string())),
            }
        }
        std::fs::read(&wav).map_err(|e| VoiceError::Espeak(format!("its WAV could not be read ({e})")))
    })();
    let _ = std::fs::remove_file(&wav);
    outcome
}

/// Speaks one text with the configured engine and returns once it has been said (`kiosk voice`): espeak-ng
/// is waited for; speech-dispatcher is given the time the text takes to say.
pub fn say_and_wait(settings: &VoiceSection, spoken: &Spoken) -> Result<(), VoiceError> {
    let espeak = |settings: &VoiceSection| -> Result<(), VoiceError> {
        let mut engine = EspeakNg { settings: settings.clone(), child: None };
        engine.speak_all(&utterances(spoken))?;
        if let Some(mut c) = engine.child.take() {
            c.wait().map_err(|e| VoiceError::Espeak(e.to_string()))?;
        }
        Ok(())
    };
    match settings.engine {
        VoiceEngine::None => Ok(()),
        VoiceEngine::EspeakNg => espeak(settings),
        VoiceEngine::SpeechDispatcher => {
            let mut engine = SpeechDispatcher::new(settings);
            match engine.speak_all(&utterances(spoken)) {
                Ok(()) => {
                    // About four syllables a second; speech-dispatcher drops what a client leaves unsaid.
                    let ms = (spoken.text.chars().count() as u64 * 250).clamp(1_000, 20_000);
                    std::thread::sleep(Duration::from_millis(ms));
                    Ok(())
                }
                // As the kiosk does: espeak-ng directly where speech-dispatcher cannot speak.
                Err(e) => espeak(settings).map_err(|e2| VoiceError::Both(Box::new(e), Box::new(e2))),
            }
        }
    }
}

struct EspeakNg {
    settings: VoiceSection,
    child: Option<Child>,
}

impl Engine for EspeakNg {
    /// Mixed parts in one espeak-ng process (a new text can cut it), each in its voice through SSML.
    fn speak_all(&mut self, parts: &[Spoken]) -> Result<(), VoiceError> {
        match parts {
            [] => Ok(()),
            [one] => self.speak(one),
            _ => {
                let escape = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
                let ssml: String = parts
                    .iter()
                    .map(|p| {
                        let voice = if p.english { &self.settings.voice_en } else { &self.settings.voice_zh };
                        format!("<voice name=\"{}\">{}</voice>", escape(voice), escape(&p.text))
                    })
                    .collect();
                let text = format!("<speak>{ssml}</speak>");
                let mut child = espeak_command(&self.settings, &parts[0], None)
                    .arg("-m")
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(VoiceError::NoEspeak)?;
                if let Some(mut stdin) = child.stdin.take() {
                    let _ = stdin.write_all(text.as_bytes());
                }
                self.child = Some(child);
                Ok(())
            }
        }
    }

    fn speak(&mut self, spoken: &Spoken) -> Result<(), VoiceError> {
        let mut child =
            espeak_command(&self.settings, spoken, None).stderr(Stdio::null()).spawn().map_err(VoiceError::NoEspeak)?;
        if let Some(mut stdin) = child.stdin.take() {
            // Dropping stdin after the text ends espeak-ng's input.
            let _ = stdin.write_all(spoken.text.as_bytes());
        }
        self.child = Some(child);
        Ok(())
    }

    fn cancel(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// speech-dispatcher over its socket; started with `speech-dispatcher --spawn` when nothing listens yet.
struct SpeechDispatcher {
    socket: PathBuf,
    settings: VoiceSection,
    link: Option<UnixStream>,
    /// The settings the open connection has.
    sent: Option<ssip::Settings>,
    spawned: bool,
}

impl SpeechDispatcher {
    fn new(settings: &VoiceSection) -> SpeechDispatcher {
        let socket = settings.socket.clone().unwrap_or_else(|| {
            let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from).unwrap_or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")).unwrap_or_else(|| "/tmp".into())
            });
            runtime.join("speech-dispatcher/speechd.sock")
        });
        SpeechDispatcher { socket, settings: settings.clone(), link: None, sent: None, spawned: false }
    }

    fn connect(&mut self) -> Result<&mut UnixStream, VoiceError> {
        if self.link.is_none() {
            let stream = match UnixStream::connect(&self.socket) {
                Ok(s) => s,
                Err(_) if !self.spawned && self.settings.socket.is_none() => {
                    // As libspeechd does: start the user's daemon, then try again.
                    self.spawned = true;
                    let _ = Command::new("speech-dispatcher")
                        .arg("--spawn")
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                    UnixStream::connect(&self.socket)
                        .map_err(|e| VoiceError::NotAnswering { socket: self.socket.clone(), why: e })?
                }
                Err(e) => return Err(VoiceError::NotAnswering { socket: self.socket.clone(), why: e }),
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(3)))
                .map_err(|e| VoiceError::NotAnswering { socket: self.socket.clone(), why: e })?;
            stream
                .set_write_timeout(Some(Duration::from_secs(3)))
                .map_err(|e| VoiceError::NotAnswering { socket: self.socket.clone(), why: e })?;
            self.link = Some(stream);
            self.sent = None;
            self.exchange(&ssip::command("SET SELF CLIENT_NAME kiosk:kiosk:guidance"))?;
        }
        self.link.as_mut().ok_or_else(|| VoiceError::Dispatcher("has no connection".into()))
    }

    /// Sends one command and reads its reply; a refusal or a broken link drops the connection.
    fn exchange(&mut self, bytes: &[u8]) -> Result<ssip::Reply, VoiceError> {
        let result = (|| {
            let link = self.link.as_mut().ok_or_else(|| VoiceError::Dispatcher("has no connection".into()))?;
            link.write_all(bytes).map_err(|e| VoiceError::Dispatcher(format!("its socket refused a write ({e})")))?;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 512];
            loop {
                if let Some((reply, _)) = ssip::parse_reply(&buf).map_err(|e| VoiceError::Dispatcher(e.to_string()))? {
                    return Ok(reply);
                }
                let n = link.read(&mut chunk).map_err(|e| VoiceError::Dispatcher(format!("did not answer ({e})")))?;
                if n == 0 {
                    return Err(VoiceError::Dispatcher("closed the connection".into()));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        })();
        if result.is_err() {
            self.link = None;
        }
        result
    }
}

impl Engine for SpeechDispatcher {
    fn speak(&mut self, spoken: &Spoken) -> Result<(), VoiceError> {
        self.connect()?;
        let wanted = ssip::Settings {
            language: if spoken.english { "en" } else { "zh" },
            voice: if spoken.english { self.settings.voice_en.clone() } else { self.settings.voice_zh.clone() },
            volume: self.settings.volume.min(100) as i32 * 2 - 100,
            rate: if spoken.slow { -25 } else { 0 },
        };
        if self.sent.as_ref() != Some(&wanted) {
            for c in wanted.commands() {
                let reply = self.exchange(&c)?;
                if !reply.ok() {
                    // An unknown voice is the county's choice to fix; the language alone still speaks.
                    log::warn!(
                        "speech-dispatcher refused {:?}: {} {}",
                        String::from_utf8_lossy(&c).trim(),
                        reply.code,
                        reply.text
                    );
                }
            }
            self.sent = Some(wanted);
        }
        let reply = self.exchange(&ssip::command("SPEAK"))?;
        if reply.code != 230 {
            return Err(VoiceError::Dispatcher(format!("would not take a text: {} {}", reply.code, reply.text)));
        }
        let reply = self.exchange(&ssip::text_block(&spoken.text))?;
        if !reply.ok() {
            return Err(VoiceError::Dispatcher(format!("did not queue the text: {} {}", reply.code, reply.text)));
        }
        Ok(())
    }

    fn cancel(&mut self) {
        if self.link.is_some() {
            let _ = self.exchange(&ssip::command("CANCEL SELF"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zh(t: &str) -> Spoken {
        Spoken { text: t.into(), english: false, slow: false }
    }

    fn en(t: &str) -> Spoken {
        Spoken { text: t.into(), english: true, slow: false }
    }

    /// Issue #30 item 3: "1–3 号窗口" was read "一 三 号窗口" (window 13?).
    #[test]
    fn ranges_are_said_as_a_person_says_them_and_dates_are_left_alone() {
        assert_eq!(utterances(&zh("请到1–3 号窗口等候")), [zh("请到1到3 号窗口等候")]);
        assert_eq!(utterances(&zh("09:00～17:00 办理")), [zh("09:00到17:00 办理")]);
        assert_eq!(utterances(&zh("2026-11-20 受理")), [zh("2026-11-20 受理")], "a date's hyphens stay");
        assert_eq!(utterances(&en("Please wait at windows 1–3")), [en("Please wait at windows 1 to 3")]);
    }

    /// Issue #30 item 3: the English voice read Chinese names as "Chinese letter" many times over.
    #[test]
    fn english_speech_leaves_chinese_to_the_chinese_voice() {
        assert_eq!(
            utterances(&en("Your ticket for 不动产登记: please wait at 二楼 windows 1–3.")),
            [en("Your ticket for"), zh("不动产登记:"), en("please wait at"), zh("二楼"), en("windows 1 to 3.")]
        );
        assert_eq!(utterances(&en("Please take a number")), [en("Please take a number")]);
        assert_eq!(utterances(&zh("您的号码是 A 0 2 3 号")), [zh("您的号码是 A 0 2 3 号")], "Chinese stays whole");
        assert_eq!(utterances(&en("  ")), Vec::<Spoken>::new());
    }
}
