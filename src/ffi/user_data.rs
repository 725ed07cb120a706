//! Foreign `user_data` with its `free_user_data`, which runs exactly once: when the last
//! holder lets go (a node's logger at stop, a behaviour when its last process and handle end).

use std::ffi::c_void;

/// Frees a `user_data` pointer. Called exactly once, on any thread.
#[allow(non_camel_case_types)]
pub type actnet_free_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

pub(crate) struct UserData {
    pub(crate) ptr: *mut c_void,
    free: actnet_free_fn,
}

// Foreign code promises (in the header) that user_data may be used from any thread.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(ptr: *mut c_void, free: actnet_free_fn) -> Self {
        UserData { ptr, free }
    }

    /// Lets go without calling free: ownership stays with the foreign caller.
    pub(crate) fn forget(mut self) {
        self.free = None;
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(free) = self.free.take() {
            unsafe { free(self.ptr) };
        }
    }
}
