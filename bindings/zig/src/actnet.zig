//! actnet for Zig: a thin layer over the C API in `actnet.h` (translated by build.zig and
//! available here as `actnet.c` for anything this binding does not cover, e.g. TLS).
//!
//! This file is the module's root: it defines the ids (`Pid`, `Alias`: here, so that their
//! type names, which compile errors show, are `actnet.Pid` and `actnet.Alias`) and re-exports
//! the rest, one concept per file: status.zig (`Error` and the status mappings), enums.zig,
//! message.zig, buffers.zig (`Buf`, `Pool`), inspect.zig (`Info`), behavior.zig (`Behavior`,
//! `Process`), options.zig (spawn, supervisor and TCP options) and node.zig (`Node`).
//!
//! Rules, as in the C API:
//! - Errors: every fallible call returns `Error!T`; each `actnet_status` is one member of
//!   `Error` (`check` maps a status, `statusOf` maps back). Out-values exist only on success.
//! - Threads: a `Node` runs its own thread pool. An actor's `init` runs on the thread that
//!   spawns it; `handleMessage` and `terminate` run on the node's runtime threads, one message
//!   at a time per process, never concurrently for one process; different processes run in
//!   parallel. Every function may be called from any thread, including from handlers, except
//!   `Node.stop` (from a handler it returns `error.WrongContext`).
//! - Memory: byte slices passed in are copied before the call returns. Slices inside a
//!   `Message` are borrowed until `handleMessage` returns; copy what you keep. A `Buf` you
//!   receive (`Message.Data.buf`, `Node.call`) is yours until you `free` it or hand it back
//!   with `Node.writeBuf`. Ids (`Pid`, `Alias`) are never reused during a node's life: a
//!   stale one gives `error.NotFound`.
//! - Lifetime: `Node.stop` stops the node but keeps the handle: from then on every call on
//!   any copy of the `Node` returns `error.NodeStopping`. `Node.deinit` frees it; no copy may
//!   be used after that.
//! - Zig panics are not caught: a panic in a handler ends the whole program (Zig has no
//!   unwinding). Return an error instead: the process ends with reason `.@"error"`.

const std = @import("std");

/// The C API, translated from actnet.h.
pub const c = @import("actnet_c");

/// A process id (`actnet_pid`). Never reused during a node's life. A distinct type from
/// `Alias`, so that one cannot be passed where the other is expected.
pub const Pid = extern struct {
    id: u64,

    /// Names no process (a message sent from a foreign thread has it as `from`).
    pub const none: Pid = .{ .id = 0 };

    pub fn eql(self: Pid, other: Pid) bool {
        return self.id == other.id;
    }

    pub fn toC(self: Pid) c.actnet_pid {
        return .{ .id = self.id };
    }

    pub fn fromC(pid: c.actnet_pid) Pid {
        return .{ .id = pid.id };
    }
};

/// A meta-process id (`actnet_alias`): a TCP server, a TCP connection, a forwarder. Never
/// reused during a node's life.
pub const Alias = extern struct {
    id: u64,

    /// Names no meta-process.
    pub const none: Alias = .{ .id = 0 };

    pub fn eql(self: Alias, other: Alias) bool {
        return self.id == other.id;
    }

    pub fn toC(self: Alias) c.actnet_alias {
        return .{ .id = self.id };
    }

    pub fn fromC(alias: c.actnet_alias) Alias {
        return .{ .id = alias.id };
    }
};

comptime {
    // Same layout as the C structs they stand for.
    std.debug.assert(@sizeOf(Pid) == @sizeOf(c.actnet_pid));
    std.debug.assert(@sizeOf(Alias) == @sizeOf(c.actnet_alias));
}

// ---- The rest, one file per concept ---------------------------------------------------------

const status = @import("status.zig");
pub const Error = status.Error;
pub const check = status.check;
pub const statusOf = status.statusOf;
pub const statusString = status.statusString;
pub const errorCode = status.errorCode;

/// The library's version, e.g. "0.2.0".
pub fn version() [:0]const u8 {
    return std.mem.span(c.actnet_version());
}

const enums = @import("enums.zig");
pub const LogLevel = enums.LogLevel;
pub const ExitReason = enums.ExitReason;
pub const DisconnectReason = enums.DisconnectReason;
pub const MailboxPolicy = enums.MailboxPolicy;
pub const Restart = enums.Restart;
pub const Strategy = enums.Strategy;

pub const Message = @import("message.zig").Message;

const buffers = @import("buffers.zig");
pub const Buf = buffers.Buf;
pub const Pool = buffers.Pool;

pub const Info = @import("inspect.zig").Info;

const behavior = @import("behavior.zig");
pub const Process = behavior.Process;
pub const Behavior = behavior.Behavior;

const options = @import("options.zig");
pub const mailbox_unbounded = options.mailbox_unbounded;
pub const SpawnOptions = options.SpawnOptions;
pub const ChildSpec = options.ChildSpec;
pub const SupervisorOptions = options.SupervisorOptions;
pub const Framing = options.Framing;
pub const ConnectionOptions = options.ConnectionOptions;
pub const TcpServerOptions = options.TcpServerOptions;
pub const TcpClientOptions = options.TcpClientOptions;

const node = @import("node.zig");
pub const TcpServer = node.TcpServer;
pub const Node = node.Node;

// ---- Unit tests -----------------------------------------------------------------------------

test {
    // The tests of the other files (a file's tests run only if a test refers to it).
    _ = status;
    _ = enums;
    _ = @import("message.zig");
    _ = buffers;
    _ = @import("inspect.zig");
    _ = behavior;
    _ = options;
    _ = node;
}

test "Pid and Alias have the layout of actnet_pid and actnet_alias" {
    try std.testing.expectEqual(@sizeOf(c.actnet_pid), @sizeOf(Pid));
    try std.testing.expectEqual(@as(u64, 42), (Pid{ .id = 42 }).toC().id);
    try std.testing.expect(Alias.fromC(.{ .id = 43 }).eql(.{ .id = 43 }));
    try std.testing.expect(Pid.none.eql(.fromC(.{ .id = 0 })));
}
