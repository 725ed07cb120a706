//! The state a connection shares with handler threads, and the write API over it: a write
//! finds the connection (at hand when the handler is answering its frames, else in the
//! registry) and writes or queues the bytes.

use std::any::Any;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::buf::pool::Buf;
use crate::error::{Error, Result};
use crate::meta::meta_process::{MetaHandle, StopRequest, StopSignal};
use crate::meta::tcp::connection::close::Cause;
use crate::meta::tcp::options::ConnectionConfig;
use crate::meta::tcp::transport::Transport;
use crate::meta::tcp::write_queue::{Flushed, Refused, Source, Writable, WriteQueue, Written};
use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::behavior::Flow;
use crate::process::current::{self, Deferred};
use crate::process::frame_source::FrameSource;
use crate::process::message::{ExitReason, Message};
use crate::process::process::{Envelope, ProcessShared};

thread_local! {
    /// The connection whose frames the handler running on this thread answers (see
    /// `FrameSource for ConnShared`), or null. A pointer, not an `Option<Arc>` in a
    /// `RefCell`: read on every write, it then costs no borrow flag.
    static REPLYING_TO: Cell<*const ConnShared> = const { Cell::new(std::ptr::null()) };
}

/// The state a connection shares with handler threads (writes, inspect, stop).
///
/// Size matters here: one per connection, beside tokio's two 128-byte-aligned blocks (the
/// task and its ScheduledIo), whose alignment leaves holes in glibc's heap that blocks of
/// this size fill. Today 200 bytes (a 224-byte chunk with the Arc's counts); above that, idle
/// memory per connection jumps by 35–45 bytes. Adding a field: re-measure case g of the
/// benchmarks (bench/README.md).
pub(crate) struct ConnShared {
    pub(super) alias: Id,
    pub(super) target: Arc<ProcessShared>,
    /// The target was found by its registered name: inspect shows the name, not the pid.
    pub(super) target_by_name: bool,
    pub(super) writes: WriteQueue,
    /// Stop requests; its wake-up is also the task's wake-up for everything else (queued
    /// writes, the target's end): the task looks at every source on each wake.
    pub(super) stop: StopSignal,
    pub(super) target_down: AtomicBool,
    pub(super) paused: AtomicBool,
    pub(super) bytes_in: AtomicU64,
    /// The write queue's limit, and the read buffer pool whose counters inspect shows.
    pub(super) config: Arc<ConnectionConfig>,
}

impl ConnShared {
    /// Writes or queues bytes for the socket. A handler whose process has more messages
    /// queued defers the system call to the end of that batch, so the replies to many small
    /// requests leave in one vectored write. `in_batch` says the writer is such a handler;
    /// `this` gives this connection's shared state for the batch-end flush to hold.
    fn write(&self, source: Source<'_>, in_batch: bool, this: impl FnOnce() -> Arc<ConnShared>) -> std::result::Result<(), Refused> {
        match self.writes.write(source, in_batch, self.config.write_queue_limit) {
            Ok(Written::Done) => Ok(()),
            Ok(Written::Deferred { first }) => {
                if first {
                    current::defer(this());
                }
                Ok(())
            }
            Ok(Written::Queued) => {
                self.wake();
                Ok(())
            }
            Err(refused) => {
                if refused.error == Error::Closed {
                    self.wake();
                }
                Err(refused)
            }
        }
    }
}

impl ConnShared {
    /// Wakes the connection task.
    pub(super) fn wake(&self) {
        self.stop.wakeup().notify();
    }

    /// Flushes queued writes from any thread; true when the socket is full (the connection
    /// task must then wait for it to become writable). Delivers WRITABLE when it is owed.
    pub(super) fn flush_writes(&self) -> std::result::Result<bool, Cause> {
        match self.writes.flush(self.config.write_queue_limit) {
            Ok((flushed, writable)) => {
                if writable == Writable::Owed {
                    let message = Message::Writable { conn: self.alias };
                    self.target.push_lifecycle(Envelope::Message(message));
                }
                Ok(flushed == Flushed::Pending)
            }
            Err(e) => Err(Cause::Io(e.kind())),
        }
    }
}

impl Deferred for ConnShared {
    /// The batch-end flush of deferred writes, on the writing process's thread. A full socket
    /// or an error is left to the connection task.
    fn run(&self) {
        if !matches!(self.flush_writes(), Ok(false)) {
            self.wake();
        }
    }
}


