//! actnet: an actor runtime whose TCP sockets are meta-processes, behind a C ABI.
//!
//! The core (`node`, `process`, `meta`) is plain Rust and usable without the C ABI; `ffi`
//! only translates between C and the core.

pub mod buf;
pub mod error;
pub mod ffi;
pub mod meta;
pub mod node;
pub mod process;

pub use error::{Error, Result};
pub use node::ids::Id;
pub use node::node::{Node, NodeOptions};
