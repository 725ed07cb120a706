//! A small exhaustive model checker for the held wake-up slot (`HeldOne`), in the spirit of
//! loom but without its cfg flag, so it runs in plain `cargo test`.
//!
//! Each racing party runs on a thread of its own, but only one runs at a time: before every
//! atomic operation a party hands the turn to the scheduler, which picks who runs next. The
//! checker replays the program once per schedule, depth first, until every interleaving of
//! the atomic operations has run.
//!
//! Interleavings alone assume sequential consistency; the memory orderings are checked by
//! tracking happens-before with vector clocks: an Acquire that reads a Release store joins
//! the storer's clock, and every access to the slot's non-atomic cell must happen after the
//! previous one, else it is reported as a data race.
//!
//! In test builds `HeldOne` uses the `AtomicU8` and `UnsafeCell` below. On a thread that is
//! not a party of a model run they are plain pass-throughs, so the rest of the crate's unit
//! tests see ordinary atomics.

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};

/// A vector clock: one counter per party.
type Clock = Vec<u32>;

/// Whether `a` happens before (or is) `b`.
fn before(a: &Clock, b: &Clock) -> bool {
    a.iter().enumerate().all(|(i, &t)| t <= b.get(i).copied().unwrap_or(0))
}

fn join(into: &mut Clock, from: &Clock) {
    for (i, &t) in from.iter().enumerate() {
        into[i] = into[i].max(t);
    }
}

/// The scheduler's state for one run of the program.
struct Run {
    /// The party whose turn it is.
    running: usize,
    finished: Vec<bool>,
    clocks: Vec<Clock>,
    /// The choices to replay (indices into the unfinished parties), then 0 after them.
    schedule: Vec<usize>,
    /// The choices made: (choice, how many there were).
    trace: Vec<(usize, usize)>,
    /// Data races and other failures seen.
    failures: Vec<String>,
}

impl Run {
    /// Picks the next party to run among the unfinished ones.
    fn choose(&mut self) -> Option<usize> {
        let options: Vec<usize> = (0..self.finished.len()).filter(|&p| !self.finished[p]).collect();
        match options.len() {
            0 => None,
            1 => Some(options[0]),
            n => {
                let choice = self.schedule.get(self.trace.len()).copied().unwrap_or(0);
                self.trace.push((choice, n));
                Some(options[choice])
            }
        }
    }
}

struct Scheduler {
    run: Mutex<Run>,
    turn: Condvar,
}

thread_local! {
    /// The scheduler and party number of a thread taking part in a model run.
    static PARTY: RefCell<Option<(Arc<Scheduler>, usize)>> = const { RefCell::new(None) };
}

impl Scheduler {
    /// Hands the turn on and waits for it to come back to `me`.
    fn switch(&self, me: usize) {
        let mut run = self.run.lock().unwrap();
        if let Some(next) = run.choose() {
            run.running = next;
        }
        self.turn.notify_all();
        while run.running != me {
            run = self.turn.wait(run).unwrap();
        }
    }

    fn wait_for_turn(&self, me: usize) {
        let mut run = self.run.lock().unwrap();
        while run.running != me {
            run = self.turn.wait(run).unwrap();
        }
    }

    fn finish(&self, me: usize) {
        let mut run = self.run.lock().unwrap();
        run.finished[me] = true;
        if let Some(next) = run.choose() {
            run.running = next;
        }
        self.turn.notify_all();
    }
}

/// Runs `f` with the calling party's clock and the run's failures, if this thread is a
/// party of a model run (else None). With `interleave`, first lets the scheduler switch to
/// any party: atomic operations are where threads interleave; plain accesses need not be,
/// as the clocks check their order.
fn step<R>(interleave: bool, f: impl FnOnce(&mut Clock, &mut Vec<String>) -> R) -> Option<R> {
    let party = PARTY.with(|p| p.borrow().clone());
    let (scheduler, me) = party?;
    if interleave {
        scheduler.switch(me);
    }
    let mut run = scheduler.run.lock().unwrap();
    let run = &mut *run;
    run.clocks[me][me] += 1;
    Some(f(&mut run.clocks[me], &mut run.failures))
}

