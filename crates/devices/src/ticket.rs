//! Issuing and printing a queue ticket end to end: number (journaled) → template → ESC/POS → printer → outcome (journaled).

pub use crate::ticket_printer::{PRINTER_TIMEOUT, TicketPrinter};
use config::Config;
use drivers::escpos::{Align, Block, Document, Size, StatusFault, encode_with};
use journal::{Journal, NewEntry, TicketState, payload};
use queue::{Queue, QueueError, Ticket};
use std::collections::BTreeMap;

/// The built-in ticket template (assets/templates/ticket.toml).
pub const TICKET_TEMPLATE: &str = include_str!("../../../assets/templates/ticket.toml");

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Template {
    block: Vec<TemplateBlock>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateBlock {
    text: Option<String>,
    qr: Option<String>,
    feed: Option<u8>,
    #[serde(default)]
    cut: bool,
    #[serde(default)]
    align: Align,
    #[serde(default)]
    size: Size,
    #[serde(default)]
    bold: bool,
    when: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("The print template is not valid TOML ({0}).")]
    Syntax(String),
    #[error("The print template uses {{{0}}}, which is not a known placeholder.")]
    UnknownPlaceholder(String),
}

fn substitute(text: &str, values: &BTreeMap<&str, String>) -> Result<String, TemplateError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').ok_or_else(|| TemplateError::UnknownPlaceholder(rest[start..].to_owned()))?;
        let key = &rest[start + 1..start + end];
        out.push_str(values.get(key).ok_or_else(|| TemplateError::UnknownPlaceholder(key.to_owned()))?);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Fills a template: `{placeholders}` from `values`; blocks with `when = "flag"` only when `flags` has it.
pub fn render_template(
    template: &str,
    values: &BTreeMap<&str, String>,
    flags: &[&str],
) -> Result<Document, TemplateError> {
    let tpl: Template = toml::from_str(template).map_err(|e| TemplateError::Syntax(e.to_string()))?;
    let mut doc = Document::default();
    for b in tpl.block {
        if b.when.as_deref().is_some_and(|w| !flags.contains(&w)) {
            continue;
        }
        if let Some(text) = &b.text {
            doc.blocks.push(Block::Text {
                text: substitute(text, values)?,
                align: b.align,
                size: b.size,
                bold: b.bold,
            });
        }
        if let Some(qr) = &b.qr {
            doc.blocks.push(Block::Qr { data: substitute(qr, values)?, align: b.align });
        }
        if let Some(n) = b.feed {
            doc.blocks.push(Block::Feed(n));
        }
        if b.cut {
            doc.blocks.push(Block::Cut);
        }
    }
    Ok(doc)
}

/// Fills the ticket template with a ticket's facts.
pub fn render_ticket(template: &str, hall_name: &str, t: &Ticket) -> Result<Document, TemplateError> {
    let values: BTreeMap<&str, String> = BTreeMap::from([
        ("hall_name", hall_name.to_owned()),
        ("category_zh", t.category_zh.clone()),
        ("category_en", t.category_en.clone()),
        ("number", t.display.clone()),
        ("waiting_ahead", t.waiting_ahead.to_string()),
        ("time", t.issued_at.clone()),
        ("ticket_id", t.id.clone()),
        ("business_day", t.business_day.clone()),
        ("window_zh", t.window_zh.clone()),
        ("window_en", t.window_en.clone()),
        ("wait_minutes", t.wait_minutes.to_string()),
        ("rating_url", t.rating_url.clone()),
    ]);
    // Blocks that print only when there is something to say: priority, where to wait, an estimated wait,
    // the rating link.
    let flags: Vec<&str> = [
        (t.priority, "priority"),
        (!t.window_zh.is_empty() || !t.window_en.is_empty(), "window"),
        (t.wait_minutes > 0, "wait"),
        (!t.rating_url.is_empty(), "rating"),
        // The hall's queue did not answer: the count above is this kiosk's own.
        (t.counted == queue::Counted::KioskOnly, "kiosk_only"),
    ]
    .into_iter()
    .filter_map(|(on, flag)| on.then_some(flag))
    .collect();
    render_template(template, &values, &flags)
}

