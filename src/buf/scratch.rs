//! The scratch pool: buffers for bytes the runtime hands to foreign code that belong to no
//! pool of the caller's (a call's reply). One for the whole library: it used to be one per
//! node, but the node is actor core and holds no buffer pools; a shared one keeps at most
//! `MAX_IDLE` small buffers idle (larger ones are trimmed on return).

use std::sync::OnceLock;

use crate::buf::pool::Pool;

/// Idle buffers kept for reuse.
const MAX_IDLE: usize = 64;

/// The library's scratch pool.
pub fn scratch_pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool::new(0, MAX_IDLE))
}
