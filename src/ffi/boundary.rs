//! The panic boundary. Every `extern "C"` function's body is one call to [`guard`] (for
//! functions returning a status) or [`guard_or`] (for the rest); `tests/ffi_boundary.rs`
//! checks that. A panic inside becomes `ACTNET_STATUS_PANIC` (or the fallback value) instead
//! of unwinding into foreign code.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ffi::status::actnet_status;

pub(crate) fn guard(body: impl FnOnce() -> Result<(), actnet_status>) -> actnet_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => actnet_status::ACTNET_STATUS_OK,
        Ok(Err(status)) => status,
        Err(_) => actnet_status::ACTNET_STATUS_PANIC,
    }
}

pub(crate) fn guard_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}
