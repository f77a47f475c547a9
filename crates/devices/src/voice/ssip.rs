//! The Speech Synthesis Interface Protocol (speech-dispatcher's socket protocol), sans-IO: the bytes of each
//! command the kiosk sends and the reading of the daemon's replies. Spoken over the daemon's Unix socket, it
//! needs no C library, so the aarch64 build links nothing more.

/// One SSIP command as sent (CRLF-terminated lines).
pub fn command(line: &str) -> Vec<u8> {
    format!("{line}\r\n").into_bytes()
}

/// The settings every utterance is spoken with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// An ISO language code speech-dispatcher knows ("zh", "en").
    pub language: &'static str,
    /// The synthesiser's voice name.
    pub voice: String,
    /// -100 … 100.
    pub volume: i32,
    /// -100 … 100 (slower for elder mode).
    pub rate: i32,
}

impl Settings {
    /// The commands that set these settings for this connection, in order.
    pub fn commands(&self) -> Vec<Vec<u8>> {
        vec![
            command(&format!("SET SELF LANGUAGE {}", self.language)),
            command(&format!("SET SELF SYNTHESIS_VOICE {}", self.voice)),
            command(&format!("SET SELF VOLUME {}", self.volume.clamp(-100, 100))),
            command(&format!("SET SELF RATE {}", self.rate.clamp(-100, 100))),
        ]
    }
}

/// The text block that follows `SPEAK`: one line (line breaks become spaces), a line starting with a dot
/// escaped by doubling it, ended by a line holding a single dot.
pub fn text_block(text: &str) -> Vec<u8> {
    let line: String = text.chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
    let line = line.trim();
    let escaped = if line.starts_with('.') { format!(".{line}") } else { line.to_string() };
    format!("{escaped}\r\n.\r\n").into_bytes()
}

/// A complete reply: its code and its last line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    /// 2xx: the command was taken.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

/// Reads one reply from the front of `buf`: lines "NNN-…" go on, "NNN …" ends it. Returns the reply and how
/// many bytes it took, `None` while it is incomplete, an error for bytes that are not SSIP.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let mut at = 0;
    while let Some(end) = buf[at..].windows(2).position(|w| w == b"\r\n") {
        let line = &buf[at..at + end];
        at += end + 2;
        let text = String::from_utf8_lossy(line);
        let code = text.get(..3).and_then(|c| c.parse::<u16>().ok());
        let (Some(code), Some(sep)) = (code, line.get(3)) else {
            return Err(format!("speech-dispatcher sent a line that is not an SSIP reply: {text:?}"));
        };
        match sep {
            b'-' => continue,
            b' ' => return Ok(Some((Reply { code, text: text[4..].to_string() }, at))),
            _ => return Err(format!("speech-dispatcher sent a line that is not an SSIP reply: {text:?}")),
        }
    }
    if buf.len() > 64 * 1024 {
        return Err("speech-dispatcher's reply is longer than 64 KiB".into());
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_one_line_with_a_leading_dot_escaped() {
        assert_eq!(
            text_block("请取号\n谢谢"),
            b"\xe8\xaf\xb7\xe5\x8f\x96\xe5\x8f\xb7 \xe8\xb0\xa2\xe8\xb0\xa2\r\n.\r\n".to_vec()
        );
        assert_eq!(text_block(".\r\n."), b"..  .\r\n.\r\n".to_vec());
        assert_eq!(text_block("."), b"..\r\n.\r\n".to_vec());
    }

    #[test]
    fn replies_multi_line_incomplete_and_garbage() {
        let (r, n) = parse_reply(b"225-21\r\n225 OK MESSAGE QUEUED\r\nrest").unwrap().unwrap();
        assert_eq!((r.code, r.text.as_str(), n), (225, "OK MESSAGE QUEUED", 31));
        assert!(r.ok());
        assert_eq!(parse_reply(b"230 OK RECEIV").unwrap(), None);
        assert!(parse_reply(b"HTTP/1.1 400\r\n").is_err());
        assert!(parse_reply(b"20\r\n").is_err());
        assert!(!parse_reply(b"409 ERR RATE TOO HIGH\r\n").unwrap().unwrap().0.ok());
    }

    #[test]
    fn settings_are_clamped() {
        let s = Settings { language: "zh", voice: "cmn-latn-pinyin".into(), volume: 300, rate: -20 };
        let sent: Vec<String> = s.commands().into_iter().map(|c| String::from_utf8(c).unwrap()).collect();
        assert_eq!(
            sent,
            [
                "SET SELF LANGUAGE zh\r\n",
                "SET SELF SYNTHESIS_VOICE cmn-latn-pinyin\r\n",
                "SET SELF VOLUME 100\r\n",
                "SET SELF RATE -20\r\n"
            ]
        );
    }
}
