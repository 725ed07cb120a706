//! Checking what foreign code passes in: NULL pointers, strings, byte ranges, options
//! structs and the node handle. Every check turns bad input into a status.

use std::ffi::{c_char, CStr};
use std::mem::ManuallyDrop;

use crate::ffi::status::actnet_status::{self, *};
use crate::node::node::Node;

pub(crate) type FfiResult<T> = Result<T, actnet_status>;

/// The node as foreign code holds it: an opaque pointer.
pub struct actnet_node {
    _private: [u8; 0],
}

/// Borrows the node behind a handle.
///
/// # Safety
/// `node` must be NULL or a handle from `actnet_node_start` not yet stopped.
pub(crate) unsafe fn node<'a>(node: *const actnet_node) -> FfiResult<ManuallyDrop<Node>> {
    if node.is_null() {
        return Err(ACTNET_STATUS_NULL_ARGUMENT);
    }
    Ok(Node::borrow_raw(node as *const std::ffi::c_void))
}

pub(crate) fn node_handle(node: &Node) -> *mut actnet_node {
    node.as_raw() as *mut actnet_node
}

/// A required out-parameter.
pub(crate) fn out<'a, T>(ptr: *mut T) -> FfiResult<&'a mut T> {
    unsafe { ptr.as_mut() }.ok_or(ACTNET_STATUS_NULL_ARGUMENT)
}

/// A required pointer argument.
pub(crate) fn required<'a, T>(ptr: *const T) -> FfiResult<&'a T> {
    unsafe { ptr.as_ref() }.ok_or(ACTNET_STATUS_NULL_ARGUMENT)
}

/// A required NUL-terminated UTF-8 string.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string.
pub(crate) unsafe fn string<'a>(ptr: *const c_char) -> FfiResult<&'a str> {
    optional_string(ptr)?.ok_or(ACTNET_STATUS_NULL_ARGUMENT)
}

/// An optional NUL-terminated UTF-8 string (NULL means absent).
///
/// # Safety
/// As for [`string`].
pub(crate) unsafe fn optional_string<'a>(ptr: *const c_char) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(ptr).to_str().map(Some).map_err(|_| ACTNET_STATUS_INVALID_ARGUMENT)
}

/// `len` bytes at `data`; `data` may be NULL only when `len` is 0.
///
/// # Safety
/// `data` must point to `len` readable bytes.
pub(crate) unsafe fn bytes<'a>(data: *const u8, len: usize) -> FfiResult<&'a [u8]> {
    match (data.is_null(), len) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(ACTNET_STATUS_NULL_ARGUMENT),
        (false, _) => Ok(std::slice::from_raw_parts(data, len)),
    }
}

/// An options struct whose first field is `uint32_t struct_size`.
pub(crate) trait Options: Sized {
    fn struct_size(&self) -> u32;
}

/// Checks an options pointer: not NULL, and `struct_size` equal to this library's size of
/// the struct (fields are only ever appended; an older or newer layout is refused rather
/// than half-read).
pub(crate) fn options<'a, T: Options>(ptr: *const T) -> FfiResult<&'a T> {
    let options = required(ptr)?;
    if options.struct_size() as usize != std::mem::size_of::<T>() {
        return Err(ACTNET_STATUS_STRUCT_SIZE);
    }
    Ok(options)
}

/// A millisecond count as a Duration.
pub(crate) fn millis(ms: u32) -> std::time::Duration {
    std::time::Duration::from_millis(ms as u64)
}

/// An enum value passed as an integer, checked against its range.
pub(crate) fn enum_value<T>(value: u32, convert: impl FnOnce(u32) -> Option<T>) -> FfiResult<T> {
    convert(value).ok_or(ACTNET_STATUS_INVALID_ARGUMENT)
}
