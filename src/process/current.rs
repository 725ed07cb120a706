//! Which process (if any) the calling thread is running a callback for, and whether the
//! thread belongs to a node's runtime. Used to fill in a message's sender, to refuse a node
//! stop from inside a handler, and to block safely while a handler waits for a reply.

use std::cell::Cell;

use crate::node::ids::Id;

thread_local! {
    /// (node serial, pid) of the callback running on this thread; (0, 0) outside callbacks.
    static CURRENT: Cell<(usize, Id)> = const { Cell::new((0, 0)) };
    /// Serial of the node whose runtime owns this thread; 0 for foreign threads.
    static RUNTIME_OF: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f` as process `pid` of node `serial`, restoring the previous value after (callbacks
/// can nest: an init runs inside the handler that spawned it).
pub(crate) fn run_as<R>(serial: usize, pid: Id, f: impl FnOnce() -> R) -> R {
    let previous = CURRENT.with(|c| c.replace((serial, pid)));
    struct Restore((usize, Id));
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(previous);
    f()
}

/// The process whose callback is running on this thread, if it belongs to node `serial`.
pub(crate) fn process_of(serial: usize) -> Option<Id> {
    let (node, pid) = CURRENT.with(|c| c.get());
    (node == serial && pid != 0).then_some(pid)
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
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
