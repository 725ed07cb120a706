//! Processes (actors): mailbox, dispatch, calls, links and monitors, supervision.
pub mod behavior;
pub mod body;
pub mod call;
pub mod disconnect_reason;
pub(crate) mod frame_source;
pub(crate) mod current;
pub(crate) mod lifecycle;
pub(crate) mod mailbox;
pub mod message;
pub mod payload;
#[allow(clippy::module_inception)]
pub mod process;
pub mod supervisor;
pub(crate) mod worker_slot;
