//! Why a connection closes, and what that means for its socket. The policy is one table,
//! `close_policy`: for each cause, the reason DISCONNECT reports and how the socket closes
//! (flush queued writes first, and for how long; reset; or just release a broken one).
//! `Connection::finish` carries it out.

use std::io;
use std::time::Duration;

use tokio::time::{sleep_until, Instant};

use crate::meta::tcp::write_queue::Flushed;
use crate::meta::meta_process::StopRequest;
use crate::meta::tcp::connection::serve::Connection;
use crate::process::message::{DisconnectReason, ExitReason, Message};
use crate::process::process::Envelope;

/// Longest a connection waits for its queued writes to flush when the node stops.
const NODE_STOP_FLUSH: Duration = Duration::from_secs(1);

/// What ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// A stop request: terminate, abort, the owner's end, the node's stop.
    Stop(StopRequest),
    /// The target process ended.
    TargetDown,
    /// The peer closed its side (end of stream), between frames.
    PeerClosed,
    /// The peer closed its side in the middle of a frame.
    PeerClosedInFrame,
    /// A frame header announced more than the framing's maximum.
    FrameTooLong,
    /// A frame header announced a length the framing cannot use.
    BadFrameLength,
    /// The target's mailbox was full and the policy is TERMINATE.
    MailboxFull,
    /// A socket call failed (a read, a write, a flush, or waiting for readiness).
    Io(io::ErrorKind),
}

/// How a close treats queued writes and the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CloseKind {
    /// Flush queued writes for at most `within`, then send FIN. A flush that runs out of
    /// time resets the socket and reports `timed_out` instead of the cause's reason.
    Flush { within: FlushTime, timed_out: DisconnectReason },
    /// Drop queued writes and reset the socket (RST).
    Reset,
    /// The socket is broken: drop queued writes and release it as it is.
    Release,
}

/// How long a graceful close may flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FlushTime {
    /// The connection's close timeout.
    CloseTimeout,
    /// The close timeout, but at most `NODE_STOP_FLUSH`: a peer that does not read must not
    /// hold up the node's stop for long.
    NodeStop,
}

impl FlushTime {
    fn within(self, close_timeout: Duration) -> Duration {
        match self {
            FlushTime::CloseTimeout => close_timeout,
            FlushTime::NodeStop => close_timeout.min(NODE_STOP_FLUSH),
        }
    }
}

/// A cause's close: the reason reported, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Close {
    pub(super) reason: DisconnectReason,
    pub(super) kind: CloseKind,
}

/// The close policy, in one place.
pub(super) fn close_policy(cause: Cause) -> Close {
    use DisconnectReason as R;
    // Queued writes not flushed in time: any close reports WriteTimeout, so the process
    // learns that bytes were dropped, except a stop of the owner or of the node, which
    // keeps its own reason (the cause).
    let flush = |timed_out| CloseKind::Flush { within: FlushTime::CloseTimeout, timed_out };
    let (reason, kind) = match cause {
        Cause::Stop(StopRequest::Graceful) => (R::Closed, flush(R::WriteTimeout)),
        Cause::Stop(StopRequest::Abort) => (R::Aborted, CloseKind::Reset),
        Cause::Stop(StopRequest::OwnerDown) => (R::ParentDown, flush(R::ParentDown)),
        Cause::Stop(StopRequest::NodeStopping) => {
            (R::NodeStopping, CloseKind::Flush { within: FlushTime::NodeStop, timed_out: R::NodeStopping })
        }
        Cause::TargetDown => (R::TargetDown, flush(R::WriteTimeout)),
        Cause::PeerClosed => (R::PeerClosed, flush(R::WriteTimeout)),
        Cause::PeerClosedInFrame => (R::FrameTruncated, flush(R::WriteTimeout)),
        Cause::FrameTooLong => (R::MaxLengthExceeded, flush(R::WriteTimeout)),
        Cause::BadFrameLength => (R::InvalidFrameLength, flush(R::WriteTimeout)),
        Cause::MailboxFull => (R::MailboxFull, flush(R::WriteTimeout)),
        // A TLS record that failed to decode: the socket itself still works.
        Cause::Io(io::ErrorKind::InvalidData) => (R::TlsError, flush(R::WriteTimeout)),
        Cause::Io(io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe) => {
            (R::Reset, CloseKind::Release)
        }
        Cause::Io(_) => (R::IoError, CloseKind::Release),
    };
    Close { reason, kind }
}

impl Connection {
    /// Closes the socket as the policy says, then delivers the one DISCONNECT (if CONNECT
    /// was delivered).
    pub(super) async fn finish(mut self, cause: Cause) -> ExitReason {
        let reason = self.close(close_policy(cause)).await;
        if self.watching {
            let disconnect = Message::Disconnect { conn: self.shared.alias, reason };
            self.shared.target.push_lifecycle(Envelope::Message(disconnect));
            self.node.unwatch(self.shared.target.pid, self.shared.alias);
        }
        ExitReason::of_disconnect(reason)
    }

