//! Where each item of include/actnet.h goes: the header reads as a tutorial, in sections from
//! the conventions to introspection, rather than in the order of the Rust sources.
//!
//! `GROUPS` is read top to bottom: the header shows the groups in this order, each group's
//! types (and macros) before its functions, in source order otherwise. An item goes to the
//! group with its most specific matching pattern (see `Pattern`), wherever that group is in
//! the list. An item that matches nothing fails the build: add a pattern here.

use Pattern::{Name, OpaqueHandle, Prefix, Suffix};
use Section::*;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Section {
    Common,
    Node,
    Processes,
    Tcp,
    Tls,
    Buffers,
    Inspect,
}

impl Section {
    /// The section's title and one or two sentences, as lines of its banner comment.
    pub fn banner(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Common => (
                "1. Conventions and common types",
                &[
                    "The version, the status every fallible function returns, the opaque handles, the ids",
                    "and the callback that frees a registration's user_data.",
                ],
            ),
            Node => (
                "2. Node",
                &[
                    "A node is one actnet runtime: worker threads, process registry and logger. Start one",
                    "first: every other call takes it.",
                ],
            ),
            Processes => (
                "3. Processes and messages",
                &[
                    "A process is a behaviour (callbacks) and its state, run one message at a time. Spawn",
                    "processes, send them messages, name, call, link, monitor and supervise them.",
                ],
            ),
            Tcp => (
                "4. TCP",
                &[
                    "Servers and client connections are meta-processes with an alias: they deliver CONNECT,",
                    "DATA and DISCONNECT messages to a process, which writes to the connection's alias.",
                ],
            ),
            Tls => (
                "5. TLS",
                &[
                    "Servers and clients use TLS through a certificate manager: the certificates to present",
                    "and the CA certificates to trust.",
                ],
            ),
            Buffers => (
                "6. Buffers",
                &[
                    "Pools of reusable buffers: connections can deliver DATA in buffers the handler then owns,",
                    "and calls return their answer in a buffer.",
                ],
            ),
            Inspect => (
                "7. Inspect",
                &[
                    "What a process or meta-process reports about itself, as key/value strings, and the",
                    "static names of codes.",
                ],
            ),
        }
    }
}

/// How an item's name (function, type, enum, macro) selects a group. The most specific
/// match wins: `OpaqueHandle`, then `Name`, then the longest `Prefix`, then the longest
/// `Suffix`.
pub enum Pattern {
    /// Exactly this name.
    Name(&'static str),
    /// This name, or this name followed by `_` and more (`actnet_pool` takes
    /// `actnet_pool_new`, not `actnet_poolside`).
    Prefix(&'static str),
    /// Names ending with this.
    Suffix(&'static str),
    /// Any `typedef struct x x;` without a body.
    OpaqueHandle,
}

pub const GROUPS: &[(Section, &[Pattern])] = &[
    // 1. Conventions and common types. The version macros are written by build.rs.
    (Common, &[Prefix("ACTNET_VERSION")]),
    (Common, &[Prefix("actnet_status")]),
    (Common, &[OpaqueHandle]),
    (Common, &[Prefix("actnet_pid"), Prefix("actnet_alias"), Prefix("actnet_ref"), Prefix("actnet_reference")]),
    (Common, &[Name("actnet_free_fn"), Suffix("_free_fn")]),
    // 2. Node. Logging first: the node options use actnet_log_fn.
    (Node, &[Prefix("actnet_log")]),
    (Node, &[Name("ACTNET_MAILBOX_UNBOUNDED"), Prefix("actnet_node")]),
    (Node, &[Prefix("actnet_version")]),
    // 3. Processes and messages. The message comes first: actnet_handle_fn takes it.
    (Processes, &[Prefix("actnet_message_kind"), Name("actnet_message")]),
    (
        Processes,
        &[Name("actnet_init_fn"), Name("actnet_handle_fn"), Name("actnet_terminate_fn"), Prefix("actnet_behavior")],
    ),
    // Spawning, stopping, and the process functions not placed below.
    (Processes, &[Prefix("actnet_spawn"), Prefix("actnet_process")]),
    (Processes, &[Prefix("actnet_message")]),
    (Processes, &[Prefix("actnet_name")]),
    (Processes, &[Prefix("actnet_process_call"), Prefix("actnet_process_reply")]),
    (
        Processes,
        &[
            Prefix("actnet_process_trap_exits"),
            Prefix("actnet_process_link"),
            Prefix("actnet_process_unlink"),
            Prefix("actnet_process_monitor"),
            Prefix("actnet_process_demonitor"),
        ],
    ),
    (Processes, &[Prefix("actnet_exit_reason")]),
    (
        Processes,
        &[
            Prefix("actnet_restart"),
            Prefix("actnet_strategy"),
            Prefix("actnet_child_spec"),
            Prefix("actnet_supervisor"),
        ],
    ),
    (Processes, &[Prefix("actnet_forwarder")]),
    (Processes, &[Prefix("actnet_meta")]),
    // 4. TCP.
    (Tcp, &[Prefix("actnet_mailbox_policy")]),
    (Tcp, &[Prefix("actnet_chunk"), Prefix("actnet_tcp")]),
    (Tcp, &[Prefix("actnet_disconnect")]),
    // 5. TLS.
    (Tls, &[Prefix("actnet_client_auth"), Prefix("actnet_tls"), Prefix("actnet_certmanager")]),
    // 6. Buffers.
    (Buffers, &[Prefix("actnet_pool")]),
    (Buffers, &[Prefix("actnet_buf")]),
    (Buffers, &[Prefix("actnet_pool_stats")]),
    // 7. Inspect, and the names of codes not placed with their enum above.
    (Inspect, &[Prefix("actnet_inspect"), Prefix("actnet_info")]),
    (Inspect, &[Suffix("_str")]),
];
