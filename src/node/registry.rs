//! The node's registry: which ids are alive (processes and meta-processes) and which names
//! are registered. An id leaves the registry when its owner terminates, before anyone is
//! told, so that a supervisor told of an exit can register the name again at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::error::{Error, Result};
use crate::meta::meta_process::MetaShared;
use crate::node::ids::{ById, HasId, Id, IdSet};
use crate::process::lifecycle::Lifecycle;
use crate::process::process::ProcessShared;

#[derive(Clone)]
pub(crate) enum Entry {
    Process(Arc<ProcessShared>),
    Meta(Arc<MetaShared>),
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
    metas: IdSet<MetaShared>,
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

impl HasId for MetaShared {
    fn id(&self) -> &Id {
        &self.alias
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    entries: RwLock<Entries>,
    names: Mutex<HashMap<String, Id>>,
}

impl Registry {
    pub(crate) fn insert(&self, entry: Entry) {
        let mut entries = self.entries.write().unwrap();
        match entry {
            Entry::Process(p) => entries.processes.insert(ById(p)),
            Entry::Meta(m) => entries.metas.insert(ById(m)),
        };
    }

    pub(crate) fn remove(&self, id: Id) -> Option<Entry> {
        let mut entries = self.entries.write().unwrap();
        if let Some(p) = entries.processes.take(&id) {
            return Some(Entry::Process(p.0));
        }
        entries.metas.take(&id).map(|m| Entry::Meta(m.0))
    }

    pub(crate) fn get(&self, id: Id) -> Option<Entry> {
        self.entries.read().unwrap().get(id)
    }

    /// Runs `f` on the meta-process (or None) under the read lock; `f` must not block or
    /// take the registry's locks.
    pub(crate) fn with_meta<R>(&self, id: Id, f: impl FnOnce(Option<&Arc<MetaShared>>) -> R) -> R {
        f(self.entries.read().unwrap().metas.get(&id).map(|m| &m.0))
    }

    /// A live process. One that has begun to end (its mailbox is closed) is NotFound here
    /// too, as it is for sends, although it leaves the registry a moment later.
    pub(crate) fn process(&self, id: Id) -> Result<Arc<ProcessShared>> {
        match self.entries.read().unwrap().processes.get(&id) {
            Some(p) if p.0.is_alive() => Ok(p.0.clone()),
            _ => Err(Error::NotFound),
        }
    }

    pub(crate) fn meta(&self, id: Id) -> Result<Arc<MetaShared>> {
        self.entries.read().unwrap().metas.get(&id).map(|m| m.0.clone()).ok_or(Error::NotFound)
    }

    pub(crate) fn all(&self) -> Vec<Entry> {
        let entries = self.entries.read().unwrap();
        let processes = entries.processes.iter().map(|p| Entry::Process(p.0.clone()));
        processes.chain(entries.metas.iter().map(|m| Entry::Meta(m.0.clone()))).collect()
    }

    pub(crate) fn count(&self) -> (usize, usize) {
        let entries = self.entries.read().unwrap();
        (entries.processes.len(), entries.metas.len())
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
