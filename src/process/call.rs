//! Synchronous request/reply. The caller blocks (safely, even inside a handler) until the
//! target's handler answers through `reply`, the target ends, or the timeout passes.

use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::node::ids::{Id, IdMap};
use crate::node::node::Node;
use crate::process::current;
use crate::process::message::{Body, Message};

struct Pending {
    target: Id,
    answer: SyncSender<Bytes>,
}

/// Calls waiting for an answer, by reference.
#[derive(Default)]
pub(crate) struct Calls {
    pending: Mutex<IdMap<Pending>>,
}

impl Node {
    /// Sends a request to process `to` and waits up to `timeout` for the answer. WrongKind
    /// for a meta-process's alias.
    pub fn call(&self, to: Id, tag: u64, data: impl Into<Body>, timeout: Duration) -> Result<Bytes> {
        let data = data.into();
        let from = current::process_of(self.serial()).unwrap_or(0);
        // 0 (a foreign thread) is never a process: calling id 0 is NotFound, not a self-call.
        if from != 0 && from == to {
            return Err(Error::WrongContext);
        }
        let target = self.registry().process(to)?;
        let reference = self.next_id();
        let (answer, receive) = sync_channel(1);
        self.calls().pending.lock().unwrap().insert(reference, Pending { target: to, answer });
        if let Err((e, _)) = target.push_bounded(Message::Call { from, reference, tag, data }) {
            self.calls().pending.lock().unwrap().remove(&reference);
            return Err(e);
        }
        current::count_sent(self.serial());
        drop(target);
        let outcome = current::block(|| receive.recv_timeout(timeout));
        self.calls().pending.lock().unwrap().remove(&reference);
        match outcome {
            Ok(bytes) => Ok(bytes),
            Err(RecvTimeoutError::Timeout) => Err(Error::Timeout),
            Err(RecvTimeoutError::Disconnected) => Err(Error::NotFound),
        }
    }

    /// Answers a call. NotFound if the caller stopped waiting (timeout) or it was answered.
    pub fn reply(&self, reference: u64, data: Bytes) -> Result<()> {
        let pending = self.calls().pending.lock().unwrap().remove(&reference).ok_or(Error::NotFound)?;
        pending.answer.try_send(data).map_err(|_| Error::NotFound)
    }

    /// The target ended: its unanswered callers get NotFound now instead of at their timeout.
    pub(crate) fn fail_calls_to(&self, pid: Id) {
        self.calls().pending.lock().unwrap().retain(|_, p| p.target != pid);
    }
}
