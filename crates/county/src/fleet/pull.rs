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
