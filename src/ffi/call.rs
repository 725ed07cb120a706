//! Calls: synchronous request/reply between processes.

use bytes::Bytes;
use crate::buf::scratch::scratch_pool;

use crate::ffi::args::{self, actnet_node};
use crate::ffi::boundary::guard;
use crate::ffi::buf::{actnet_buf, give};
use crate::ffi::ids::actnet_pid;
use crate::ffi::status::{actnet_status, check};
use crate::process::message::Body;

/// Sends a request (`tag`, `len` bytes at `data`, copied) to process `to` and waits up to
/// `timeout_ms` for its handler to answer with `actnet_process_reply`. On success
/// `*reply_out` receives the answer in a buffer the caller holds and frees with
/// `actnet_buf_free`. Any thread; from a handler, the runtime keeps serving other processes
/// while this one waits.
///
/// Errors: `NULL_ARGUMENT`, `NOT_FOUND` (no such process, or it ended before answering),
/// `MAILBOX_FULL`, `TIMEOUT`, `WRONG_KIND` (a meta-process's alias), `WRONG_CONTEXT`
/// (calling itself).
#[no_mangle]
pub extern "C" fn actnet_process_call(
    node: *mut actnet_node,
    to: actnet_pid,
    tag: u64,
    data: *const u8,
    len: usize,
    timeout_ms: u32,
    reply_out: *mut *mut actnet_buf,
) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let out = args::out(reply_out)?;
        let request = Body::copy_from_slice(unsafe { args::bytes(data, len)? });
        let reply = check(node.call(to.get()?, tag, request, args::millis(timeout_ms)))?;
        *out = give(scratch_pool().copy_from(&reply));
        Ok(())
    })
}

/// Answers a CALL with `len` bytes at `data` (copied), using the message's `reference`. May
/// be called later, from any thread, as long as the caller still waits.
/// Errors: `NULL_ARGUMENT`, `NOT_FOUND` (already answered, or the caller gave up).
#[no_mangle]
pub extern "C" fn actnet_process_reply(node: *mut actnet_node, reference: u64, data: *const u8, len: usize) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let reply = Bytes::copy_from_slice(unsafe { args::bytes(data, len)? });
        check(node.reply(reference, reply))
    })
}
