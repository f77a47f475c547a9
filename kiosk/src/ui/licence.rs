//! The licence page on the flow controller: the card read and the holder's documents looked up, and the
//! print followed, on the flow's worker; the holder's documents live there only for the session.

use super::controller::{Binding, Context, Job, Setup, sends};
use super::home::FlowHandle;
use super::{AppWindow, DocumentItem, JobStage, LicenceAdapter, LicenceScreen, Page, TileKind};
use crate::devices::IdReaderHandle;
use crate::flows::core::{Input, Phase, Reason, Session};
use crate::flows::licence::{DocumentSummary, Event, Holding, JobStage as Stage, Picture, PrintLicence, Step, Work};
use crate::licence::{DocumentChoice, Licences};
use slint::{ComponentHandle, ModelRc};

/// What the flow's work needs; owned by its worker thread.
pub struct Services {
    pub licences: Licences,
    pub reader: IdReaderHandle,
    pub timezone: jiff::tz::TimeZone,
    pub id_mask_keep: (u8, u8),
    /// The holder's documents (their data is personal): dropped when the session ends.
    pub choices: Vec<DocumentChoice>,
}

/// How wide the copies screen's picture of the first page is drawn (A4 proportions: 420 × 594).
const PREVIEW_WIDTH_PX: u32 = 420;

/// The page binding; it keeps the last picture made into an image, so a redraw each second does not copy it.
#[derive(Default)]
struct Page_ {
    picture: std::cell::RefCell<Option<(std::sync::Arc<[u8]>, slint::Image)>>,
}

impl Page_ {
    fn picture(&self, p: Option<&Picture>) -> slint::Image {
        let Some(p) = p else { return slint::Image::default() };
        let mut cached = self.picture.borrow_mut();
        if let Some((rgba, image)) = cached.as_ref()
            && std::sync::Arc::ptr_eq(rgba, &p.rgba)
        {
            return image.clone();
        }
        let buffer = slint::SharedPixelBuffer::<slint::Rgba8Pixel>::clone_from_slice(&p.rgba, p.width, p.height);
        let image = slint::Image::from_rgba8(buffer);
        *cached = Some((p.rgba.clone(), image.clone()));
        image
    }
}

fn summary(c: &DocumentChoice) -> DocumentSummary {
    DocumentSummary {
        id: c.document.id.clone(),
        // The document's own title (户籍证明) where it has one, else its kind's (营业执照（副本）).
        title_zh: c.document.data.get("title").filter(|t| !t.is_empty()).unwrap_or(&c.title_zh).clone(),
        title_en: c.title_en.clone(),
        number_masked: c.number_masked.clone(),
        remaining: c.remaining,
        // Whose it is: the holder on a certificate, the company on a business licence.
        // A person's name is masked by the one rule (vocabulary::mask); a company's name is public.
        holder: match c.document.data.get("holder_name") {
            Some(person) => vocabulary::mask::name(person),
            None => c.document.data.get("name").cloned().unwrap_or_default(),
        },
    }
}

impl Binding for Page_ {
    type Flow = PrintLicence;
    type Services = Services;
    const PAGE: Page = Page::Licence;

    fn run(s: &mut Services, work: Work, job: &Job<Event>) {
        match work {
            Work::CheckPrinter => job.reply(match s.licences.check_printer() {
                Ok(()) => Event::PrinterReady,
                Err(e) => Event::PrinterUnavailable(e.reason()),
            }),
            Work::Lookup => {
                let Some(card) = s.reader.take_card() else {
                    job.reply(Event::CardRefused(Reason::CardUnreadable));
                    return;
                };
                let today = crate::cards::today(jiff::Timestamp::now(), &s.timezone);
                let admitted = crate::cards::admit(
                    &job.journal,
                    &card,
                    today,
                    crate::journal::payload::CardPurpose::Licence,
                    None,
                    s.id_mask_keep,
                    &job.session_id,
                );
                match admitted {
                    Err(crate::cards::CardRuleError::Refused(r)) => return job.reply(Event::CardRefused(r.reason())),
                    Err(crate::cards::CardRuleError::Journal(e)) => {
                        log::error!("card read not journaled: {e}");
                        return job.reply(Event::LookupFailed(Reason::LookupUnavailable));
                    }
                    Ok(_) => {}
                }
                let result = s.licences.documents_for(&card.id_number);
                let greeting = vocabulary::mask::name(&card.name);
                drop(card);
                job.reply(match result {
                    Ok(choices) if choices.is_empty() => Event::LookupFailed(Reason::NoDocuments),
                    Ok(choices) => {
                        let summaries = choices.iter().map(summary).collect();
                        s.choices = choices;
                        Event::DocumentsLoaded(Holding { greeting, documents: summaries })
                    }
                    Err(e) => Event::LookupFailed(e.reason()),
                });
            }
            Work::Preview { document_id } => {
                let Some(choice) = s.choices.iter().find(|c| c.document.id == document_id) else { return };
                match s.licences.preview(&choice.document, PREVIEW_WIDTH_PX) {
                    Ok(p) => job.reply(Event::Preview {
                        document_id,
                        picture: Picture { width: p.width, height: p.height, rgba: p.rgba.into() },
                    }),
                    // The print itself says what is wrong; the copies screen shows no picture.
                    Err(e) => log::warn!("no preview of {document_id}: {e}"),
                }
            }
            Work::Print { document_id, copies } => {
                let Some(choice) = s.choices.iter().find(|c| c.document.id == document_id) else {
                    return job.reply(Event::PrintFailed(Reason::DocumentGone));
                };
                let result = s.licences.print(&choice.document, copies, &job.session_id, |state| {
                    job.reply(Event::JobState(stage_of(state)));
                });
                job.reply(match result {
                    Ok(p) => Event::Printed { print_id: p.print_id, copies: p.copies, remaining: p.remaining },
                    Err(e) => Event::PrintFailed(e.reason()),
                });
            }
        }
    }

