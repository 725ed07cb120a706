//! The meta-process framework. A meta-process is a task that owns a blocking-style job (an
//! accept loop, a socket) on behalf of an owner (a process, or another meta-process). It has
//! an alias, never reused; messages sent to the alias reach its handle; it ends with its
//! owner (cascading) and its monitors are told with DOWN.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::{Error, Result};
use crate::node::ids::{Id, IdKind};
use crate::node::node::Node;
use crate::node::meta_entry::MetaEntry;
pub use crate::node::meta_entry::{MetaHandle, StopRequest};
use crate::node::registry::Entry;
use crate::node::wakeup::Wakeup;
use crate::process::current;
use crate::process::lifecycle::{announce_end, Lifecycle};
use crate::process::message::{Body, ExitReason};

/// What a meta-process's constructor gets.
pub struct MetaContext {
    pub node: Node,
    pub alias: Id,
    pub owner: Id,
}

/// The first stop request a meta-process received, and a way for its job (one task) to
/// wait for one. An abort overrides an earlier graceful request.
#[derive(Default)]
pub struct StopSignal {
    /// 0 for none, else 1 + the request's index (an atomic, read on every loop turn).
    request: AtomicU8,
    wakeup: Wakeup,
}

const REQUESTS: [StopRequest; 4] =
    [StopRequest::Graceful, StopRequest::Abort, StopRequest::OwnerDown, StopRequest::NodeStopping];

impl StopSignal {
    /// Records the request and wakes the job.
    pub fn request(&self, request: StopRequest) {
        let code = REQUESTS.iter().position(|r| *r == request).unwrap() as u8 + 1;
        let graceful = 1;
        let recorded = self.request.fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| match current {
            0 => Some(code),
            g if g == graceful && code != graceful => Some(code),
            _ => None,
        });
        if recorded.is_ok() {
            self.wakeup.notify();
        }
    }

    /// The job's wake-up, rung by every new request. A job may ring it for its own reasons
    /// too (a connection does, for queued writes) if it looks at all of them on each wake.
    pub fn wakeup(&self) -> &Wakeup {
        &self.wakeup
    }

    pub fn get(&self) -> Option<StopRequest> {
        match self.request.load(Ordering::Acquire) {
            0 => None,
            code => Some(REQUESTS[code as usize - 1]),
        }
    }

    /// Ready once a request has been made.
    pub fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<StopRequest> {
        loop {
            if let Some(r) = self.get() {
                return Poll::Ready(r);
            }
            if self.wakeup.poll_wait(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// Waits until a request has been made (at once if one was).
    pub async fn wait(&self) -> StopRequest {
        std::future::poll_fn(|cx| self.poll_wait(cx)).await
    }
}

impl Node {
    /// Spawns a meta-process owned by `owner` (a live process or meta-process). `start`
    /// builds its handle and job; if the owner is gone by then, both are dropped (closing
    /// whatever the job held) and the spawn fails with NotFound.
    pub fn spawn_meta<F>(
        &self,
        owner: Id,
        start: impl FnOnce(MetaContext) -> Result<(Arc<dyn MetaHandle>, F)>,
    ) -> Result<Id>
    where
        // The job's output is the reason it ended. Being generic (not boxed) keeps it inside
        // tokio's task allocation: one allocation per meta-process, not two.
        F: Future<Output = ExitReason> + Send + 'static,
    {
        if self.is_stopping() {
            return Err(Error::NodeStopping);
        }
        let owner_entry = self.registry().get(owner).ok_or(Error::NotFound)?;
        let alias = self.next_id_of(IdKind::Meta);
        let (handle, job) = start(MetaContext { node: self.clone(), alias, owner })?;
        let shared = Arc::new(MetaEntry { alias, owner, handle, lifecycle: Lifecycle::new() });
        self.registry().insert(Entry::Meta(shared.clone()));
        if owner_entry.lifecycle().add_child(alias).is_err() {
            self.registry().remove(alias);
            return Err(Error::NotFound);
        }
        self.runtime_handle().spawn(MetaTask { job, release: Some((self.clone(), shared)) });
        Ok(alias)
    }

    /// Asks a meta-process to end. NotFound if it already has; WrongKind for a process.
    pub fn stop_meta(&self, alias: Id, request: StopRequest) -> Result<()> {
        self.registry().meta(alias)?.handle.stop(request);
        Ok(())
    }

    /// Sends a message to a meta-process's alias, for the kinds that take messages (a
    /// forwarder); others refuse it with Unsupported (a connection: write with
    /// `tcp_write`). WrongKind for a process (use `send`). The sender is as for `send`.
    pub fn meta_send(&self, alias: Id, tag: u64, data: impl Into<Body>) -> Result<()> {
        let from = current::process_of(self.serial()).unwrap_or(0);
        let handle = self.registry().meta(alias)?.handle.clone();
        handle.send(self, from, tag, data.into())?;
        current::count_sent(self.serial());
        Ok(())
    }

    fn release_meta(&self, shared: &MetaEntry, reason: ExitReason) {
        let ended = shared.lifecycle.finish();
        self.registry().remove(shared.alias);
        if let Some(owner) = self.registry().get(shared.owner) {
            owner.lifecycle().remove_child(shared.alias);
        }
        if let Some(ended) = ended {
            announce_end(self, shared.alias, ended, reason);
        }
        self.notify_released();
    }
}

pin_project_lite::pin_project! {
    /// A meta-process's task: its job, then its release. Written out rather than as an async
    /// block, which keeps the job twice (as captured, and as awaited): for a connection that
    /// was 264 bytes instead of 136, a tokio task of 384 bytes instead of 256.
    struct MetaTask<F> {
        #[pin]
        job: F,
        release: Option<(Node, Arc<MetaEntry>)>,
    }
}

impl<F: Future<Output = ExitReason>> Future for MetaTask<F> {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let reason = std::task::ready!(this.job.poll(cx));
        if let Some((node, shared)) = this.release.take() {
            node.release_meta(&shared, reason);
        }
        Poll::Ready(())
    }
}