/// The transaction receipt template (assets/templates/receipt.toml).
/// The test page the maintenance screen and `kiosk doctor --test-print` print: the receipt template with
/// the hall, the kiosk and the local time.
pub fn test_page(hall_name: &str, kiosk_id: &str, tz: &jiff::tz::TimeZone) -> Result<Document, TemplateError> {
    let now = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string();
    let values = std::collections::BTreeMap::from([
        ("hall_name", hall_name.to_owned()),
        ("service_zh", "打印测试".to_owned()),
        ("service_en", "Test print".to_owned()),
        ("result_zh", "打印机工作正常".to_owned()),
        ("result_en", "the printer works".to_owned()),
        ("transaction_id", format!("{kiosk_id}-test")),
        ("time", now),
    ]);
    render_template(RECEIPT_TEMPLATE, &values, &[])
}

/// Prints the test page on `printer` (the maintenance screen, the staff API); the outcome updates its state.
pub fn print_test_page(
    printer: &TicketPrinter,
    journal: &Journal,
    hall_name: &str,
    kiosk_id: &str,
    tz: &jiff::tz::TimeZone,
) -> Result<(), TestPrintError> {
    let doc = test_page(hall_name, kiosk_id, tz)?;
    Ok(printer.print_document(&doc, journal)?)
}

/// Why the test page did not come out.
#[derive(Debug, thiserror::Error)]
pub enum TestPrintError {
    #[error("the test page cannot be made ({0})")]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Document(#[from] crate::ticket_printer::DocumentError),
}

pub const RECEIPT_TEMPLATE: &str = include_str!("../../../assets/templates/receipt.toml");

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("Ticket {number} was not printed: {}", .fault.technician())]
    NotPrinted { number: String, ticket_id: String, fault: StatusFault },
    #[error("Ticket {number} is {state}; only a ticket that is {wanted} can be changed this way.")]
    WrongState { number: String, state: TicketState, wanted: &'static str },
    #[error("The card was refused ({0:?}); use a valid card.")]
    CardRefused(crate::cards::CardRefusal),
    #[error("Ticket {number} cannot be laid out: {source}")]
    Layout { number: String, source: Box<dyn std::error::Error + Send + Sync> },
}

impl TicketError {
    /// What the citizen is told.
    pub fn reason(&self) -> vocabulary::Reason {
        use vocabulary::Reason;
        match self {
            TicketError::Queue(q) => q.reason(),
            TicketError::NotPrinted { number, fault, .. } => {
                Reason::TicketNotPrinted { number: number.clone(), trouble: crate::printer_trouble(*fault) }
            }
            TicketError::CardRefused(r) => r.reason(),
            TicketError::WrongState { .. } | TicketError::Layout { .. } => Reason::TicketFailed,
        }
    }
}

/// Takes a number, prints it, records the outcome. On any printer fault the ticket is
/// ticket_print_failed (it never waits in the queue unprinted) and the error names the cause.
pub fn issue_and_print(
    queue: &Queue,
    printer: &TicketPrinter,
    hall_name: &str,
    prefix: &str,
    now: jiff::Timestamp,
    session_id: &str,
) -> Result<Ticket, TicketError> {
    let (ticket, _) = queue.issue(prefix, now, None, false, session_id)?;
    print_ticket(queue, printer, hall_name, ticket, false, session_id)
}

/// Prints a slip that is not a ticket (a guide, a case's progress) on the ticket printer; a printer fault is
/// observed (journaled once per outage) and returned as what the citizen is told. `what` names it in logs.
pub fn print_document(
    printer: &TicketPrinter,
    doc: &drivers::escpos::Document,
    journal: &journal::Journal,
    what: &str,
) -> Result<(), vocabulary::Reason> {
    use vocabulary::Reason;
    let bytes = drivers::escpos::encode_with(doc, printer.profile(), printer.raster()).map_err(|e| {
        log::error!("{what} cannot be encoded: {e}");
        Reason::TicketFailed
    })?;
    let result = printer.print(bytes);
    let fault = result.as_ref().err().map(drivers::escpos::transport::PrintError::fault);
    printer.health().observe(journal, fault, journal::payload::HealthSource::Job);
    match fault {
        None => Ok(()),
        Some(f) => Err(Reason::Printer(crate::printer_trouble(f))),
    }
}

