//! The node: runtime, registry (pids, aliases, names), ids and logging.
pub mod ids;
pub mod logging;
pub mod meta_entry;
mod names;
#[allow(clippy::module_inception)]
pub mod node;
mod processes;
pub(crate) mod registry;
pub(crate) mod watchdog;
pub mod wakeup;
