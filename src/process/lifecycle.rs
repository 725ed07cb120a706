//! Lifecycle bookkeeping shared by processes and meta-processes: who monitors an id, which
//! processes are linked to it, which meta-processes it owns. `finish` runs once, when the id
//! ends, and hands back everyone who must be told.

use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::message::{ExitReason, Message};
use crate::process::process::Envelope;

/// A process to tell (with DOWN) when an id ends.
pub(crate) struct Watcher {
    pid: Id,
    reference: u64,
}

#[derive(Default)]
pub(crate) struct Ended {
    pub(crate) watchers: Vec<Watcher>,
    /// Meta-processes watching (a connection watches its target), whose handles are told
    /// if they are still there. Kept apart from the processes' monitors, by alias alone: a
    /// process that many connections deliver to holds one of these per connection.
    pub(crate) watching_metas: Vec<Id>,
    pub(crate) links: Vec<Id>,
    pub(crate) children: Vec<Id>,
    pub(crate) monitoring: Vec<(Id, u64)>,
}

struct State {
    alive: bool,
    /// Allocated on first use: most meta-processes (every connection) have no monitors,
    /// links or children, and should not pay for four empty lists.
    ended: Option<Box<Ended>>,
}

pub(crate) struct Lifecycle {
    state: Mutex<State>,
}

impl Lifecycle {
    pub(crate) fn new() -> Self {
        Lifecycle { state: Mutex::new(State { alive: true, ended: None }) }
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.state.lock().unwrap().alive
    }

    /// Runs `f` on the bookkeeping if the id is still alive.
    fn with_alive<R>(&self, f: impl FnOnce(&mut Ended) -> R) -> Result<R> {
        let mut state = self.state.lock().unwrap();
        if !state.alive {
            return Err(Error::NotFound);
        }
        Ok(f(state.ended.get_or_insert_with(Default::default)))
    }

    /// Runs `f` on the bookkeeping if any exists (else the default result: nothing to find,
    /// remove or count).
    fn with<R: Default>(&self, f: impl FnOnce(&mut Ended) -> R) -> R {
        self.state.lock().unwrap().ended.as_deref_mut().map(f).unwrap_or_default()
    }

    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        self.with(|e| (e.links.len(), e.watchers.len() + e.watching_metas.len(), e.children.len()))
    }

    pub(crate) fn add_child(&self, id: Id) -> Result<()> {
        self.with_alive(|e| e.children.push(id))
    }

    pub(crate) fn remove_child(&self, id: Id) {
        self.with(|e| e.children.retain(|c| *c != id));
    }

    /// Marks the id ended and takes everyone to tell; None if it had already ended.
    pub(crate) fn finish(&self) -> Option<Ended> {
        let mut state = self.state.lock().unwrap();
        if !state.alive {
            return None;
        }
        state.alive = false;
        Some(state.ended.take().map(|e| *e).unwrap_or_default())
    }
}

impl Node {
    /// `watcher` (a process) receives DOWN with a fresh reference when `target` (a process or
    /// meta-process) ends. NotFound if either is already gone.
    pub fn monitor(&self, watcher: Id, target: Id) -> Result<u64> {
        let watcher_process = self.registry().process(watcher)?;
        let target_entry = self.registry().get(target).ok_or(Error::NotFound)?;
        let reference = self.next_id();
        target_entry.lifecycle().with_alive(|e| e.watchers.push(Watcher { pid: watcher, reference }))?;
        if watcher_process.lifecycle.with_alive(|e| e.monitoring.push((target, reference))).is_err() {
            self.demonitor_target(target, reference);
            return Err(Error::NotFound);
        }
        Ok(reference)
    }