/// A priority ticket for an appointment checked in (预约签到): `record` gives the check-in's journal entry
/// and the outbox message that tells the platform, written in one transaction right after the ticket
/// (before it is printed, as every ticket is), so that the check-in stays on record, and reaches the
/// platform once, whatever the printer or the network does.
pub fn issue_for_appointment(
    queue: &Queue,
    printer: &TicketPrinter,
    hall_name: &str,
    prefix: &str,
    now: jiff::Timestamp,
    session_id: &str,
    record: impl FnOnce(&Ticket) -> (journal::NewEntry, (String, serde_json::Value)),
) -> Result<Ticket, TicketError> {
    let (ticket, _) = queue.issue(prefix, now, None, true, session_id)?;
    let (entry, (path, body)) = record(&ticket);
    let entry = entry.in_session(session_id);
    queue
        .journal()
        .transact(move |conn| {
            platform::outbox::enqueue_in(conn, &path, &body, now)?;
            Ok((vec![entry], ()))
        })
        .map_err(|e| TicketError::Queue(QueueError::from(e)))?;
    print_ticket(queue, printer, hall_name, ticket, false, session_id)
}

/// A ticket for a category that requires an ID card: the card rules ([`crate::cards::admit`]) check and
/// journal the card, and age from the card can make it a priority ticket.
#[allow(clippy::too_many_arguments)]
pub fn issue_with_card(
    queue: &Queue,
    printer: &TicketPrinter,
    config: &Config,
    tz: &jiff::tz::TimeZone,
    prefix: &str,
    card: &drivers::idcard::IdCard,
    now: jiff::Timestamp,
    session_id: &str,
) -> Result<Ticket, TicketError> {
    let today = crate::cards::today(now, tz);
    let priority = card.age_on(today) >= config.queue.priority_age;
    let admitted = crate::cards::admit(
        queue.journal(),
        card,
        today,
        payload::CardPurpose::Ticket,
        Some(priority),
        config.journal.id_mask_keep,
        session_id,
    )
    .map_err(|e| match e {
        crate::cards::CardRuleError::Refused(r) => TicketError::CardRefused(r),
        crate::cards::CardRuleError::Journal(j) => TicketError::Queue(QueueError::from(j)),
    })?;
    let (ticket, _) = queue.issue(prefix, now, Some(admitted.subject), priority, session_id)?;
    print_ticket(queue, printer, &config.kiosk.hall_name, ticket, false, session_id)
}

/// Prints a ticket whose print failed again, with the same number (ticket_reprinted).
pub fn reprint(
    queue: &Queue,
    printer: &TicketPrinter,
    hall_name: &str,
    ticket_id: &str,
) -> Result<Ticket, TicketError> {
    let (ticket, state) = queue.load(ticket_id)?;
    if state != TicketState::PrintFailed {
        return Err(TicketError::WrongState { number: ticket.display, state, wanted: "print_failed" });
    }
    print_ticket(queue, printer, hall_name, ticket, true, "")
}

/// Voids a ticket that was never handed out (issued or print_failed), so it never waits in the queue.
pub fn void(queue: &Queue, ticket_id: &str, reason: &str) -> Result<Ticket, TicketError> {
    let (ticket, state) = queue.load(ticket_id)?;
    if !matches!(state, TicketState::Issued | TicketState::PrintFailed) {
        return Err(TicketError::WrongState { number: ticket.display, state, wanted: "issued or print_failed" });
    }
    let state = TicketState::Voided;
    let entry = payload::TicketVoided {
        ticket_id: ticket.id.clone(),
        state,
        number: ticket.display.clone(),
        reason: reason.to_owned(),
    };
    queue.record(&ticket.id, state, entry, "")?;
    Ok(ticket)
}

/// The six-digit code of a ticket shown on screen: keyed with this kiosk's secret (the subject key), so a
/// picture of a made-up number does not carry the right code; the counter API gives it with the ticket.
pub fn verification_code(journal: &journal::Journal, ticket_id: &str) -> Result<String, QueueError> {
    let secret = journal::keys::load_or_create_secret(&journal.settings().secret_path)?;
    let keyed = journal::SubjectKey::from_bytes(*secret).subject(&format!("shown-ticket:{ticket_id}"));
    let n = u32::from_str_radix(keyed.get(..8).unwrap_or("0"), 16).unwrap_or(0);
    Ok(format!("{:06}", n % 1_000_000))
}

/// Shows `ticket` on screen instead of printing it (the printer's `cause` fault is known and the category
/// offers it): journaled as `ticket_shown` with its code, and it waits like a printed ticket.
fn show_ticket(queue: &Queue, mut ticket: Ticket, cause: &str, session_id: &str) -> Result<Ticket, TicketError> {
    let code = verification_code(queue.journal(), &ticket.id)?;
    let entry = payload::TicketShown {
        ticket_id: ticket.id.clone(),
        state: TicketState::Shown,
        number: ticket.display.clone(),
        code: code.clone(),
        cause: cause.to_owned(),
    };
    queue.record(&ticket.id, TicketState::Shown, entry, session_id)?;
    ticket.shown_code = Some(code);
    Ok(ticket)
}

