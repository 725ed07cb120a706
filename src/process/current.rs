//! Which process (if any) the calling thread is running a callback for, and whether the
//! thread belongs to a node's runtime. Used to fill in a message's sender, to refuse a node
//! stop from inside a handler, and to block safely while a handler waits for a reply.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::process::process::ProcessShared;
use crate::process::worker_slot::WorkerSlot;

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
    /// This runtime worker's slot, from `Arc::into_raw` (null on foreign threads). A pointer
    /// rather than an `Option<Arc>` in a `RefCell`: a thread-local without a destructor is
    /// read without the check of its destructor's registration and the borrow flag, and
    /// every message reads it three times.
    static SLOT: Cell<*const WorkerSlot> = const { Cell::new(std::ptr::null()) };
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
    let held = worker_slot().is_some_and(|slot| slot.hold_if_running(process));
    if !held {
        process.mailbox.wake_receiver();
    }
}

/// Marks a callback as running on this worker (outermost only: callbacks nest when a handler
/// spawns a process); returns whether this call is the outermost.
fn callback_starts() -> bool {
    worker_slot().is_some_and(WorkerSlot::start_callback)
}

/// The outermost callback returned: issue the wake-ups it made.
fn callback_ends() {
    if let Some(slot) = worker_slot() {
        slot.end_callback();
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
