//! The hall sync (issue #31): with a shared hall queue, one owned thread brings this kiosk and the hall's
//! queue together every few seconds — tickets printed (or called) here while the hall database was away join
//! it in their issue order once it answers again, and what counters did elsewhere with this kiosk's tickets
//! comes back into its own records. Each round is bounded by the hall counter's deadline.

use crate::queue::Queue;
use std::time::{Duration, Instant};

/// How often the hall and this kiosk are brought together.
const EVERY: Duration = Duration::from_secs(2);

/// Starts the sync when `queue` takes part in a hall queue; None for a kiosk alone. The thread stops and is
/// joined when the returned owner is stopped or dropped.
pub fn start(queue: &Queue) -> Option<owner::Owned> {
    queue.hall()?;
    let queue = queue.clone();
    match owner::Owned::spawn("hall-sync", move |life| {
        while !life.rest(EVERY) {
            queue.sync_hall(jiff::Timestamp::now(), Instant::now());
        }
    }) {
        Ok(owned) => Some(owned),
        Err(e) => {
            log::error!("the hall sync cannot start ({e}); tickets join the hall's queue with the next ticket or call");
            None
        }
    }
}
