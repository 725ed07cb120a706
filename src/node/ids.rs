//! Identifiers: one 64-bit counter per node hands out every process id, alias, monitor
//! reference and call reference, so an id is never reused during a node's life and a stale id
//! can only ever mean "gone".

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// A process id, a meta-process alias, or a reference. 0 never names anything.
pub type Id = u64;

/// What an id names. The kind is part of the id's value (its lowest bit), so it can be told
/// from any id, even a stale one, without a lookup: a process id passed where an alias is
/// expected is a wrong kind, never a "not found" or, worse, the other thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Process,
    Meta,
}

/// The kind of id `id` is (references and 0 have a kind too, which means nothing).
pub fn kind_of(id: Id) -> IdKind {
    match id & 1 {
        0 => IdKind::Process,
        _ => IdKind::Meta,
    }
}

/// WrongKind unless `id` is of `kind` (0, which names nothing, passes: it is not found).
pub fn expect_kind(id: Id, kind: IdKind) -> Result<()> {
    match id == 0 || kind_of(id) == kind {
        true => Ok(()),
        false => Err(Error::WrongKind),
    }
}

pub(crate) struct IdAllocator(AtomicU64);

impl IdAllocator {
    pub(crate) fn new() -> Self {
        IdAllocator(AtomicU64::new(1))
    }

    /// A fresh id of `kind`: one counter serves every kind, the lowest bit tells them apart.
    pub(crate) fn next_of(&self, kind: IdKind) -> Id {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        (n << 1) | (kind == IdKind::Meta) as u64
    }

    /// A fresh reference (of monitors and calls; its kind bit means nothing).
    pub(crate) fn next(&self) -> Id {
        self.next_of(IdKind::Process)
    }
}

/// Hashes ids for the registry's maps. Ids are sequential integers, not attacker-chosen keys,
/// so one multiplication (Fibonacci hashing) spreads them well; SipHash cost a tenth of a
/// local message's time.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id_hash(id);
    }
}

/// An id's hash as the registry's tables see it (the registry also picks its shard from it).
pub(crate) fn id_hash(id: Id) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

pub(crate) type IdMap<V> = std::collections::HashMap<Id, V, BuildHasherDefault<IdHasher>>;

/// Something that carries its own id, so a set of them can be looked up by id.
pub(crate) trait HasId {
    fn id(&self) -> &Id;
}

/// A shared value in an [`IdSet`], hashed and compared by its id alone.
pub(crate) struct ById<T>(pub(crate) Arc<T>);

impl<T: HasId> Hash for ById<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Exactly as the id itself hashes, as `Borrow` requires.
        self.0.id().hash(state);
    }
}

impl<T: HasId> PartialEq for ById<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.id() == other.0.id()
    }
}

impl<T: HasId> Eq for ById<T> {}

impl<T: HasId> Borrow<Id> for ById<T> {
    fn borrow(&self) -> &Id {
        self.0.id()
    }
}

/// A set of shared values looked up by id. The id is read from the value, not stored beside
/// it: a slot is one pointer, half of an `IdMap<Arc<T>>`'s (the registry holds one per
/// process and connection, 10,000 idle connections or more).
pub(crate) type IdSet<T> = HashSet<ById<T>, BuildHasherDefault<IdHasher>>;
