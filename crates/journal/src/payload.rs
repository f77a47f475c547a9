//! One serde struct per entry kind: what each kind's payload holds, typed, written in one place.
//! `docs/journal-format.md` lists the same fields (a test compares them), and the JSON is exactly what the
//! hash chain covers through the payload digest.

use super::{EntryKind, NewEntry};
use serde::Serialize;
use vocabulary::{EndReason, Transaction};

/// A ticket's state, stored by its name in the `tickets` table and in ticket entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Issued,
    Printed,
    PrintFailed,
    Voided,
    Called,
    Completed,
    NoShow,
    /// Issued and shown on screen, not printed (the printer could not print): it waits like a printed one.
    Shown,
}

impl TicketState {
    pub const ALL: [TicketState; 8] = [
        TicketState::Issued,
        TicketState::Printed,
        TicketState::PrintFailed,
        TicketState::Voided,
        TicketState::Called,
        TicketState::Completed,
        TicketState::NoShow,
        TicketState::Shown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Issued => "issued",
            TicketState::Printed => "printed",
            TicketState::PrintFailed => "print_failed",
            TicketState::Voided => "voided",
            TicketState::Called => "called",
            TicketState::Completed => "completed",
            TicketState::NoShow => "no_show",
            TicketState::Shown => "shown",
        }
    }

    pub fn parse(s: &str) -> Option<TicketState> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for TicketState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares a payload field's closed set of values: serde writes each as its snake_case name, exactly the
/// bytes the string field wrote before (docs/journal-format.md lists them).
macro_rules! field_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

field_enum! {
    /// The devices whose outages are journaled.
    Device { IdReader => "id_reader", TicketPrinter => "ticket_printer", LicencePrinter => "licence_printer" }
}

field_enum! {
    /// How bad a device fault is: `error` stops the device's service, `warning` does not (yet).
    Severity { Error => "error", Warning => "warning" }
}

field_enum! {
    /// Who noticed a device's state: a probe, a job, a licence print, the reader itself, a flow asking
    /// before it starts.
    HealthSource { Probe => "probe", Job => "job", Print => "print", Reader => "reader", Flow => "flow" }
}

field_enum! {
    /// What a card was read for.
    CardPurpose { Ticket => "ticket", Licence => "licence", Appointment => "appointment", CaseProgress => "case_progress" }
}

field_enum! {
    /// Where a rating was given.
    Channel { Kiosk => "kiosk" }
}

field_enum! {
    /// How a technician logged in to the maintenance screen.
    LoginMethod { Pin => "pin" }
}

field_enum! {
    /// What a technician did on the maintenance screen (or through the staff API).
    MaintenanceActionKind { TestPrint => "test_print", ExportJournal => "export_journal", Logout => "logout" }
}

