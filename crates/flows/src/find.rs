//! 事项查询 as a flow: search as you type (the catalogue's index answers each key), or browse by theme,
//! department, the most asked-for items or what a village station can do; an item's page; 打印办事指南 (work
//! for the ticket printer); 取号办理 hands the citizen to take-a-number in the item's queue category.
//! Pure: the catalogue is data the flow holds once its work has loaded it.

use super::core::{EndReason, Flow, Reason, StepInput, Transition};
use catalogue::{Catalogue, Level};
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
/// How many results a search keeps, best first, for the page to show a screenful at a time (past that, another
/// letter narrows the search faster than turning pages).
pub const RESULTS: usize = 30;

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
    /// The search page: what was typed, the best results (item indices), how many in all, and the first
    /// result on screen.
    Search { query: String, results: Vec<usize>, total: usize, approximate: bool, first: usize },
    /// Themes or departments, from the `first` one shown (pages of as many as fit).
    Groups { groups: Groups, first: usize },
    /// Items (indices), from the `first` one shown; a theme's or department's list remembers the groups page
    /// it was opened from (`groups_first`), for 返回.
    List { source: Source, items: Vec<usize>, first: usize, groups_first: usize },
    /// An item's page; `town` is the citizen's town once chosen (its places shown first).
    Item { item: usize, from: Source, guide: GuideState, town: Option<String>, back: Box<Step> },
    /// Choosing the citizen's town for an item's page (`item`, the page to return to), from the `first` shown.
    Towns { item: Box<Step>, first: usize },
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
    /// 我所在的镇（街道）: pick a town to see the item's places there.
    ChooseTown,
    OpenTown(String),
    GuidePrinted,
    GuideFailed(Reason),
    /// 取号办理: the session ends and take-a-number opens in the item's category.
    TakeNumber,
    /// 下一页 / 上一页 on a list of groups or items; `shown` is how many the page showed (fewer in elder
    /// mode), so the flow turns exactly one page whatever the screen.
    NextPage {
        shown: usize,
    },
    PreviousPage {
        shown: usize,
    },
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
    PrintGuide { code: String, town: Option<String> },
}

/// The first row of the next (or previous) page of `len` rows when a page shows `shown`; `None` when
/// there is no such page.
fn turn(first: usize, shown: usize, len: usize, forward: bool) -> Option<usize> {
    if shown == 0 {
        return None;
    }
    if forward {
        let next = first.checked_add(shown)?;
        (next < len).then_some(next)
    } else {
        (first > 0).then(|| first.saturating_sub(shown))
    }
}