    fn ended(s: &mut Services) {
        s.choices.clear();
    }

    fn render(&self, window: &AppWindow, session: &Session<PrintLicence>, english: bool) {
        let a = window.global::<LicenceAdapter>();
        match &session.phase {
            Phase::Home => {}
            Phase::Step(Step::CardPrompt { failure }) => {
                a.set_screen(LicenceScreen::CardPrompt);
                a.set_reason(super::reasons::to_ui_opt(failure.as_ref()));
            }
            Phase::Step(Step::Loading) => a.set_screen(LicenceScreen::Loading),
            Phase::Step(Step::Checking) => a.set_screen(LicenceScreen::Checking),
            Phase::Step(Step::Documents { holding }) => {
                a.set_screen(LicenceScreen::Documents);
                a.set_greeting_name(holding.greeting.clone().into());
                let items: Vec<DocumentItem> = holding.documents.iter().map(|d| item(d, english)).collect();
                a.set_choices_spoken(super::spoken_choices(items.iter().map(|i| i.title.to_string()), english).into());
                a.set_documents(super::keep_or_new(a.get_documents(), items));
            }
            Phase::Step(Step::Copies { holding, chosen, copies, preview }) => {
                a.set_screen(LicenceScreen::Copies);
                a.set_preview(self.picture(preview.as_ref()));
                a.set_chosen(item(&holding.documents[*chosen], english));
                a.set_copies(*copies as i32);
            }
            Phase::Step(Step::Printing { stage, .. }) => {
                a.set_screen(LicenceScreen::Printing);
                a.set_stage(ui_stage(*stage));
            }
            Phase::Step(Step::Done { remaining, .. }) => {
                a.set_screen(LicenceScreen::Done);
                a.set_remaining_after(*remaining as i32);
            }
            Phase::Step(Step::Failed { message }) => {
                a.set_screen(LicenceScreen::Failed);
                a.set_reason(super::reasons::to_ui(message));
            }
            Phase::RatingReasons { .. } => a.set_screen(LicenceScreen::RatingReasons),
            Phase::Thanks => a.set_screen(LicenceScreen::Thanks),
            Phase::TakeCard => a.set_screen(LicenceScreen::TakeCard),
        }
    }

    fn clear(&self, window: &AppWindow) {
        let a = window.global::<LicenceAdapter>();
        a.set_documents(ModelRc::default());
        a.set_greeting_name(Default::default());
        a.set_preview(slint::Image::default());
        self.picture.borrow_mut().take();
        a.set_chosen(DocumentItem::default());
        a.set_reason(super::reasons::none());
    }
}

fn item(d: &DocumentSummary, english: bool) -> DocumentItem {
    DocumentItem {
        id: d.id.clone().into(),
        title: if english { &d.title_en } else { &d.title_zh }.into(),
        title_sub: if english { "" } else { &d.title_en }.into(),
        holder: d.holder.clone().into(),
        number: d.number_masked.clone().into(),
        remaining: d.remaining as i32,
    }
}

/// The printer's job state as the flow's stage.
fn stage_of(state: drivers::ipp::JobState) -> Stage {
    use drivers::ipp::JobState as J;
    match state {
        J::Pending | J::PendingHeld => Stage::Queued,
        J::Processing => Stage::Printing,
        J::ProcessingStopped => Stage::Paused,
        J::Completed => Stage::Printed,
        J::Canceled | J::Aborted => Stage::Ended,
    }
}

/// The flow's stage as the page words it.
fn ui_stage(stage: Stage) -> JobStage {
    match stage {
        Stage::Preparing => JobStage::Preparing,
        Stage::Queued => JobStage::Queued,
        Stage::Printing => JobStage::Printing,
        Stage::Paused => JobStage::Paused,
        Stage::Printed => JobStage::Printed,
        Stage::Ended => JobStage::Working,
    }
}

/// Wires the licence page.
pub fn bind(window: &AppWindow, cx: &Context) -> FlowHandle {
    let services = Services {
        licences: cx.licences.clone(),
        reader: cx.reader.clone(),
        timezone: cx.config.tz().clone(),
        id_mask_keep: cx.config.journal.id_mask_keep,
        choices: vec![],
    };
    let (handle, d) = super::controller::bind(
        window,
        cx,
        Setup {
            binding: Page_::default(),
            flow: PrintLicence,
            services,
            tiles: vec![(TileKind::PrintLicence, Event::Open)],
        },
    );
    let a = window.global::<LicenceAdapter>();
    crate::wire_rating!(a, d);
    a.on_more(sends(&d, Event::More));
    a.on_fewer(sends(&d, Event::Fewer));
    a.on_confirm(sends(&d, Event::Confirm));
    a.on_back(sends(&d, Event::Back));
    a.on_choose(move |id| d(Input::Flow(Event::Choose(id.to_string()))));
    handle
}
