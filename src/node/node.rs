//! The node: one tokio runtime, the registry, id allocation, logging, and the orderly stop.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};
use tracing::Dispatch;

use crate::error::{Error, Result};
use crate::node::ids::{Id, IdAllocator, IdKind};
use crate::node::logging::{self, LogLevel, LogSink};
use crate::node::registry::{Entry, Registry};
use crate::node::watchdog::Watchdog;
use crate::process::call::Calls;
use crate::process::current;
use crate::process::process::Envelope;
use crate::process::message::ExitReason;

/// Mailbox bound of a process spawned without one.
pub(crate) const DEFAULT_MAILBOX_SIZE: usize = 1024;

static NEXT_SERIAL: AtomicUsize = AtomicUsize::new(1);

#[derive(Clone)]
pub struct NodeOptions {
    pub name: String,
    /// Runtime worker threads; 0 means one per core.
    pub worker_threads: usize,
    pub log_level: LogLevel,
    /// Where log lines go; None writes them to stderr.
    pub log_sink: Option<Arc<dyn LogSink>>,
    /// Mailbox bound of processes spawned without one; 0 is unbounded.
    pub default_mailbox_size: usize,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            name: "actnet".into(),
            worker_threads: 0,
            log_level: LogLevel::Warn,
            log_sink: None,
            default_mailbox_size: DEFAULT_MAILBOX_SIZE,
        }
    }
}

/// A running node. Cheap to clone; every clone refers to the same node.
#[derive(Clone)]
pub struct Node {
    inner: Arc<NodeInner>,
}

pub(crate) struct NodeInner {
    serial: usize,
    name: String,
    runtime: Mutex<Option<Runtime>>,
    handle: Handle,
    ids: IdAllocator,
    registry: Registry,
    calls: Calls,
    stopping: AtomicBool,
    /// Set when `stop` has finished: the runtime is gone and nothing runs any more.
    stopped: AtomicBool,
    released: (Mutex<()>, Condvar),
    dispatch: Dispatch,
    watchdog: Arc<Watchdog>,
    log_sink: Option<Arc<dyn LogSink>>,
    default_mailbox_size: usize,
}

