//! A runtime worker's slot: what the node's watchdog sees of the worker (whether a callback
//! runs, since which tick) and the wake-ups the running callback made, held until it returns.

#[cfg(not(test))]
use std::cell::UnsafeCell;
#[cfg(not(test))]
use std::sync::atomic::AtomicU8;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::process::process::ProcessShared;

// Unit tests check `HeldOne` against every interleaving of its atomic steps (see
// `model`): there it runs on the model's atomics, which are plain ones outside a model run.
#[cfg(test)]
mod model;
#[cfg(test)]
use model::{AtomicU8, UnsafeCell};
#[cfg(test)]
mod tests;

/// What a runtime worker thread shows the node's watchdog: whether a callback is running
/// (and since which tick), and the processes it woke, whose wake-ups are held until it
/// returns.
///
/// Why hold them: tokio puts a task woken from a worker in that worker's LIFO slot, where it
/// runs next, on a warm cache; but no other worker can steal it from there, so if the
/// callback then blocks (foreign code may), the process it woke would wait as long. Held
/// wake-ups are issued when the callback returns (the fast path keeps its locality), or by
/// the watchdog from its own thread, into tokio's shared queue where any idle worker takes
/// them, once the callback has run for a couple of ticks.
pub(crate) struct WorkerSlot {
    /// The watchdog's tick when the running callback started; 0 when none runs.
    since: AtomicU64,
    /// The first process held, without a lock: most callbacks wake one process, if any (a
    /// lock, a vector push and a drain for each message sent from a callback were 5% of a
    /// local message's instructions).
    first: HeldOne<Arc<ProcessShared>>,
    /// Whether `more` may be non-empty: spares the lock on the common path.
    any_more: AtomicBool,
    /// The processes held after the first.
    more: Mutex<Vec<Arc<ProcessShared>>>,
    ticks: Arc<AtomicU64>,
}

impl WorkerSlot {
    pub(crate) fn new(ticks: Arc<AtomicU64>) -> WorkerSlot {
        WorkerSlot {
            since: AtomicU64::new(0),
            first: HeldOne::new(),
            any_more: AtomicBool::new(false),
            more: Mutex::new(Vec::new()),
            ticks,
        }
    }

    /// Whether a callback runs on this worker now.
    pub(crate) fn busy(&self) -> bool {
        self.since.load(Ordering::Relaxed) != 0
    }

    /// Issues the held wake-ups if the callback has run for at least `ticks` ticks (the
    /// watchdog's check) — from the caller's thread.
    pub(crate) fn release_if_stuck(&self, now: u64, ticks: u64) {
        let since = self.since.load(Ordering::Acquire);
        if since != 0 && now.saturating_sub(since) >= ticks {
            self.release();
        }
    }

    /// Marks a callback as running (the outermost: callbacks nest when a handler spawns a
    /// process); false if one runs already. The worker's own thread only.
    pub(crate) fn start_callback(&self) -> bool {
        if self.busy() {
            return false;
        }
        self.since.store(self.ticks.load(Ordering::Relaxed) + 1, Ordering::Release);
        true
    }

    /// The outermost callback returned: issue the wake-ups it made.
    pub(crate) fn end_callback(&self) {
        self.since.store(0, Ordering::Release);
        self.release();
    }

    /// Holds the wake-up of `process` if a callback runs; false if none does (wake it now).
    /// The worker's own thread only.
    pub(crate) fn hold_if_running(&self, process: &Arc<ProcessShared>) -> bool {
        if !self.busy() {
            return false;
        }
        if let Err(process) = self.first.put(process.clone()) {
            self.more.lock().unwrap().push(process);
            self.any_more.store(true, Ordering::Release);
        }
        true
    }

    /// Issues the held wake-ups: the worker's thread at the callback's end or before it
    /// blocks, or the watchdog.
    pub(crate) fn release(&self) {
        if let Some(process) = self.first.take() {
            process.mailbox.wake_receiver();
        }
        if !self.any_more.load(Ordering::Relaxed) || !self.any_more.swap(false, Ordering::AcqRel) {
            return;
        }
        // Drained under the lock, keeping the vector's capacity for the next callback.
        for process in self.more.lock().unwrap().drain(..) {
            process.mailbox.wake_receiver();
        }
    }
}

/// A slot for one held process, filled by one thread (the worker's) and emptied by it or by
/// another (the watchdog) without a lock. `state` says who may touch the cell: the filler
/// while EMPTY, nobody while FULL, the one taker that moved it from FULL to TAKING.
/// Generic only so that the model check can hold plain numbers.
struct HeldOne<T> {
    state: AtomicU8,
    process: UnsafeCell<Option<T>>,
}

const EMPTY: u8 = 0;
const FULL: u8 = 1;
const TAKING: u8 = 2;

// The cell is reached only as `state` allows (see above).
unsafe impl<T: Send> Sync for HeldOne<T> {}

impl<T> HeldOne<T> {
    fn new() -> HeldOne<T> {
        HeldOne { state: AtomicU8::new(EMPTY), process: UnsafeCell::new(None) }
    }

    /// Keeps `process` if the slot is empty, else gives it back. One thread only (the filler).
    fn put(&self, process: T) -> Result<(), T> {
        // Acquire: a taker's read of the cell happens before its EMPTY, so before our write.
        if self.state.load(Ordering::Acquire) != EMPTY {
            return Err(process);
        }
        // Only the filler moves the state away from EMPTY, and that is this thread.
        unsafe { *self.process.get() = Some(process) };
        self.state.store(FULL, Ordering::Release);
        Ok(())
    }

    /// The process, if one is kept; any thread.
    fn take(&self) -> Option<T> {
        // A plain load first: the common empty case needs no locked instruction.
        if self.state.load(Ordering::Relaxed) != FULL
            || self.state.compare_exchange(FULL, TAKING, Ordering::Acquire, Ordering::Relaxed).is_err()
        {
            return None;
        }
        // Claimed: the filler puts only into EMPTY, other takers take only from FULL.
        let process = unsafe { (*self.process.get()).take() };
        self.state.store(EMPTY, Ordering::Release);
        process
    }
}
