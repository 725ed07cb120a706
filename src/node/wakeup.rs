//! A wake-up for one waiting task: a flag and a waker slot, both atomic. Setting it from any
//! thread wakes the task (or makes its next wait return at once); waiting clears it.
//!
//! tokio's Notify serves many waiters, and each wait joins and leaves a locked waiter list;
//! a connection waits on its wake-ups once per loop turn, so that cost showed up per message.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

#[derive(Default)]
pub struct Wakeup {
    set: AtomicBool,
    waker: AtomicWaker,
}

impl Wakeup {
    /// Wakes the waiting task, or the next wait if none is waiting now.
    pub fn notify(&self) {
        self.set.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Ready (and cleared) once notified. Only one task may poll a given Wakeup.
    pub fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.set.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        // A notify between the first look and the registration would otherwise be missed.
        if self.set.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    pub async fn wait(&self) {
        poll_fn(|cx| self.poll_wait(cx)).await
    }
}