impl Node {
    pub fn start(options: NodeOptions) -> Result<Node> {
        if options.name.is_empty() {
            return Err(Error::InvalidArgument);
        }
        let serial = NEXT_SERIAL.fetch_add(1, Ordering::Relaxed);
        let dispatch = logging::dispatch(&options.name, options.log_level, options.log_sink.clone());
        let workers = match options.worker_threads {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n => n,
        };
        let thread_dispatch = dispatch.clone();
        let watchdog = Arc::new(Watchdog::start(&options.name).map_err(|_| Error::Io)?);
        let (thread_watchdog, ending_watchdog) = (watchdog.clone(), watchdog.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(format!("actnet-{}", options.name))
            .enable_all()
            .on_thread_start(move || {
                current::mark_runtime_thread(serial);
                current::set_worker_slot(thread_watchdog.new_slot());
                // Every event on this node's threads goes to this node's logger.
                std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch));
            })
            .on_thread_stop(move || {
                if let Some(slot) = current::take_worker_slot() {
                    ending_watchdog.drop_slot(&slot);
                }
            })
            .build()
            .map_err(|_| {
                watchdog.stop();
                Error::Io
            })?;
        let handle = runtime.handle().clone();
        Ok(Node {
            inner: Arc::new(NodeInner {
                serial,
                name: options.name,
                runtime: Mutex::new(Some(runtime)),
                handle,
                ids: IdAllocator::new(),
                registry: Registry::default(),
                calls: Calls::default(),
                stopping: AtomicBool::new(false),
                stopped: AtomicBool::new(false),
                released: (Mutex::new(()), Condvar::new()),
                dispatch,
                watchdog,
                log_sink: options.log_sink,
                default_mailbox_size: options.default_mailbox_size,
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Acquire)
    }

    /// True once `stop` has finished.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::Acquire)
    }

    /// Live processes and meta-processes.
    pub fn counts(&self) -> (usize, usize) {
        self.inner.registry.count()
    }

    /// Stops the node: every meta-process first (connections deliver DISCONNECT with reason
    /// node stopping), then every process after the messages already in its mailbox, then
    /// the runtime's threads. Refused from a callback or a runtime thread of this node.
    /// Idempotent: a second stop waits for the first to finish, then returns Ok.
    pub fn stop(&self) -> Result<()> {
        if current::is_runtime_thread_of(self.inner.serial) || current::process_of(self.inner.serial).is_some() {
            return Err(Error::WrongContext);
        }
        if self.inner.stopping.swap(true, Ordering::AcqRel) {
            self.wait_for(|| self.is_stopped());
            return Ok(());
        }
        self.with_logging(|| tracing::debug!(node = %self.inner.name, "stopping"));
        for entry in self.inner.registry.all() {
            if let Entry::Meta(meta) = entry {
                meta.stop_for_owner(true);
            }
        }
        self.wait_until(|(_, metas)| metas == 0);
        for entry in self.inner.registry.all() {
            if let Entry::Process(p) = entry {
                p.push_lifecycle(Envelope::Stop(ExitReason::Shutdown));
            }
        }
        self.wait_until(|(processes, metas)| processes == 0 && metas == 0);
        let runtime = self.inner.runtime.lock().unwrap().take();
        if let Some(runtime) = runtime {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
        self.inner.watchdog.stop();
        if let Some(sink) = &self.inner.log_sink {
            sink.close();
        }
        self.inner.stopped.store(true, Ordering::Release);
        self.notify_released();
        Ok(())
    }

    fn wait_until(&self, done: impl Fn((usize, usize)) -> bool) {
        self.wait_for(|| done(self.counts()))
    }

    fn wait_for(&self, done: impl Fn() -> bool) {
        let (lock, condvar) = &self.inner.released;
        let mut guard = lock.lock().unwrap();
        while !done() {
            // The timeout only guards against a missed wake-up; the condition is re-checked.
            guard = condvar.wait_timeout(guard, Duration::from_millis(50)).unwrap().0;
        }
    }

    pub(crate) fn notify_released(&self) {
        let (lock, condvar) = &self.inner.released;
        let _guard = lock.lock().unwrap();
        condvar.notify_all();
    }

    /// Key/value pairs describing a process or meta-process.
    pub fn inspect(&self, id: Id) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        match self.inner.registry.get(id).ok_or(Error::NotFound)? {
            Entry::Process(p) if !p.is_alive() => return Err(Error::NotFound),
            Entry::Process(p) => p.inspect(&mut out),
            Entry::Meta(m) => m.inspect(&mut out),
        }
        Ok(out)
    }

    /// Runs `f` with this node's logger as the thread's default (for foreign threads).
    pub fn with_logging<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.inner.dispatch, f)
    }

    pub(crate) fn serial(&self) -> usize {
        self.inner.serial
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    pub(crate) fn calls(&self) -> &Calls {
        &self.inner.calls
    }

    /// A fresh reference (of a monitor or a call).
    pub(crate) fn next_id(&self) -> Id {
        self.inner.ids.next()
    }

    /// A fresh process id or meta-process alias.
    pub(crate) fn next_id_of(&self, kind: IdKind) -> Id {
        self.inner.ids.next_of(kind)
    }

    pub(crate) fn default_mailbox_size(&self) -> usize {
        self.inner.default_mailbox_size
    }

    pub(crate) fn runtime_handle(&self) -> &Handle {
        &self.inner.handle
    }

    /// Hands the node to foreign code as an opaque pointer (one reference).
    pub fn into_raw(self) -> *const std::ffi::c_void {
        Arc::into_raw(self.inner) as *const std::ffi::c_void
    }

    /// The pointer foreign code holds for this node.
    pub fn as_raw(&self) -> *const std::ffi::c_void {
        Arc::as_ptr(&self.inner) as *const std::ffi::c_void
    }

    /// Takes back the reference handed out by [`Node::into_raw`].
    ///
    /// # Safety
    /// `ptr` must come from `into_raw` and not have been taken back already.
    pub unsafe fn from_raw(ptr: *const std::ffi::c_void) -> Node {
        Node { inner: Arc::from_raw(ptr as *const NodeInner) }
    }

    /// Borrows the node behind a pointer from [`Node::into_raw`] without taking it.
    ///
    /// # Safety
    /// As for `from_raw`; the node must stay alive while the result is used.
    pub unsafe fn borrow_raw(ptr: *const std::ffi::c_void) -> std::mem::ManuallyDrop<Node> {
        std::mem::ManuallyDrop::new(Node { inner: Arc::from_raw(ptr as *const NodeInner) })
    }
}
