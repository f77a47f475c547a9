//! DLE EOT real-time status: the four requests and what their one-byte answers mean. Pure.

/// `DLE EOT n` for n = 1 (printer), 2 (offline cause), 3 (error cause), 4 (paper roll).
pub fn request(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

/// Why the printer cannot print now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFault {
    PaperOut,
    CoverOpen,
    CutterError,
    Offline,
    Unrecoverable,
    /// No answer within the timeout.
    NoAnswer,
    /// An answer that is not a status byte (wrong fixed bits).
    Garbled,
}

impl StatusFault {
    pub fn code(self) -> &'static str {
        match self {
            StatusFault::PaperOut => "paper_out",
            StatusFault::CoverOpen => "cover_open",
            StatusFault::CutterError => "cutter_error",
            StatusFault::Offline => "offline",
            StatusFault::Unrecoverable => "unrecoverable_error",
            StatusFault::NoAnswer => "no_answer",
            StatusFault::Garbled => "garbled_status",
        }
    }

    /// What a technician reads (CLI, logs): the cause and what to do. Citizens' sentences live in the kiosk's
    /// translation catalogue, not here.
    pub fn technician(self) -> &'static str {
        match self {
            StatusFault::PaperOut => "The printer is out of paper: load a new roll.",
            StatusFault::CoverOpen => "The printer cover is open: close it.",
            StatusFault::CutterError => "The printer's paper cutter is stuck: clear it and close the cover.",
            StatusFault::Offline => "The printer is offline (not available): check its panel and paper.",
            StatusFault::NoAnswer => {
                "The printer is not available: it did not answer a status request; check its power and cable."
            }
            StatusFault::Garbled => {
                "The printer is not available: its status answer was garbled; check the cable and baud rate."
            }
            StatusFault::Unrecoverable => "The printer reports an unrecoverable error: power-cycle it.",
        }
    }
}

/// What the four status bytes say together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterStatus {
    pub offline: bool,
    pub cover_open: bool,
    pub paper_out: bool,
    pub paper_near_end: bool,
    pub cutter_error: bool,
    pub unrecoverable: bool,
}

/// A status byte has the fixed pattern 0xx1xx10.
pub fn is_status_byte(b: u8) -> bool {
    b & 0x93 == 0x12
}

impl PrinterStatus {
    /// Folds the answer to `DLE EOT n` into the status; a byte of the wrong shape is `Garbled`.
    pub fn apply(&mut self, n: u8, b: u8) -> Result<(), StatusFault> {
        if !is_status_byte(b) {
            return Err(StatusFault::Garbled);
        }
        match n {
            1 => self.offline = b & 0x08 != 0,
            2 => {
                self.cover_open = b & 0x04 != 0;
                self.paper_out |= b & 0x20 != 0;
            }
            3 => {
                self.cutter_error = b & 0x08 != 0;
                self.unrecoverable = b & 0x20 != 0;
            }
            4 => {
                self.paper_near_end = b & 0x0C != 0;
                self.paper_out |= b & 0x60 != 0;
            }
            _ => {}
        }
        Ok(())
    }

    /// The most specific reason the printer cannot print, if any.
    pub fn fault(&self) -> Option<StatusFault> {
        if self.paper_out {
            Some(StatusFault::PaperOut)
        } else if self.cover_open {
            Some(StatusFault::CoverOpen)
        } else if self.cutter_error {
            Some(StatusFault::CutterError)
        } else if self.unrecoverable {
            Some(StatusFault::Unrecoverable)
        } else if self.offline {
            Some(StatusFault::Offline)
        } else {
            None
        }
    }

    /// The bytes a printer in this state answers to DLE EOT 1–4 (used by the virtual printer).
    pub fn answers(&self) -> [u8; 4] {
        let mut a = [0x12u8; 4];
        if self.offline || self.cover_open || self.paper_out {
            a[0] |= 0x08;
        }
        if self.cover_open {
            a[1] |= 0x04;
        }
        if self.paper_out {
            a[1] |= 0x20;
        }
        if self.cutter_error {
            a[2] |= 0x08;
        }
        if self.unrecoverable {
            a[2] |= 0x20;
        }
        if self.paper_near_end {
            a[3] |= 0x0C;
        }
        if self.paper_out {
            a[3] |= 0x60;
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_roll_bytes_from_the_reference() {
        let mut s = PrinterStatus::default();
        s.apply(4, 0x12).unwrap();
        assert_eq!(s.fault(), None);
        s.apply(4, 0x1E).unwrap();
        assert!(s.paper_near_end && s.fault().is_none());
        s.apply(4, 0x72).unwrap();
        assert_eq!(s.fault(), Some(StatusFault::PaperOut));
    }

    #[test]
    fn every_byte_is_either_a_status_or_garbled() {
        for b in 0..=255u8 {
            for n in 1..=4 {
                let mut s = PrinterStatus::default();
                assert_eq!(s.apply(n, b).is_ok(), is_status_byte(b));
            }
        }
    }

    #[test]
    fn answers_round_trip() {
        let states = [
            PrinterStatus { paper_out: true, ..Default::default() },
            PrinterStatus { cover_open: true, ..Default::default() },
            PrinterStatus { paper_near_end: true, ..Default::default() },
            PrinterStatus { cutter_error: true, ..Default::default() },
            PrinterStatus::default(),
        ];
        for st in states {
            let mut back = PrinterStatus::default();
            for (i, b) in st.answers().into_iter().enumerate() {
                back.apply(i as u8 + 1, b).unwrap();
            }
            assert_eq!(back.fault(), st.fault());
            assert_eq!(back.paper_near_end, st.paper_near_end);
        }
    }
}
