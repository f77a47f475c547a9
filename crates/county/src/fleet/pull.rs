//! `kiosk-county fleet pull`: each kiosk's new entries and seals through its staff API into PostgreSQL, page by
//! page from the stored head, a bounded number of kiosks at once. A kiosk that breaks its chain is stopped
//! and alerted; the others go on.

use super::page::{PageProblem, check_page};
use super::store::{self, Stored};
use super::{Kiosk, PullSettings};
use net::staff::StaffClient;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How one kiosk's pull ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Up to date: entries stored this time, and the stored head.
    Pulled { entries: u64, head: u64 },
    /// The chain broke (now, or at an earlier pull and not yet cleared): stopped, alerted.
    Broken { seq: u64, what: String, earlier: bool },
    /// Unreachable, refused or unreadable: tried again next time, alerted.
    Failed(String),
}

/// A kiosk's name and how its pull ended.
#[derive(Debug, Clone)]
pub struct KioskOutcome {
    pub id: String,
    pub outcome: Outcome,
}

/// Pulls every kiosk, `settings.concurrency` at once, each worker with its own database connection.
/// `bars`: progress on a terminal (hidden elsewhere).
pub fn pull_all(
    db: &store::DbAddress,
    kiosks: &[Kiosk],
    settings: &PullSettings,
    bars: &indicatif::MultiProgress,
) -> Result<Vec<KioskOutcome>, store::StoreError> {
    // The schema is checked once, before any kiosk is touched.
    store::check_schema(&mut db.open()?)?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, KioskOutcome)>> = Mutex::new(Vec::with_capacity(kiosks.len()));
    let overall = bars.add(indicatif::ProgressBar::new(kiosks.len() as u64));
    overall.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} kiosks {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    overall.set_prefix("fleet pull");
    let workers = settings.concurrency.min(kiosks.len()).max(1);
    let first_error: Mutex<Option<store::StoreError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut conn = match db.open() {
                    Ok(c) => c,
                    Err(e) => {
                        first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e.into());
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(kiosk) = kiosks.get(i) else { break };
                    let bar = bars.insert_before(&overall, indicatif::ProgressBar::new_spinner());
                    bar.set_prefix(kiosk.id.clone());
                    bar.set_style(
                        indicatif::ProgressStyle::with_template("{prefix:>20} {spinner} {msg}")
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                    );
                    let outcome = match pull_one(&mut conn, kiosk, settings, &bar) {
                        Ok(o) => o,
                        Err(e) => {
                            // The database itself failed: this kiosk is not pulled; the next tries a new connection.
                            let what = format!("the county database failed while storing: {e}");
                            if let Ok(c) = db.open() {
                                conn = c;
                            }
                            Outcome::Failed(what)
                        }
                    };
                    report(&mut conn, kiosk, &outcome);
                    bar.finish_and_clear();
                    overall.inc(1);
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((i, KioskOutcome { id: kiosk.id.clone(), outcome }));
                }
            });
        }
    });
    overall.finish_and_clear();
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, o)| o).collect())
}

/// Logs the outcome; failures and breaks are alerts (error priority in journald), stored as such.
fn report(db: &mut postgres::Client, kiosk: &Kiosk, outcome: &Outcome) {
    let stored = match outcome {
        Outcome::Pulled { entries, head } => {
            log::info!("kiosk {}: {entries} new entries, the county's copy ends at seq {head}", kiosk.id);
            Ok(())
        }
        Outcome::Broken { seq, what, earlier: true } => {
            log::error!(
                "ALERT kiosk {}: not pulled, its chain broke at seq {seq} at an earlier pull ({what}); look into it, then `kiosk-county fleet clear --kiosk {}`",
                kiosk.id,
                kiosk.id
            );
            Ok(())
        }
        Outcome::Broken { seq, what, earlier: false } => {
            log::error!("ALERT kiosk {}: its chain breaks at seq {seq}: {what}; its pull is stopped", kiosk.id);
            store::broken(db, &kiosk.id, *seq, what)
        }
        Outcome::Failed(what) => {
            log::error!("ALERT kiosk {}: not pulled: {what}", kiosk.id);
            store::failed(db, &kiosk.id, what)
        }
    };
    if let Err(e) = stored {
        log::error!("kiosk {}: the alert could not be stored ({e})", kiosk.id);
    }
}

