//! A process: its shared state (mailbox, lifecycle, counters), spawn and end, and the
//! one-message-at-a-time dispatch loop. The node's API over processes is `node/processes.rs`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::node::ids::{Id, IdKind};
use crate::node::node::Node;
use crate::node::registry::Entry;
use crate::process::behavior::{Behavior, Context, Flow};
use crate::process::current;
use crate::process::frame_source::FrameSource;
use crate::process::lifecycle::{announce_end, Lifecycle};
use crate::process::mailbox::{Class, Mailbox, PushError};
use crate::process::message::{ExitReason, Message, Payload};

/// Messages a dispatch loop yields the worker thread after, so one busy process cannot
/// starve the others sharing its thread.
const YIELD_EVERY: u32 = 64;

/// How to spawn a process.
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    /// Register the process under this name (atomically with the spawn).
    pub name: Option<String>,
    /// Mailbox bound in messages; None takes the node's default, Some(0) is unbounded.
    pub mailbox_size: Option<usize>,
    /// Bytes handed to `init`.
    pub args: Vec<u8>,
    /// Receive EXIT messages from linked processes instead of ending with them.
    pub trap_exits: bool,
    /// Link to this process before `init` runs.
    pub link_to: Option<Id>,
}

/// What travels through a mailbox: messages for the handler and control signals.
pub(crate) enum Envelope {
    Message(Message),
    /// The frames one read of a connection completed, each handled as its own DATA message,
    /// in order. One envelope per read, not per frame: one push, pop and wake-up for all (on
    /// 64-byte frames those were a fifth of the server's work). It takes one mailbox slot.
    /// `source` is the connection, which wraps the handler's pass (see `FrameSource`).
    Frames { conn: Id, frames: Vec<Payload>, source: Arc<dyn FrameSource> },
    /// End after everything queued before it (stop, node stop, supervisor shutdown).
    Stop(ExitReason),
    /// End as soon as the current handler returns.
    Kill,
    /// A linked process ended.
    ExitSignal { from: Id, reason: ExitReason },
    /// Fires once every message queued before it has been handled (not seen by handlers).
    Barrier(tokio::sync::oneshot::Sender<()>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum State {
    Init = 0,
    Waiting = 1,
    Running = 2,
    Terminated = 3,
}

pub(crate) struct ProcessShared {
    pub(crate) pid: Id,
    pub(crate) name: Mutex<Option<String>>,
    pub(crate) mailbox: Mailbox<Envelope>,
    pub(crate) lifecycle: Lifecycle,
    trap_exits: AtomicBool,
    state: AtomicU8,
    sent: AtomicU64,
    kind: &'static str,
}

impl ProcessShared {
    /// Queues a message that counts against the mailbox bound.
    pub(crate) fn push_bounded(self: &Arc<Self>, message: Message) -> std::result::Result<(), (Error, Message)> {
        self.push_envelope(Envelope::Message(message)).map_err(|(e, envelope)| match envelope {
            Envelope::Message(m) => (e, m),
            _ => unreachable!("pushed a message"),
        })
    }

    /// Queues a message or a read's frames against the mailbox bound; a refused one comes back.
    pub(crate) fn push_envelope(self: &Arc<Self>, envelope: Envelope) -> std::result::Result<(), (Error, Envelope)> {
        let messages = match &envelope {
            Envelope::Frames { frames, .. } => frames.len() as u64,
            _ => 1,
        };
        match self.mailbox.push_many(envelope, Class::Bounded, messages) {
            Ok(()) => {
                current::wake(self);
                Ok(())
            }
            Err(PushError::Full(envelope)) => Err((Error::MailboxFull, envelope)),
            Err(PushError::Closed(envelope)) => Err((Error::NotFound, envelope)),
        }
    }

    /// Queues a lifecycle envelope, which ignores the bound. False if the process ended.
    pub(crate) fn push_lifecycle(self: &Arc<Self>, envelope: Envelope) -> bool {
        let pushed = self.mailbox.push(envelope, Class::Lifecycle).is_ok();
        if pushed {
            current::wake(self);
        }
        pushed
    }

    /// Queues a lifecycle envelope ahead of everything queued (stop of itself, kill).
    fn push_front(self: &Arc<Self>, envelope: Envelope) -> Result<()> {
        self.mailbox.push_front(envelope, Class::Lifecycle).map_err(|_| Error::NotFound)?;
        current::wake(self);
        Ok(())
    }

    pub(crate) fn is_alive(&self) -> bool {
        !self.mailbox.is_closed()
    }

    /// Waits until a bounded message would fit (owning the process, so the future can be
    /// kept across polls). False once the process has ended.
    pub(crate) async fn wait_for_room(self: Arc<Self>) -> bool {
        self.mailbox.wait_for_room().await
    }

    /// Resolves when everything queued so far has been handled, or the process has ended.
    pub(crate) fn barrier(self: &Arc<Self>) -> tokio::sync::oneshot::Receiver<()> {
        let (done, handled) = tokio::sync::oneshot::channel();
        self.push_lifecycle(Envelope::Barrier(done));
        handled
    }

    fn set_state(&self, state: State) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    fn state_name(&self) -> &'static str {
        match self.state.load(Ordering::Relaxed) {
            0 => "init",
            1 => "waiting",
            2 => "running",
            _ => "terminated",
        }
    }

    pub(crate) fn name(&self) -> Option<String> {
        self.name.lock().unwrap().clone()
    }

    pub(crate) fn inspect(&self, out: &mut Vec<(String, String)>) {
        let (links, monitors, metas) = self.lifecycle.counts();
        let capacity = self.mailbox.capacity();
        let mut add = |k: &str, v: String| out.push((k.to_owned(), v));
        add("kind", self.kind.to_owned());
        add("pid", self.pid.to_string());
        add("name", self.name().unwrap_or_default());
        add("state", self.state_name().to_owned());
        add("mailbox", self.mailbox.len().to_string());
        add("mailbox capacity", if capacity == 0 { "unbounded".into() } else { capacity.to_string() });
        add("messages in", self.mailbox.received().to_string());
        add("messages out", self.sent.load(Ordering::Relaxed).to_string());
        add("trap exits", self.trap_exits.load(Ordering::Relaxed).to_string());
        add("links", links.to_string());
        add("monitored by", monitors.to_string());
        add("meta-processes", metas.to_string());
    }
}

impl ProcessShared {
    /// Stops the process after the messages already queued (reason Shutdown), or, asked by
    /// itself from its own callback, as soon as that callback returns (reason Normal).
    pub(crate) fn stop(self: &Arc<Self>, by_itself: bool) -> Result<()> {
        if by_itself {
            return self.push_front(Envelope::Stop(ExitReason::Normal));
        }
        self.push_lifecycle(Envelope::Stop(ExitReason::Shutdown)).then_some(()).ok_or(Error::NotFound)
    }