/// The item page `step` with its guide in state `guide`.
fn with_guide(step: &Step, guide: GuideState) -> Step {
    let mut next = step.clone();
    if let Step::Item { guide: g, .. } = &mut next {
        *g = guide;
    }
    next
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
            first: 0,
        };
        if work.is_empty() { Transition::Update(step) } else { Transition::Go(step, work) }
    }

    fn list(&self, source: Source, groups_first: usize) -> Transition<Step, Work> {
        let Some(c) = self.catalogue() else { return Transition::Ignore };
        let items = match &source {
            Source::Theme(id) => c.list(|i| i.themes.contains(id)),
            Source::Department(id) => c.list(|i| i.department == *id),
            Source::Frequent => c.list(|i| i.high_frequency),
            Source::Village => c.list(|i| i.levels.contains(&Level::Village)),
            Source::Search => vec![],
        };
        Transition::Go(Step::List { source, items, first: 0, groups_first }, vec![])
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
        Transition::Go(
            Step::Item { item, from: source, guide: GuideState::None, town: None, back: Box::new(from.clone()) },
            work,
        )
    }

    fn group_count(&self, groups: Groups) -> usize {
        self.catalogue().map_or(0, |c| match groups {
            Groups::Themes => c.themes.len(),
            Groups::Departments => c.departments.len(),
        })
    }

    fn turn_groups(&self, groups: Groups, first: usize, shown: usize, forward: bool) -> Transition<Step, Work> {
        match turn(first, shown, self.group_count(groups), forward) {
            Some(first) => Transition::Go(Step::Groups { groups, first }, vec![]),
            None => Transition::Ignore,
        }
    }

    fn turn_towns(&self, item: &Step, first: usize, shown: usize, forward: bool) -> Transition<Step, Work> {
        let towns = self.catalogue().map_or(0, |c| c.towns().len());
        match turn(first, shown, towns, forward) {
            Some(first) => Transition::Go(Step::Towns { item: Box::new(item.clone()), first }, vec![]),
            None => Transition::Ignore,
        }
    }

    /// A page on (or back) in a list of items or of search results.
    fn turn_list(&self, step: &Step, shown: usize, forward: bool) -> Transition<Step, Work> {
        let (Step::List { items, first, .. } | Step::Search { results: items, first, .. }) = step else {
            return Transition::Ignore;
        };
        let Some(at) = turn(*first, shown, items.len(), forward) else { return Transition::Ignore };
        let mut next = step.clone();
        if let Step::List { first, .. } | Step::Search { first, .. } = &mut next {
            *first = at;
        }
        Transition::Go(next, vec![])
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
                    Step::Search { query: String::new(), results: vec![], total: 0, approximate: false, first: 0 },
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
            (Step::Search { .. }, Event::Browse(groups)) => Transition::Go(Step::Groups { groups, first: 0 }, vec![]),
            (Step::Search { .. }, Event::Frequent) => self.list(Source::Frequent, 0),
            (Step::Search { .. }, Event::Village) => self.list(Source::Village, 0),
            (Step::Groups { groups: g, first }, Event::OpenGroup(id)) => {
                let known = self.catalogue().is_some_and(|c| match g {
                    Groups::Themes => c.themes.iter().any(|t| t.id == id),
                    Groups::Departments => c.departments.iter().any(|d| d.id == id),
                });
                if !known {
                    return Transition::Ignore;
                }
                self.list(if *g == Groups::Themes { Source::Theme(id) } else { Source::Department(id) }, *first)
            }
            (Step::Search { .. } | Step::List { .. }, Event::OpenItem(code)) => self.open_item(&code, step),
            (Step::Groups { .. }, Event::Back) => self.search(String::new(), false),
            (Step::List { source, groups_first, .. }, Event::Back) => match source {
                Source::Theme(_) => {
                    Transition::Go(Step::Groups { groups: Groups::Themes, first: *groups_first }, vec![])
                }
                Source::Department(_) => {
                    Transition::Go(Step::Groups { groups: Groups::Departments, first: *groups_first }, vec![])
                }
                _ => self.search(String::new(), false),
            },
            (Step::Groups { groups, first }, Event::NextPage { shown }) => {
                self.turn_groups(*groups, *first, shown, true)
            }
            (Step::Groups { groups, first }, Event::PreviousPage { shown }) => {
                self.turn_groups(*groups, *first, shown, false)
            }
            (Step::List { .. } | Step::Search { .. }, Event::NextPage { shown }) => self.turn_list(step, shown, true),
            (Step::List { .. } | Step::Search { .. }, Event::PreviousPage { shown }) => {
                self.turn_list(step, shown, false)
            }

            (Step::Item { guide: GuideState::Printing, .. }, e) => {
                let done = match e {
                    Event::GuidePrinted => GuideState::Printed,
                    Event::GuideFailed(why) => GuideState::Failed(why),
                    _ => return Transition::Ignore,
                };
                Transition::Go(with_guide(step, done), vec![])
            }
            (Step::Item { back, .. }, Event::Back) => Transition::Go((**back).clone(), vec![]),
            (Step::Item { item, town, .. }, Event::PrintGuide) => {
                let Some(code) = self.catalogue().and_then(|c| c.items.get(*item)).map(|i| i.code.clone()) else {
                    return Transition::Ignore;
                };
                Transition::Go(
                    with_guide(step, GuideState::Printing),
                    vec![Work::PrintGuide { code, town: town.clone() }],
                )
            }
            (Step::Item { .. }, Event::ChooseTown) if self.catalogue().is_some_and(|c| !c.towns().is_empty()) => {
                Transition::Go(Step::Towns { item: Box::new(step.clone()), first: 0 }, vec![])
            }
            (Step::Towns { item, .. }, Event::OpenTown(t)) => {
                if !self.catalogue().is_some_and(|c| c.towns().contains(&t.as_str())) {
                    return Transition::Ignore;
                }
                let mut page = (**item).clone();
                if let Step::Item { town, guide, .. } = &mut page {
                    *town = Some(t);
                    // A guide printed for another town is not this page's.
                    *guide = GuideState::None;
                }
                Transition::Go(page, vec![])
            }
            (Step::Towns { item, .. }, Event::Back) => Transition::Go((**item).clone(), vec![]),
            (Step::Towns { item, first }, Event::NextPage { shown }) => self.turn_towns(item, *first, shown, true),
            (Step::Towns { item, first }, Event::PreviousPage { shown }) => self.turn_towns(item, *first, shown, false),
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

    /// A printed guide is a transaction to rate (一事一评), offered on the item's page once it is out.
    fn rating_offer(&self, step: &Step) -> Option<super::core::Transaction> {
        let Step::Item { item, guide: GuideState::Printed, .. } = step else { return None };
        Some(super::core::Transaction::GuidePrint { code: self.catalogue()?.items.get(*item)?.code.clone() })
    }

    fn busy(&self, step: &Step) -> bool {
        matches!(step, Step::Loading | Step::Item { guide: GuideState::Printing, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Command, Input, Phase, Session};

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
            vec![Command::Work(Work::PrintGuide { code: "371329-ZR-001".into(), town: None })]
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
        assert_eq!(s.step(), Some(&Step::Groups { groups: Groups::Themes, first: 0 }));
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
        ev(&mut s, Event::GuideFailed(Reason::Printer(crate::core::PrinterTrouble::PaperOut)));
        assert!(matches!(s.step(), Some(Step::Item { guide: GuideState::Failed(_), .. })));
        assert_eq!(
            ev(&mut s, Event::PrintGuide),
            vec![Command::Work(Work::PrintGuide { code: "371329-RS-001".into(), town: None })]
        );
    }

    #[test]
    fn long_lists_turn_page_by_page_and_back_returns_to_the_page_it_came_from() {
        let mut s = session();
        let departments = s.flow.catalogue().unwrap().departments.len();
        assert!(departments > 12, "the sample has more departments than one page");
        ev(&mut s, Event::Browse(Groups::Departments));
        assert_eq!(ev(&mut s, Event::PreviousPage { shown: 12 }), vec![], "no page before the first");
        ev(&mut s, Event::NextPage { shown: 12 });
        assert_eq!(s.step(), Some(&Step::Groups { groups: Groups::Departments, first: 12 }));
        assert_eq!(ev(&mut s, Event::NextPage { shown: 12 }), vec![], "no page after the last");
        assert_eq!(s.step(), Some(&Step::Groups { groups: Groups::Departments, first: 12 }));
        let last = s.flow.catalogue().unwrap().departments[departments - 1].id.clone();
        ev(&mut s, Event::OpenGroup(last));
        assert!(matches!(s.step(), Some(Step::List { first: 0, groups_first: 12, .. })));
        ev(&mut s, Event::Back);
        assert_eq!(s.step(), Some(&Step::Groups { groups: Groups::Departments, first: 12 }), "back to page 2");
        // Elder mode shows fewer rows: the page turns by what was shown.
        ev(&mut s, Event::PreviousPage { shown: 8 });
        assert_eq!(s.step(), Some(&Step::Groups { groups: Groups::Departments, first: 4 }));
        ev(&mut s, Event::PreviousPage { shown: 8 });
        assert_eq!(s.step(), Some(&Step::Groups { groups: Groups::Departments, first: 0 }));
        assert_eq!(ev(&mut s, Event::NextPage { shown: 0 }), vec![]);

        ev(&mut s, Event::Back);
        ev(&mut s, Event::Frequent);
        let Some(Step::List { items, .. }) = s.step() else { panic!() };
        let all = items.clone();
        assert!(all.len() > 10, "the sample has more than a page of 常办事项");
        ev(&mut s, Event::NextPage { shown: 10 });
        let Some(Step::List { first: 10, items, .. }) = s.step() else { panic!("{:?}", s.step()) };
        assert_eq!(items, &all, "the same list, a page on");
        let code = s.flow.catalogue().unwrap().items[all[10]].code.clone();
        ev(&mut s, Event::OpenItem(code));
        ev(&mut s, Event::Back);
        assert!(matches!(s.step(), Some(Step::List { first: 10, .. })), "back to the page the item was on");

        // Search results turn pages too; another letter starts again at the first.
        ev(&mut s, Event::Back);
        for c in "bdc".chars() {
            ev(&mut s, Event::Key(c));
        }
        let Some(Step::Search { results, total, .. }) = s.step() else { panic!() };
        assert!(*total > 6 && results.len() == (*total).min(RESULTS), "{total} {}", results.len());
        ev(&mut s, Event::NextPage { shown: 6 });
        assert!(matches!(s.step(), Some(Step::Search { first: 6, .. })));
        ev(&mut s, Event::Key('d'));
        assert!(matches!(s.step(), Some(Step::Search { first: 0, .. })));
    }

    #[test]
    fn the_citizens_town_is_chosen_on_the_item_page_and_goes_into_the_guide() {
        let mut s = session();
        let c = s.flow.catalogue().unwrap().clone();
        let towns = c.towns();
        assert_eq!(towns.len(), 10, "{towns:?}");
        ev(&mut s, Event::Village);
        let Some(Step::List { items, .. }) = s.step() else { panic!() };
        let code = c.items[items[0]].code.clone();
        ev(&mut s, Event::OpenItem(code.clone()));
        let page = s.step().unwrap().clone();
        ev(&mut s, Event::ChooseTown);
        assert!(matches!(s.step(), Some(Step::Towns { .. })));
        assert_eq!(ev(&mut s, Event::OpenTown("没有这个镇".into())), vec![], "only the catalogue's towns");
        ev(&mut s, Event::Back);
        assert_eq!(s.step(), Some(&page), "back without choosing");
        ev(&mut s, Event::ChooseTown);
        ev(&mut s, Event::OpenTown(towns[2].to_owned()));
        assert!(matches!(s.step(), Some(Step::Item { town: Some(t), .. }) if t == towns[2]));
        assert_eq!(
            ev(&mut s, Event::PrintGuide),
            vec![Command::Work(Work::PrintGuide { code, town: Some(towns[2].to_owned()) })]
        );
    }
}