macro_rules! payloads {
    ($( $(#[$doc:meta])* $kind:ident { $( $(#[$m:meta])* $field:ident : $ty:ty ),* $(,)? } )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
            pub struct $kind { $( $(#[$m])* pub $field: $ty ),* }

            impl From<$kind> for NewEntry {
                fn from(p: $kind) -> NewEntry {
                    // A struct of strings, numbers and enums always serialises; Null would still be journaled.
                    NewEntry::new(EntryKind::$kind, serde_json::to_value(&p).unwrap_or(serde_json::Value::Null))
                }
            }
        )*

        /// Every kind with a payload struct and its fields, in order (the format document lists the same).
        pub const PAYLOAD_FIELDS: &[(EntryKind, &[&str])] = &[ $( (EntryKind::$kind, &[ $( stringify!($field) ),* ]) ),* ];

        /// Parses `payload` as `kind`'s struct; None for a kind without one.
        fn parse_as(kind: EntryKind, payload: &str) -> Option<Result<(), serde_json::Error>> {
            match kind {
                $( EntryKind::$kind => Some(serde_json::from_str::<$kind>(payload).map(|_| ())), )*
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }
    };
}

fn no(b: &bool) -> bool {
    !*b
}

payloads! {
    /// The kiosk started.
    Boot { version: String }
    /// The kiosk stopped; `clean` is false when the UI loop ended with an error.
    Shutdown { clean: bool }
    /// The configuration the kiosk started with (nothing secret).
    ConfigLoaded { hall_name: String, categories: Vec<String> }
    /// A citizen session opened on a flow (`take_number`, `licence`, `rating`, `find_service`, …).
    SessionStart { flow: String }
    SessionEnd { reason: EndReason }
    /// A card the rules let through, for `purpose` (`ticket`, `licence`).
    CardRead {
        subject: String,
        id_masked: String,
        card_kind: drivers::idcard::CardKind,
        purpose: CardPurpose,
        #[serde(skip_serializing_if = "Option::is_none")]
        priority: Option<bool>,
    }
    /// A card refused (`reason` = `expired`, with the card's subject) or unreadable (`reason` = the reader's
    /// error, no subject).
    CardReadFailed {
        #[serde(skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        id_masked: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        card_kind: Option<drivers::idcard::CardKind>,
        #[serde(skip_serializing_if = "Option::is_none")]
        purpose: Option<CardPurpose>,
        reason: String,
    }
    TicketIssued {
        ticket_id: String,
        number: String,
        category: String,
        business_day: String,
        waiting_ahead: u32,
        priority: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        /// With a shared hall queue: "hall" (the hall database gave it) or "offline" (this kiosk's band).
        #[serde(skip_serializing_if = "Option::is_none")]
        numbering: Option<String>,
        /// With a shared hall queue, whose tickets `waiting_ahead` counts: "hall" (the hall database's) or
        /// "kiosk" (this kiosk's only: the hall database did not answer).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ahead_counted: Option<String>,
    }
    TicketPrinted { ticket_id: String, state: TicketState, number: String }
    /// The printer could not print: the number was shown on screen with its verification `code`.
    TicketShown { ticket_id: String, state: TicketState, number: String, code: String, cause: String }
    /// `cause` is the printer fault's code, or `layout`.
    TicketPrintFailed { ticket_id: String, state: TicketState, number: String, cause: String, detail: String }
    TicketReprinted { ticket_id: String, state: TicketState, number: String }
    TicketVoided { ticket_id: String, state: TicketState, number: String, reason: String }
    TicketCalled {
        ticket_id: String,
        state: TicketState,
        counter: String,
        #[serde(default, skip_serializing_if = "no")]
        recall: bool,
    }
    TicketCompleted { ticket_id: String, state: TicketState }
    TicketNoShow { ticket_id: String, state: TicketState }
    /// A called ticket sent back to wait in `category`, for `counter` only when given.
    TicketTransferred {
        ticket_id: String,
        state: TicketState,
        category: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        counter: Option<String>,
    }
    /// Written before the job is sent: the copies are reserved with it.
    LicencePrintRequested {
        print_id: String,
        document_id: String,
        document_type: String,
        copies: u32,
        allowed: u32,
        used_before: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
    }
    LicencePrinted { print_id: String, document_id: String, copies: u32, job_id: i32 }
    /// `reason` is the fault's code (`media_empty`, `copy_limit`, …); `print_id` once copies were reserved.
    LicencePrintFailed {
        document_id: String,
        document_type: String,
        copies: u32,
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        print_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    }
    /// A GB/T 39734 rating; levels 1 and 2 are flagged for follow-up, with the number the citizen left for it
    /// (masked: the number itself goes to the platform only).
    Evaluation {
        transaction: Transaction,
        level: u8,
        level_name: String,
        reason: Option<String>,
        channel: Channel,
        follow_up: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contact_masked: Option<String>,
    }
    AssistanceCalled { from: String }
    /// The service catalogue in use changed (`source`: `start`, `api`, `file`), by its digest.
    CatalogueLoaded { digest: String, updated: String, items: u64, points: u64, source: String }
    /// A search a citizen settled on: the item opened from it, or none found (`opened` empty).
    CatalogueSearch { query: String, results: u64, #[serde(skip_serializing_if = "Option::is_none")] opened: Option<String> }
    /// An item's page was opened (`from`: `search`, `theme`, `department`, `frequent`, `village`).
    CatalogueItemViewed { code: String, from: String }
    /// A guide to an item was printed on the thermal printer (`ok` false: the printer failed).
    GuidePrinted { code: String, ok: bool }
    /// 预约签到: the appointment (its code, not its holder) checked in with a priority ticket in its category;
    /// `offline` when it came from the day's imported file because the platform could not be reached.
    AppointmentCheckedIn { code: String, category: String, ticket: String, offline: bool }
    /// 政务专递: a finished case's result is to be posted to one of the applicant's saved addresses (its id,
    /// never the address); `request_id` is the platform's.
    DeliveryRequested { case_number: String, address_id: String, request_id: String }
    /// 政务专递, before the request leaves the kiosk: what is about to be asked of the platform, with the
    /// idempotency key it carries (a platform that got it and an answer that got lost are then the same
    /// request). Journaled first: no request goes out that the journal does not hold.
    DeliveryIntent { case_number: String, address_id: String, idempotency_key: String }
    /// 政务专递: the platform refused or could not be reached (`reason`, the technician's words); the
    /// citizen was told. Nothing is posted.
    DeliveryFailed { case_number: String, idempotency_key: String, reason: String }
    /// One per outage of `device`, whoever noticed it (`source`: `probe`, `job`, `print`).
    DeviceFault {
        device: Device,
        severity: Severity,
        #[serde(skip_serializing_if = "Option::is_none")]
        fault: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<HealthSource>,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    }
    DeviceRecovered {
        device: Device,
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<HealthSource>,
    }
    MaintenanceLogin { method: LoginMethod }
    MaintenanceLoginFailed { attempt: u32 }
    MaintenanceAction {
        action: MaintenanceActionKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        ok: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    }
    JournalExported {
        format: String,
        from: Option<String>,
        to: Option<String>,
        kinds: Vec<String>,
        entries: u64,
        first_seq: Option<u64>,
        last_seq: Option<u64>,
        sha256: String,
    }
    RetentionPurge { before: String, retention_days: u32, payloads_cleared: usize }
    /// Missing or wrong staff tokens from one address since its last such entry (at most one a minute), and
    /// requests refused while the address was blocked.
    AuthFailed { address: String, failures: u32, refused_while_blocked: u32, blocked: bool }
    /// The kiosk's own check found the journal altered (`check`: `start` for the tail, `background` for the
    /// whole file) at `seq`; the kiosk keeps serving and never rewrites history to repair it.
    JournalIntegrityFailed { check: String, seq: u64, what: String }
    /// A seal could not be written (its epoch, the head it was for, why): the entries committed, and the
    /// stretch they start stays unsealed until a later seal succeeds. Written once per epoch.
    SealFailed { epoch: u64, seq: u64, error: String }
}

/// Why an entry's payload is not what its kind says, for the county's store (which keeps the entry, since
/// the chain needs it, and leaves it out of the figures): it must be JSON; a known kind's must parse as its
/// struct (unknown fields are allowed: a newer kiosk may add some), and the values the county's figures
/// read must be in their range (a rating's `level` 1–5, a ticket's `business_day` a calendar date).
/// A purged payload (NULL) is not checked. The sentence names the kind and what is wrong.
pub fn check(kind: &str, payload: &str) -> Result<(), PayloadProblem> {
    let value: serde_json::Value = serde_json::from_str(payload)
        .map_err(|e| PayloadProblem::NotJson { kind: kind.to_owned(), why: e.to_string() })?;
    let Some(known) = EntryKind::parse(kind) else { return Ok(()) };
    if let Some(Err(e)) = parse_as(known, payload) {
        return Err(PayloadProblem::NotItsKind { kind: kind.to_owned(), why: e.to_string() });
    }
    match known {
        EntryKind::Evaluation => match value.get("level").and_then(serde_json::Value::as_u64) {
            Some(1..=5) => Ok(()),
            _ => Err(PayloadProblem::LevelOutOfRange(value["level"].to_string())),
        },
        EntryKind::TicketIssued => {
            let day = value.get("business_day").and_then(serde_json::Value::as_str).unwrap_or_default();
            match (day.len(), day.parse::<jiff::civil::Date>()) {
                (10, Ok(_)) => Ok(()),
                _ => Err(PayloadProblem::NotADate(day.to_owned())),
            }
        }
        _ => Ok(()),
    }
}

/// What is wrong with a sealed payload, for the county's store ([`check`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadProblem {
    #[error("the {kind} payload is not JSON ({why})")]
    NotJson { kind: String, why: String },
    #[error("the payload does not parse as {kind} ({why})")]
    NotItsKind { kind: String, why: String },
    #[error("the evaluation's level {0} is not one of 1 to 5")]
    LevelOutOfRange(String),
    #[error("the ticket's business_day {0:?} is not a date (YYYY-MM-DD)")]
    NotADate(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_checked_against_its_kind() {
        let rating = |level: &str| {
            format!(
                r#"{{"transaction":{{"kind":"ticket","ticket_id":"t"}},"level":{level},"level_name":"","reason":null,"channel":"kiosk","follow_up":false}}"#
            )
        };
        assert_eq!(check("evaluation", &rating("5")), Ok(()));
        let wrong = check("evaluation", &rating("\"x\"")).unwrap_err().to_string();
        assert!(wrong.starts_with("the payload does not parse as evaluation (invalid type: string \"x\""), "{wrong}");
        assert_eq!(check("evaluation", &rating("9")), Err(PayloadProblem::LevelOutOfRange("9".into())));
        assert_eq!(
            check("evaluation", &rating("9")).unwrap_err().to_string(),
            "the evaluation's level 9 is not one of 1 to 5"
        );
        let ticket = |day: &str| {
            format!(
                r#"{{"ticket_id":"t","number":"A001","category":"A","business_day":"{day}","waiting_ahead":0,"priority":false}}"#
            )
        };
        assert_eq!(check("ticket_issued", &ticket("2026-11-25")), Ok(()));
        assert!(check("ticket_issued", &ticket("2026-02-30")).unwrap_err().to_string().contains("is not a date"));
        assert!(check("ticket_issued", &ticket("someday")).unwrap_err().to_string().contains("is not a date"));
        assert!(check("session_end", "{\"reason\":\"bored\"}").unwrap_err().to_string().contains("unknown variant"));
        assert!(check("boot", "{\"version\":\"1\",\"added_later\":1}").is_ok(), "unknown fields are allowed");
        assert!(check("a_kind_from_a_newer_kiosk", "{}").is_ok());
        assert!(check("a_kind_from_a_newer_kiosk", "{").unwrap_err().to_string().contains("is not JSON"));
        assert!(check("ticket_called", r#"{"ticket_id":"t","state":"called","counter":"3"}"#).is_ok());
    }

    #[test]
    fn every_payload_the_kiosk_writes_passes_the_check() {
        let e: NewEntry = SessionEnd { reason: EndReason::Idle }.into();
        assert_eq!(check(e.kind.as_str(), &e.payload.to_string()), Ok(()));
        let e: NewEntry = Evaluation {
            transaction: Transaction::HallService,
            level: 4,
            level_name: "满意".into(),
            reason: None,
            channel: Channel::Kiosk,
            follow_up: false,
            contact_masked: None,
        }
        .into();
        assert_eq!(check(e.kind.as_str(), &e.payload.to_string()), Ok(()));
    }

    #[test]
    fn every_kind_but_the_receipt_has_a_payload_and_the_format_document_lists_its_fields() {
        let doc = include_str!("../../../docs/journal-format.md");
        for kind in EntryKind::ALL {
            let Some((_, fields)) = PAYLOAD_FIELDS.iter().find(|(k, _)| *k == kind) else {
                assert_eq!(kind, EntryKind::ReceiptPrinted, "{kind:?} has no payload struct");
                continue;
            };
            let fields = fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
            let row = format!("| `{}` | {fields} |", kind.as_str());
            assert!(doc.contains(&row), "docs/journal-format.md lacks the row\n{row}");
        }
    }

    #[test]
    fn payloads_serialise_as_before() {
        let e: NewEntry =
            TicketCalled { ticket_id: "t".into(), state: TicketState::Called, counter: "3".into(), recall: false }
                .into();
        assert_eq!(e.kind, EntryKind::TicketCalled);
        assert_eq!(e.payload, serde_json::json!({ "ticket_id": "t", "state": "called", "counter": "3" }));
        let e: NewEntry = SessionEnd { reason: EndReason::CardRemoved }.into();
        assert_eq!(e.payload, serde_json::json!({ "reason": "card_removed" }));
        assert_eq!(TicketState::parse("print_failed"), Some(TicketState::PrintFailed));
    }
}
