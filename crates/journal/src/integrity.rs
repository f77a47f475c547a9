//! The kiosk checking its own journal: at start the key state and the chain from the newest seal (fast), then the
//! whole file on a low-priority thread with progress in the log. A failure is journaled once as
//! `journal_integrity_failed`, kept for the maintenance screen, the staff API's health and `kiosk doctor`,
//! and the kiosk keeps serving: history is never rewritten to "repair" it.

use super::{Journal, JournalError, Verdict, payload};
use std::sync::{Arc, Mutex};

/// What the checks have found so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IntegrityState {
    /// Not checked yet.
    #[default]
    Unchecked,
    /// The tail checked out; the whole file is being checked.
    Checking,
    /// The whole file verifies.
    Intact { entries: u64 },
    /// A check found an alteration at `seq`.
    Failed { check: &'static str, seq: u64, what: String },
    /// The check itself could not run (the sentence says why); nothing is known.
    Unknown(String),
}

/// The shared state, cheap to clone; the checker writes it, the screens read it.
#[derive(Debug, Clone, Default)]
pub struct IntegrityStatus(Arc<Mutex<IntegrityState>>);

impl IntegrityStatus {
    pub fn get(&self) -> IntegrityState {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn set(&self, state: IntegrityState) {
        if let Ok(mut s) = self.0.lock() {
            // A failure stays: a later check of another part does not clear it.
            if !matches!(*s, IntegrityState::Failed { .. }) {
                *s = state;
            }
        }
    }
}

/// The running checker, for the kiosk to stop at shutdown.
pub struct IntegrityCheck {
    pub status: IntegrityStatus,
    thread: owner::Owned,
}

impl IntegrityCheck {
    /// Stops the background check where it is and waits for its thread (a drop does the same).
    pub fn stop(&mut self) {
        self.thread.stop();
    }
}

fn record_failure(journal: &Journal, status: &IntegrityStatus, check: &'static str, seq: u64, what: String) {
    log::error!("journal integrity check ({check}) failed at seq {seq}: {what}");
    if let Err(e) =
        journal.append(payload::JournalIntegrityFailed { check: check.into(), seq, what: what.clone() }.into())
    {
        log::error!("journal_integrity_failed not journaled: {e}");
    }
    status.set(IntegrityState::Failed { check, seq, what });
}

/// Checks the tail now, then starts the whole-file check in the background.
pub fn start(journal: &Journal) -> std::io::Result<IntegrityCheck> {
    let status = IntegrityStatus::default();
    let own = super::chain::parse_public_key(journal.public_key()).ok();
    let tail = super::schema::open_reader(&journal.settings().path).and_then(|c| super::verify::verify_tail(&c));
    if let Some(problem) = journal.key_problem() {
        // The epoch key on disk is not the one the seals hand over to: seals deleted, or the key replaced.
        record_failure(journal, &status, "keys", problem.seq, problem.what.clone());
    }
    match tail {
        Ok(Verdict::Tampered { seq, what }) => record_failure(journal, &status, "start", seq, what),
        Ok(Verdict::Intact { .. }) if own.is_some() => status.set(IntegrityState::Checking),
        Ok(Verdict::Intact { .. }) => status.set(IntegrityState::Unknown("the journal names no root key".into())),
        // Only exports come in older formats; a database never does.
        Ok(Verdict::OldFormat { what }) => status.set(IntegrityState::Unknown(what)),
        Err(e) => status.set(IntegrityState::Unknown(e.to_string())),
    }
    let (j, st) = (journal.clone(), status.clone());
    let thread = owner::Owned::spawn("journal-integrity", move |life| {
        // Low priority: citizens' sessions and the journal's writer come first.
        let _ = rustix::process::nice(10);
        let started = std::time::Instant::now();
        let mut tick = |n: u64| {
            if n.is_multiple_of(100_000) {
                log::info!("journal integrity check: {n} entries verified");
            }
            !life.stopped()
        };
        match super::verify::verify_database(&j.settings().path, own.as_ref(), &mut tick) {
            Ok(Verdict::Intact { entries, .. }) => {
                log::info!(
                    "journal integrity check: {entries} entries intact ({:.1} s)",
                    started.elapsed().as_secs_f64()
                );
                st.set(IntegrityState::Intact { entries });
            }
            Ok(Verdict::Tampered { seq, what }) => {
                // The start check may have found the same place already: one entry per finding.
                let known = matches!(st.get(), IntegrityState::Failed { seq: s, .. } if s == seq);
                if !known {
                    record_failure(&j, &st, "background", seq, what);
                }
            }
            Ok(Verdict::OldFormat { what }) => st.set(IntegrityState::Unknown(what)),
            Err(JournalError::Stopped) => log::info!("journal integrity check stopped at shutdown"),
            Err(e) => {
                log::warn!("journal integrity check could not run: {e}");
                st.set(IntegrityState::Unknown(e.to_string()));
            }
        }
    })?;
    Ok(IntegrityCheck { status, thread })
}
