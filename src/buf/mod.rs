//! Byte buffers that can be lent to foreign code: pools whose buffers carry an ownership
//! state, so a double free from C is an error rather than corruption. Used by the TCP
//! meta-processes and the C ABI; the actor core (node, process) knows nothing of them.
pub mod pool;
pub mod scratch;
