//! Where a read's frames come from (a connection), as the core sees it: something that
//! wraps the handler's pass over those frames. The frames of one read are answered with
//! one write each, and finding the connection in the registry for every one of them was a
//! tenth of the work; wrapping the pass lets the connection keep itself at hand for the
//! writes made during it, without the core knowing what a connection is.

use std::sync::Arc;

use crate::process::behavior::Flow;

pub(crate) trait FrameSource: Send + Sync + 'static {
    /// Runs `pass` (the handler over this source's frames) once and returns its result.
    fn serve_pass(self: Arc<Self>, pass: &mut dyn FnMut() -> Flow) -> Flow;
}