    /// Ends the process with reason Killed as soon as its current handler returns.
    pub(crate) fn kill(self: &Arc<Self>) -> Result<()> {
        self.push_front(Envelope::Kill)
    }

    pub(crate) fn set_trap_exits(&self, trap: bool) {
        self.trap_exits.store(trap, Ordering::Relaxed);
    }
}

/// Spawns a process running `behavior` (see `Node::spawn`).
pub(crate) fn spawn(node: &Node, mut behavior: Box<dyn Behavior>, options: SpawnOptions) -> Result<Id> {
    if node.is_stopping() {
        return Err(Error::NodeStopping);
    }
    let pid = node.next_id_of(IdKind::Process);
    let mailbox_size = options.mailbox_size.unwrap_or(node.default_mailbox_size());
    let shared = Arc::new(ProcessShared {
        pid,
        name: Mutex::new(None),
        mailbox: Mailbox::new(mailbox_size),
        lifecycle: Lifecycle::new(),
        trap_exits: AtomicBool::new(options.trap_exits),
        state: AtomicU8::new(State::Init as u8),
        sent: AtomicU64::new(0),
        kind: behavior.kind(),
    });
    node.registry().insert(Entry::Process(shared.clone()));
    if let Err(e) = prepare(node, &shared, &options) {
        release(node, &shared, ExitReason::InitFailed(0));
        return Err(e);
    }
    let ctx = Context { node, pid };
    let init = current::run_as(node.serial(), pid, &shared.sent, false, || {
        catch_unwind(AssertUnwindSafe(|| node.with_logging(|| behavior.init(&ctx, &options.args))))
    });
    match init {
        Ok(Ok(())) => {}
        Ok(Err(code)) => {
            release(node, &shared, ExitReason::InitFailed(code));
            return Err(Error::InitFailed);
        }
        Err(_) => {
            tracing::error!(pid, "init panicked");
            release(node, &shared, ExitReason::Panic);
            return Err(Error::InitFailed);
        }
    }
    shared.set_state(State::Waiting);
    node.runtime_handle().spawn(run(node.clone(), shared, behavior));
    Ok(pid)
}

/// What the spawn options ask for before `init`: a name and a link.
fn prepare(node: &Node, shared: &ProcessShared, options: &SpawnOptions) -> Result<()> {
    if let Some(name) = &options.name {
        node.registry().register(name, shared)?;
    }
    if let Some(other) = options.link_to {
        node.link(shared.pid, other)?;
    }
    Ok(())
}

/// Ends a process: refuse new messages, run `terminate`, drop what was still queued,
/// leave the registry, then tell monitors, links and owned meta-processes.
fn finish(node: &Node, shared: &Arc<ProcessShared>, mut behavior: Box<dyn Behavior>, reason: ExitReason) {
    let leftovers = shared.mailbox.close();
    let ctx = Context { node, pid: shared.pid };
    let terminated = current::run_as(node.serial(), shared.pid, &shared.sent, false, || {
        catch_unwind(AssertUnwindSafe(|| behavior.terminate(&ctx, reason)))
    });
    if terminated.is_err() {
        tracing::error!(pid = shared.pid, "terminate panicked");
    }
    drop(behavior);
    drop(leftovers);
    release(node, shared, reason);
}

fn release(node: &Node, shared: &ProcessShared, reason: ExitReason) {
    shared.mailbox.close();
    shared.set_state(State::Terminated);
    let ended = shared.lifecycle.finish();
    node.registry().unregister_process(shared);
    node.registry().remove(shared.pid);
    node.fail_calls_to(shared.pid);
    if reason.is_abnormal() {
        tracing::debug!(pid = shared.pid, ?reason, "process terminated");
    }
    if let Some(ended) = ended {
        announce_end(node, shared.pid, ended, reason);
    }
    node.notify_released();
}

/// The dispatch loop of one process.
async fn run(node: Node, shared: Arc<ProcessShared>, mut behavior: Box<dyn Behavior>) {
    let mut handled = 0u32;
    // Whether a handler of this batch may have deferred work: only those told they are in a
    // batch do (see `current::in_batch`), so a process handling one message at a time skips
    // the look at the thread's deferred work.
    let mut may_have_deferred = false;
    let reason = loop {
        let queued = shared.mailbox.recv().await;
        shared.set_state(State::Running);
        // While more messages wait right behind this one, handlers may defer work (writes)
        // to the end of the batch; the batch ends before any await. A read's frames are
        // always handled as a batch.
        let more = shared.mailbox.len() > 0;
        may_have_deferred |= more || matches!(queued.item, Envelope::Frames { .. });
        let flow = dispatch(&node, &shared, behavior.as_mut(), queued.item, more);
        shared.mailbox.done(queued.class);
        shared.set_state(State::Waiting);
        handled += 1;
        let yielding = handled % YIELD_EVERY == 0;
        if may_have_deferred && (!more || yielding || matches!(flow, Flow::Stop(_))) {
            current::run_deferred();
            may_have_deferred = false;
        }
        if let Flow::Stop(reason) = flow {
            break reason;
        }
        if yielding {
            yield_to_others().await;
        }
    };
    finish(&node, &shared, behavior, reason);
}

/// Lets the worker run other tasks. Unlike `tokio::task::yield_now`, which parks the wake-up
/// on this worker until it next idles (never, if the next handler blocks), a self-wake puts
/// the process at the back of the worker's run queue, where idle workers can steal it.
async fn yield_to_others() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}

