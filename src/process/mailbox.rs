//! A process's mailbox: one FIFO queue, bounded for ordinary messages.
//!
//! Ordinary messages (user messages, calls, TCP data) count against the capacity; a sender
//! finding it full gets `MailboxFull` and keeps its message. Lifecycle messages (DISCONNECT,
//! DOWN, EXIT, stop requests) bypass the bound: they are one per event, and losing one would
//! break a promise the runtime makes. A slot is freed when the handler has finished with the
//! message, not when it is dequeued, so the bound also limits work in progress.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use atomic_waker::AtomicWaker;
use tokio::sync::Notify;

/// Queue slots a drained mailbox keeps.
const RETAINED_CAPACITY: usize = 64;

/// Whether a message counts against the mailbox capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Bounded,
    Lifecycle,
}

pub(crate) struct Queued<T> {
    pub(crate) item: T,
    pub(crate) class: Class,
}

pub(crate) enum PushError<T> {
    Full(T),
    Closed(T),
}

pub(crate) struct Mailbox<T> {
    queue: Mutex<VecDeque<Queued<T>>>,
    closed: AtomicBool,
    /// Bounded messages queued or being handled.
    bounded: AtomicUsize,
    /// Everything queued (for inspect and the dispatch loop). Written only under the queue's
    /// lock, so a plain load and store updates it: a locked `fetch_add` costs several times
    /// more, and with `received` (and a process's `sent`) they were 7% of a local message's
    /// CPU time. Readers without the lock see a recent value.
    len: AtomicUsize,
    /// 0 means unbounded.
    capacity: usize,
    /// The consumer's waker. A plain atomic slot: one swap per wake, where tokio's Notify
    /// took a lock and walked a waiter list (a sixth of a local message's cost).
    arrived: AtomicWaker,
    /// Wakes producers waiting for room.
    room: Notify,
    /// Every message ever queued (for inspect); written under the lock, as `len`.
    received: AtomicU64,
    /// Something was put before everything queued (a kill, a process stopping itself): a
    /// handler working through several messages of one envelope stops there.
    jumped: AtomicBool,
}

