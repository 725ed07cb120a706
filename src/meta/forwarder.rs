//! The forwarder: the smallest useful meta-process. Every message sent to its alias is
//! passed on, with its tag, to a target process (its owner, or a registered name looked up
//! at each message), with the alias as sender. It proves the framework end to end, and gives
//! foreign code a stable address that outlives restarts of the named process behind it.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::Result;
use crate::meta::meta_process::{MetaHandle, StopRequest, StopSignal};
use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::message::{Body, Message};

struct Forwarder {
    alias: Id,
    owner: Id,
    target_name: Option<String>,
    forwarded: AtomicU64,
    stop: StopSignal,
}

impl Forwarder {
    fn target(&self, node: &Node) -> Result<Id> {
        match &self.target_name {
            Some(name) => node.whereis(name),
            None => Ok(self.owner),
        }
    }
}

impl MetaHandle for Forwarder {
    fn kind(&self) -> &'static str {
        "forwarder"
    }

    fn inspect(&self, out: &mut Vec<(String, String)>) {
        let target = self.target_name.clone().unwrap_or_else(|| self.owner.to_string());
        out.push(("target".into(), target));
        out.push(("forwarded".into(), self.forwarded.load(Ordering::Relaxed).to_string()));
    }

    fn send(&self, node: &Node, _from: Id, tag: u64, data: Body) -> Result<()> {
        let target = node.process_ref(self.target(node)?)?;
        target.push_bounded(Message::User { from: self.alias, tag, data }).map_err(|(e, _)| e)?;
        self.forwarded.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn stop(&self, request: StopRequest) {
        self.stop.request(request);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Node {
    /// Spawns a forwarder owned by `owner`, passing messages to `target_name` (or the owner).
    pub fn spawn_forwarder(&self, owner: Id, target_name: Option<String>) -> Result<Id> {
        self.spawn_meta(owner, |ctx| {
            let forwarder = Arc::new(Forwarder {
                alias: ctx.alias,
                owner: ctx.owner,
                target_name,
                forwarded: AtomicU64::new(0),
                stop: StopSignal::default(),
            });
            let job = {
                let forwarder = forwarder.clone();
                async move { forwarder.stop.wait().await.exit_reason() }
            };
            Ok((forwarder as Arc<dyn MetaHandle>, job))
        })
    }
}
