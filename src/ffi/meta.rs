//! Meta-processes: ending them, and the forwarder.

use std::ffi::c_char;

use crate::ffi::args::{self, actnet_node};
use crate::ffi::boundary::guard;
use crate::ffi::ids::{actnet_alias, actnet_pid};
use crate::ffi::status::{actnet_status, check};
use crate::meta::meta_process::StopRequest;

/// Ends a meta-process gracefully: a connection flushes what was already queued, then
/// closes (DISCONNECT reason `CLOSED`); a server closes its listener and its connections.
/// Returns at once; the end is reported by DOWN to monitors. Any thread.
/// Errors: `NOT_FOUND` (already gone), `WRONG_KIND` (a process id).
#[no_mangle]
pub extern "C" fn actnet_meta_terminate(node: *mut actnet_node, alias: actnet_alias) -> actnet_status {
    guard(|| check(unsafe { args::node(node)? }.stop_meta(alias.get()?, StopRequest::Graceful)))
}

/// Ends a meta-process at once: a connection drops queued writes and resets the socket
/// (DISCONNECT reason `ABORTED`). Errors: `NOT_FOUND`, `WRONG_KIND`.
#[no_mangle]
pub extern "C" fn actnet_meta_abort(node: *mut actnet_node, alias: actnet_alias) -> actnet_status {
    guard(|| check(unsafe { args::node(node)? }.stop_meta(alias.get()?, StopRequest::Abort)))
}

/// Spawns a forwarder meta-process owned by process `owner`: every message sent to its alias
/// (`actnet_meta_send`) is passed on (same tag and bytes, `alias` = the forwarder's) to the process registered as
/// `target_name` (looked up at each message), or to the owner when `target_name` is NULL.
/// It ends with its owner. On success `*alias_out` receives its alias.
/// Errors: `NULL_ARGUMENT`, `NOT_FOUND` (owner gone), `NODE_STOPPING`.
#[no_mangle]
pub extern "C" fn actnet_forwarder_spawn(
    node: *mut actnet_node,
    owner: actnet_pid,
    target_name: *const c_char,
    alias_out: *mut actnet_alias,
) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let out = args::out(alias_out)?;
        let target = unsafe { args::optional_string(target_name)? }.map(str::to_owned);
        *out = actnet_alias::of(check(node.spawn_forwarder(owner.get()?, target))?);
        Ok(())
    })
}
