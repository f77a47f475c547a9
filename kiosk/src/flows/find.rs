//! 事项查询 as a flow: search as you type (the catalogue's index answers each key), or browse by theme,
//! department, the most asked-for items or what a village station can do; an item's page; 打印办事指南 (work
//! for the ticket printer); 取号办理 hands the citizen to take-a-number in the item's queue category.
//! Pure: the catalogue is data the flow holds once its work has loaded it.

use super::core::{EndReason, Flow, Reason, StepInput, Transition};
use crate::catalogue::{Catalogue, Level};
use std::sync::Arc;

/// The catalogue as the flow holds it: shared, compared by identity.
#[derive(Debug, Clone)]
pub struct Shared(pub Arc<Catalogue>);

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for Shared {}

/// Longest query kept (letters).
pub const MAX_QUERY: usize = 24;
/// How many results a search keeps for the page (the page shows as many as fit).
pub const RESULTS: usize = 8;

/// Ways to browse without typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Groups {
    Themes,
    Departments,
}

/// Where an item list came from: journaled with the views from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Search,
    Theme(String),
    Department(String),
    Frequent,
    Village,
}

impl Source {
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Search => "search",
            Source::Theme(_) => "theme",
            Source::Department(_) => "department",
            Source::Frequent => "frequent",
            Source::Village => "village",
        }
    }
}

