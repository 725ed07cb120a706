//! The node's API over processes: spawn, send, stop, kill, exits, links and monitors. Each
//! takes a process id; a meta-process's alias is WrongKind (a monitor may watch either).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::behavior::Behavior;
use crate::process::current;
use crate::process::lifecycle::Lifecycle;
use crate::process::message::{Body, Message};
use crate::process::process::{self, ProcessShared, SpawnOptions};

impl Node {
    /// Spawns a process running `behavior`. `init` runs on the calling thread before this
    /// returns; if it fails, nothing is left behind and the error is `InitFailed`.
    pub fn spawn(&self, behavior: Box<dyn Behavior>, options: SpawnOptions) -> Result<Id> {
        process::spawn(self, behavior, options)
    }

    /// Sends an opaque message to a process. The sender is the process whose callback is
    /// running on this thread, or 0 from a foreign thread. A meta-process's alias is
    /// WrongKind (a forwarder takes messages through `meta_send`).
    pub fn send(&self, to: Id, tag: u64, data: impl Into<Body>) -> Result<()> {
        let from = current::process_of(self.serial()).unwrap_or(0);
        let message = Message::User { from, tag, data: data.into() };
        self.registry().process(to)?.push_bounded(message).map_err(|(e, _)| e)?;
        current::count_sent(self.serial());
        Ok(())
    }

    /// Asks a process to end with reason Shutdown after the messages already queued. A
    /// process stopping itself (from its own callback) ends with reason Normal as soon as the
    /// current callback returns.
    pub fn stop_process(&self, pid: Id) -> Result<()> {
        let by_itself = current::process_of(self.serial()) == Some(pid);
        self.registry().process(pid)?.stop(by_itself)
    }

    /// Ends a process with reason Killed as soon as its current handler returns.
    pub fn kill(&self, pid: Id) -> Result<()> {
        self.registry().process(pid)?.kill()
    }

    pub fn set_trap_exits(&self, pid: Id, trap: bool) -> Result<()> {
        self.registry().process(pid)?.set_trap_exits(trap);
        Ok(())
    }

    /// Links two processes: when one ends abnormally the other ends too, or receives EXIT
    /// if it traps exits.
    pub fn link(&self, a: Id, b: Id) -> Result<()> {
        if a == b {
            return Err(Error::InvalidArgument);
        }
        let (pa, pb) = (self.registry().process(a)?, self.registry().process(b)?);
        Lifecycle::link((a, &pa.lifecycle), (b, &pb.lifecycle))
    }

    pub fn unlink(&self, a: Id, b: Id) -> Result<()> {
        self.registry().process(a)?.lifecycle.remove_link(b);
        if let Ok(pb) = self.registry().process(b) {
            pb.lifecycle.remove_link(a);
        }
        Ok(())
    }

    /// `watcher` (a process) receives DOWN with a fresh reference when `target` (a process or
    /// meta-process) ends. NotFound if either is already gone.
    pub fn monitor(&self, watcher: Id, target: Id) -> Result<u64> {
        let watcher_process = self.registry().process(watcher)?;
        let target_entry = self.registry().get(target).ok_or(Error::NotFound)?;
        let reference = self.next_id();
        target_entry.lifecycle().add_watcher(watcher, reference)?;
        if watcher_process.lifecycle.add_monitoring(target, reference).is_err() {
            self.demonitor_target(target, reference);
            return Err(Error::NotFound);
        }
        Ok(reference)
    }

    /// Removes a monitor made by `watcher`. NotFound if it is no longer in place.
    pub fn demonitor(&self, watcher: Id, reference: u64) -> Result<()> {
        let target = self.registry().process(watcher)?.lifecycle.take_monitoring(reference);
        self.demonitor_target(target.ok_or(Error::NotFound)?, reference);
        Ok(())
    }

    pub(crate) fn demonitor_target(&self, target: Id, reference: u64) {
        if let Some(entry) = self.registry().get(target) {
            entry.lifecycle().remove_watcher(reference);
        }
    }

    /// Runtime-internal monitor: the handle of meta-process `meta` is told once (with
    /// `MetaHandle::watched_ended`) when `target` ends, if `meta` is still there then.
    /// NotFound if `target` is already gone. At most one per meta-process and target.
    pub(crate) fn watch(&self, target: Id, meta: Id) -> Result<()> {
        self.registry().get(target).ok_or(Error::NotFound)?.lifecycle().add_watching_meta(meta)
    }

    /// Removes the `watch` of `target` by `meta`.
    pub(crate) fn unwatch(&self, target: Id, meta: Id) {
        if let Some(entry) = self.registry().get(target) {
            entry.lifecycle().remove_watching_meta(meta);
        }
    }

    /// A live process, for the modules that deliver to one directly (connections, the
    /// forwarder).
    pub(crate) fn process_ref(&self, pid: Id) -> Result<Arc<ProcessShared>> {
        self.registry().process(pid)
    }
}
