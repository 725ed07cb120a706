//! Inspect: key/value pairs describing a process or meta-process.

use std::ffi::{c_char, CString};

use crate::ffi::args::{self, actnet_node};
use crate::ffi::boundary::{guard, guard_or};
use crate::ffi::ids::{actnet_alias, actnet_pid};
use crate::ffi::status::{actnet_status, check};

/// The result of `actnet_process_inspect` and `actnet_meta_inspect` (opaque): an ordered list of key/value strings.
pub struct actnet_info {
    pairs: Vec<(CString, CString)>,
}

fn c_string(s: String) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// Describes a process: kind, pid, name, state, mailbox, mailbox capacity, messages in,
/// messages out, … Any thread, including handlers; never waits for the target. On success
/// the caller owns `*info_out` and frees it with `actnet_info_free`.
/// Errors: `NULL_ARGUMENT`, `NOT_FOUND`, `WRONG_KIND` (a meta-process's alias).
#[no_mangle]
pub extern "C" fn actnet_process_inspect(node: *mut actnet_node, pid: actnet_pid, info_out: *mut *mut actnet_info) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let out = args::out(info_out)?;
        *out = info(check(node.inspect(pid.get()?))?);
        Ok(())
    })
}

/// Describes a meta-process: kind, alias, owner, and what it reports (a connection's
/// addresses, bytes in and out, write queue, …; a server's connections and counters).
/// As `actnet_process_inspect` otherwise. Errors: `NULL_ARGUMENT`, `NOT_FOUND`,
/// `WRONG_KIND` (a process id).
#[no_mangle]
pub extern "C" fn actnet_meta_inspect(node: *mut actnet_node, alias: actnet_alias, info_out: *mut *mut actnet_info) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let out = args::out(info_out)?;
        *out = info(check(node.inspect(alias.get()?))?);
        Ok(())
    })
}

fn info(pairs: Vec<(String, String)>) -> *mut actnet_info {
    let pairs = pairs.into_iter().map(|(k, v)| (c_string(k), c_string(v))).collect();
    Box::into_raw(Box::new(actnet_info { pairs }))
}

/// The number of pairs; 0 for NULL.
#[no_mangle]
pub extern "C" fn actnet_info_count(info: *const actnet_info) -> usize {
    guard_or(0, || args::required(info).map(|i| i.pairs.len()).unwrap_or(0))
}

/// The key of pair `index`, owned by `info`; NULL if out of range.
#[no_mangle]
pub extern "C" fn actnet_info_key(info: *const actnet_info, index: usize) -> *const c_char {
    guard_or(std::ptr::null(), || {
        let pair = args::required(info).ok().and_then(|i| i.pairs.get(index));
        pair.map(|(k, _)| k.as_ptr()).unwrap_or(std::ptr::null())
    })
}

/// The value of pair `index`, owned by `info`; NULL if out of range.
#[no_mangle]
pub extern "C" fn actnet_info_value(info: *const actnet_info, index: usize) -> *const c_char {
    guard_or(std::ptr::null(), || {
        let pair = args::required(info).ok().and_then(|i| i.pairs.get(index));
        pair.map(|(_, v)| v.as_ptr()).unwrap_or(std::ptr::null())
    })
}

/// The value for `key`, owned by `info`; NULL if absent.
#[no_mangle]
pub extern "C" fn actnet_info_get(info: *const actnet_info, key: *const c_char) -> *const c_char {
    guard_or(std::ptr::null(), || {
        let (Ok(info), Ok(key)) = (args::required(info), unsafe { args::string(key) }) else {
            return std::ptr::null();
        };
        let pair = info.pairs.iter().find(|(k, _)| k.to_bytes() == key.as_bytes());
        pair.map(|(_, v)| v.as_ptr()).unwrap_or(std::ptr::null())
    })
}

/// Frees an inspect result. Errors: `NULL_ARGUMENT`.
#[no_mangle]
pub extern "C" fn actnet_info_free(info: *mut actnet_info) -> actnet_status {
    guard(|| {
        if info.is_null() {
            return Err(actnet_status::ACTNET_STATUS_NULL_ARGUMENT);
        }
        drop(unsafe { Box::from_raw(info) });
        Ok(())
    })
}