/// The printed guide's state on the item page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuideState {
    None,
    Printing,
    Printed,
    Failed(Reason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Reading the catalogue (a newer one may have been installed).
    Loading,
    /// The search page: what was typed, the best results (item indices) and how many in all.
    Search {
        query: String,
        results: Vec<usize>,
        total: usize,
        approximate: bool,
    },
    Groups(Groups),
    List {
        source: Source,
        items: Vec<usize>,
    },
    Item {
        item: usize,
        from: Source,
        guide: GuideState,
        back: Box<Step>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The 事项查询 tile.
    Open,
    Loaded(Shared),
    Key(char),
    Backspace,
    Clear,
    Browse(Groups),
    Frequent,
    Village,
    /// A theme or department id.
    OpenGroup(String),
    OpenItem(String),
    Back,
    PrintGuide,
    GuidePrinted,
    GuideFailed(Reason),
    /// 取号办理: the session ends and take-a-number opens in the item's category.
    TakeNumber,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Load the catalogue in use (picking up a newly installed one); answers `Loaded`.
    Load,
    /// Journal a search the citizen settled on (an item opened from it, or nothing found).
    RecordSearch { query: String, results: usize, opened: Option<String> },
    /// Journal an item's page.
    RecordView { code: String, from: &'static str },
    /// Print the item's guide; answers `GuidePrinted` or `GuideFailed`, journals `guide_printed`.
    PrintGuide { code: String },
}

/// The flow. Holds the catalogue once loaded.
#[derive(Debug, Clone, Default)]
pub struct FindService {
    pub catalogue: Option<Shared>,
}

impl FindService {
    pub fn catalogue(&self) -> Option<&Arc<Catalogue>> {
        self.catalogue.as_ref().map(|s| &s.0)
    }

    /// Searches for `query`; `found_before` says whether the query one key shorter found anything.
    fn search(&self, query: String, found_before: bool) -> Transition<Step, Work> {
        let Some(c) = self.catalogue() else { return Transition::Ignore };
        let found = c.index.search(&query, RESULTS);
        let mut work = vec![];
        // A query that finds nothing is what staff most need to see: journal it once, at the key where it
        // stopped finding anything (not each key typed after).
        if found.total == 0 && found_before && !query.is_empty() {
            work.push(Work::RecordSearch { query: query.clone(), results: 0, opened: None });
        }
        let step = Step::Search {
            query,
            results: found.hits.iter().map(|h| h.item).collect(),
            total: found.total,
            approximate: found.approximate,
        };
        if work.is_empty() { Transition::Update(step) } else { Transition::Go(step, work) }
    }

    fn list(&self, source: Source) -> Transition<Step, Work> {
        let Some(c) = self.catalogue() else { return Transition::Ignore };
        let items = match &source {
            Source::Theme(id) => c.list(|i| i.themes.contains(id)),
            Source::Department(id) => c.list(|i| i.department == *id),
            Source::Frequent => c.list(|i| i.high_frequency),
            Source::Village => c.list(|i| i.levels.contains(&Level::Village)),
            Source::Search => vec![],
        };
        Transition::Go(Step::List { source, items }, vec![])
    }

    fn open_item(&self, code: &str, from: &Step) -> Transition<Step, Work> {
        let Some(c) = self.catalogue() else { return Transition::Ignore };
        let Some(item) = c.items.iter().position(|i| i.code == code) else { return Transition::Ignore };
        let source = match from {
            Step::List { source, .. } => source.clone(),
            _ => Source::Search,
        };
        let mut work = vec![];
        if let Step::Search { query, total, .. } = from {
            work.push(Work::RecordSearch { query: query.clone(), results: *total, opened: Some(code.to_owned()) });
        }
        work.push(Work::RecordView { code: code.to_owned(), from: source.as_str() });
        Transition::Go(Step::Item { item, from: source, guide: GuideState::None, back: Box::new(from.clone()) }, work)
    }

    /// The queue category prefix of the item on screen (for 取号办理).
    pub fn category_on_screen(&self, step: &Step) -> Option<String> {
        let Step::Item { item, .. } = step else { return None };
        Some(self.catalogue()?.items.get(*item)?.category.clone())
    }
}

impl Flow for FindService {
    type Step = Step;
    type Event = Event;
    type Work = Work;

    fn open(&mut self, event: Event) -> Option<(&'static str, Step, Vec<Work>)> {
        (event == Event::Open).then(|| ("find_service", Step::Loading, vec![Work::Load]))
    }

    fn step(&mut self, step: &Step, input: StepInput<Event>) -> Transition<Step, Work> {
        let StepInput::Event(event) = input else { return Transition::Ignore };
        match (step, event) {
            (Step::Loading, Event::Loaded(shared)) => {
                self.catalogue = Some(shared);
                Transition::Go(
                    Step::Search { query: String::new(), results: vec![], total: 0, approximate: false },
                    vec![],
                )
            }
            (Step::Search { query, total, .. }, Event::Key(c)) => {
                let c = c.to_ascii_lowercase();
                if !c.is_ascii_lowercase() || query.len() >= MAX_QUERY {
                    return Transition::Ignore;
                }
                self.search(format!("{query}{c}"), *total > 0 || query.is_empty())
            }
            (Step::Search { query, .. }, Event::Backspace) => {
                let mut q = query.clone();
                q.pop();
                self.search(q, false)
            }
            (Step::Search { .. }, Event::Clear) => self.search(String::new(), false),
            (Step::Search { .. }, Event::Browse(g)) => Transition::Go(Step::Groups(g), vec![]),
            (Step::Search { .. }, Event::Frequent) => self.list(Source::Frequent),
            (Step::Search { .. }, Event::Village) => self.list(Source::Village),
            (Step::Groups(g), Event::OpenGroup(id)) => {
                let known = self.catalogue().is_some_and(|c| match g {
                    Groups::Themes => c.themes.iter().any(|t| t.id == id),
                    Groups::Departments => c.departments.iter().any(|d| d.id == id),
                });
                if !known {
                    return Transition::Ignore;
                }
                self.list(if *g == Groups::Themes { Source::Theme(id) } else { Source::Department(id) })
            }
            (Step::Search { .. } | Step::List { .. }, Event::OpenItem(code)) => self.open_item(&code, step),
            (Step::Groups(_), Event::Back) => self.search(String::new(), false),
            (Step::List { source, .. }, Event::Back) => match source {
                Source::Theme(_) => Transition::Go(Step::Groups(Groups::Themes), vec![]),
                Source::Department(_) => Transition::Go(Step::Groups(Groups::Departments), vec![]),
                _ => self.search(String::new(), false),
            },
            (Step::Item { item, from, guide: GuideState::Printing, back }, e) => {
                let guide = match e {
                    Event::GuidePrinted => GuideState::Printed,
                    Event::GuideFailed(why) => GuideState::Failed(why),
                    _ => return Transition::Ignore,
                };
                Transition::Go(Step::Item { item: *item, from: from.clone(), guide, back: back.clone() }, vec![])
            }
            (Step::Item { back, .. }, Event::Back) => Transition::Go((**back).clone(), vec![]),
            (Step::Item { item, from, back, .. }, Event::PrintGuide) => {
                let Some(code) = self.catalogue().and_then(|c| c.items.get(*item)).map(|i| i.code.clone()) else {
                    return Transition::Ignore;
                };
                Transition::Go(
                    Step::Item { item: *item, from: from.clone(), guide: GuideState::Printing, back: back.clone() },
                    vec![Work::PrintGuide { code }],
                )
            }
            (Step::Item { .. }, Event::TakeNumber) => {
                if self.category_on_screen(step).is_some() {
                    Transition::End(EndReason::HandedOver)
                } else {
                    Transition::Ignore
                }
            }
            _ => Transition::Ignore,
        }
    }

    fn busy(&self, step: &Step) -> bool {
        matches!(step, Step::Loading | Step::Item { guide: GuideState::Printing, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::core::{Command, Input, Phase, Session};

    fn session() -> Session<FindService> {
        let mut s = Session::new(FindService::default(), 60_000);
        assert_eq!(
            s.handle(Input::Flow(Event::Open), 0),
            vec![Command::StartSession { flow: "find_service" }, Command::Work(Work::Load)]
        );
        s.handle(Input::Flow(Event::Loaded(Shared(Arc::new(Catalogue::sample())))), 10);
        s
    }

    fn ev(s: &mut Session<FindService>, e: Event) -> Vec<Command<Work>> {
        s.handle(Input::Flow(e), 100)
    }

    fn names(s: &Session<FindService>) -> Vec<String> {
        let c = s.flow.catalogue().unwrap();
        match s.step() {
            Some(Step::Search { results, .. }) | Some(Step::List { items: results, .. }) => {
                results.iter().map(|&i| c.items[i].name.clone()).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_key_searches_and_opening_an_item_journals_the_search_and_the_view() {
        let mut s = session();
        for c in "BDC".chars() {
            assert_eq!(ev(&mut s, Event::Key(c)), vec![]);
        }
        assert_eq!(names(&s)[0], "不动产登记");
        let Some(Step::Search { total, .. }) = s.step() else { panic!() };
        let total = *total;
        let cmds = ev(&mut s, Event::OpenItem("371329-ZR-001".into()));
        assert_eq!(
            cmds,
            vec![
                Command::Work(Work::RecordSearch {
                    query: "bdc".into(),
                    results: total,
                    opened: Some("371329-ZR-001".into())
                }),
                Command::Work(Work::RecordView { code: "371329-ZR-001".into(), from: "search" }),
            ]
        );
        assert_eq!(s.flow.category_on_screen(s.step().unwrap()).as_deref(), Some("B"));
        assert_eq!(
            ev(&mut s, Event::PrintGuide),
            vec![Command::Work(Work::PrintGuide { code: "371329-ZR-001".into() })]
        );
        assert!(s.flow.busy(s.step().unwrap()));
        assert_eq!(ev(&mut s, Event::TakeNumber), vec![], "not while the guide prints");
        ev(&mut s, Event::GuidePrinted);
        assert!(matches!(s.step(), Some(Step::Item { guide: GuideState::Printed, .. })));
        ev(&mut s, Event::Back);
        assert_eq!(names(&s)[0], "不动产登记", "back to the same results");
        ev(&mut s, Event::OpenItem("371329-ZR-001".into()));
        assert_eq!(ev(&mut s, Event::TakeNumber), vec![Command::EndSession { reason: EndReason::HandedOver }]);
        assert_eq!(s.phase, Phase::Home);
    }

    #[test]
    fn a_query_that_finds_nothing_is_journaled_once() {
        let mut s = session();
        let mut recorded = vec![];
        let mut first_empty = None;
        for c in "BDCQQQQQ".chars() {
            recorded.extend(ev(&mut s, Event::Key(c)));
            if let Some(Step::Search { query, total: 0, .. }) = s.step() {
                first_empty.get_or_insert(query.clone());
            }
        }
        let query = first_empty.expect("the query stops finding anything");
        assert_eq!(recorded, vec![Command::Work(Work::RecordSearch { query, results: 0, opened: None })]);
        ev(&mut s, Event::Clear);
        assert!(matches!(s.step(), Some(Step::Search { query, .. }) if query.is_empty()));
        for c in "1é!".chars() {
            assert_eq!(ev(&mut s, Event::Key(c)), vec![], "only letters");
        }
        for _ in 0..40 {
            ev(&mut s, Event::Key('a'));
        }
        assert!(matches!(s.step(), Some(Step::Search { query, .. }) if query.len() == MAX_QUERY));
    }

    #[test]
    fn browsing_by_theme_department_frequency_and_village() {
        let mut s = session();
        ev(&mut s, Event::Browse(Groups::Themes));
        assert_eq!(ev(&mut s, Event::OpenGroup("no-such-theme".into())), vec![]);
        ev(&mut s, Event::OpenGroup("newborn".into()));
        let newborn = names(&s);
        assert!(newborn.contains(&"出生登记".to_string()) && newborn.contains(&"生育登记".to_string()), "{newborn:?}");
        ev(&mut s, Event::OpenItem("371329-GA-005".into()));
        assert!(matches!(s.step(), Some(Step::Item { from: Source::Theme(t), .. }) if t == "newborn"));
        ev(&mut s, Event::Back);
        ev(&mut s, Event::Back);
        assert_eq!(s.step(), Some(&Step::Groups(Groups::Themes)));
        ev(&mut s, Event::Back);
        ev(&mut s, Event::Frequent);
        let c = s.flow.catalogue().unwrap().clone();
        let Some(Step::List { items, .. }) = s.step() else { panic!() };
        assert!(!items.is_empty() && items.iter().all(|&i| c.items[i].high_frequency));
        ev(&mut s, Event::Back);
        ev(&mut s, Event::Village);
        let Some(Step::List { items, .. }) = s.step() else { panic!() };
        assert!(!items.is_empty() && items.iter().all(|&i| c.items[i].levels.contains(&Level::Village)));
        ev(&mut s, Event::Back);
        ev(&mut s, Event::Browse(Groups::Departments));
        ev(&mut s, Event::OpenGroup("zr".into()));
        assert!(names(&s).iter().all(|n| c.items.iter().any(|i| &i.name == n && i.department == "zr")));
    }

    #[test]
    fn a_failed_guide_says_why_and_can_be_tried_again() {
        let mut s = session();
        ev(&mut s, Event::Key('s'));
        ev(&mut s, Event::OpenItem("371329-RS-001".into()));
        ev(&mut s, Event::PrintGuide);
        ev(&mut s, Event::GuideFailed(Reason::Printer(crate::flows::core::PrinterTrouble::PaperOut)));
        assert!(matches!(s.step(), Some(Step::Item { guide: GuideState::Failed(_), .. })));
        assert_eq!(
            ev(&mut s, Event::PrintGuide),
            vec![Command::Work(Work::PrintGuide { code: "371329-RS-001".into() })]
        );
    }
}
