//! The licence page on the flow controller: the card read and the holder's documents looked up, and the
//! print followed, on the flow's worker; the holder's documents live there only for the session.

use super::controller::{Binding, Context, Job, Setup};
use super::home::FlowHandle;
use super::{AppWindow, DocumentItem, LicenceAdapter, LicenceScreen, Page, TileKind};
use crate::devices::IdReaderHandle;
use crate::flows::core::{Input, Phase, Sentence, Session};
use crate::flows::licence::{DocumentSummary, Event, PrintLicence, Step, Work};
use crate::licence::{DocumentChoice, Licences};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

/// What the flow's work needs; owned by its worker thread.
pub struct Services {
    pub licences: Licences,
    pub reader: IdReaderHandle,
    pub timezone: jiff::tz::TimeZone,
    pub id_mask_keep: (u8, u8),
    /// The holder's documents (their data is personal): dropped when the session ends.
    pub choices: Vec<DocumentChoice>,
}

struct Page_;

fn summary(c: &DocumentChoice) -> DocumentSummary {
    DocumentSummary {
        id: c.document.id.clone(),
        title_zh: c.title_zh.clone(),
        title_en: c.title_en.clone(),
        number_masked: c.number_masked.clone(),
        remaining: c.remaining,
    }
}

fn licence_sentence(e: &crate::licence::LicenceError) -> Sentence {
    Sentence::new(e.sentence_zh(), e.sentence_en())
}

impl Binding for Page_ {
    type Flow = PrintLicence;
    type Services = Services;
    const PAGE: Page = Page::Licence;

    fn run(s: &mut Services, work: Work, job: &Job<Event>) {
        match work {
            Work::Lookup => {
                let Some(card) = s.reader.take_card() else {
                    job.reply(Event::CardRefused(Sentence::new(
                        "读卡失败，请重新放置证件",
                        "The card could not be read; please place it again.",
                    )));
                    return;
                };
                let today = crate::cards::today(jiff::Timestamp::now(), &s.timezone);
                let admitted = crate::cards::admit(
                    &job.journal,
                    &card,
                    today,
                    "licence",
                    serde_json::json!({}),
                    s.id_mask_keep,
                    &job.session_id,
                );
                match admitted {
                    Err(crate::cards::CardRuleError::Refused(r)) => return job.reply(Event::CardRefused(r.sentence())),
                    Err(crate::cards::CardRuleError::Journal(e)) => {
                        log::error!("card read not journaled: {e}");
                        return job.reply(Event::LookupFailed(Sentence::new(
                            "暂时无法查询，请到窗口咨询",
                            "Documents cannot be looked up right now; please ask at a window.",
                        )));
                    }
                    Ok(_) => {}
                }
                let result = s.licences.documents_for(&card.id_number);
                drop(card);
                job.reply(match result {
                    Ok(choices) if choices.is_empty() => Event::LookupFailed(Sentence::new(
                        "没有查到可自助打印的证照，请到窗口咨询",
                        "No documents that can be printed here were found for your card. Please ask at a window.",
                    )),
                    Ok(choices) => {
                        let summaries = choices.iter().map(summary).collect();
                        s.choices = choices;
                        Event::DocumentsLoaded(summaries)
                    }
                    Err(e) => Event::LookupFailed(licence_sentence(&e)),
                });
            }
            Work::Print { document_id, copies } => {
                let Some(choice) = s.choices.iter().find(|c| c.document.id == document_id) else {
                    return job.reply(Event::PrintFailed(Sentence::new(
                        "找不到该证照，请重新开始",
                        "That document is no longer here; please start again.",
                    )));
                };
                let result = s.licences.print(&choice.document, copies, &job.session_id, |state| {
                    job.reply(Event::JobState(state.keyword().to_string()));
                });
                job.reply(match result {
                    Ok(p) => Event::Printed { print_id: p.print_id, copies: p.copies, remaining: p.remaining },
                    Err(e) => Event::PrintFailed(licence_sentence(&e)),
                });
            }
        }
    }

    fn ended(s: &mut Services) {
        s.choices.clear();
    }

