//! Ids as C sees them: one single-field struct per kind, passed by value (as nng does), so
//! that a process id where a connection's alias is expected does not compile. Both wrap the
//! node's 64-bit ids, which are never reused; `id == 0` names nothing.

use crate::ffi::args::FfiResult;
use crate::ffi::status::check;
use crate::node::ids::{expect_kind, Id, IdKind};

/// A process (actor). `{0}` names no process.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct actnet_pid {
    pub id: u64,
}

/// A meta-process: a TCP server, a connection, a forwarder. `{0}` names none.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct actnet_alias {
    pub id: u64,
}

impl actnet_pid {
    pub(crate) fn of(id: Id) -> actnet_pid {
        actnet_pid { id }
    }

    /// The id, checked to be a process id (`WRONG_KIND` for an alias).
    pub(crate) fn get(self) -> FfiResult<Id> {
        check(expect_kind(self.id, IdKind::Process)).map(|()| self.id)
    }

    /// The id, or None for `{0}`; checked as [`actnet_pid::get`].
    pub(crate) fn optional(self) -> FfiResult<Option<Id>> {
        Ok((self.id != 0).then_some(self.get()?))
    }
}

impl actnet_alias {
    pub(crate) fn of(id: Id) -> actnet_alias {
        actnet_alias { id }
    }

    /// The id, checked to be a meta-process's alias (`WRONG_KIND` for a process id).
    pub(crate) fn get(self) -> FfiResult<Id> {
        check(expect_kind(self.id, IdKind::Meta)).map(|()| self.id)
    }
}
