//! What a process does: the three callbacks of the actor model, and factories that make a
//! fresh behaviour for every spawn so a supervisor can restart a child with fresh state.

use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::message::{ExitReason, Message};

/// What a handler sees of its process.
pub struct Context<'a> {
    pub node: &'a Node,
    pub pid: Id,
}

/// What to do after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop(ExitReason),
}

/// A process's callbacks. The runtime calls them one at a time, never concurrently for one
/// process: `init` on the spawning thread, the others on a runtime worker thread.
pub trait Behavior: Send + 'static {
    /// Runs before the process receives anything. An error code fails the spawn.
    fn init(&mut self, _ctx: &Context<'_>, _args: &[u8]) -> Result<(), i32> {
        Ok(())
    }

    fn handle(&mut self, ctx: &Context<'_>, message: Message) -> Flow;

    /// Runs once when the process ends, unless `init` failed.
    fn terminate(&mut self, _ctx: &Context<'_>, _reason: ExitReason) {}

    /// Shown as `kind` by inspect.
    fn kind(&self) -> &'static str {
        "process"
    }
}

/// Makes a fresh behaviour for each spawn.
pub trait Factory: Send + Sync + 'static {
    fn create(&self) -> Box<dyn Behavior>;
}
