//! What the node knows of a meta-process: its registry entry, and the handle through which
//! the node reaches it. The core defines them; `meta` implements the handle (a server, a
//! connection, a forwarder) and fills the entry when it spawns one.

use std::any::Any;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::node::ids::Id;
use crate::node::node::Node;
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
    /// A message sent to the alias (`Node::meta_send`).
    fn send(&self, _node: &Node, _from: Id, _tag: u64, _data: Body) -> Result<()> {
        Err(Error::Unsupported)
    }
    /// Asks the job to end; idempotent.
    fn stop(&self, request: StopRequest);
    /// A process this meta-process watches (see `Node::watch`) ended.
    fn watched_ended(&self, _reason: ExitReason) {}
    /// For a meta-process's own module to find its concrete type behind an entry (a write
    /// to a connection looked up by alias).
    fn as_any(&self) -> &dyn Any;
}

/// A live meta-process in the registry.
pub(crate) struct MetaEntry {
    pub(crate) alias: Id,
    pub(crate) owner: Id,
    pub(crate) handle: Arc<dyn MetaHandle>,
    pub(crate) lifecycle: Lifecycle,
}

impl MetaEntry {
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
