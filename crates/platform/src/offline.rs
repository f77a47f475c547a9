//! The day's appointments imported from a file (`kiosk appointments import FILE`), used when the platform
//! cannot be reached. Kept in the journal's database by day and code; the holder only as the subject HMAC
//! (the file's ID numbers are hashed at import and never stored). An import is all or nothing.

use super::appointments::{Appointment, is_code};
use journal::{Journal, JournalError};
use serde::Deserialize;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS offline_appointments (
    day        TEXT NOT NULL,
    code       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    item_name  TEXT NOT NULL,
    category   TEXT NOT NULL,
    start      TEXT NOT NULL,
    checked_in INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, code)
);";

/// The import file: one day's appointments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportFile {
    /// "YYYY-MM-DD", the hall's day the appointments are for.
    date: String,
    appointments: Vec<ImportAppointment>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportAppointment {
    code: String,
    id_number: String,
    item_name: String,
    category: String,
    /// RFC 3339 with offset.
    start: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Replaces the day's imported appointments with those of `text`, or changes nothing and says which one is
/// wrong and why. `categories` are the hall's queue prefixes; `tz` its zone. Returns the day and how many.
pub fn import(
    journal: &Journal,
    text: &str,
    categories: &[String],
    tz: &jiff::tz::TimeZone,
) -> Result<(String, usize), ImportError> {
    let file: ImportFile = serde_json::from_str(text).map_err(|e| {
        ImportError::Invalid(format!(
            "line {}, column {}: {e}; the file is {{\"date\": \"YYYY-MM-DD\", \"appointments\": [...]}} (docs/backend-api.md)",
            e.line(),
            e.column()
        ))
    })?;
    let day: jiff::civil::Date =
        file.date.parse().map_err(|_| ImportError::Invalid(format!("date {:?} is not YYYY-MM-DD.", file.date)))?;
    let mut rows = vec![];
    let mut seen = std::collections::BTreeSet::new();
    for (i, a) in file.appointments.iter().enumerate() {
        let bad = |field: &str, why: String| {
            ImportError::Invalid(format!(
                "appointments[{i}] ({}) {field}: {why}",
                a.code.chars().take(24).collect::<String>()
            ))
        };
        if !is_code(&a.code) {
            return Err(bad("code", "must be 6 to 20 digits.".into()));
        }
        if !seen.insert(a.code.clone()) {
            return Err(bad("code", "appears twice in the file.".into()));
        }
        let id = a.id_number.trim().to_ascii_uppercase();
        if id.len() < 8 || id.len() > 18 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad("id_number", "is not an ID card number.".into()));
        }
        if !categories.contains(&a.category) {
            return Err(bad(
                "category",
                format!("{:?} is not one of this hall's queue categories ({}).", a.category, categories.join(", ")),
            ));
        }
        if a.item_name.trim().is_empty() {
            return Err(bad("item_name", "is empty.".into()));
        }
        // The name is shown on screen, spoken and printed, and echoed by the CLI: no terminal or printer
        // command, no reordering, and no longer than the platform's own bound.
        if let Some((at, c)) = drivers::text::first_unprintable(&a.item_name) {
            return Err(bad(
                "item_name",
                format!(
                    "holds the invisible character {} at character {}; remove it.",
                    drivers::text::describe(c),
                    a.item_name[..at].chars().count() + 1
                ),
            ));
        }
        let chars = a.item_name.chars().count();
        if chars > crate::bounds::MAX_NAME_CHARS {
            return Err(bad(
                "item_name",
                format!("is {chars} characters long (at most {}).", crate::bounds::MAX_NAME_CHARS),
            ));
        }
        let start: jiff::Timestamp =
            a.start.parse().map_err(|_| bad("start", format!("{:?} is not an RFC 3339 time with offset.", a.start)))?;
        if start.to_zoned_datetime(tz.clone()).date() != day {
            return Err(bad("start", format!("is not on {day}.")));
        }
        let subject = journal.subject_key().subject(&id);
        rows.push((a.code.clone(), subject, a.item_name.clone(), a.category.clone(), start.to_string()));
    }
    let n = rows.len();
    let day_s = day.to_string();
    let d = day_s.clone();
    journal.transact(move |conn| {
        conn.execute_batch(SCHEMA)?;
        conn.execute("DELETE FROM offline_appointments WHERE day = ?1", [&d])?;
        let mut insert = conn.prepare(
            "INSERT INTO offline_appointments (day, code, subject, item_name, category, start) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (code, subject, item, category, start) in rows {
            insert.execute(rusqlite::params![d, code, subject, item, category, start])?;
        }
        Ok((vec![], ()))
    })?;
    Ok((day_s, n))
}

/// The imported appointments of `day` for a holder (`subject`) or a `code`.
pub fn find(
    journal: &Journal,
    day: &str,
    subject: Option<String>,
    code: Option<String>,
) -> Result<Vec<Appointment>, JournalError> {
    let day = day.to_owned();
    let (_, rows) = journal.transact(move |conn| {
        conn.execute_batch(SCHEMA)?;
        let mut q = conn.prepare(
            "SELECT code, item_name, category, start, checked_in FROM offline_appointments
             WHERE day = ?1 AND (subject = ?2 OR code = ?3) ORDER BY start",
        )?;
        let rows = q
            .query_map(rusqlite::params![day, subject.unwrap_or_default(), code.unwrap_or_default()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((vec![], rows))
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(code, item_name, category, start, checked_in)| {
            // The day's imported list names the matter in Chinese only.
            Some(Appointment {
                code,
                item_name,
                item_name_en: String::new(),
                category,
                start: start.parse().ok()?,
                checked_in,
            })
        })
        .collect())
}

/// Marks an imported appointment checked in (so that it is not checked in twice while offline).
pub fn mark_checked_in(journal: &Journal, day: &str, code: &str) -> Result<(), JournalError> {
    let (day, code) = (day.to_owned(), code.to_owned());
    journal.transact(move |conn| {
        conn.execute_batch(SCHEMA)?;
        conn.execute("UPDATE offline_appointments SET checked_in = 1 WHERE day = ?1 AND code = ?2", [day, code])?;
        Ok((vec![], ()))
    })?;
    Ok(())
}