/// The connection's shared state is its registry handle too (not a separate allocation that
/// points to it).
impl MetaHandle for ConnShared {
    fn kind(&self) -> &'static str {
        "tcp connection"
    }

    fn inspect(&self, out: &mut Vec<(String, String)>) {
        let c = self;
        let mut add = |k: &str, v: String| out.push((k.to_owned(), v));
        // Read from the socket on demand rather than stored per connection.
        let (local, remote) = match c.writes.open_socket().map(|t| t.addresses()) {
            Some(Ok((local, remote))) => (local.to_string(), remote.to_string()),
            _ => (String::new(), String::new()),
        };
        add("local", local);
        add("remote", remote);
        let name = if c.target_by_name { c.target.name.lock().unwrap().clone() } else { None };
        add("process", name.unwrap_or_else(|| c.target.pid.to_string()));
        add("bytes in", c.bytes_in.load(Ordering::Relaxed).to_string());
        add("bytes out", c.writes.bytes_out().to_string());
        add("queued write bytes", c.writes.queued().to_string());
        add("reading paused", c.paused.load(Ordering::Relaxed).to_string());
        if let Some(tls) = c.writes.open_socket().and_then(Transport::tls_info) {
            add("tls version", tls.protocol_version.clone());
            add("tls cipher", tls.cipher_suite.clone());
            add("tls alpn", tls.alpn.clone().unwrap_or_default());
            add("tls server name", tls.server_name.clone().unwrap_or_default());
            add("tls peer subject", tls.peer_subject.clone().unwrap_or_default());
        }
        if let Some(pool) = &c.config.pool {
            pool.inspect("pool ", out);
        }
    }

    /// From the moment a stop is requested, writes are refused (CLOSED): what was queued
    /// before is flushed (or dropped by an abort), nothing written after it goes out.
    fn stop(&self, request: StopRequest) {
        self.writes.stop_accepting();
        self.stop.request(request);
    }

    /// The target ended: the connection closes (TARGET_DOWN).
    fn watched_ended(&self, _reason: ExitReason) {
        self.target_down.store(true, Ordering::Release);
        self.wake();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A connection makes itself the reply target for the handler's pass over its frames: the
/// frames of one read are answered with one write each, and a write to the alias being
/// answered then skips the registry lookup (see `with_connection`).
impl FrameSource for ConnShared {
    fn serve_pass(self: Arc<Self>, pass: &mut dyn FnMut() -> Flow) -> Flow {
        struct Restore(*const ConnShared);
        impl Drop for Restore {
            fn drop(&mut self) {
                REPLYING_TO.with(|r| r.set(self.0));
            }
        }
        // `self` outlives the guard (arguments drop after locals): the pointer stays valid
        // for as long as it is set.
        let _restore = Restore(REPLYING_TO.with(|r| r.replace(Arc::as_ptr(&self))));
        pass()
    }
}

/// Runs `f` on a live connection (under the registry's read lock: no reference counts
/// change hands on this per-write path), with whether the caller is a handler in a batch
/// (see `ConnShared::write`) and a way to get the state as an Arc.
fn with_connection<R>(node: &Node, alias: Id, f: impl FnOnce(&ConnShared, bool, &dyn Fn() -> Arc<ConnShared>) -> R) -> Result<R> {
    // The connection whose frames the handler answers (always in a batch) is at hand:
    // no registry lookup.
    let replying_to = REPLYING_TO.with(|r| r.get());
    // Set only while `serve_pass` holds the connection's Arc.
    if let Some(conn) = unsafe { replying_to.as_ref() } {
        if conn.alias == alias {
            let this = || unsafe {
                Arc::increment_strong_count(replying_to);
                Arc::from_raw(replying_to)
            };
            return Ok(f(conn, true, &this));
        }
    }
    let in_batch = current::in_batch();
    node.registry().with_meta(alias, |meta| {
        let handle = &meta.handle;
        let conn = handle.as_any().downcast_ref::<ConnShared>().ok_or(Error::Unsupported)?;
        // The handle is this ConnShared (registered as `Arc<ConnShared>`, unsized to the
        // trait object), so its data pointer is the ConnShared's.
        let this = || unsafe { Arc::from_raw(Arc::into_raw(handle.clone()) as *const ConnShared) };
        Ok(f(conn, in_batch, &this))
    })?
}

/// Writes `data` (copied if it cannot go out at once) to a connection (see `Node::tcp_write`).
pub(crate) fn write(node: &Node, alias: Id, data: &[u8]) -> Result<()> {
    with_connection(node, alias, |c, in_batch, this| c.write(Source::Borrowed(data), in_batch, this).map_err(|r| r.error))?
}

/// Writes a pool buffer to a connection (see `Node::tcp_write_buf`).
pub(crate) fn write_buf(node: &Node, alias: Id, buf: Buf) -> std::result::Result<(), (Error, Buf)> {
    let mut buf = Some(buf);
    let written = with_connection(node, alias, |c, in_batch, this| c.write(Source::Pooled(buf.take().expect("once")), in_batch, this));
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(refused)) => Err((refused.error, refused.buf.expect("a refused pool write returns its buffer"))),
        Err(e) => Err((e, buf.take().expect("not written"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::tcp::options::ConnectionOptions;
    use crate::node::node::NodeOptions;
    use crate::process::behavior::{Behavior, Context};
    use crate::process::process::SpawnOptions;

    struct Idle;
    impl Behavior for Idle {
        fn handle(&mut self, _: &Context<'_>, _: Message) -> Flow {
            Flow::Continue
        }
    }

    /// A connection's shared state with no socket and no registry entry: enough for what
    /// does not touch the socket.
    fn unregistered(node: &Node, alias: Id) -> Arc<ConnShared> {
        let pid = node.spawn(Box::new(Idle), SpawnOptions::default()).unwrap();
        Arc::new(ConnShared {
            alias,
            target: node.process_ref(pid).unwrap(),
            target_by_name: false,
            writes: WriteQueue::new(false),
            stop: StopSignal::default(),
            target_down: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            bytes_in: AtomicU64::new(0),
            config: Arc::new(ConnectionOptions::default().validate().unwrap()),
        })
    }

    /// What `with_connection` finds for `alias`: the connection's alias, whether it counts
    /// as in a batch, and whether its Arc is `expected`.
    fn found(node: &Node, alias: Id, expected: &Arc<ConnShared>) -> Result<(Id, bool, bool)> {
        with_connection(node, alias, |c, in_batch, this| (c.alias, in_batch, Arc::ptr_eq(&this(), expected)))
    }

    #[test]
    fn a_write_during_a_frames_pass_finds_that_connection_without_the_registry() {
        let node = Node::start(NodeOptions { worker_threads: 1, ..NodeOptions::default() }).unwrap();
        let (alias, other) = (1_000_001, 1_000_003); // odd: aliases
        let conn = unregistered(&node, alias);
        // Not in the registry: only the pass can find it.
        assert_eq!(found(&node, alias, &conn), Err(Error::NotFound));
        let before = Arc::strong_count(&conn);
        let mut seen = None;
        let flow = conn.clone().serve_pass(&mut || {
            seen = Some((found(&node, alias, &conn), found(&node, other, &conn)));
            Flow::Continue
        });
        assert_eq!(flow, Flow::Continue);
        let (this_one, another) = seen.unwrap();
        assert_eq!(this_one, Ok((alias, true, true)), "found, as a handler in a batch");
        assert_eq!(another, Err(Error::NotFound), "another alias is looked up");
        assert_eq!(Arc::strong_count(&conn), before, "the Arcs handed out were dropped");
        assert_eq!(found(&node, alias, &conn), Err(Error::NotFound), "the pass is over");
        node.stop().unwrap();
    }

    #[test]
    fn nested_frames_passes_restore_the_outer_connection() {
        let node = Node::start(NodeOptions { worker_threads: 1, ..NodeOptions::default() }).unwrap();
        let (outer, inner) = (unregistered(&node, 1_000_011), unregistered(&node, 1_000_013));
        let mut after_inner = None;
        outer.clone().serve_pass(&mut || {
            inner.clone().serve_pass(&mut || {
                assert_eq!(found(&node, inner.alias, &inner), Ok((inner.alias, true, true)));
                Flow::Continue
            });
            after_inner = Some(found(&node, outer.alias, &outer));
            Flow::Continue
        });
        assert_eq!(after_inner, Some(Ok((outer.alias, true, true))));
        node.stop().unwrap();
    }
}
