//! The 预约签到 page on the flow controller: the card or the code finds today's appointments (the platform,
//! or the day's imported file when it cannot be reached), one is checked in with a priority ticket; a
//! missed one hands the citizen to take-a-number in its category.

use super::controller::{Binding, Context, Job, Setup, sends, sends_key};
use super::home::FlowHandle;
use super::{AppWindow, AppointmentAdapter, AppointmentRow, AppointmentScreen, Page, TileKind};
use crate::config::Config;
use crate::devices::IdReaderHandle;
use crate::flows::appointment::{AppointmentCheckIn, Event, Shown, Step, Work};
use crate::flows::core::{Input, PadKey, Phase, Reason, Session};
use crate::journal::payload;
use crate::platform::appointments::{Appointment, Window, check_in_message, window};
use crate::platform::{Platform, PlatformError, offline};
use crate::queue::Queue;
use crate::ticket::{TicketPrinter, issue_for_appointment};
use slint::{ComponentHandle, Model, ModelRc};
use std::sync::Arc;

/// What the flow's work needs; owned by its worker thread.
pub struct Services {
    pub platform: Option<Arc<Platform>>,
    pub config: Config,
    pub queue: Queue,
    pub printer: TicketPrinter,
    pub reader: IdReaderHandle,
}

/// The dates whose appointments can be open for check-in at `now`: today's, and yesterday's or tomorrow's
/// when the check-in window reaches over midnight (a 24-hour hall: at 23:50 an appointment at 00:05 opens
/// at 23:35). Today's first.
pub fn check_in_days(
    now: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
    window: &crate::config::AppointmentsSection,
) -> Vec<String> {
    let day = |t: jiff::Timestamp| t.to_zoned_datetime(tz.clone()).date().to_string();
    let minutes = |m: u32| jiff::SignedDuration::from_mins(i64::from(m));
    let mut days = vec![day(now)];
    for edge in [now.checked_sub(minutes(window.late_minutes)), now.checked_add(minutes(window.early_minutes))] {
        if let Ok(t) = edge
            && !days.contains(&day(t))
        {
            days.push(day(t));
        }
    }
    days
}

impl Services {
    fn today(&self, now: jiff::Timestamp) -> String {
        now.to_zoned_datetime(self.config.tz().clone()).date().to_string()
    }

    /// Today's appointments of a holder (`id_number` and its `subject`) or a code (with those of the day
    /// before or after whose check-in window reaches now): from the platform, or, when it cannot be reached
    /// (or is not configured), from the day's imported file.
    fn find(&self, id: Option<(&str, String)>, code: Option<&str>, now: jiff::Timestamp) -> Event {
        let mut found = vec![];
        let mut offline_any = false;
        for (i, day) in check_in_days(now, self.config.tz(), &self.config.appointments).into_iter().enumerate() {
            match self.find_on(&id, code, &day) {
                Ok((v, offline)) => {
                    found.extend(v);
                    offline_any |= offline;
                }
                // Today's answer decides; a neighbouring day that cannot be asked only adds nothing.
                Err(why) if i == 0 => return Event::LookupFailed(why),
                Err(_) => {}
            }
        }
        found.sort_by_key(|a: &Appointment| a.start);
        found.dedup_by(|a, b| a.code == b.code);
        let offline = offline_any;
        let a = &self.config.appointments;
        let shown = found
            .into_iter()
            .map(|appointment| {
                let window = window(&appointment, now, a.early_minutes, a.late_minutes);
                Shown { appointment, window }
            })
            .collect();
        Event::Found { shown, offline }
    }

    /// One day's appointments, and whether they came from the imported file.
    fn find_on(
        &self,
        id: &Option<(&str, String)>,
        code: Option<&str>,
        day: &str,
    ) -> Result<(Vec<Appointment>, bool), Reason> {
        let online = self.platform.as_ref().map(|p| p.appointments(id.as_ref().map(|(n, _)| *n), code, day));
        match online {
            Some(Ok(v)) => Ok((v, false)),
            Some(Err(PlatformError::NotFound)) => Ok((vec![], false)),
            other => {
                if let Some(Err(e)) = &other {
                    log::warn!("appointments: {e} Using the day's imported appointments.");
                }
                let subject = id.as_ref().map(|(_, s)| s.clone());
                match offline::find(self.queue.journal(), day, subject, code.map(str::to_owned)) {
                    Ok(v) if !v.is_empty() || other.is_none() => Ok((v, true)),
                    Ok(_) => Err(Reason::PlatformUnavailable),
                    Err(e) => {
                        log::error!("appointments: the imported appointments cannot be read ({e})");
                        Err(Reason::PlatformUnavailable)
                    }
                }
            }
        }
    }

