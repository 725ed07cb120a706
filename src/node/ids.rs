//! Identifiers: one 64-bit counter per node hands out every process id, alias, monitor
//! reference and call reference, so an id is never reused during a node's life and a stale id
//! can only ever mean "gone".

use std::sync::atomic::{AtomicU64, Ordering};

/// A process id, a meta-process alias, or a reference. 0 never names anything.
pub type Id = u64;

pub(crate) struct IdAllocator(AtomicU64);

impl IdAllocator {
    pub(crate) fn new() -> Self {
        IdAllocator(AtomicU64::new(1))
    }

    pub(crate) fn next(&self) -> Id {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}
