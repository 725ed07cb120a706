//! The connection meta-process: one per socket, accepted or connected.
//!
//! It delivers to one target process, in order: CONNECT, DATA…, and exactly one DISCONNECT
//! with the reason. Reading waits for readiness before taking a buffer, so an idle
//! connection holds none. When the target's mailbox is full it either pauses reading until
//! there is room (TCP then pushes back on the peer; nothing is lost) or ends the connection
//! (policy TERMINATE). When the peer closes, the connection first waits until the target has
//! handled every DATA it delivered, so replies to the last request still go out, then
//! flushes and closes. A graceful close flushes queued writes within the close timeout; an
//! abort resets the socket at once.
//!
//! - `shared`: the state handler threads share with the connection, and the write API.
//! - `job`: the task's state machine: setup (the TLS handshake), serving, closing.
//! - `serve`: the serve loop: read, deliver, flush, keepalive.
//! - `close`: why a connection closes and what that means for its socket (one table).

mod close;
mod job;
mod serve;
mod shared;

use std::future::Future;
use std::pin::Pin;

pub(crate) use job::{spawn_connection, Setup, Target};
pub(crate) use shared::{write, write_buf};

/// A future run once per connection, or rarely (a handshake, a close, a wait for mailbox
/// room), kept boxed so the connection's task stays small while it serves.
type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;