    fn check_in(&self, a: &Appointment, offline: bool, session_id: &str) -> Event {
        let now = crate::clock::now();
        let (code, category) = (a.code.clone(), a.category.clone());
        let result = issue_for_appointment(
            &self.queue,
            &self.printer,
            &self.config.kiosk.hall_name,
            &a.category,
            now,
            session_id,
            move |t| {
                let message = check_in_message(&code, &t.display);
                (payload::AppointmentCheckedIn { code, category, ticket: t.display.clone(), offline }.into(), message)
            },
        );
        let t = match result {
            Ok(t) => t,
            Err(e) => return Event::CheckInFailed(e.reason()),
        };
        // The platform hears of it through the outbox (also of a check-in made offline, once it is back).
        if offline && let Err(e) = offline::mark_checked_in(self.queue.journal(), &self.today(a.start), &a.code) {
            log::error!("appointments: {} not marked checked in ({e})", a.code);
        }
        Event::CheckedIn {
            issued: super::take_number::issued(t),
            item_name: crate::flows::core::Named::new(a.item_name.clone(), a.item_name_en.clone()),
        }
    }
}

/// The page, with the hall's time zone for the times it shows.
struct Page_ {
    tz: jiff::tz::TimeZone,
}

impl Binding for Page_ {
    type Flow = AppointmentCheckIn;
    type Services = Services;
    const PAGE: Page = Page::Appointment;

    fn run(s: &mut Services, work: Work, job: &Job<Event>) {
        let now = crate::clock::now();
        let reply = match work {
            Work::FindByCard => match s.reader.take_card() {
                None => Event::LookupFailed(Reason::CardUnreadable),
                Some(card) => match crate::cards::admit(
                    s.queue.journal(),
                    &card,
                    crate::cards::today(now, s.config.tz()),
                    crate::journal::payload::CardPurpose::Appointment,
                    None,
                    s.config.journal.id_mask_keep,
                    &job.session_id,
                ) {
                    Ok(admitted) => s.find(Some((&card.id_number, admitted.subject)), None, now),
                    Err(crate::cards::CardRuleError::Refused(r)) => Event::LookupFailed(r.reason()),
                    Err(crate::cards::CardRuleError::Journal(e)) => {
                        log::error!("appointments: the card was not journaled ({e})");
                        Event::LookupFailed(Reason::QueueUnavailable)
                    }
                },
            },
            Work::FindByCode(code) => s.find(None, Some(&code), now),
            Work::CheckIn { appointment, offline } => s.check_in(&appointment, offline, &job.session_id),
        };
        job.reply(reply);
    }

    fn render(&self, window: &AppWindow, session: &Session<AppointmentCheckIn>, english: bool) {
        let a = window.global::<AppointmentAdapter>();
        let screen = match &session.phase {
            Phase::Step(Step::Identify { code, failure }) => {
                a.set_code(code.as_str().into());
                // A card refused is said at the card prompt; nothing found for a card or code, above the pad.
                let (card, notice) = match failure {
                    Some(Reason::NoAppointments) => (None, failure.as_ref()),
                    other => (other.as_ref(), None),
                };
                a.set_problem(super::reasons::to_ui_opt(card));
                a.set_notice(super::reasons::to_ui_opt(notice));
                AppointmentScreen::Identify
            }
            Phase::Step(Step::Looking) => AppointmentScreen::Looking,
            Phase::Step(Step::List { shown, offline }) => {
                let tz = self.tz.clone();
                let hhmm = |t: jiff::Timestamp| t.to_zoned_datetime(tz.clone()).strftime("%H:%M").to_string();
                let rows: Vec<AppointmentRow> = shown
                    .iter()
                    .map(|s| {
                        let (state, opens) = match s.window {
                            Window::Open => (0, String::new()),
                            Window::TooEarly(at) => (1, hhmm(at)),
                            Window::TooLate => (2, String::new()),
                            Window::CheckedIn => (3, String::new()),
                        };
                        AppointmentRow {
                            code: s.appointment.code.as_str().into(),
                            time: hhmm(s.appointment.start).into(),
                            item: s.appointment.name_in(english).into(),
                            category: s.appointment.category.as_str().into(),
                            state,
                            opens: opens.into(),
                        }
                    })
                    .collect();
                let (model, changed) = super::keep_or_replace(a.get_rows(), rows);
                if changed {
                    a.set_first(0);
                }
                a.set_rows(model);
                a.set_offline(*offline);
                let names =
                    shown.iter().map(|s| format!("{} {}", hhmm(s.appointment.start), s.appointment.name_in(english)));
                a.set_choices_spoken(super::spoken_choices(names, english).into());
                AppointmentScreen::List
            }
            Phase::Step(Step::CheckingIn { .. }) => AppointmentScreen::CheckingIn,
            Phase::Step(Step::Done { issued, item_name, .. }) => {
                a.set_number(issued.number.as_str().into());
                a.set_number_spoken(super::take_number::spoken_number(&issued.number).into());
                a.set_item(item_name.pick(english).into());
                a.set_waiting_ahead(issued.waiting_ahead as i32);
                a.set_window(if english { &issued.window.en } else { &issued.window.zh }.as_str().into());
                AppointmentScreen::Done
            }
            Phase::Step(Step::Failed { reason }) => {
                a.set_problem(super::reasons::to_ui(reason));
                AppointmentScreen::Failed
            }
            Phase::TakeCard => AppointmentScreen::TakeCard,
            // A check-in offers no rating: nothing has been served yet (rated from 好差评 once it has been).
            Phase::RatingReasons { .. } | Phase::Thanks | Phase::Home => return,
        };
        a.set_screen(screen);
    }

