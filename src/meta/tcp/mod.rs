//! TCP meta-processes.
pub mod pool;
