//! The meta-process framework. A meta-process is a task that owns a blocking-style job (an
//! accept loop, a socket) on behalf of an owner (a process, or another meta-process). It has
//! an alias, never reused; messages sent to the alias reach its handle; it ends with its
//! owner (cascading) and its monitors are told with DOWN.

use std::any::Any;
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::{Error, Result};
use crate::node::ids::{Id, IdKind};
use crate::node::node::Node;
use crate::node::registry::Entry;
use crate::node::wakeup::Wakeup;
use crate::process::lifecycle::Lifecycle;
use crate::process::message::{Body, ExitReason};

/// Why a meta-process is asked to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRequest {
    /// Finish what was already queued, then end.
    Graceful,
    /// End at once (a connection resets its socket).
    Abort,
    /// Its owner ended.
    OwnerDown,
    /// The node is stopping.
    NodeStopping,
}

impl StopRequest {
    pub fn exit_reason(self) -> ExitReason {
        match self {
            StopRequest::Graceful => ExitReason::Normal,
            StopRequest::Abort => ExitReason::Killed,
            StopRequest::OwnerDown | StopRequest::NodeStopping => ExitReason::Shutdown,
        }
    }
}

/// What the rest of the node sees of a running meta-process. Every method is called from
/// arbitrary threads and must never wait for the meta-process's job.
pub trait MetaHandle: Send + Sync + 'static {
    /// Shown as `kind` by inspect ("tcp server", "tcp connection", …).
    fn kind(&self) -> &'static str;
    /// Adds this meta-process's key/value pairs.
    fn inspect(&self, out: &mut Vec<(String, String)>);
    /// A message sent to the alias.
    fn send(&self, _node: &Node, _from: Id, _tag: u64, _data: Body) -> Result<()> {
        Err(Error::Unsupported)
    }
    /// Asks the job to end; idempotent.
    fn stop(&self, request: StopRequest);
    /// A process this meta-process watches (see `Node::watch`) ended.
    fn watched_ended(&self, _reason: ExitReason) {}
    fn as_any(&self) -> &dyn Any;
    /// The same, shared (`Arc<dyn MetaHandle>` to `Arc<dyn Any>` without trait upcasting,
    /// which needs Rust 1.86).
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// What a meta-process's constructor gets.
pub struct MetaContext {
    pub node: Node,
    pub alias: Id,
    pub owner: Id,
}

pub(crate) struct MetaShared {
    pub(crate) alias: Id,
    pub(crate) owner: Id,
    pub(crate) handle: Arc<dyn MetaHandle>,
    pub(crate) lifecycle: Lifecycle,
}

impl MetaShared {
    pub(crate) fn stop_for_owner(&self, node_stopping: bool) {
        self.handle.stop(if node_stopping { StopRequest::NodeStopping } else { StopRequest::OwnerDown });
    }

    pub(crate) fn inspect(&self, out: &mut Vec<(String, String)>) {
        let (_, monitors, children) = self.lifecycle.counts();
        out.push(("kind".into(), self.handle.kind().into()));
        out.push(("alias".into(), self.alias.to_string()));
        out.push(("owner".into(), self.owner.to_string()));
        out.push(("monitored by".into(), monitors.to_string()));
        out.push(("meta-processes".into(), children.to_string()));
        self.handle.inspect(out);
    }
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
        let shared = Arc::new(MetaShared { alias, owner, handle, lifecycle: Lifecycle::new() });
        self.registry().insert(Entry::Meta(shared.clone()));
        if owner_entry.lifecycle().add_child(alias).is_err() {
            self.registry().remove(alias);
            return Err(Error::NotFound);
        }
        self.runtime_handle().spawn(MetaTask { job, release: Some((self.clone(), shared)) });
        Ok(alias)
    }

    /// Asks a meta-process to end. NotFound if it already has.
    pub fn stop_meta(&self, alias: Id, request: StopRequest) -> Result<()> {
        self.registry().meta(alias)?.handle.stop(request);
        Ok(())
    }

    fn release_meta(&self, shared: &MetaShared, reason: ExitReason) {
        let ended = shared.lifecycle.finish();
        self.registry().remove(shared.alias);
        if let Some(owner) = self.registry().get(shared.owner) {
            owner.lifecycle().remove_child(shared.alias);
        }
        if let Some(ended) = ended {
            self.announce_end(shared.alias, ended, reason);
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
        release: Option<(Node, Arc<MetaShared>)>,
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
