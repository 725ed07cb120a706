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

impl Lifecycle {
    /// `pid` is to receive DOWN with `reference` when this id ends.
    pub(crate) fn add_watcher(&self, pid: Id, reference: u64) -> Result<()> {
        self.with_alive(|e| e.watchers.push(Watcher { pid, reference }))
    }

    pub(crate) fn remove_watcher(&self, reference: u64) {
        self.with(|e| e.watchers.retain(|w| w.reference != reference));
    }

    /// Records, on the watching process, the monitor of `target` made with `reference`.
    pub(crate) fn add_monitoring(&self, target: Id, reference: u64) -> Result<()> {
        self.with_alive(|e| e.monitoring.push((target, reference)))
    }

    /// Forgets the monitor made with `reference`; returns its target.
    pub(crate) fn take_monitoring(&self, reference: u64) -> Option<Id> {
        self.with(|e| {
            let at = e.monitoring.iter().position(|(_, r)| *r == reference)?;
            Some(e.monitoring.swap_remove(at).0)
        })
    }

    pub(crate) fn add_watching_meta(&self, meta: Id) -> Result<()> {
        self.with_alive(|e| e.watching_metas.push(meta))
    }

    pub(crate) fn remove_watching_meta(&self, meta: Id) {
        self.with(|e| e.watching_metas.retain(|m| *m != meta));
    }

    /// Links two live ids (each with its bookkeeping); NotFound if either has ended.
    pub(crate) fn link((a, la): (Id, &Lifecycle), (b, lb): (Id, &Lifecycle)) -> Result<()> {
        // Lock in id order so two concurrent links cannot deadlock.
        let ((first, l1), (second, l2)) = if a < b { ((a, la), (b, lb)) } else { ((b, lb), (a, la)) };
        let mut s1 = l1.state.lock().unwrap();
        let mut s2 = l2.state.lock().unwrap();
        if !s1.alive || !s2.alive {
            return Err(Error::NotFound);
        }
        let links1 = &mut s1.ended.get_or_insert_with(Default::default).links;
        if !links1.contains(&second) {
            links1.push(second);
            s2.ended.get_or_insert_with(Default::default).links.push(first);
        }
        Ok(())
    }

    pub(crate) fn remove_link(&self, other: Id) {
        self.with(|e| e.links.retain(|l| *l != other));
    }
}

/// Tells everyone who asked that `id` ended with `reason`, terminates the meta-processes
/// it owned, and drops the monitors it held.
pub(crate) fn announce_end(node: &Node, id: Id, ended: Ended, reason: ExitReason) {
    let registry = node.registry();
    for child in ended.children {
        if let Ok(meta) = registry.meta(child) {
            meta.stop_for_owner(node.is_stopping());
        }
    }
    for (target, reference) in ended.monitoring {
        node.demonitor_target(target, reference);
    }
    for Watcher { pid, reference } in ended.watchers {
        if let Ok(p) = registry.process(pid) {
            p.lifecycle.take_monitoring(reference);
            p.push_lifecycle(Envelope::Message(Message::Down { id, reference, reason }));
        }
    }
    for meta in ended.watching_metas {
        if let Ok(meta) = registry.meta(meta) {
            meta.handle.watched_ended(reason);
        }
    }
    for linked in ended.links {
        if let Ok(p) = registry.process(linked) {
            p.lifecycle.remove_link(id);
            p.push_lifecycle(Envelope::ExitSignal { from: id, reason });
        }
    }
}