/// Explores every interleaving of `parties` (each given the state `setup` made and its party
/// number), calling `check` on the state after each run with the races found. Returns how
/// many interleavings ran.
pub(super) fn explore<S: Sync>(
    parties: usize,
    setup: impl Fn() -> S,
    party: impl Fn(&S, usize) + Sync,
    check: impl Fn(S, &[String]),
) -> usize {
    let mut schedule = Vec::new();
    let mut runs = 0;
    loop {
        let scheduler = Arc::new(Scheduler {
            run: Mutex::new(Run {
                running: usize::MAX,
                finished: vec![false; parties],
                clocks: vec![vec![0; parties]; parties],
                schedule: schedule.clone(),
                trace: Vec::new(),
                failures: Vec::new(),
            }),
            turn: Condvar::new(),
        });
        let state = setup();
        std::thread::scope(|s| {
            for me in 0..parties {
                let (scheduler, state, party) = (scheduler.clone(), &state, &party);
                s.spawn(move || {
                    PARTY.with(|p| *p.borrow_mut() = Some((scheduler.clone(), me)));
                    scheduler.wait_for_turn(me);
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| party(state, me)));
                    PARTY.with(|p| *p.borrow_mut() = None);
                    if result.is_err() {
                        scheduler.run.lock().unwrap().failures.push(format!("party {me} panicked"));
                    }
                    scheduler.finish(me);
                });
            }
            let mut run = scheduler.run.lock().unwrap();
            run.running = run.choose().expect("at least one party");
            scheduler.turn.notify_all();
        });
        runs += 1;
        let (mut trace, failures) = {
            let run = scheduler.run.lock().unwrap();
            let choices: Vec<usize> = run.trace.iter().map(|&(choice, _)| choice).collect();
            (run.trace.clone(), run.failures.iter().map(|f| format!("{f} (schedule {choices:?})")).collect::<Vec<_>>())
        };
        check(state, &failures);
        // The next schedule: the last choice that has an untried option, advanced.
        while let Some(&(choice, options)) = trace.last() {
            if choice + 1 < options {
                break;
            }
            trace.pop();
        }
        let Some(last) = trace.last_mut() else { return runs };
        last.0 += 1;
        schedule = trace.iter().map(|&(choice, _)| choice).collect();
    }
}

/// `std::sync::atomic::AtomicU8` whose operations are interleaving points of a model run
/// and carry happens-before as their orderings say.
pub(crate) struct AtomicU8 {
    value: std::sync::atomic::AtomicU8,
    /// The clock a Release store left for an Acquire load to join.
    released: Mutex<Clock>,
}

fn is_acquire(order: Ordering) -> bool {
    matches!(order, Ordering::Acquire | Ordering::AcqRel | Ordering::SeqCst)
}

fn is_release(order: Ordering) -> bool {
    matches!(order, Ordering::Release | Ordering::AcqRel | Ordering::SeqCst)
}

impl AtomicU8 {
    pub(crate) const fn new(value: u8) -> AtomicU8 {
        AtomicU8 { value: std::sync::atomic::AtomicU8::new(value), released: Mutex::new(Vec::new()) }
    }

    fn acquire(&self, clock: &mut Clock, order: Ordering) {
        if is_acquire(order) {
            join(clock, &self.released.lock().unwrap());
        }
    }

    pub(crate) fn load(&self, order: Ordering) -> u8 {
        let value = || self.value.load(Ordering::SeqCst);
        step(true, |clock, _| {
            self.acquire(clock, order);
            value()
        })
        .unwrap_or_else(value)
    }

    pub(crate) fn store(&self, value: u8, order: Ordering) {
        let store = || self.value.store(value, Ordering::SeqCst);
        step(true, |clock, _| {
            // A relaxed store starts no release sequence: an Acquire that reads it gets nothing.
            *self.released.lock().unwrap() = if is_release(order) { clock.clone() } else { Vec::new() };
            store();
        })
        .unwrap_or_else(store)
    }

    pub(crate) fn compare_exchange(&self, current: u8, new: u8, success: Ordering, failure: Ordering) -> Result<u8, u8> {
        let exchange = || self.value.compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst);
        step(true, |clock, _| {
            let result = exchange();
            match result {
                Ok(_) => {
                    self.acquire(clock, success);
                    // A read-modify-write continues the release sequence it read from.
                    if is_release(success) {
                        let mut released = self.released.lock().unwrap();
                        released.resize(clock.len(), 0);
                        join(&mut released, clock);
                    }
                }
                Err(_) => self.acquire(clock, failure),
            }
            result
        })
        .unwrap_or_else(exchange)
    }
}

/// `std::cell::UnsafeCell` whose accesses (each `get`) are checked to happen one after the
/// other in a model run; an access that does not happen after the previous one is a race.
pub(crate) struct UnsafeCell<T> {
    value: std::cell::UnsafeCell<T>,
    last_access: Mutex<Clock>,
}

impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell { value: std::cell::UnsafeCell::new(value), last_access: Mutex::new(Vec::new()) }
    }

    pub(crate) fn get(&self) -> *mut T {
        step(false, |clock, failures| {
            let mut last = self.last_access.lock().unwrap();
            if !before(&last, clock) {
                failures.push(format!("data race on the held cell: {last:?} does not happen before {clock:?}"));
            }
            *last = clock.clone();
        });
        self.value.get()
    }
}
