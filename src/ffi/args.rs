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

/// Borrows the node behind a handle for a call. A stopped node refuses every call with
/// `NODE_STOPPING`: the handle stays valid memory until `actnet_node_free`, so a thread that
/// still holds it after the stop gets a status, not freed memory.
///
/// # Safety
/// `node` must be NULL or a handle from `actnet_node_start` not yet freed.
pub(crate) unsafe fn node<'a>(node: *const actnet_node) -> FfiResult<ManuallyDrop<Node>> {
    let node = node_in_any_state(node)?;
    if node.is_stopped() {
        return Err(ACTNET_STATUS_NODE_STOPPING);
    }
    Ok(node)
}

/// Borrows the node behind a handle whether or not it has stopped (for stop and free).
///
/// # Safety
/// As for [`node`].
pub(crate) unsafe fn node_in_any_state(node: *const actnet_node) -> FfiResult<ManuallyDrop<Node>> {
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

/// An options struct: `#[repr(C)]`, `Copy`, and its first field is `uint32_t struct_size`.
pub(crate) trait Options: Copy {
    /// What the struct's `_init` function writes: every default, `struct_size` included.
    fn defaults() -> Self;
}

/// Reads an options struct from foreign code. A caller compiled against an older library
/// knows fewer fields: its `struct_size` is smaller, only that many bytes are read, and the
/// fields past them keep their defaults. A size larger than this library's struct (a newer
/// caller) or too small to hold `struct_size` itself is `STRUCT_SIZE`.
///
/// For this to hold, a field appended to a struct must start at or after the struct's old
/// `sizeof`: where the old struct ended in padding, add an explicit padding field first.
pub(crate) fn options<T: Options>(ptr: *const T) -> FfiResult<T> {
    if ptr.is_null() {
        return Err(ACTNET_STATUS_NULL_ARGUMENT);
    }
    // Only the leading u32 may be read before the size is known: the rest may not exist.
    let size = unsafe { std::ptr::read_unaligned(ptr as *const u32) } as usize;
    if size < std::mem::size_of::<u32>() || size > std::mem::size_of::<T>() {
        return Err(ACTNET_STATUS_STRUCT_SIZE);
    }
    let mut options = T::defaults();
    // SAFETY: the caller's struct has `size` readable bytes; `options` has at least as many.
    unsafe { std::ptr::copy_nonoverlapping(ptr as *const u8, &mut options as *mut T as *mut u8, size) };
    Ok(options)
}

/// As [`options`], where NULL means "every default".
pub(crate) fn options_or_defaults<T: Options>(ptr: *const T) -> FfiResult<T> {
    match ptr.is_null() {
        true => Ok(T::defaults()),
        false => options(ptr),
    }
}

/// Writes back a struct read with [`options`], as many bytes as the caller's
/// `struct_size` says (an output struct from an older caller is smaller).
pub(crate) fn write_options<T: Options>(ptr: *mut T, value: &T) {
    let size = unsafe { std::ptr::read_unaligned(ptr as *const u32) } as usize;
    let size = size.min(std::mem::size_of::<T>());
    // SAFETY: `ptr` passed `options` with this size: the caller has that many bytes.
    unsafe { std::ptr::copy_nonoverlapping(value as *const T as *const u8, ptr as *mut u8, size) };
}

/// Writes the defaults of an options struct (its `_init` function).
pub(crate) fn init_options<T: Options>(ptr: *mut T) -> FfiResult<()> {
    *out(ptr)? = T::defaults();
    Ok(())
}

/// A millisecond count as a Duration.
pub(crate) fn millis(ms: u32) -> std::time::Duration {
    std::time::Duration::from_millis(ms as u64)
}

/// An enum value passed as an integer, checked against its range.
pub(crate) fn enum_value<T>(value: u32, convert: impl FnOnce(u32) -> Option<T>) -> FfiResult<T> {
    convert(value).ok_or(ACTNET_STATUS_INVALID_ARGUMENT)
}
