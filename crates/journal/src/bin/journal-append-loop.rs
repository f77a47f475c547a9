//! Crash-test child: appends to a journal from two threads forever (a session end every ten, so epochs end
//! often), printing each acknowledged seq.
//!
//! The parent kills it with SIGKILL at a random moment and then checks that every
//! seq printed here is in the file and the chain is whole.

use journal::{EntryKind, Journal, JournalSettings, NewEntry};
use std::io::Write;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: journal-append-loop DIR"));
    let journal = Journal::open(JournalSettings::in_dir("crash-kiosk", &dir)).expect("the journal opens");
    let workers: Vec<_> = (0..2)
        .map(|t| {
            let j = journal.clone();
            std::thread::spawn(move || {
                for i in 0u64.. {
                    // Every tenth entry ends a session, and so an epoch: kills land in seals and key hand-overs.
                    let kind = if i % 10 == 9 { EntryKind::SessionEnd } else { EntryKind::Evaluation };
                    let seq =
                        j.append(NewEntry::new(kind, serde_json::json!({ "thread": t, "i": i }))).expect("append");
                    // Printed only after the commit returned: an acknowledged entry.
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{seq}").and_then(|()| out.flush()).expect("stdout");
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
}
