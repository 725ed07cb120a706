//! Which process (if any) the calling thread is running a callback for, and whether the
//! thread belongs to a node's runtime. Used to fill in a message's sender, to refuse a node
//! stop from inside a handler, and to block safely while a handler waits for a reply.

use std::any::Any;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use crate::process::process::ProcessShared;

use crate::node::ids::Id;

/// The process whose callback runs on this thread.
#[derive(Clone, Copy)]
struct Current {
    serial: usize,
    pid: Id,
    /// Its "messages out" counter, valid while the callback runs.
    sent: *const AtomicU64,
    /// More messages are queued for it right behind this one.
    in_batch: bool,
}

const NONE: Current = Current { serial: 0, pid: 0, sent: std::ptr::null(), in_batch: false };

thread_local! {
    /// The callback running on this thread; NONE outside callbacks.
    static CURRENT: Cell<Current> = const { Cell::new(NONE) };
    /// Serial of the node whose runtime owns this thread; 0 for foreign threads.
    static RUNTIME_OF: Cell<usize> = const { Cell::new(0) };
    /// Work put off until the end of the batch (flushing writes).
    static DEFERRED: RefCell<Vec<Arc<dyn Deferred>>> = const { RefCell::new(Vec::new()) };
    /// The connection whose frames the running handler pass answers (see `replying_to`).
    static REPLYING_TO: RefCell<Option<(Id, Arc<dyn Any + Send + Sync>)>> = const { RefCell::new(None) };
    /// This runtime worker's slot, from `Arc::into_raw` (null on foreign threads). A pointer
    /// rather than an `Option<Arc>` in a `RefCell`: a thread-local without a destructor is
    /// read without the check of its destructor's registration and the borrow flag, and
    /// every message reads it three times.
    static SLOT: Cell<*const WorkerSlot> = const { Cell::new(std::ptr::null()) };
}

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
    first: HeldOne,
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

    /// Only the worker's own thread holds wake-ups.
    fn hold(&self, process: &Arc<ProcessShared>) {
        if let Err(process) = self.first.put(process.clone()) {
            self.more.lock().unwrap().push(process);
            self.any_more.store(true, Ordering::Release);
        }
    }

    /// Issues the held wake-ups: the worker's thread at the callback's end, or the watchdog.
    fn release(&self) {
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
struct HeldOne {
    state: AtomicU8,
    process: UnsafeCell<Option<Arc<ProcessShared>>>,
}

const EMPTY: u8 = 0;
const FULL: u8 = 1;
const TAKING: u8 = 2;

// The cell is reached only as `state` allows (see above).
unsafe impl Sync for HeldOne {}

impl HeldOne {
    fn new() -> HeldOne {
        HeldOne { state: AtomicU8::new(EMPTY), process: UnsafeCell::new(None) }
    }

    /// Keeps `process` if the slot is empty, else gives it back. One thread only (the filler).
    fn put(&self, process: Arc<ProcessShared>) -> Result<(), Arc<ProcessShared>> {
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
    fn take(&self) -> Option<Arc<ProcessShared>> {
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

/// Marks this thread as a runtime worker with `slot`.
pub(crate) fn set_worker_slot(slot: Arc<WorkerSlot>) {
    drop(take_worker_slot());
    SLOT.with(|s| s.set(Arc::into_raw(slot)));
}

/// Unmarks this thread (it ends); returns its slot.
pub(crate) fn take_worker_slot() -> Option<Arc<WorkerSlot>> {
    let slot = SLOT.with(|s| s.replace(std::ptr::null()));
    // From `Arc::into_raw` in `set_worker_slot`, and now no longer in SLOT.
    (!slot.is_null()).then(|| unsafe { Arc::from_raw(slot) })
}

/// This thread's slot, if it is a runtime worker.
fn worker_slot<'a>() -> Option<&'a WorkerSlot> {
    // The `Arc` put by `set_worker_slot` lives until `take_worker_slot`, which the thread
    // calls as it ends, after its last callback; callers use the slot only meanwhile.
    unsafe { SLOT.with(|s| s.get()).as_ref() }
}

/// Wakes a process after a message was queued for it: at once, or, inside a callback on a
/// runtime worker, when that callback returns (see `WorkerSlot`).
pub(crate) fn wake(process: &Arc<ProcessShared>) {
    let held = match worker_slot() {
        Some(slot) if slot.since.load(Ordering::Relaxed) != 0 => {
            slot.hold(process);
            true
        }
        _ => false,
    };
    if !held {
        process.mailbox.wake_receiver();
    }
}

/// Marks a callback as running on this worker (outermost only: callbacks nest when a handler
/// spawns a process); returns whether this call is the outermost.
fn callback_starts() -> bool {
    match worker_slot() {
        Some(slot) if slot.since.load(Ordering::Relaxed) == 0 => {
            slot.since.store(slot.ticks.load(Ordering::Relaxed) + 1, Ordering::Release);
            true
        }
        _ => false,
    }
}

/// The outermost callback returned: issue the wake-ups it made.
fn callback_ends() {
    if let Some(slot) = worker_slot() {
        slot.since.store(0, Ordering::Release);
        slot.release();
    }
}

/// Issues the held wake-ups now (before blocking, so nobody waits for the block).
fn release_held() {
    if let Some(slot) = worker_slot() {
        slot.release();
    }
}

/// Work a handler's call puts off until its process has handled the messages queued behind
/// the current one: several small writes to one connection then go out in one system call.
pub(crate) trait Deferred: Send + Sync {
    fn run(&self);
}

/// Whether the handler running on this thread is part of a batch (more messages queued for
/// its process), so work can be deferred to the batch's end.
pub(crate) fn in_batch() -> bool {
    CURRENT.with(|c| c.get().in_batch)
}

/// Runs `work` at the end of the current batch (see `run_deferred`).
pub(crate) fn defer(work: Arc<dyn Deferred>) {
    DEFERRED.with(|d| d.borrow_mut().push(work));
}

/// Runs the deferred work; the dispatch loop calls it when its batch ends.
pub(crate) fn run_deferred() {
    while let Some(work) = DEFERRED.with(|d| d.borrow_mut().pop()) {
        work.run();
    }
}

/// Runs `f` with `source` (a connection's id and shared state) at hand for the writes it
/// makes to that connection: the frames of one read are answered with one write each, and
/// finding the connection in the registry for every one of them was a tenth of the work.
pub(crate) fn replying_to<R>(source: (Id, Arc<dyn Any + Send + Sync>), f: impl FnOnce() -> R) -> R {
    struct Restore(Option<(Id, Arc<dyn Any + Send + Sync>)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            REPLYING_TO.with(|r| *r.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(REPLYING_TO.with(|r| r.borrow_mut().replace(source)));
    f()
}

/// Runs `f` on the shared state set by `replying_to`, if it is that of `id`.
pub(crate) fn with_reply_target<R>(id: Id, f: impl FnOnce(&Arc<dyn Any + Send + Sync>) -> R) -> Option<R> {
    REPLYING_TO.with(|r| match r.try_borrow().as_deref() {
        Ok(Some((target, source))) if *target == id => Some(f(source)),
        _ => None,
    })
}

/// Runs `f` as process `pid` of node `serial` (counting its sends in `sent`), restoring the
/// previous value after (callbacks can nest: an init runs inside the handler that spawned it).
/// `in_batch` says more messages for the process are queued behind this one.
pub(crate) fn run_as<R>(serial: usize, pid: Id, sent: &AtomicU64, in_batch: bool, f: impl FnOnce() -> R) -> R {
    let previous = CURRENT.with(|c| c.replace(Current { serial, pid, sent, in_batch }));
    struct Restore(Current, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
            if self.1 {
                callback_ends();
            }
        }
    }
    let _restore = Restore(previous, callback_starts());
    f()
}

/// The process whose callback is running on this thread, if it belongs to node `serial`.
pub(crate) fn process_of(serial: usize) -> Option<Id> {
    let current = CURRENT.with(|c| c.get());
    (current.serial == serial && current.pid != 0).then_some(current.pid)
}

/// Counts a message sent by the process whose callback runs on this thread, if any.
pub(crate) fn count_sent(serial: usize) {
    let current = CURRENT.with(|c| c.get());
    if current.serial == serial && !current.sent.is_null() {
        // Valid: run_as keeps the process alive while its callback runs. Only the thread
        // running one of its callbacks writes the counter (never two at once), so a plain
        // load and store does, without the cost of a locked `fetch_add`.
        let sent = unsafe { &*current.sent };
        sent.store(sent.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
}

pub(crate) fn mark_runtime_thread(serial: usize) {
    RUNTIME_OF.with(|c| c.set(serial));
}

pub(crate) fn is_runtime_thread_of(serial: usize) -> bool {
    RUNTIME_OF.with(|c| c.get()) == serial
}

/// Runs a blocking wait. On a runtime worker thread the worker's other tasks move to another
/// thread first, so a handler waiting for a reply cannot stall the processes it waits on.
pub(crate) fn block<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    release_held();
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
