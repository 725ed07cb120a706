//! Meta-processes: the framework, the forwarder, and the TCP meta-processes.
pub mod forwarder;
pub mod meta_process;
pub mod tcp;
