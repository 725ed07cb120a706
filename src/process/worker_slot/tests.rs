//! The held wake-up slot against every interleaving of its atomic steps (see `model`): the
//! worker holds wake-ups and drains them when its callback ends, while the watchdog takes
//! them from its own thread. No wake-up may be lost (left in the slot, or refused and not
//! handed to the locked list) or delivered twice, and every access to the slot's cell must
//! happen after the previous one (the memory orderings hand it over).

use std::sync::atomic::Ordering;
use std::sync::Mutex;

use super::model::{self, AtomicU8, UnsafeCell};
use super::{HeldOne, EMPTY, FULL, TAKING};

const WORKER: usize = 0;

/// The slot and what the parties did with it. The recording lists are plain mutexes: only
/// one party runs at a time, and they are no part of the protocol.
struct Shared<S> {
    slot: S,
    /// Wake-ups issued, by whichever party took them.
    woken: Mutex<Vec<usize>>,
    /// Wake-ups the slot refused (the worker then keeps them in the locked list).
    refused: Mutex<Vec<usize>>,
}

/// The slot's two operations, so broken variants can be run through the same checks.
trait Slot: Sync {
    fn put(&self, process: usize) -> Result<(), usize>;
    fn take(&self) -> Option<usize>;
}

impl Slot for HeldOne<usize> {
    fn put(&self, process: usize) -> Result<(), usize> {
        HeldOne::put(self, process)
    }

    fn take(&self) -> Option<usize> {
        HeldOne::take(self)
    }
}

impl<S: Slot> Shared<S> {
    fn hold(&self, process: usize) {
        if let Err(process) = self.slot.put(process) {
            self.refused.lock().unwrap().push(process);
        }
    }

    fn release(&self) {
        if let Some(process) = self.slot.take() {
            self.woken.lock().unwrap().push(process);
        }
    }
}

/// Runs `worker` (party 0) against a watchdog that releases `watchdog_ticks` times, over every
/// interleaving; returns how many there were and the first failure of each kind seen.
fn check<S: Slot>(new_slot: impl Fn() -> S, worker: impl Fn(&Shared<S>) + Sync, holds: &[usize], watchdog_ticks: usize) -> (usize, Vec<String>) {
    let failures = Mutex::new(Vec::new());
    let runs = model::explore(
        2,
        || Shared { slot: new_slot(), woken: Mutex::default(), refused: Mutex::default() },
        |shared, party| match party {
            WORKER => worker(shared),
            _ => (0..watchdog_ticks).for_each(|_| shared.release()),
        },
        |shared, races| {
            let mut failures = failures.lock().unwrap();
            failures.extend(races.iter().take(1).cloned());
            // Every wake-up held went out exactly once, or went to the list.
            let mut delivered = shared.woken.into_inner().unwrap();
            delivered.extend(shared.refused.into_inner().unwrap());
            delivered.sort_unstable();
            if delivered != holds {
                failures.push(format!("held {holds:?}, delivered or listed {delivered:?}"));
            }
            // Nothing left behind once the worker drained and the watchdog is done.
            if shared.slot.take().is_some() {
                failures.push("a wake-up was left in the slot".to_string());
            }
        },
    );
    let mut failures = failures.into_inner().unwrap();
    failures.dedup_by(|a, b| a.split(' ').next() == b.split(' ').next());
    (runs, failures)
}

fn held_one() -> HeldOne<usize> {
    HeldOne::new()
}

#[test]
fn holds_taken_by_the_watchdog_or_drained_by_the_worker_are_issued_once() {
    // A callback wakes two processes and returns; the watchdog looks twice meanwhile.
    let worker = |shared: &Shared<HeldOne<usize>>| {
        shared.hold(1);
        shared.hold(2);
        shared.release();
    };
    let (runs, failures) = check(held_one, worker, &[1, 2], 2);
    assert!(failures.is_empty(), "{failures:#?}");
    eprintln!("{runs} interleavings");
    assert!(runs > 10, "only {runs} interleavings");
}

#[test]
fn a_worker_that_releases_before_blocking_and_holds_again_loses_nothing() {
    // A callback wakes a process, blocks (releasing), wakes another, returns; the slot is
    // filled again while the watchdog may still be emptying it.
    let worker = |shared: &Shared<HeldOne<usize>>| {
        shared.hold(1);
        shared.release();
        shared.hold(2);
        shared.release();
    };
    let (runs, failures) = check(held_one, worker, &[1, 2], 2);
    assert!(failures.is_empty(), "{failures:#?}");
    eprintln!("{runs} interleavings");
    assert!(runs > 100, "only {runs} interleavings");
}

/// The slot with its claim made by a load and a store instead of a compare-and-exchange: two
/// takers can both claim one process.
struct ClaimWithoutExchange {
    state: AtomicU8,
    process: UnsafeCell<Option<usize>>,
}

// Reached as `state` allows (or, deliberately, not: this is the broken variant).
unsafe impl Sync for ClaimWithoutExchange {}

impl Slot for ClaimWithoutExchange {
    fn put(&self, process: usize) -> Result<(), usize> {
        if self.state.load(Ordering::Acquire) != EMPTY {
            return Err(process);
        }
        unsafe { *self.process.get() = Some(process) };
        self.state.store(FULL, Ordering::Release);
        Ok(())
    }

    fn take(&self) -> Option<usize> {
        if self.state.load(Ordering::Acquire) != FULL {
            return None;
        }
        self.state.store(TAKING, Ordering::Relaxed);
        let process = unsafe { (*self.process.get()).take() };
        self.state.store(EMPTY, Ordering::Release);
        process
    }
}

/// The slot with a Relaxed claim: the taker reads the cell without the filler's write
/// happening before it.
struct RelaxedClaim(HeldOne<usize>);

impl Slot for RelaxedClaim {
    fn put(&self, process: usize) -> Result<(), usize> {
        self.0.put(process)
    }

    fn take(&self) -> Option<usize> {
        let state = &self.0.state;
        if state.load(Ordering::Relaxed) != FULL || state.compare_exchange(FULL, TAKING, Ordering::Relaxed, Ordering::Relaxed).is_err() {
            return None;
        }
        let process = unsafe { (*self.0.process.get()).take() };
        state.store(EMPTY, Ordering::Release);
        process
    }
}

#[test]
fn the_model_catches_a_claim_without_exchange() {
    let new = || ClaimWithoutExchange { state: AtomicU8::new(EMPTY), process: UnsafeCell::new(None) };
    let worker = |shared: &Shared<ClaimWithoutExchange>| {
        shared.hold(1);
        shared.release();
    };
    let (_, failures) = check(new, worker, &[1], 1);
    assert!(failures.iter().any(|f| f.starts_with("data race")), "{failures:#?}");
}

#[test]
fn the_model_catches_a_relaxed_claim() {
    let worker = |shared: &Shared<RelaxedClaim>| {
        shared.hold(1);
        shared.release();
    };
    let (_, failures) = check(|| RelaxedClaim(HeldOne::new()), worker, &[1], 1);
    assert!(failures.iter().any(|f| f.starts_with("data race")), "{failures:#?}");
}
