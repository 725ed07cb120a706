//! The node's API over registered names: a name stands for one live process.

use crate::error::{Error, Result};
use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::message::Body;

impl Node {
    pub fn whereis(&self, name: &str) -> Result<Id> {
        self.registry().whereis(name).ok_or(Error::NotFound)
    }

    /// Binds `name` to process `pid` (WrongKind for a meta-process's alias).
    pub fn register(&self, name: &str, pid: Id) -> Result<()> {
        let p = self.registry().process(pid)?;
        self.registry().register(name, &p)
    }

    pub fn unregister(&self, name: &str) -> Result<()> {
        self.registry().unregister(name)
    }

    pub fn send_named(&self, name: &str, tag: u64, data: impl Into<Body>) -> Result<()> {
        self.send(self.whereis(name)?, tag, data)
    }
}
