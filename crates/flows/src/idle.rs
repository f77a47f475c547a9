//! The idle rules every citizen flow shares: activity keeps a session, inactivity opens the 10-second
//! "continue?" countdown, and a screen knows how long it has been showing.

/// Milliseconds the "continue?" countdown runs before the session ends.
pub const IDLE_COUNTDOWN_MS: u64 = 10_000;

#[derive(Debug, Clone)]
pub struct IdleClock {
    idle_timeout_ms: u64,
    last_activity_ms: u64,
    /// When the countdown ends, while it runs.
    pub countdown_until_ms: Option<u64>,
    entered_ms: u64,
}

impl IdleClock {
    pub fn new(idle_timeout_ms: u64) -> IdleClock {
        IdleClock { idle_timeout_ms, last_activity_ms: 0, countdown_until_ms: None, entered_ms: 0 }
    }

    /// Elder mode doubles the time before the prompt; switched from the home screen.
    pub fn set_idle_timeout(&mut self, idle_timeout_ms: u64) {
        self.idle_timeout_ms = idle_timeout_ms;
    }

    /// Seconds left on the countdown, for the screen.
    pub fn countdown_s(&self, now_ms: u64) -> Option<u64> {
        self.countdown_until_ms.map(|until| until.saturating_sub(now_ms).div_ceil(1000))
    }

    /// Seconds until the session goes home by itself if nobody touches the screen (the Home button shows
    /// them): the idle time left plus the countdown, or what is left of a running countdown.
    pub fn home_in_s(&self, now_ms: u64) -> u64 {
        match self.countdown_until_ms {
            Some(until) => until.saturating_sub(now_ms).div_ceil(1000),
            None => {
                let idle_left = (self.last_activity_ms + self.idle_timeout_ms).saturating_sub(now_ms);
                (idle_left + IDLE_COUNTDOWN_MS).div_ceil(1000)
            }
        }
    }

    /// A new screen: it counts as activity and stops any countdown.
    pub fn entered(&mut self, now_ms: u64) {
        self.entered_ms = now_ms;
        self.resume(now_ms);
    }

    /// A touch: the citizen is still there (a running countdown goes on until "continue").
    pub fn touch(&mut self, now_ms: u64) {
        self.last_activity_ms = now_ms;
    }

    /// "Continue" on the prompt.
    pub fn resume(&mut self, now_ms: u64) {
        self.last_activity_ms = now_ms;
        self.countdown_until_ms = None;
    }

    /// How long the current screen has been showing.
    pub fn on_screen_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.entered_ms)
    }

    /// Time passes: starts the countdown after the idle timeout; true once it has run out.
    pub fn expired(&mut self, now_ms: u64) -> bool {
        match self.countdown_until_ms {
            Some(until) => now_ms >= until,
            None => {
                if now_ms.saturating_sub(self.last_activity_ms) >= self.idle_timeout_ms {
                    self.countdown_until_ms = Some(now_ms + IDLE_COUNTDOWN_MS);
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_starts_after_the_timeout_and_ends_the_session_after_ten_seconds() {
        let mut c = IdleClock::new(60_000);
        c.entered(0);
        assert!(!c.expired(59_999));
        assert_eq!(c.countdown_s(59_999), None);
        assert!(!c.expired(60_000));
        assert_eq!(c.countdown_s(60_000), Some(10));
        c.touch(61_000);
        assert!(!c.expired(65_000), "a touch does not stop a running countdown");
        c.resume(66_000);
        assert_eq!(c.countdown_s(66_000), None);
        assert!(!c.expired(126_000));
        assert!(c.expired(126_000 + IDLE_COUNTDOWN_MS));
        c.set_idle_timeout(120_000);
        c.entered(200_000);
        assert!(!c.expired(319_999));
        assert_eq!(c.on_screen_ms(250_000), 50_000);
    }

    #[test]
    fn the_home_button_counts_down_the_whole_way() {
        let mut c = IdleClock::new(60_000);
        c.entered(0);
        assert_eq!(c.home_in_s(0), 70, "a minute, then the ten-second question");
        assert_eq!(c.home_in_s(30_500), 40);
        c.touch(30_500);
        assert_eq!(c.home_in_s(30_500), 70, "a touch starts it again");
        assert!(!c.expired(90_500));
        assert_eq!(c.home_in_s(90_500), 10);
        assert_eq!(c.home_in_s(99_000), 2);
        assert!(c.expired(100_500));
        assert_eq!(c.home_in_s(100_500), 0);
    }
}
