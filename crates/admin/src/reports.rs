//! What the staff API reports, read from the journal and the devices: journal pages for the county's pull,
//! the latest checkpoint, health, Prometheus metrics and the county's statistics. The counting is sans-IO
//! ([`Tally`], [`Stats`]): entries in, numbers out.

use super::Api;
use journal::{Checkpoint, Journal, JournalError, utc_now};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use journal::page::{DEFAULT_PAGE, MAX_PAGE, Readers, head_seq, journal_page};
/// Longest span `stats` covers in one call.
pub const MAX_STATS_DAYS: i64 = 366;

/// A signed checkpoint over the head (the stored one when it covers the head, else a new one; checkpoints are
/// no longer signed on a timer) and the newest seal: a county server that keeps the seal holds the kiosk to
/// its history even if the box is later replaced.
pub fn latest_checkpoint(
    journal: &Journal,
    readers: &Readers,
) -> Result<Option<(Checkpoint, Option<journal::Seal>)>, JournalError> {
    let (head, stored, seal) = readers.with(|c| {
        Ok((journal::schema::head(c)?.0, journal::stored_checkpoint(c, None)?, journal::schema::last_seal(c)?))
    })?;
    let cp = match stored {
        Some(cp) if cp.seq == head => Some(cp),
        _ => journal.checkpoint()?,
    };
    Ok(cp.map(|cp| (cp, seal)))
}

/// Seconds since a journal time ("2026-11-26T08:00:00.000Z"), when it parses.
fn age_s(time_utc: &str, now: jiff::Timestamp) -> Option<i64> {
    time_utc.parse::<jiff::Timestamp>().ok().map(|t| (now - t).as_secs())
}

/// Each device's state and fault, the journal's head and newest seal, disk, clock and uptime.
pub fn health(api: &Api) -> Value {
    let now = jiff::Timestamp::now();
    let d = &api.devices;
    let printer = match &d.printer {
        None => json!({ "state": "not_driven" }),
        Some(p) => match p.probe() {
            Ok(s) => json!({ "state": "ok", "paper_near_end": s.paper_near_end }),
            Err(f) => json!({ "state": "fault", "fault": f.code(), "message": f.technician() }),
        },
    };
    let reader = match &d.reader {
        None => json!({ "state": "not_driven" }),
        Some(r) if r.healthy.lock().map(|h| *h).unwrap_or(false) => json!({ "state": "ok" }),
        Some(_) => json!({ "state": "fault", "fault": "no_answer" }),
    };
    let licence = match &d.licence {
        None => json!({ "state": "not_driven" }),
        Some(h) => match h.fault() {
            None => json!({ "state": "ok" }),
            Some(f) => json!({ "state": "fault", "fault": f.code(), "message": f.to_string() }),
        },
    };
    let path = &api.journal.settings().path;
    let journal = match api.readers.with(|c| {
        let head = journal::schema::head(c)?.0;
        let last: Option<String> =
            c.query_row("SELECT time_utc FROM entries ORDER BY seq DESC LIMIT 1", [], |r| r.get(0)).ok();
        Ok((head, last, journal::schema::last_seal(c)?))
    }) {
        Ok((head, last, seal)) => json!({
            "state": "ok",
            "head_seq": head,
            "last_entry_utc": last,
            "last_seal_epoch": seal.as_ref().map(|s| s.epoch),
            "last_seal_seq": seal.as_ref().map(|s| s.seq),
            "last_seal_age_s": seal.as_ref().and_then(|s| age_s(&s.time_utc, now)),
            "unsealed_entries": head.saturating_sub(seal.as_ref().map_or(0, |s| s.seq)),
            "size_bytes": std::fs::metadata(path).map(|m| m.len()).ok(),
        }),
        Err(e) => json!({ "state": "fault", "message": e.to_string() }),
    };
    let mut journal = journal;
    use journal::integrity::IntegrityState as I;
    journal["integrity"] = match d.integrity.as_ref().map(|s| s.get()) {
        None => json!({ "state": "not_checked_here" }),
        Some(I::Unchecked | I::Checking) => json!({ "state": "checking" }),
        Some(I::Intact { entries }) => json!({ "state": "intact", "entries": entries }),
        Some(I::Failed { check, seq, what }) => json!({ "state": "failed", "check": check, "seq": seq, "what": what }),
        Some(I::Unknown(why)) => json!({ "state": "unknown", "message": why }),
    };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let free = rustix::fs::statvfs(dir).ok().map(|s| s.f_bavail.saturating_mul(s.f_frsize));
    json!({
        "kiosk_id": api.config.kiosk.id,
        "version": env!("CARGO_PKG_VERSION"),
        "time_utc": utc_now(),
        "uptime_s": api.uptime().as_secs(),
        "devices": { "ticket_printer": printer, "id_reader": reader, "licence_printer": licence },
        "journal": journal,
        "disk": { "free_bytes": free },
    })
}