impl<T> Mailbox<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Mailbox {
            queue: Mutex::new(VecDeque::new()),
            closed: AtomicBool::new(false),
            bounded: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            capacity,
            arrived: AtomicWaker::new(),
            room: Notify::new(),
            received: AtomicU64::new(0),
            jumped: AtomicBool::new(false),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub(crate) fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Whether something was pushed to the front (see `push_front`).
    pub(crate) fn jumped(&self) -> bool {
        self.jumped.load(Ordering::Acquire)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn has_room(&self) -> bool {
        self.capacity == 0 || self.bounded.load(Ordering::Acquire) < self.capacity
    }

    /// Appends a message (the consumer is woken separately, with `wake_receiver`); `front`
    /// puts it before everything queued (used by kill).
    pub(crate) fn push(&self, item: T, class: Class) -> Result<(), PushError<T>> {
        self.push_at(item, class, false, 1)
    }

    /// As `push`, for an item that carries `messages` messages (counted in `received`).
    pub(crate) fn push_many(&self, item: T, class: Class, messages: u64) -> Result<(), PushError<T>> {
        self.push_at(item, class, false, messages)
    }

    pub(crate) fn push_front(&self, item: T, class: Class) -> Result<(), PushError<T>> {
        self.push_at(item, class, true, 1)
    }

    fn push_at(&self, item: T, class: Class, front: bool, messages: u64) -> Result<(), PushError<T>> {
        {
            let mut queue = self.queue.lock().unwrap();
            if self.closed.load(Ordering::Relaxed) {
                return Err(PushError::Closed(item));
            }
            if class == Class::Bounded {
                if !self.has_room() {
                    return Err(PushError::Full(item));
                }
                self.bounded.fetch_add(1, Ordering::AcqRel);
            }
            let queued = Queued { item, class };
            if front {
                self.jumped.store(true, Ordering::Release);
                queue.push_front(queued);
            } else {
                queue.push_back(queued);
            }
            // Written only under the lock: see `len`.
            self.len.store(self.len.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            self.received.store(self.received.load(Ordering::Relaxed) + messages, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Wakes the consumer after a push (the caller decides when: see `current::wake`).
    pub(crate) fn wake_receiver(&self) {
        self.arrived.wake();
    }

    /// Waits until a bounded message would fit. Returns false once the mailbox is closed.
    pub(crate) async fn wait_for_room(&self) -> bool {
        loop {
            let notified = self.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_closed() {
                return false;
            }
            if self.has_room() {
                return true;
            }
            notified.await;
        }
    }

    pub(crate) fn try_pop(&self) -> Option<Queued<T>> {
        let mut queue = self.queue.lock().unwrap();
        let item = queue.pop_front();
        if item.is_some() {
            self.len.store(self.len.load(Ordering::Relaxed) - 1, Ordering::Relaxed);
            // After a burst (say 10,000 CONNECTs), give the memory back once drained.
            if queue.is_empty() && queue.capacity() > RETAINED_CAPACITY {
                queue.shrink_to(RETAINED_CAPACITY);
            }
        }
        item
    }

    /// The next message, waiting for one if the queue is empty. Only one task may wait.
    pub(crate) async fn recv(&self) -> Queued<T> {
        std::future::poll_fn(|cx| {
            // Lock the queue only if it looks non-empty: a process that answers each message
            // usually finds its mailbox empty, and locking only to learn that was 3% of a local
            // message's instructions. A push this look misses is found by the look under the
            // lock below, after the registration.
            if self.len() > 0 {
                if let Some(item) = self.try_pop() {
                    return std::task::Poll::Ready(item);
                }
            }
            self.arrived.register(cx.waker());
            // A push between the first look and the registration would otherwise be missed.
            match self.try_pop() {
                Some(item) => std::task::Poll::Ready(item),
                None => std::task::Poll::Pending,
            }
        })
        .await
    }

    /// The handler has finished with a message of this class: free its slot.
    pub(crate) fn done(&self, class: Class) {
        // Producers wait only while the mailbox is exactly full, so only the step from full
        // to not-full needs to wake them.
        if class == Class::Bounded && self.bounded.fetch_sub(1, Ordering::AcqRel) == self.capacity {
            self.room.notify_waiters();
        }
    }

    /// Refuses further messages and returns what was still queued.
    pub(crate) fn close(&self) -> Vec<T> {
        let drained: Vec<T> = {
            let mut queue = self.queue.lock().unwrap();
            self.closed.store(true, Ordering::Release);
            self.len.store(0, Ordering::Relaxed);
            queue.drain(..).map(|q| q.item).collect()
        };
        self.room.notify_waiters();
        drained
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_messages_respect_capacity_and_lifecycle_ones_bypass_it() {
        let mb = Mailbox::new(2);
        assert!(mb.push(1, Class::Bounded).is_ok());
        assert!(mb.push(2, Class::Bounded).is_ok());
        assert!(matches!(mb.push(3, Class::Bounded), Err(PushError::Full(3))));
        assert!(mb.push(4, Class::Lifecycle).is_ok());
        let first = mb.try_pop().unwrap();
        assert_eq!(first.item, 1);
        assert!(matches!(mb.push(5, Class::Bounded), Err(PushError::Full(5))), "slot held until done");
        mb.done(first.class);
        assert!(mb.push(5, Class::Bounded).is_ok());
        let order: Vec<i32> = std::iter::from_fn(|| mb.try_pop().map(|q| q.item)).collect();
        assert_eq!(order, vec![2, 4, 5]);
    }

    #[test]
    fn closed_mailbox_refuses_and_returns_leftovers() {
        let mb = Mailbox::new(0);
        mb.push(1, Class::Bounded).ok().unwrap();
        assert_eq!(mb.close(), vec![1]);
        assert!(matches!(mb.push(2, Class::Lifecycle), Err(PushError::Closed(2))));
    }

    #[tokio::test]
    async fn waiting_for_room_resumes_when_a_slot_frees() {
        let mb = std::sync::Arc::new(Mailbox::new(1));
        mb.push(1, Class::Bounded).ok().unwrap();
        let waiter = tokio::spawn({
            let mb = mb.clone();
            async move { mb.wait_for_room().await }
        });
        tokio::task::yield_now().await;
        let q = mb.try_pop().unwrap();
        mb.done(q.class);
        assert!(waiter.await.unwrap());
    }
}