    fn clear(&self, window: &AppWindow) {
        let a = window.global::<AppointmentAdapter>();
        a.set_code("".into());
        a.set_rows(ModelRc::default());
        a.set_number("".into());
    }
}

/// Wires the 预约签到 page; a missed appointment opens take-a-number on its category.
pub fn bind(window: &AppWindow, cx: &Context) -> FlowHandle {
    let services = Services {
        platform: cx.platform.clone(),
        config: cx.config.clone(),
        queue: cx.queue.clone(),
        printer: cx.printer.clone(),
        reader: cx.reader.clone(),
    };
    let take_number = cx.take_number();
    let (handle, d) = super::controller::bind(
        window,
        cx,
        Setup {
            binding: Page_ { tz: services.config.tz().clone() },
            flow: AppointmentCheckIn,
            services,
            tiles: vec![(TileKind::Appointment, Event::Open)],
        },
    );
    let a = window.global::<AppointmentAdapter>();
    a.on_key(sends_key(&d, |c| Event::Pad(PadKey::Key(c))));
    a.on_backspace(sends(&d, Event::Pad(PadKey::Backspace)));
    a.on_clear(sends(&d, Event::Pad(PadKey::Clear)));
    a.on_submit(sends(&d, Event::Submit));
    let f = d.clone();
    a.on_check_in(move |code| f(Input::Flow(Event::CheckIn(code.to_string()))));
    let f = d.clone();
    let weak = window.as_weak();
    let open = take_number.clone();
    a.on_normal_ticket(move |code| {
        // The missed appointment's category, read from the list before the session hands over.
        let category = weak.upgrade().and_then(|w| {
            let rows = w.global::<AppointmentAdapter>().get_rows();
            rows.iter().find(|r| r.code == code && r.state == 2).map(|r| r.category.to_string())
        });
        f(Input::Flow(Event::NormalTicket(code.to_string())));
        if let Some(category) = category {
            open(category);
        }
    });
    let f = d.clone();
    a.on_take_ticket(move || {
        // The session hands over first, then take-a-number opens on its category list.
        f(Input::Flow(Event::TakeTicket));
        take_number(String::new());
    });
    handle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn around_midnight_the_neighbouring_day_is_asked_too() {
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        let window = crate::config::AppointmentsSection { early_minutes: 30, late_minutes: 15 };
        let at =
            |s: &str| s.parse::<jiff::civil::DateTime>().unwrap().to_zoned_datetime(tz.clone()).unwrap().timestamp();
        assert_eq!(check_in_days(at("2026-12-07T10:00"), &tz, &window), ["2026-12-07"]);
        // 00:05 tomorrow opens at 23:35.
        assert_eq!(check_in_days(at("2026-12-07T23:40"), &tz, &window), ["2026-12-07", "2026-12-08"]);
        assert_eq!(check_in_days(at("2026-12-07T23:29"), &tz, &window), ["2026-12-07"]);
        // 23:55 yesterday may be checked in until 00:10.
        assert_eq!(check_in_days(at("2026-12-08T00:05"), &tz, &window), ["2026-12-08", "2026-12-07"]);
        assert_eq!(check_in_days(at("2026-12-08T00:16"), &tz, &window), ["2026-12-08"]);
    }
}
