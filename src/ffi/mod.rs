#![allow(non_camel_case_types)]
//! The C ABI: translation between C and the core, nothing else. Every exported function is
//! `actnet_*`, wrapped in the panic boundary, and documented in `include/actnet.h`.
pub mod args;
pub mod behavior;
pub(crate) mod boundary;
pub mod buf;
pub mod call;
pub mod ids;
pub mod inspect;
pub mod message;
pub mod meta;
pub mod node;
pub mod process;
pub mod status;
pub mod supervisor;
pub mod tcp;
pub mod tls;
pub(crate) mod user_data;