    /// Carries out a close; returns the reason to report. A graceful close flushes within
    /// its time, sends FIN and releases the socket; an abort arriving meanwhile, or the time
    /// running out, resets it instead.
    async fn close(&mut self, Close { mut reason, kind }: Close) -> DisconnectReason {
        let writes = &self.shared.writes;
        writes.stop_accepting();
        match kind {
            CloseKind::Flush { within, timed_out } => {
                let deadline = Instant::now() + within.within(self.config.close_timeout);
                let mut reset = false;
                loop {
                    match writes.flush(self.config.write_queue_limit) {
                        Ok((Flushed::Drained, _)) => break,
                        Ok((Flushed::Pending, _)) => {}
                        Err(e) => {
                            reason = close_policy(Cause::Io(e.kind())).reason;
                            break;
                        }
                    }
                    // Not `stop.wait()`: a stop request is sticky (every close after a
                    // terminate, an owner's end or a node stop has one), so it would be ready
                    // on every turn and this loop would spin without ever yielding, starving
                    // the worker (with one such close per worker, the timers never fire and
                    // the node livelocks). The wake-up rings once per new request, so a later
                    // abort still ends the flush at once.
                    tokio::select! {
                        _ = self.transport().writable() => {}
                        _ = self.shared.stop.wakeup().wait() => {}
                        _ = sleep_until(deadline) => {
                            reason = timed_out;
                            reset = true;
                            break;
                        }
                    }
                    if self.shared.stop.get() == Some(StopRequest::Abort) {
                        reason = close_policy(Cause::Stop(StopRequest::Abort)).reason;
                        reset = true;
                        break;
                    }
                }
                // After a failed flush too: FIN on a socket that failed is harmless.
                if reset {
                    self.transport().reset_on_close();
                } else {
                    self.transport().shutdown_write();
                }
            }
            CloseKind::Reset => self.transport().reset_on_close(),
            CloseKind::Release => {}
        }
        writes.release();
        self.pending = None;
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DisconnectReason as R;

    const ALL_STOPS: [StopRequest; 4] =
        [StopRequest::Graceful, StopRequest::Abort, StopRequest::OwnerDown, StopRequest::NodeStopping];

    #[test]
    fn stop_requests_report_their_own_reasons() {
        let reasons: Vec<R> = ALL_STOPS.iter().map(|s| close_policy(Cause::Stop(*s)).reason).collect();
        assert_eq!(reasons, [R::Closed, R::Aborted, R::ParentDown, R::NodeStopping]);
    }

    #[test]
    fn only_an_abort_resets_and_only_a_broken_socket_is_released_unflushed() {
        assert_eq!(close_policy(Cause::Stop(StopRequest::Abort)).kind, CloseKind::Reset);
        for kind in [io::ErrorKind::ConnectionReset, io::ErrorKind::ConnectionAborted, io::ErrorKind::BrokenPipe] {
            assert_eq!(close_policy(Cause::Io(kind)), Close { reason: R::Reset, kind: CloseKind::Release });
        }
        assert_eq!(close_policy(Cause::Io(io::ErrorKind::Other)), Close { reason: R::IoError, kind: CloseKind::Release });
        let graceful = [
            Cause::Stop(StopRequest::Graceful),
            Cause::Stop(StopRequest::OwnerDown),
            Cause::Stop(StopRequest::NodeStopping),
            Cause::TargetDown,
            Cause::PeerClosed,
            Cause::PeerClosedInFrame,
            Cause::FrameTooLong,
            Cause::BadFrameLength,
            Cause::MailboxFull,
            Cause::Io(io::ErrorKind::InvalidData),
        ];
        for cause in graceful {
            assert!(matches!(close_policy(cause).kind, CloseKind::Flush { .. }), "{cause:?} flushes");
        }
    }

    #[test]
    fn a_flush_that_times_out_reports_write_timeout_unless_the_owner_or_node_stopped() {
        let timed_out = |cause| match close_policy(cause).kind {
            CloseKind::Flush { timed_out, .. } => timed_out,
            other => panic!("{cause:?} closes with {other:?}"),
        };
        assert_eq!(timed_out(Cause::Stop(StopRequest::Graceful)), R::WriteTimeout);
        assert_eq!(timed_out(Cause::PeerClosed), R::WriteTimeout);
        assert_eq!(timed_out(Cause::TargetDown), R::WriteTimeout);
        assert_eq!(timed_out(Cause::Stop(StopRequest::OwnerDown)), R::ParentDown);
        assert_eq!(timed_out(Cause::Stop(StopRequest::NodeStopping)), R::NodeStopping);
    }

    #[test]
    fn a_node_stop_flushes_for_at_most_a_second() {
        let within = |cause| match close_policy(cause).kind {
            CloseKind::Flush { within, .. } => within,
            other => panic!("{cause:?} closes with {other:?}"),
        };
        let node_stop = within(Cause::Stop(StopRequest::NodeStopping));
        assert_eq!(node_stop.within(Duration::from_secs(30)), NODE_STOP_FLUSH);
        assert_eq!(node_stop.within(Duration::from_millis(200)), Duration::from_millis(200));
        let graceful = within(Cause::Stop(StopRequest::Graceful));
        assert_eq!(graceful.within(Duration::from_secs(30)), Duration::from_secs(30));
    }

    #[test]
    fn bad_input_reports_what_was_wrong() {
        assert_eq!(close_policy(Cause::PeerClosedInFrame).reason, R::FrameTruncated);
        assert_eq!(close_policy(Cause::FrameTooLong).reason, R::MaxLengthExceeded);
        assert_eq!(close_policy(Cause::BadFrameLength).reason, R::InvalidFrameLength);
        assert_eq!(close_policy(Cause::MailboxFull).reason, R::MailboxFull);
        assert_eq!(close_policy(Cause::Io(io::ErrorKind::InvalidData)).reason, R::TlsError);
    }
}