/// Pulls one kiosk until it has nothing new. Errors are the database's; everything the kiosk does wrong is
/// an [`Outcome`].
fn pull_one(
    db: &mut postgres::Client,
    kiosk: &Kiosk,
    settings: &PullSettings,
    bar: &indicatif::ProgressBar,
) -> Result<Outcome, store::StoreError> {
    store::register(db, kiosk)?;
    let state = store::state(db, &kiosk.id)?;
    if let Some((seq, what)) = state.broken {
        return Ok(Outcome::Broken { seq: seq as u64, what, earlier: true });
    }
    let mut head = state.head;
    let mut client = match StaffClient::with_bounds(
        kiosk.endpoint.clone(),
        kiosk.pin,
        kiosk.token.clone(),
        std::time::Duration::from_secs(settings.first_byte_seconds.into()),
        std::time::Duration::from_secs(settings.page_seconds.into()),
        settings.max_answer(),
    ) {
        Ok(c) => c,
        Err(e) => return Ok(Outcome::Failed(format!("{e:#}"))),
    };
    // Before anything new: does the kiosk still hold the history the county holds? A kiosk restored from
    // an older backup (rolled back) or one whose entries differ from some seq on (forked) is stopped here,
    // at the first seq where the histories part, before it writes past the county's head.
    if head.seq > 0 {
        match history_parts(db, &mut client, &kiosk.id, &head) {
            Ok(None) => {}
            Ok(Some((seq, what))) => return Ok(Outcome::Broken { seq, what, earlier: false }),
            Err(History::Kiosk(what)) => return Ok(Outcome::Failed(what)),
            Err(History::Db(e)) => return Err(e),
        }
    }
    let mut pulled = 0u64;
    loop {
        let body = match client.journal_page(head.seq, settings.page_size, head.seals.len() as u64) {
            Ok(body) => body,
            Err(e) => return Ok(Outcome::Failed(format!("{e:#}"))),
        };
        let page = match check_page(&kiosk.id, &kiosk.root_key, &head, &body) {
            Ok(p) => p,
            Err(PageProblem::Broken { seq, what }) => return Ok(Outcome::Broken { seq, what, earlier: false }),
            Err(PageProblem::Unreadable(what)) => {
                return Ok(Outcome::Failed(format!("the kiosk sent a page that cannot be read: {what}")));
            }
        };
        if page.entries.is_empty() {
            store::heard(db, &kiosk.id)?;
            return Ok(Outcome::Pulled { entries: pulled, head: head.seq });
        }
        match store::store_page(db, &kiosk.id, &head, &page)? {
            Stored::Inserted { entries, head: new_head } => {
                pulled += entries;
                head = new_head;
                bar.set_message(format!("{pulled} entries, at seq {}", head.seq));
                bar.tick();
            }
            Stored::Raced => {
                // Another pull of this kiosk stored pages meanwhile: continue from its head.
                head = store::state(db, &kiosk.id)?.head;
                log::info!("kiosk {}: another pull stored pages meanwhile; going on after seq {}", kiosk.id, head.seq);
            }
            Stored::Broken { seq, what } => return Ok(Outcome::Broken { seq, what, earlier: false }),
        }
    }
}

/// Why the history could not be compared: the kiosk did not answer, or the county's database failed.
enum History {
    Kiosk(String),
    Db(store::StoreError),
}

/// The kiosk's hash of entry `seq` (None when its journal does not reach it), from a page of one entry.
/// Nothing in the page is stored: a hash that differs from the county's is only a reason to stop.
fn kiosk_hash(client: &mut StaffClient, seq: u64, seals_from: u64) -> Result<Option<String>, History> {
    let body = client.journal_page(seq - 1, 1, seals_from).map_err(|e| History::Kiosk(format!("{e:#}")))?;
    let text = String::from_utf8_lossy(&body);
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["seq"].as_u64() == Some(seq))
        .and_then(|v| v["hash"].as_str().map(str::to_owned)))
}

/// Where the kiosk's history parts from the county's copy, if it does: `(seq, what)` with seq the first
/// entry the two do not share. Rolled back: the kiosk's journal ends before the county's head (restored
/// from an older backup). Forked: its entry at some seq is another than the county's. Found with about
/// log2(head) one-entry pages.
fn history_parts(
    db: &mut postgres::Client,
    client: &mut StaffClient,
    kiosk_id: &str,
    head: &super::page::StoredHead,
) -> Result<Option<(u64, String)>, History> {
    let seals_from = head.seals.len() as u64;
    let at_head = kiosk_hash(client, head.seq, seals_from)?;
    if at_head.as_deref() == Some(head.hash.as_str()) {
        return Ok(None);
    }
    // The last seq the kiosk still has, at most the county's head.
    let last = if at_head.is_some() {
        head.seq
    } else {
        let (mut has, mut lacks) = (0u64, head.seq);
        while lacks - has > 1 {
            let mid = has + (lacks - has) / 2;
            if kiosk_hash(client, mid, seals_from)?.is_some() {
                has = mid;
            } else {
                lacks = mid;
            }
        }
        has
    };
    // Each hash covers the one before it: once the histories part they stay apart, so "agrees" holds up to
    // some seq and not after it.
    let mut agrees = |seq: u64| -> Result<bool, History> {
        Ok(kiosk_hash(client, seq, seals_from)? == Some(store::stored_hash(db, kiosk_id, seq).map_err(History::Db)?))
    };
    if last == 0 || agrees(last)? {
        return Ok(Some((
            last + 1,
            format!(
                "rolled back: the kiosk's journal ends at seq {last}, but the county holds it up to seq {}; was it restored from an older backup?",
                head.seq
            ),
        )));
    }
    let (mut lo, mut hi) = (0u64, last);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if agrees(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Some((hi, format!("forked at seq {hi}: the kiosk's entry {hi} is not the one the county holds"))))
}
