//! 预约服务 on the platform: a citizen's appointments today (by the card's ID number or by the appointment
//! code) and checking one in; and when an appointment may be checked in (the window around its time).

use super::{Platform, PlatformError, bounds};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// An appointment as the platform sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireAppointment {
    /// The appointment code the citizen was sent (digits).
    pub code: String,
    /// The matter, as the citizen booked it ("不动产登记").
    pub item_name: String,
    /// Its English name, when the platform has one ("Real estate registration"): an English screen shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_name_en: Option<String>,
    /// The hall's queue category that serves it ("B").
    pub category: String,
    /// RFC 3339 with offset, e.g. "2026-11-27T09:30:00+08:00".
    pub start: String,
    /// "booked", "checked_in" or "cancelled".
    pub status: String,
}

/// `POST /v1/appointments/query`: one of `id_number` and `code`, and the day.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentQuery {
    pub kiosk_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// "YYYY-MM-DD" in the hall's time zone.
    pub date: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentList {
    pub appointments: Vec<WireAppointment>,
}

/// `POST /v1/appointments/{code}/check-in`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    pub kiosk_id: String,
    /// The priority ticket's number ("B1001").
    pub ticket: String,
    /// The kiosk sends it through its outbox: the same key again is the same check-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// An appointment as the kiosk uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub code: String,
    pub item_name: String,
    /// Empty when the platform sent none.
    pub item_name_en: String,
    pub category: String,
    pub start: Timestamp,
    pub checked_in: bool,
}

impl Appointment {
    /// Checks a wire appointment; `None` for a cancelled one. An unreadable time is the platform's fault.
    pub fn from_wire(w: WireAppointment) -> Result<Option<Appointment>, PlatformError> {
        let start: Timestamp = w
            .start
            .parse()
            .map_err(|e| PlatformError::Malformed(format!("appointment {}: start \"{}\" ({e})", w.code, w.start)))?;
        let checked_in = match w.status.as_str() {
            "booked" => false,
            "checked_in" => true,
            "cancelled" => return Ok(None),
            other => return Err(PlatformError::Malformed(format!("appointment {}: status \"{other}\"", w.code))),
        };
        if !is_code(&w.code) || w.category.is_empty() || w.item_name.is_empty() {
            return Err(PlatformError::Malformed(format!("appointment \"{}\" lacks a field", w.code)));
        }
        let item_name =
            bounds::text(&format!("appointment {}: item_name", w.code), w.item_name, bounds::MAX_NAME_CHARS)?;
        let category = bounds::text(&format!("appointment {}: category", w.code), w.category, 8)?;
        let item_name_en = bounds::english(&format!("appointment {}: item_name_en", w.code), w.item_name_en)?;
        Ok(Some(Appointment { code: w.code, item_name, item_name_en, category, start, checked_in }))
    }

    /// The matter's name on a screen in that language.
    pub fn name_in(&self, english: bool) -> &str {
        if english && !self.item_name_en.is_empty() { &self.item_name_en } else { &self.item_name }
    }
}

/// An appointment code: 6 to 20 digits.
pub fn is_code(s: &str) -> bool {
    (6..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether an appointment can be checked in now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Open,
    /// Too early: check-in opens at this moment.
    TooEarly(Timestamp),
    /// Past the time allowed after the appointment.
    TooLate,
    CheckedIn,
}

/// The check-in window: from `early` minutes before the appointment to `late` minutes after it.
pub fn window(a: &Appointment, now: Timestamp, early_minutes: u32, late_minutes: u32) -> Window {
    if a.checked_in {
        return Window::CheckedIn;
    }
    let opens = a.start - SignedDuration::from_mins(early_minutes.into());
    let closes = a.start + SignedDuration::from_mins(late_minutes.into());
    if now < opens {
        Window::TooEarly(opens)
    } else if now > closes {
        Window::TooLate
    } else {
        Window::Open
    }
}

impl Platform {
    /// Today's appointments of a card holder (`id_number`) or of a code, cancelled ones left out, in time order.
    pub fn appointments(
        &self,
        id_number: Option<&str>,
        code: Option<&str>,
        date: &str,
    ) -> Result<Vec<Appointment>, PlatformError> {
        let q = AppointmentQuery {
            kiosk_id: self.kiosk_id.clone(),
            id_number: id_number.map(str::to_owned),
            code: code.map(str::to_owned),
            date: date.to_owned(),
        };
        let list: AppointmentList = self.call("POST", "/v1/appointments/query", Some(&q), bounds::MAX_LIST_ANSWER)?;
        bounds::rows("appointments", &list.appointments)?;
        let mut v = vec![];
        for w in list.appointments {
            v.extend(Appointment::from_wire(w)?);
        }
        v.sort_by_key(|a| a.start);
        Ok(v)
    }
}

/// The outbox message that tells the platform of a check-in (path and body; the outbox adds the key and the
/// kiosk's id), written in the same transaction as `appointment_checked_in`.
pub fn check_in_message(code: &str, ticket: &str) -> (String, serde_json::Value) {
    (format!("/v1/appointments/{code}/check-in"), serde_json::json!({ "ticket": ticket }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_window_opens_early_and_closes_late() {
        let a = Appointment {
            code: "20261127001".into(),
            item_name: "不动产登记".into(),
            item_name_en: String::new(),
            category: "B".into(),
            start: at("2026-11-27T01:30:00Z"),
            checked_in: false,
        };
        assert_eq!(window(&a, at("2026-11-27T00:59:59Z"), 30, 15), Window::TooEarly(at("2026-11-27T01:00:00Z")));
        assert_eq!(window(&a, at("2026-11-27T01:00:00Z"), 30, 15), Window::Open);
        assert_eq!(window(&a, at("2026-11-27T01:45:00Z"), 30, 15), Window::Open);
        assert_eq!(window(&a, at("2026-11-27T01:45:01Z"), 30, 15), Window::TooLate);
        assert_eq!(
            window(&Appointment { checked_in: true, ..a }, at("2026-11-27T01:30:00Z"), 30, 15),
            Window::CheckedIn
        );
    }

    #[test]
    fn wire_appointments_are_checked() {
        let w = WireAppointment {
            code: "20261127001".into(),
            item_name: "不动产登记".into(),
            item_name_en: None,
            category: "B".into(),
            start: "2026-11-27T09:30:00+08:00".into(),
            status: "booked".into(),
        };
        assert_eq!(Appointment::from_wire(w.clone()).unwrap().unwrap().start, at("2026-11-27T01:30:00Z"));
        assert_eq!(Appointment::from_wire(WireAppointment { status: "cancelled".into(), ..w.clone() }).unwrap(), None);
        for bad in [
            WireAppointment { start: "09:30".into(), ..w.clone() },
            WireAppointment { status: "maybe".into(), ..w.clone() },
            WireAppointment { code: "12".into(), ..w.clone() },
            WireAppointment { category: String::new(), ..w },
        ] {
            assert!(matches!(Appointment::from_wire(bad), Err(PlatformError::Malformed(_))));
        }
    }
}