    /// Removes a monitor made by `watcher`. NotFound if it is no longer in place.
    pub fn demonitor(&self, watcher: Id, reference: u64) -> Result<()> {
        let watcher_process = self.registry().process(watcher)?;
        let target = watcher_process.lifecycle.with(|e| {
            let at = e.monitoring.iter().position(|(_, r)| *r == reference)?;
            Some(e.monitoring.swap_remove(at).0)
        });
        let target = target.ok_or(Error::NotFound)?;
        self.demonitor_target(target, reference);
        Ok(())
    }

    fn demonitor_target(&self, target: Id, reference: u64) {
        if let Some(entry) = self.registry().get(target) {
            entry.lifecycle().with(|e| e.watchers.retain(|w| w.reference != reference));
        }
    }

    /// Runtime-internal monitor: the handle of meta-process `meta` is told once (with
    /// `MetaHandle::watched_ended`) when `target` ends, if `meta` is still there then.
    /// NotFound if `target` is already gone. At most one per meta-process and target.
    pub(crate) fn watch(&self, target: Id, meta: Id) -> Result<()> {
        let entry = self.registry().get(target).ok_or(Error::NotFound)?;
        entry.lifecycle().with_alive(|e| e.watching_metas.push(meta))
    }

    /// Removes the `watch` of `target` by `meta`.
    pub(crate) fn unwatch(&self, target: Id, meta: Id) {
        if let Some(entry) = self.registry().get(target) {
            entry.lifecycle().with(|e| e.watching_metas.retain(|m| *m != meta));
        }
    }

    /// Links two processes: when one ends abnormally the other ends too, or receives EXIT
    /// if it traps exits.
    pub fn link(&self, a: Id, b: Id) -> Result<()> {
        if a == b {
            return Err(Error::InvalidArgument);
        }
        let pa = self.registry().process(a)?;
        let pb = self.registry().process(b)?;
        // Lock in id order so two concurrent links cannot deadlock.
        let (first, second) = if a < b { (&pa, &pb) } else { (&pb, &pa) };
        let mut s1 = first.lifecycle.state.lock().unwrap();
        let mut s2 = second.lifecycle.state.lock().unwrap();
        if !s1.alive || !s2.alive {
            return Err(Error::NotFound);
        }
        let links1 = &mut s1.ended.get_or_insert_with(Default::default).links;
        if !links1.contains(&second.pid) {
            links1.push(second.pid);
            s2.ended.get_or_insert_with(Default::default).links.push(first.pid);
        }
        Ok(())
    }

    pub fn unlink(&self, a: Id, b: Id) -> Result<()> {
        let pa = self.registry().process(a)?;
        pa.lifecycle.with(|e| e.links.retain(|l| *l != b));
        if let Ok(pb) = self.registry().process(b) {
            pb.lifecycle.with(|e| e.links.retain(|l| *l != a));
        }
        Ok(())
    }

    /// Tells everyone who asked that `id` ended with `reason`, terminates the meta-processes
    /// it owned, and drops the monitors it held.
    pub(crate) fn announce_end(&self, id: Id, ended: Ended, reason: ExitReason) {
        for child in ended.children {
            if let Ok(meta) = self.registry().meta(child) {
                meta.stop_for_owner(self.is_stopping());
            }
        }
        for (target, reference) in ended.monitoring {
            self.demonitor_target(target, reference);
        }
        for Watcher { pid, reference } in ended.watchers {
            if let Ok(p) = self.registry().process(pid) {
                p.lifecycle.with(|e| e.monitoring.retain(|(_, r)| *r != reference));
                p.push_lifecycle(Envelope::Message(Message::Down { id, reference, reason }));
            }
        }
        for meta in ended.watching_metas {
            if let Ok(meta) = self.registry().meta(meta) {
                meta.handle.watched_ended(reason);
            }
        }
        for linked in ended.links {
            if let Ok(p) = self.registry().process(linked) {
                p.lifecycle.with(|e| e.links.retain(|l| *l != id));
                p.push_lifecycle(Envelope::ExitSignal { from: id, reason });
            }
        }
    }
}