fn print_ticket(
    queue: &Queue,
    printer: &TicketPrinter,
    hall_name: &str,
    ticket: Ticket,
    reprint: bool,
    session_id: &str,
) -> Result<Ticket, TicketError> {
    // A printer known not to print, and a category that offers its number on screen: shown, not printed.
    if !reprint
        && let Some(fault) = printer.health().fault()
        && queue.categories().iter().any(|c| c.prefix == ticket.prefix && c.show_when_unprinted)
    {
        return show_ticket(queue, ticket, fault.code(), session_id);
    }
    let failed = |cause: &str, detail: String| payload::TicketPrintFailed {
        ticket_id: ticket.id.clone(),
        state: TicketState::PrintFailed,
        number: ticket.display.clone(),
        cause: cause.to_owned(),
        detail,
    };
    let bytes = render_ticket(TICKET_TEMPLATE, hall_name, &ticket)
        .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        .and_then(|doc| encode_with(&doc, printer.profile(), printer.raster()).map_err(|e| Box::new(e) as _));
    let bytes = match bytes {
        Ok(b) => b,
        Err(source) => {
            queue.record(&ticket.id, TicketState::PrintFailed, failed("layout", source.to_string()), session_id)?;
            return Err(TicketError::Layout { number: ticket.display, source });
        }
    };
    match printer.print(bytes) {
        Ok(report) => {
            let (ticket_id, state, number) = (ticket.id.clone(), TicketState::Printed, ticket.display.clone());
            let entry: NewEntry = if reprint {
                payload::TicketReprinted { ticket_id, state, number }.into()
            } else {
                payload::TicketPrinted { ticket_id, state, number }.into()
            };
            queue.record(&ticket.id, state, entry, session_id)?;
            printer.health().observe(queue.journal(), None, journal::payload::HealthSource::Job);
            if report.paper_near_end {
                queue
                    .journal()
                    .append(
                        payload::DeviceFault {
                            device: payload::Device::TicketPrinter,
                            severity: payload::Severity::Warning,
                            fault: Some("paper_near_end".into()),
                            source: Some(payload::HealthSource::Job),
                            detail: None,
                            message: Some("The ticket printer's paper is nearly out; replace the roll soon.".into()),
                        }
                        .into(),
                    )
                    .map_err(QueueError::from)?;
            }
            Ok(ticket)
        }
        Err(e) => {
            let fault = e.fault();
            log::warn!("ticket {} not printed: {e}", ticket.display);
            queue.record(&ticket.id, TicketState::PrintFailed, failed(fault.code(), e.to_string()), session_id)?;
            // The printer's one state: a fault the owner's probe already journaled is not journaled again.
            printer.health().observe(queue.journal(), Some(fault), journal::payload::HealthSource::Job);
            Err(TicketError::NotPrinted { number: ticket.display, ticket_id: ticket.id, fault })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(doc: &Document) -> Vec<String> {
        doc.blocks
            .iter()
            .filter_map(|b| if let Block::Text { text, .. } = b { Some(text.clone()) } else { None })
            .collect()
    }

    #[test]
    fn the_receipt_template_fills_every_placeholder() {
        let receipt = render_template(
            RECEIPT_TEMPLATE,
            &BTreeMap::from([
                ("hall_name", "临沭县24小时政务服务大厅".to_owned()),
                ("service_zh", "营业执照打印".to_owned()),
                ("service_en", "Business licence print".to_owned()),
                ("result_zh", "已打印 1 份".to_owned()),
                ("result_en", "1 copy printed".to_owned()),
                ("transaction_id", "linshu-county-01-42".to_owned()),
                ("time", "2026-11-25 21:00".to_owned()),
            ]),
            &[],
        )
        .unwrap();
        let t = texts(&receipt);
        assert!(
            t.iter().any(|l| l.contains("营业执照打印")) && t.iter().any(|l| l.contains("1 copy printed")),
            "{t:?}"
        );
        assert_eq!(receipt.blocks.last(), Some(&Block::Cut));
    }

    #[test]
    fn an_unknown_placeholder_is_an_error() {
        let err = render_template("[[block]]\ntext = \"{nope}\"\n", &BTreeMap::new(), &[]).unwrap_err();
        assert_eq!(err.to_string(), "The print template uses {nope}, which is not a known placeholder.");
    }
}
