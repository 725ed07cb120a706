//! actnet: an actor runtime whose TCP sockets are meta-processes, behind a C ABI.
//!
//! Everything but `ffi` is plain Rust, usable without the C ABI; `ffi` only translates
//! between C and the rest. The actor core (`node`, `process`) imports nothing from `meta`
//! (the meta-processes built on it), `buf` (buffer pools) or `ffi`: it defines the types and
//! traits those implement (`tests/layering.rs` checks).

pub mod buf;
pub mod c_enum;
pub mod error;
pub mod ffi;
pub mod meta;
pub mod node;
pub mod process;

pub use error::{Error, Result};
pub use node::ids::Id;
pub use node::node::{Node, NodeOptions};
