//! A scripted socket for the write queue's tests: each vectored write does what the next
//! step of its script says (take some bytes, would block, fail), and what it took is kept
//! so tests can compare the exact bytes the peer would have received.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::Mutex;

use crate::meta::tcp::write_queue::WriteSink;

/// What one call of `try_write_vectored` does.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    /// Takes at most this many bytes (0 is a write that took nothing).
    Take(usize),
    /// The socket is full.
    WouldBlock,
    /// The send fails.
    Fail(io::ErrorKind),
}

#[derive(Default)]
struct Script {
    steps: VecDeque<Step>,
    /// Once the steps run out: every call would block (else every call takes everything).
    full: bool,
    received: Vec<u8>,
    /// Calls of `try_write_vectored`, and how many slices each had.
    calls: Vec<usize>,
    /// Bytes the fake keeps itself, as TLS keeps records the socket did not take.
    records: Vec<u8>,
}

#[derive(Default)]
pub(super) struct FakeSink(Mutex<Script>);

impl FakeSink {
    /// A sink that takes everything until told otherwise.
    pub(super) fn open() -> FakeSink {
        FakeSink::default()
    }

    /// Queues steps for the next calls.
    pub(super) fn script(&self, steps: &[Step]) {
        self.0.lock().unwrap().steps.extend(steps.iter().copied());
    }

    /// Whether calls without a scripted step would block.
    pub(super) fn set_full(&self, full: bool) {
        self.0.lock().unwrap().full = full;
    }

    /// Everything the peer got, in order.
    pub(super) fn received(&self) -> Vec<u8> {
        self.0.lock().unwrap().received.clone()
    }

    /// How many vectored writes were made.
    pub(super) fn calls(&self) -> usize {
        self.0.lock().unwrap().calls.len()
    }

    /// How many slices each vectored write had.
    pub(super) fn slices_per_call(&self) -> Vec<usize> {
        self.0.lock().unwrap().calls.clone()
    }

    /// Makes the sink hold `bytes` of its own, like TLS records waiting for the socket.
    pub(super) fn hold_records(&self, bytes: &[u8]) {
        self.0.lock().unwrap().records.extend_from_slice(bytes);
    }
}

impl WriteSink for FakeSink {
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut script = self.0.lock().unwrap();
        script.calls.push(bufs.len());
        let step = script.steps.pop_front().unwrap_or(if script.full { Step::WouldBlock } else { Step::Take(usize::MAX) });
        let mut room = match step {
            Step::Take(n) => n,
            Step::WouldBlock => return Err(io::ErrorKind::WouldBlock.into()),
            Step::Fail(kind) => return Err(kind.into()),
        };
        let mut taken = 0;
        for buf in bufs {
            let n = buf.len().min(room);
            script.received.extend_from_slice(&buf[..n]);
            room -= n;
            taken += n;
        }
        Ok(taken)
    }

    /// Held records go out unless the sink is full.
    fn flush_pending(&self) -> io::Result<bool> {
        let mut script = self.0.lock().unwrap();
        if script.records.is_empty() {
            return Ok(true);
        }
        if script.full {
            return Ok(false);
        }
        let records = std::mem::take(&mut script.records);
        script.received.extend_from_slice(&records);
        Ok(true)
    }

    fn has_pending_output(&self) -> bool {
        !self.0.lock().unwrap().records.is_empty()
    }
}
