//! The node's registry: which ids are alive (processes and meta-processes) and which names
//! are registered. An id leaves the registry when its owner terminates, before anyone is
//! told, so that a supervisor told of an exit can register the name again at once.
//!
//! The id tables are split into shards, each behind its own lock on its own cache lines. Every
//! send looks its target up, and even a read lock writes its lock word: with one lock for the
//! whole node, every send on every core wrote the same cache line, and with two independent
//! pairs of processes on two cores the lookup cost 40 ns of CPU per message instead of 13 (the
//! line moving between the cores). With shards, lookups of different ids mostly touch
//! different lines.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::error::{Error, Result};
use crate::node::ids::{expect_kind, id_hash, ById, HasId, Id, IdKind, IdSet};
use crate::node::meta_entry::MetaEntry;
use crate::process::lifecycle::Lifecycle;
use crate::process::process::ProcessShared;

/// Shards of the id tables: a few times the cores of a large machine, so two busy ids rarely
/// share one, at 8 KiB per node (nothing per entry: the tables together hold what one did).
const SHARDS: usize = 64;

#[derive(Clone)]
pub(crate) enum Entry {
    Process(Arc<ProcessShared>),
    Meta(Arc<MetaEntry>),
}

impl Entry {
    pub(crate) fn lifecycle(&self) -> &Lifecycle {
        match self {
            Entry::Process(p) => &p.lifecycle,
            Entry::Meta(m) => &m.lifecycle,
        }
    }
}

/// The live ids, one set per kind: a slot is then one pointer, where one table of `Entry`
/// values (a tag and a pointer) needed two, keyed by the id again.
#[derive(Default)]
struct Entries {
    processes: IdSet<ProcessShared>,
    metas: IdSet<MetaEntry>,
}

impl Entries {
    fn get(&self, id: Id) -> Option<Entry> {
        if let Some(p) = self.processes.get(&id) {
            return Some(Entry::Process(p.0.clone()));
        }
        self.metas.get(&id).map(|m| Entry::Meta(m.0.clone()))
    }
}

impl HasId for ProcessShared {
    fn id(&self) -> &Id {
        &self.pid
    }
}

impl HasId for MetaEntry {
    fn id(&self) -> &Id {
        &self.alias
    }
}

/// One shard's tables and lock, aligned to 128 bytes: the lock word is written by every
/// reader, so no other shard may share its cache line, nor the line beside it (x86 fetches
/// lines in pairs).
#[derive(Default)]
#[repr(align(128))]
struct Shard(RwLock<Entries>);

pub(crate) struct Registry {
    shards: Box<[Shard]>,
    names: Mutex<HashMap<String, Id>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry { shards: (0..SHARDS).map(|_| Shard::default()).collect(), names: Mutex::default() }
    }
}

impl Registry {
    /// The tables that hold `id`. The shard comes from the middle bits of the id's hash: a
    /// table takes its buckets from the low bits and its tags from the top ones, and those
    /// must still differ between the ids of one shard (`id % SHARDS` would make the low bits
    /// alike). Consecutive ids, such as a pair of processes spawned together, land in
    /// different shards.
    fn entries(&self, id: Id) -> &RwLock<Entries> {
        &self.shards[(id_hash(id) >> 32) as usize % SHARDS].0
    }

    pub(crate) fn insert(&self, entry: Entry) {
        match entry {
            Entry::Process(p) => self.entries(p.pid).write().unwrap().processes.insert(ById(p)),
            Entry::Meta(m) => self.entries(m.alias).write().unwrap().metas.insert(ById(m)),
        };
    }

    pub(crate) fn remove(&self, id: Id) -> Option<Entry> {
        let mut entries = self.entries(id).write().unwrap();
        if let Some(p) = entries.processes.take(&id) {
            return Some(Entry::Process(p.0));
        }
        entries.metas.take(&id).map(|m| Entry::Meta(m.0))
    }

    pub(crate) fn get(&self, id: Id) -> Option<Entry> {
        self.entries(id).read().unwrap().get(id)
    }

    /// Runs `f` on the meta-process under the read lock (no reference counts change hands);
    /// `f` must not block or take the registry's locks. Errors as for `meta`.
    pub(crate) fn with_meta<R>(&self, id: Id, f: impl FnOnce(&Arc<MetaEntry>) -> R) -> Result<R> {
        expect_kind(id, IdKind::Meta)?;
        match self.entries(id).read().unwrap().metas.get(&id) {
            Some(m) => Ok(f(&m.0)),
            None => Err(Error::NotFound),
        }
    }

    /// A live process. One that has begun to end (its mailbox is closed) is NotFound here
    /// too, as it is for sends, although it leaves the registry a moment later. WrongKind
    /// if `id` is a meta-process's alias (alive or not: the kind is in the id).
    pub(crate) fn process(&self, id: Id) -> Result<Arc<ProcessShared>> {
        expect_kind(id, IdKind::Process)?;
        match self.entries(id).read().unwrap().processes.get(&id) {
            Some(p) if p.0.is_alive() => Ok(p.0.clone()),
            _ => Err(Error::NotFound),
        }
    }

    /// A live meta-process. WrongKind if `id` is a process's pid.
    pub(crate) fn meta(&self, id: Id) -> Result<Arc<MetaEntry>> {
        self.with_meta(id, Arc::clone)
    }

    /// Every live entry, processes first (one shard at a time: not one instant's snapshot).
    pub(crate) fn all(&self) -> Vec<Entry> {
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            all.extend(shard.0.read().unwrap().processes.iter().map(|p| Entry::Process(p.0.clone())));
        }
        for shard in self.shards.iter() {
            all.extend(shard.0.read().unwrap().metas.iter().map(|m| Entry::Meta(m.0.clone())));
        }
        all
    }

    pub(crate) fn count(&self) -> (usize, usize) {
        self.shards.iter().fold((0, 0), |(processes, metas), shard| {
            let entries = shard.0.read().unwrap();
            (processes + entries.processes.len(), metas + entries.metas.len())
        })
    }

    /// The live process registered under `name`.
    pub(crate) fn whereis(&self, name: &str) -> Option<Id> {
        let pid = self.names.lock().unwrap().get(name).copied()?;
        self.process(pid).ok().map(|_| pid)
    }

    /// Binds `name` to a live process that has no name yet.
    pub(crate) fn register(&self, name: &str, process: &ProcessShared) -> Result<()> {
        if name.is_empty() {
            return Err(Error::InvalidArgument);
        }
        let mut names = self.names.lock().unwrap();
        let mut own = process.name.lock().unwrap();
        if names.contains_key(name) || own.is_some() {
            return Err(Error::NameTaken);
        }
        if !process.lifecycle.is_alive() {
            return Err(Error::NotFound);
        }
        names.insert(name.to_owned(), process.pid);
        *own = Some(name.to_owned());
        Ok(())
    }

    /// Frees `name`. Returns NotFound when it is not registered.
    pub(crate) fn unregister(&self, name: &str) -> Result<()> {
        let mut names = self.names.lock().unwrap();
        let pid = names.remove(name).ok_or(Error::NotFound)?;
        if let Ok(p) = self.process(pid) {
            p.name.lock().unwrap().take();
        }
        Ok(())
    }

    /// Frees whatever name the process holds.
    pub(crate) fn unregister_process(&self, process: &ProcessShared) {
        let mut names = self.names.lock().unwrap();
        if let Some(name) = process.name.lock().unwrap().take() {
            if names.get(&name) == Some(&process.pid) {
                names.remove(&name);
            }
        }
    }
}