    fn render(&self, window: &AppWindow, session: &Session<PrintLicence>, english: bool, now_ms: u64) {
        let a = window.global::<LicenceAdapter>();
        a.set_countdown(session.idle.countdown_s(now_ms).unwrap_or(0) as i32);
        match &session.phase {
            Phase::Home => {}
            Phase::Step(Step::CardPrompt { failure }) => {
                a.set_screen(LicenceScreen::CardPrompt);
                a.set_message(failure.as_ref().map(|f| f.pick(english)).unwrap_or_default().into());
            }
            Phase::Step(Step::Loading) => a.set_screen(LicenceScreen::Loading),
            Phase::Step(Step::Documents { documents }) => {
                a.set_screen(LicenceScreen::Documents);
                let items: Vec<DocumentItem> = documents.iter().map(|d| item(d, english)).collect();
                a.set_documents(ModelRc::new(VecModel::from(items)));
            }
            Phase::Step(Step::Copies { documents, chosen, copies }) => {
                a.set_screen(LicenceScreen::Copies);
                a.set_chosen(item(&documents[*chosen], english));
                a.set_copies(*copies as i32);
            }
            Phase::Step(Step::Printing { stage, .. }) => {
                a.set_screen(LicenceScreen::Printing);
                a.set_stage(stage_sentence(stage).pick(english).into());
            }
            Phase::Step(Step::Done { remaining, .. }) => {
                a.set_screen(LicenceScreen::Done);
                a.set_remaining_after(*remaining as i32);
            }
            Phase::Step(Step::Failed { message }) => {
                a.set_screen(LicenceScreen::Failed);
                a.set_message(message.pick(english).into());
            }
            Phase::RatingReasons { .. } => a.set_screen(LicenceScreen::RatingReasons),
            Phase::Thanks => a.set_screen(LicenceScreen::Thanks),
        }
    }

    fn clear(&self, window: &AppWindow) {
        let a = window.global::<LicenceAdapter>();
        a.set_documents(ModelRc::default());
        a.set_chosen(DocumentItem::default());
        a.set_message(SharedString::new());
    }
}

fn item(d: &DocumentSummary, english: bool) -> DocumentItem {
    DocumentItem {
        id: d.id.clone().into(),
        title: if english {
            format!("{} {}", d.title_en, d.title_zh)
        } else {
            format!("{} {}", d.title_zh, d.title_en)
        }
        .into(),
        number: d.number_masked.clone().into(),
        remaining: d.remaining as i32,
    }
}

fn stage_sentence(stage: &str) -> Sentence {
    let (zh, en) = match stage {
        "pending" | "pending-held" => ("已发送到打印机，排队中", "Sent to the printer, waiting"),
        "processing" => ("打印机正在打印", "The printer is printing"),
        "processing-stopped" => ("打印机暂停，正在等待", "The printer has paused, waiting"),
        "completed" => ("打印完成", "Printed"),
        "" => ("正在准备文件", "Preparing the document"),
        _ => ("正在处理", "Working"),
    };
    Sentence::new(zh, en)
}

/// Wires the licence page.
pub fn bind(window: &AppWindow, cx: &Context, services: Services) -> FlowHandle {
    let (handle, d) = super::controller::bind(
        window,
        cx,
        Setup { binding: Page_, flow: PrintLicence, services, tiles: vec![(TileKind::PrintLicence, Event::Open)] },
    );
    let a = window.global::<LicenceAdapter>();
    a.set_levels(super::session::levels());
    a.set_reasons(super::session::reasons());
    let flow = |event: Event| {
        let f = d.clone();
        move || f(Input::Flow(event.clone()))
    };
    a.on_more(flow(Event::More));
    a.on_fewer(flow(Event::Fewer));
    a.on_confirm(flow(Event::Confirm));
    a.on_back(flow(Event::Back));
    let f = d.clone();
    a.on_choose(move |id| f(Input::Flow(Event::Choose(id.to_string()))));
    let f = d.clone();
    a.on_cancel(move || f(Input::Cancel));
    let f = d.clone();
    a.on_rate(move |level| f(Input::Rate(level.clamp(0, 255) as u8)));
    let f = d.clone();
    a.on_rate_reason(move |code| f(Input::RateReason(code.to_string())));
    a.on_continue_session(move || d(Input::Continue));
    handle
}
