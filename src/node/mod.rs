//! The node: runtime, registry (pids, aliases, names), ids and logging.
pub mod ids;
pub mod logging;
#[allow(clippy::module_inception)]
pub mod node;
pub(crate) mod registry;
pub(crate) mod watchdog;
pub mod wakeup;