fn dispatch(node: &Node, shared: &ProcessShared, behavior: &mut dyn Behavior, envelope: Envelope, in_batch: bool) -> Flow {
    let message = match envelope {
        Envelope::Message(m) => m,
        Envelope::Frames { conn, frames, source } => {
            let mut frames = Some(frames);
            return source.serve_pass(&mut || {
                let frames = frames.take().expect("a pass runs once");
                handle_frames(node, shared, behavior, conn, frames)
            });
        }
        Envelope::Stop(reason) => return Flow::Stop(reason),
        Envelope::Kill => return Flow::Stop(ExitReason::Killed),
        Envelope::Barrier(done) => {
            let _ = done.send(());
            return Flow::Continue;
        }
        Envelope::ExitSignal { from, reason } => {
            if shared.trap_exits.load(Ordering::Relaxed) {
                Message::Exit { from, reason }
            } else if reason.is_abnormal() {
                return Flow::Stop(reason);
            } else {
                return Flow::Continue;
            }
        }
    };
    handle(node, shared, behavior, message, in_batch)
}

/// Hands a read's frames to the handler, one DATA message each, in one run as the process:
/// the replies of all of them wait for the batch's end and leave together. A kill or a stop
/// of itself, queued ahead of everything, takes effect after the current frame, as between
/// separate messages; the frames left are dropped with the rest of the mailbox.
fn handle_frames(node: &Node, shared: &ProcessShared, behavior: &mut dyn Behavior, conn: Id, frames: Vec<Payload>) -> Flow {
    run_handler(node, shared, true, |ctx| {
        for data in frames {
            let flow = behavior.handle(ctx, Message::Data { conn, data });
            if flow != Flow::Continue || shared.mailbox.jumped() {
                return flow;
            }
        }
        Flow::Continue
    })
}

/// Runs the handler on one message, as the process.
fn handle(node: &Node, shared: &ProcessShared, behavior: &mut dyn Behavior, message: Message, in_batch: bool) -> Flow {
    run_handler(node, shared, in_batch, |ctx| behavior.handle(ctx, message))
}

/// Runs `f` as the process, catching a panic.
fn run_handler(node: &Node, shared: &ProcessShared, in_batch: bool, f: impl FnOnce(&Context<'_>) -> Flow) -> Flow {
    let ctx = Context { node, pid: shared.pid };
    let outcome = current::run_as(node.serial(), shared.pid, &shared.sent, in_batch, || {
        catch_unwind(AssertUnwindSafe(|| f(&ctx)))
    });
    outcome.unwrap_or_else(|_| {
        tracing::error!(pid = shared.pid, "handler panicked");
        Flow::Stop(ExitReason::Panic)
    })
}
