//! Typed reasons to the UI's `Reason` struct: the kind and the names a sentence mentions. The sentences
//! themselves are worded in crates/ui/ui/texts.slint, through the translation catalogue.

use super::{Reason as UiReason, ReasonKind as K};
use vocabulary::{A4Trouble, Named, PrinterTrouble, Reason};

/// No reason: nothing to say.
pub fn none() -> UiReason {
    UiReason::default()
}

pub fn printer_kind(t: PrinterTrouble) -> K {
    match t {
        PrinterTrouble::PaperOut => K::PrinterPaperOut,
        PrinterTrouble::CoverOpen => K::PrinterCoverOpen,
        PrinterTrouble::Cutter => K::PrinterCutter,
        PrinterTrouble::Unavailable => K::PrinterUnavailable,
        PrinterTrouble::Broken => K::PrinterBroken,
    }
}

fn a4_kind(t: A4Trouble) -> K {
    match t {
        A4Trouble::PaperOut => K::A4PaperOut,
        A4Trouble::Jam => K::A4Jam,
        A4Trouble::Toner => K::A4Toner,
        A4Trouble::CoverOpen => K::A4CoverOpen,
        A4Trouble::Unavailable => K::A4Unavailable,
        A4Trouble::JobFailed => K::A4JobFailed,
    }
}

fn named(kind: K, a: &Named, b: &Named) -> UiReason {
    UiReason {
        kind,
        a: a.zh.clone().into(),
        a_en: a.en.clone().into(),
        b: b.zh.clone().into(),
        b_en: b.en.clone().into(),
        ..Default::default()
    }
}

/// The UI's form of `r`.
pub fn to_ui(r: &Reason) -> UiReason {
    let kind = |kind| UiReason { kind, ..Default::default() };
    match r {
        Reason::CardExpired => kind(K::CardExpired),
        Reason::CardUnreadable => kind(K::CardUnreadable),
        Reason::ReaderUnavailable => kind(K::ReaderUnavailable),
        Reason::CategoryClosed { name, opens } => named(K::CategoryClosed, name, opens),
        Reason::NumbersExhausted { name, first, last } => {
            UiReason { b: first.into(), c: last.into(), ..named(K::NumbersExhausted, name, &Named::default()) }
        }
        Reason::DailyLimit { name, limit } => {
            UiReason { n: *limit as i32, ..named(K::DailyLimit, name, &Named::default()) }
        }
        Reason::QueueUnavailable => kind(K::QueueUnavailable),
        Reason::Printer(t) => kind(printer_kind(*t)),
        Reason::TicketNotPrinted { number, trouble } => {
            UiReason { a: number.into(), cause: printer_kind(*trouble), ..kind(K::TicketNotPrinted) }
        }
        Reason::TicketFailed => kind(K::TicketFailed),
        Reason::A4(t) => kind(a4_kind(*t)),
        Reason::LicenceUnavailable => kind(K::LicenceUnavailable),
        Reason::NoDocuments => kind(K::NoDocuments),
        Reason::LookupUnavailable => kind(K::LookupUnavailable),
        Reason::DocumentGone => kind(K::DocumentGone),
        Reason::CopyLimit { allowed } => UiReason { n: *allowed as i32, ..kind(K::CopyLimit) },
        Reason::LicenceFailed => kind(K::LicenceFailed),
        Reason::TicketUnknown { number } => UiReason { a: number.into(), ..kind(K::TicketUnknown) },
        Reason::TicketNotServed { number } => UiReason { a: number.into(), ..kind(K::TicketNotServed) },
        Reason::TicketRated { number } => UiReason { a: number.into(), ..kind(K::TicketRated) },
        Reason::PlatformUnavailable => kind(K::PlatformUnavailable),
        Reason::NoAppointments => kind(K::NoAppointments),
        Reason::NoCases => kind(K::NoCases),
        Reason::NoAddresses => kind(K::NoAddresses),
    }
}

/// The UI's form of an optional reason (none: nothing is said).
pub fn to_ui_opt(r: Option<&Reason>) -> UiReason {
    r.map_or_else(none, to_ui)
}
