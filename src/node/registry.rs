//! The node's registry: which ids are alive (processes and meta-processes) and which names
//! are registered. An id leaves the registry when its owner terminates, before anyone is
//! told, so that a supervisor told of an exit can register the name again at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::error::{Error, Result};
use crate::meta::meta_process::MetaShared;
use crate::node::ids::{Id, IdMap};
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

#[derive(Default)]
pub(crate) struct Registry {
    entries: RwLock<IdMap<Entry>>,
    names: Mutex<HashMap<String, Id>>,
}

impl Registry {
    pub(crate) fn insert(&self, id: Id, entry: Entry) {
        self.entries.write().unwrap().insert(id, entry);
    }

    pub(crate) fn remove(&self, id: Id) -> Option<Entry> {
        self.entries.write().unwrap().remove(&id)
    }

    pub(crate) fn get(&self, id: Id) -> Option<Entry> {
        self.entries.read().unwrap().get(&id).cloned()
    }

    /// Runs `f` on the entry (or None) under the read lock; `f` must not block or take the
    /// registry's locks.
    pub(crate) fn with_entry<R>(&self, id: Id, f: impl FnOnce(Option<&Entry>) -> R) -> R {
        f(self.entries.read().unwrap().get(&id))
    }

    /// A live process. One that has begun to end (its mailbox is closed) is NotFound here
    /// too, as it is for sends, although it leaves the registry a moment later.
    pub(crate) fn process(&self, id: Id) -> Result<Arc<ProcessShared>> {
        match self.entries.read().unwrap().get(&id) {
            Some(Entry::Process(p)) if p.is_alive() => Ok(p.clone()),
            _ => Err(Error::NotFound),
        }
    }

    pub(crate) fn meta(&self, id: Id) -> Result<Arc<MetaShared>> {
        match self.entries.read().unwrap().get(&id) {
            Some(Entry::Meta(m)) => Ok(m.clone()),
            _ => Err(Error::NotFound),
        }
    }

    pub(crate) fn all(&self) -> Vec<Entry> {
        self.entries.read().unwrap().values().cloned().collect()
    }

    pub(crate) fn count(&self) -> (usize, usize) {
        let entries = self.entries.read().unwrap();
        let processes = entries.values().filter(|e| matches!(e, Entry::Process(_))).count();
        (processes, entries.len() - processes)
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