/// One entry as the tallies read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub kind: String,
    pub time_utc: String,
    pub payload: Value,
}

fn entries_where(readers: &Readers, sql_where: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<Seen>, JournalError> {
    readers.with(|conn| {
        let mut stmt =
            conn.prepare(&format!("SELECT kind, time_utc, payload FROM entries WHERE {sql_where} ORDER BY seq"))?;
        let rows = stmt.query_map(args, |r| {
            let payload: Option<String> = r.get(2)?;
            Ok(Seen {
                kind: r.get(0)?,
                time_utc: r.get(1)?,
                payload: payload.and_then(|p| serde_json::from_str(&p).ok()).unwrap_or(Value::Null),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

/// A ticket number's category: its leading letters ("A012" → "A").
fn category_of(number: &str) -> String {
    number.chars().take_while(|c| !c.is_ascii_digit()).collect()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Counters since this process started, by their labels.
#[derive(Debug, Default, PartialEq)]
pub struct Tally {
    pub tickets_issued: BTreeMap<String, u64>,
    pub tickets_printed: BTreeMap<String, u64>,
    /// Shown on screen, not printed (the printer could not print).
    pub tickets_shown: BTreeMap<String, u64>,
    pub tickets_failed: BTreeMap<(String, String), u64>,
    pub licence_pages: u64,
    pub ratings: BTreeMap<u64, u64>,
    pub device_faults: BTreeMap<(String, String), u64>,
    pub sessions: BTreeMap<String, u64>,
    pub auth_failures: u64,
}

impl Tally {
    pub fn count(entries: &[Seen]) -> Tally {
        let mut t = Tally::default();
        for e in entries {
            let p = &e.payload;
            match e.kind.as_str() {
                "ticket_issued" => *t.tickets_issued.entry(text(p, "category").to_owned()).or_default() += 1,
                "ticket_printed" => *t.tickets_printed.entry(category_of(text(p, "number"))).or_default() += 1,
                "ticket_shown" => *t.tickets_shown.entry(category_of(text(p, "number"))).or_default() += 1,
                "ticket_print_failed" => {
                    *t.tickets_failed
                        .entry((category_of(text(p, "number")), text(p, "cause").to_owned()))
                        .or_default() += 1;
                }
                "licence_printed" => t.licence_pages += p.get("copies").and_then(Value::as_u64).unwrap_or(1),
                "evaluation" => {
                    if let Some(level) = p.get("level").and_then(Value::as_u64) {
                        *t.ratings.entry(level).or_default() += 1;
                    }
                }
                "device_fault" => {
                    *t.device_faults.entry((text(p, "device").to_owned(), text(p, "fault").to_owned())).or_default() +=
                        1;
                }
                "session_start" => *t.sessions.entry(text(p, "flow").to_owned()).or_default() += 1,
                "auth_failed" => t.auth_failures += p.get("failures").and_then(Value::as_u64).unwrap_or(0),
                _ => {}
            }
        }
        t
    }
}

/// A label value in the text format: backslash, quote and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", label(v))).collect();
        if labels.is_empty() {
            let _ = writeln!(self.0, "{name} {value}");
        } else {
            let _ = writeln!(self.0, "{name}{{{}}} {value}", labels.join(","));
        }
    }
}

/// The Prometheus text exposition (format 0.0.4). Counters count since this process started; the kiosk's
/// restart resets them, as Prometheus expects of counters.
pub fn metrics(api: &Api) -> Result<String, JournalError> {
    let seen = entries_where(&api.readers, "seq > ?1", &[&(api.boot_seq as i64)])?;
    let t = Tally::count(&seen);
    let mut x = Exposition(String::new());
    x.family("kiosk_tickets_issued_total", "counter", "Queue tickets issued, by category.");
    for (c, n) in &t.tickets_issued {
        x.sample("kiosk_tickets_issued_total", &[("category", c)], n);
    }
    x.family("kiosk_tickets_printed_total", "counter", "Queue tickets that came out of the printer, by category.");
    for (c, n) in &t.tickets_printed {
        x.sample("kiosk_tickets_printed_total", &[("category", c)], n);
    }
    x.family(
        "kiosk_tickets_shown_total",
        "counter",
        "Queue tickets shown on screen because the printer could not print, by category.",
    );
    for (c, n) in &t.tickets_shown {
        x.sample("kiosk_tickets_shown_total", &[("category", c)], n);
    }
    x.family("kiosk_tickets_print_failed_total", "counter", "Queue tickets that did not print, by category and cause.");
    for ((c, cause), n) in &t.tickets_failed {
        x.sample("kiosk_tickets_print_failed_total", &[("category", c), ("cause", cause)], n);
    }
    x.family("kiosk_licence_pages_printed_total", "counter", "Licence and certificate copies printed.");
    x.sample("kiosk_licence_pages_printed_total", &[], t.licence_pages);
    x.family("kiosk_ratings_total", "counter", "Service ratings (GB/T 39734), by level 1 to 5.");
    for level in 1..=5u64 {
        x.sample("kiosk_ratings_total", &[("level", &level.to_string())], t.ratings.get(&level).unwrap_or(&0));
    }
    x.family("kiosk_device_faults_total", "counter", "Device outages, by device and fault.");
    for ((d, f), n) in &t.device_faults {
        x.sample("kiosk_device_faults_total", &[("device", d), ("fault", f)], n);
    }
    x.family("kiosk_sessions_total", "counter", "Citizen sessions opened, by flow.");
    for (flow, n) in &t.sessions {
        x.sample("kiosk_sessions_total", &[("flow", flow)], n);
    }
    x.family("kiosk_auth_failures_total", "counter", "Staff API requests with a missing or wrong token, as journaled.");
    x.sample("kiosk_auth_failures_total", &[], t.auth_failures);
    let near_end = api.devices.printer.as_ref().and_then(|p| p.probe().ok()).map(|s| u8::from(s.paper_near_end));
    x.family("kiosk_paper_near_end", "gauge", "1 when the ticket printer reports its paper roll nearly out.");
    if let Some(v) = near_end {
        x.sample("kiosk_paper_near_end", &[], v);
    }
    let (head, newest) = api.readers.with(|c| Ok((journal::schema::head(c)?.0, journal::schema::last_seal(c)?)))?;
    x.family("kiosk_journal_seq", "gauge", "The journal's newest entry number.");
    x.sample("kiosk_journal_seq", &[], head);
    x.family("kiosk_journal_unsealed_entries", "gauge", "Entries after the journal's newest seal, not yet protected.");
    x.sample("kiosk_journal_unsealed_entries", &[], head.saturating_sub(newest.as_ref().map_or(0, |s| s.seq)));
    if let Some(age) = newest.and_then(|s| age_s(&s.time_utc, jiff::Timestamp::now())) {
        x.family("kiosk_seconds_since_last_seal", "gauge", "Seconds since the journal's newest seal.");
        x.sample("kiosk_seconds_since_last_seal", &[], age.max(0));
    }
    x.family("kiosk_uptime_seconds", "gauge", "Seconds since this kiosk process started.");
    x.sample("kiosk_uptime_seconds", &[], api.uptime().as_secs());
    Ok(x.0)
}

/// The county's statistics over local dates `from`..=`to`.
#[derive(Debug, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    /// Tickets issued, by category, then by local hour (0–23).
    pub tickets_by_category_hour: BTreeMap<String, BTreeMap<u8, u64>>,
    /// Minutes from issue to first call, by category: called tickets only.
    pub waits: BTreeMap<String, Waits>,
    pub ratings: BTreeMap<u8, u64>,
    /// 好评率: ratings of 4 and 5 over all ratings, as the county reports it; None without ratings.
    pub good_rate: Option<f64>,
    /// The same per local day, per flow (what was rated: `ticket`, `licence_print`, `appointment_check_in`,
    /// `case_query`, `guide_print`, `hall_service`) and per queue category (tickets rated).
    pub ratings_by_day: BTreeMap<String, Ratings>,
    pub ratings_by_flow: BTreeMap<String, Ratings>,
    pub ratings_by_category: BTreeMap<String, Ratings>,
    pub licence_prints: u64,
    pub licence_copies: u64,
    /// Device outages, by device.
    pub faults: BTreeMap<String, u64>,
    /// Tickets shown on screen because the printer could not print, by category (the others were printed).
    pub tickets_shown: BTreeMap<String, u64>,
}

/// Ratings by level (1 非常不满意 … 5 非常满意) and their 好评率.
#[derive(Debug, Default, PartialEq, serde::Serialize)]
pub struct Ratings {
    pub levels: BTreeMap<u8, u64>,
    pub good_rate: Option<f64>,
}

impl Ratings {
    fn add(&mut self, level: u8) {
        *self.levels.entry(level).or_default() += 1;
    }

    fn close(&mut self) {
        self.good_rate = good_rate(&self.levels);
    }
}

/// 好评率: levels 4 and 5 over all; None without ratings.
fn good_rate(levels: &BTreeMap<u8, u64>) -> Option<f64> {
    let all: u64 = levels.values().sum();
    let good: u64 = levels.iter().filter(|(l, _)| **l >= 4).map(|(_, n)| n).sum();
    (all > 0).then(|| good as f64 / all as f64)
}

#[derive(Debug, Default, PartialEq, serde::Serialize)]
pub struct Waits {
    pub called: u64,
    pub average_min: f64,
    pub median_min: f64,
    pub longest_min: f64,
}

impl Stats {
    /// Counts `entries` (in seq order), reading local hours in `tz`.
    pub fn count(entries: &[Seen], tz: &jiff::tz::TimeZone) -> Stats {
        let mut s = Stats::default();
        let mut issued: BTreeMap<String, (String, jiff::Timestamp)> = BTreeMap::new();
        let mut waits: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for e in entries {
            let p = &e.payload;
            let Ok(at) = e.time_utc.parse::<jiff::Timestamp>() else { continue };
            match e.kind.as_str() {
                "ticket_issued" => {
                    let category = text(p, "category").to_owned();
                    let hour = at.to_zoned_datetime(tz.clone()).hour() as u8;
                    *s.tickets_by_category_hour.entry(category.clone()).or_default().entry(hour).or_default() += 1;
                    issued.insert(text(p, "ticket_id").to_owned(), (category, at));
                }
                "ticket_called" if p.get("recall").is_none() => {
                    if let Some((category, from)) = issued.remove(text(p, "ticket_id")) {
                        waits.entry(category).or_default().push((at - from).as_secs() as f64 / 60.0);
                    }
                }
                "evaluation" => {
                    if let Some(level) = p.get("level").and_then(Value::as_u64).and_then(|l| u8::try_from(l).ok()) {
                        *s.ratings.entry(level).or_default() += 1;
                        let day = at.to_zoned_datetime(tz.clone()).date().to_string();
                        s.ratings_by_day.entry(day).or_default().add(level);
                        let tx = p.get("transaction");
                        let flow = tx.and_then(|t| t.get("kind")).and_then(Value::as_str).unwrap_or("unknown");
                        s.ratings_by_flow.entry(flow.to_owned()).or_default().add(level);
                        // A ticket's id ends with its number (kiosk-day-A023): its letters are the category.
                        if let Some(id) = tx.and_then(|t| t.get("ticket_id")).and_then(Value::as_str) {
                            let number = id.rsplit('-').next().unwrap_or_default();
                            let prefix: String = number.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
                            if !prefix.is_empty() {
                                s.ratings_by_category.entry(prefix).or_default().add(level);
                            }
                        }
                    }
                }
                "licence_printed" => {
                    s.licence_prints += 1;
                    s.licence_copies += p.get("copies").and_then(Value::as_u64).unwrap_or(1);
                }
                "device_fault" => *s.faults.entry(text(p, "device").to_owned()).or_default() += 1,
                "ticket_shown" => *s.tickets_shown.entry(category_of(text(p, "number"))).or_default() += 1,
                _ => {}
            }
        }
        s.good_rate = good_rate(&s.ratings);
        for r in s
            .ratings_by_day
            .values_mut()
            .chain(s.ratings_by_flow.values_mut())
            .chain(s.ratings_by_category.values_mut())
        {
            r.close();
        }
        for (category, mut w) in waits {
            w.sort_by(f64::total_cmp);
            let n = w.len();
            let median = if n % 2 == 1 { w[n / 2] } else { (w[n / 2 - 1] + w[n / 2]) / 2.0 };
            let round = |x: f64| (x * 10.0).round() / 10.0;
            s.waits.insert(
                category,
                Waits {
                    called: n as u64,
                    average_min: round(w.iter().sum::<f64>() / n as f64),
                    median_min: round(median),
                    longest_min: round(w[n - 1]),
                },
            );
        }
        s
    }
}

/// Statistics for local dates `from`..=`to` (today when left out), or why the range is refused.
pub fn stats(api: &Api, from: Option<jiff::civil::Date>, to: Option<jiff::civil::Date>) -> Result<Value, StatsError> {
    stats_with(&api.config, from, to, |lo, hi| {
        entries_where(&api.readers, "time_utc >= ?1 AND time_utc < ?2", &[&lo, &hi]).map_err(|e| e.to_string())
    })
}

/// Why statistics were not given: a range the caller should change (400), or a journal that could not be
/// read (503).
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("`to` ({to}) is before `from` ({from}); give the earlier date as `from`.")]
    Reversed { from: jiff::civil::Date, to: jiff::civil::Date },
    #[error("The range covers more than {MAX_STATS_DAYS} days; ask for a year at a time.")]
    TooLong,
    #[error("The dates cannot be placed in the kiosk's time zone ({0}).")]
    Dates(String),
    #[error("The journal cannot be read now ({0}); try again shortly.")]
    Journal(String),
}

impl StatsError {
    /// Whether the caller can fix it by asking differently.
    pub fn is_the_callers(&self) -> bool {
        !matches!(self, StatsError::Journal(_))
    }
}

/// The entries between two UTC times, from a journal database opened read-only (`kiosk journal stats`).
pub fn read_seen(conn: &rusqlite::Connection, lo: &str, hi: &str) -> Result<Vec<Seen>, String> {
    let mut stmt = conn
        .prepare("SELECT kind, time_utc, payload FROM entries WHERE time_utc >= ?1 AND time_utc < ?2 ORDER BY seq")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([lo, hi], |r| {
            let payload: String = r.get(2)?;
            Ok(Seen {
                kind: r.get(0)?,
                time_utc: r.get(1)?,
                payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
            })
        })
        .map_err(|e| e.to_string())?;
    rows.collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())
}

/// Statistics for local dates `from`..=`to` from the entries `fetch` gives between two UTC times.
pub fn stats_with(
    config: &config::Config,
    from: Option<jiff::civil::Date>,
    to: Option<jiff::civil::Date>,
    fetch: impl FnOnce(&str, &str) -> Result<Vec<Seen>, String>,
) -> Result<Value, StatsError> {
    let tz = config.tz().clone();
    let today = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let (from, to) = (from.unwrap_or(to.unwrap_or(today)), to.unwrap_or(from.unwrap_or(today)));
    if to < from {
        return Err(StatsError::Reversed { from, to });
    }
    if (to - from).get_days() >= MAX_STATS_DAYS as i32 {
        return Err(StatsError::TooLong);
    }
    let start = |d: jiff::civil::Date| {
        d.to_zoned_datetime(tz.clone())
            .map(|z| journal::format_utc(z.timestamp()))
            .map_err(|e| StatsError::Dates(e.to_string()))
    };
    let (lo, hi) = (start(from)?, start(to.tomorrow().map_err(|e| StatsError::Dates(e.to_string()))?)?);
    let seen = fetch(&lo, &hi).map_err(StatsError::Journal)?;
    let s = Stats::count(&seen, &tz);
    let mut v = serde_json::to_value(&s).map_err(|e| StatsError::Journal(e.to_string()))?;
    v["from"] = json!(from.to_string());
    v["to"] = json!(to.to_string());
    v["timezone"] = json!(config.kiosk.timezone);
    v["catalogue"] = catalogue_stats(&seen);
    Ok(v)
}

/// What citizens look for in 事项查询: the searches they settled on most, those that found nothing, the items
/// opened most, and the guides printed (at most 20 of each list, most first).
pub fn catalogue_stats(seen: &[Seen]) -> Value {
    use std::collections::HashMap;
    let mut searches: HashMap<String, u64> = HashMap::new();
    let mut none: HashMap<String, u64> = HashMap::new();
    let mut views: HashMap<String, u64> = HashMap::new();
    let (mut guides, mut guides_failed) = (0u64, 0u64);
    for e in seen {
        let text = |k: &str| e.payload.get(k).and_then(Value::as_str).map(str::to_owned);
        match e.kind.as_str() {
            "catalogue_search" => {
                let Some(q) = text("query") else { continue };
                *searches.entry(q.clone()).or_default() += 1;
                if e.payload.get("results").and_then(Value::as_u64) == Some(0) {
                    *none.entry(q).or_default() += 1;
                }
            }
            "catalogue_item_viewed" => {
                if let Some(code) = text("code") {
                    *views.entry(code).or_default() += 1;
                }
            }
            "guide_printed" => {
                if e.payload.get("ok").and_then(Value::as_bool) == Some(true) {
                    guides += 1;
                } else {
                    guides_failed += 1;
                }
            }
            _ => {}
        }
    }
    let top = |m: HashMap<String, u64>, key: &str| {
        let mut v: Vec<(String, u64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.into_iter().take(20).map(|(k, n)| json!({ key: k, "count": n })).collect::<Vec<_>>()
    };
    json!({
        "top_searches": top(searches, "query"),
        "no_result": top(none, "query"),
        "top_items": top(views, "code"),
        "guides_printed": guides,
        "guides_failed": guides_failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(kind: &str, time: &str, payload: Value) -> Seen {
        Seen { kind: kind.into(), time_utc: time.into(), payload }
    }

    #[test]
    fn statistics_count_hours_waits_and_the_good_rate_as_the_county_does() {
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        let entries = [
            seen("ticket_issued", "2026-11-26T01:10:00.000Z", json!({"ticket_id": "t1", "category": "A"})),
            seen("ticket_issued", "2026-11-26T01:20:00.000Z", json!({"ticket_id": "t2", "category": "A"})),
            seen("ticket_issued", "2026-11-26T02:00:00.000Z", json!({"ticket_id": "t3", "category": "B"})),
            seen("ticket_called", "2026-11-26T01:16:00.000Z", json!({"ticket_id": "t1", "counter": "1"})),
            seen(
                "ticket_called",
                "2026-11-26T01:30:00.000Z",
                json!({"ticket_id": "t1", "counter": "1", "recall": true}),
            ),
            seen("ticket_called", "2026-11-26T01:50:00.000Z", json!({"ticket_id": "t2", "counter": "1"})),
            seen(
                "evaluation",
                "2026-11-26T03:00:00.000Z",
                json!({"level": 5, "transaction": {"kind": "ticket", "ticket_id": "k-20261126-A023"}}),
            ),
            seen(
                "evaluation",
                "2026-11-26T03:01:00.000Z",
                json!({"level": 4, "transaction": {"kind": "guide_print", "code": "X-1"}}),
            ),
            seen(
                "evaluation",
                "2026-11-26T03:02:00.000Z",
                json!({"level": 2, "transaction": {"kind": "ticket", "ticket_id": "k-20261126-B1001"}}),
            ),
            // 16:30Z is the next local day in Linshu.
            seen(
                "evaluation",
                "2026-11-26T16:30:00.000Z",
                json!({"level": 1, "transaction": {"kind": "case_query", "case_number": "1"}}),
            ),
            seen("licence_printed", "2026-11-26T03:05:00.000Z", json!({"copies": 2})),
            seen("device_fault", "2026-11-26T03:06:00.000Z", json!({"device": "ticket_printer"})),
        ];
        let s = Stats::count(&entries, &tz);
        let searches = [
            seen(
                "catalogue_search",
                "2026-11-26T01:00:00.000Z",
                json!({"query": "bdc", "results": 30, "opened": "X-1"}),
            ),
            seen(
                "catalogue_search",
                "2026-11-26T01:01:00.000Z",
                json!({"query": "bdc", "results": 30, "opened": "X-1"}),
            ),
            seen("catalogue_search", "2026-11-26T01:02:00.000Z", json!({"query": "qqq", "results": 0})),
            seen("catalogue_item_viewed", "2026-11-26T01:03:00.000Z", json!({"code": "X-1", "from": "search"})),
            seen("guide_printed", "2026-11-26T01:04:00.000Z", json!({"code": "X-1", "ok": true})),
        ];
        let c = catalogue_stats(&searches);
        assert_eq!(c["top_searches"][0], json!({"query": "bdc", "count": 2}));
        assert_eq!(c["no_result"], json!([{"query": "qqq", "count": 1}]));
        assert_eq!(c["top_items"], json!([{"code": "X-1", "count": 1}]));
        assert_eq!(c["guides_printed"], json!(1));
        assert_eq!(s.tickets_by_category_hour["A"][&9], 2, "01:10Z is 09:10 in Linshu");
        // 好评率 per day, flow and category.
        assert_eq!(s.ratings_by_day["2026-11-26"].good_rate, Some(2.0 / 3.0));
        assert_eq!(s.ratings_by_day["2026-11-27"].levels, BTreeMap::from([(1, 1)]));
        assert_eq!(s.ratings_by_day["2026-11-27"].good_rate, Some(0.0));
        assert_eq!(s.ratings_by_flow["ticket"].good_rate, Some(0.5));
        assert_eq!(s.ratings_by_flow["guide_print"].good_rate, Some(1.0));
        assert_eq!(s.ratings_by_flow["case_query"].levels, BTreeMap::from([(1, 1)]));
        assert_eq!(s.ratings_by_category["A"].good_rate, Some(1.0));
        assert_eq!(s.ratings_by_category["B"].levels, BTreeMap::from([(2, 1)]));
        assert_eq!(s.good_rate, Some(0.5));
        assert_eq!(s.tickets_by_category_hour["B"][&10], 1);
        assert_eq!(s.waits["A"], Waits { called: 2, average_min: 18.0, median_min: 18.0, longest_min: 30.0 });
        assert!(!s.waits.contains_key("B"), "an uncalled ticket has no wait");
        assert_eq!((s.licence_prints, s.licence_copies), (1, 2));
        assert_eq!(s.faults["ticket_printer"], 1);
    }

    #[test]
    fn tallies_read_categories_from_ticket_numbers_and_escape_labels() {
        let t = Tally::count(&[
            seen("ticket_printed", "", json!({"number": "AB012"})),
            seen("ticket_shown", "", json!({"number": "A013", "code": "123456"})),
            seen("ticket_print_failed", "", json!({"number": "A1", "cause": "paper_out"})),
            seen("session_start", "", json!({"flow": "take_number"})),
        ]);
        assert_eq!(t.tickets_printed["AB"], 1);
        assert_eq!(t.tickets_shown["A"], 1, "shown on screen, told apart from printed");
        assert_eq!(t.tickets_failed[&("A".to_owned(), "paper_out".to_owned())], 1);
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
