//! The C API's enums as Zig enums, checked against the header by the tests below.

const std = @import("std");
const c = @import("actnet_c");
const Message = @import("message.zig").Message;

pub const LogLevel = enum(u32) {
    off = c.ACTNET_LOG_LEVEL_OFF,
    @"error" = c.ACTNET_LOG_LEVEL_ERROR,
    warn = c.ACTNET_LOG_LEVEL_WARN,
    info = c.ACTNET_LOG_LEVEL_INFO,
    debug = c.ACTNET_LOG_LEVEL_DEBUG,
    trace = c.ACTNET_LOG_LEVEL_TRACE,
};

/// Why a process or meta-process ended (`actnet_exit_reason`).
pub const ExitReason = enum(u32) {
    normal = c.ACTNET_EXIT_NORMAL,
    shutdown = c.ACTNET_EXIT_SHUTDOWN,
    killed = c.ACTNET_EXIT_KILLED,
    @"error" = c.ACTNET_EXIT_ERROR,
    panic = c.ACTNET_EXIT_PANIC,
    init_failed = c.ACTNET_EXIT_INIT_FAILED,
    max_restarts = c.ACTNET_EXIT_MAX_RESTARTS,
    disconnected = c.ACTNET_EXIT_DISCONNECTED,
    _,

    pub fn string(self: ExitReason) [:0]const u8 {
        return std.mem.span(c.actnet_exit_reason_str(@intFromEnum(self)));
    }
};

/// Why a connection ended (`actnet_disconnect_reason`, in DISCONNECT).
pub const DisconnectReason = enum(u32) {
    peer_closed = c.ACTNET_DISCONNECT_REASON_PEER_CLOSED,
    reset = c.ACTNET_DISCONNECT_REASON_RESET,
    closed = c.ACTNET_DISCONNECT_REASON_CLOSED,
    aborted = c.ACTNET_DISCONNECT_REASON_ABORTED,
    max_length_exceeded = c.ACTNET_DISCONNECT_REASON_MAX_LENGTH_EXCEEDED,
    target_down = c.ACTNET_DISCONNECT_REASON_TARGET_DOWN,
    mailbox_full = c.ACTNET_DISCONNECT_REASON_MAILBOX_FULL,
    io_error = c.ACTNET_DISCONNECT_REASON_IO_ERROR,
    node_stopping = c.ACTNET_DISCONNECT_REASON_NODE_STOPPING,
    frame_truncated = c.ACTNET_DISCONNECT_REASON_FRAME_TRUNCATED,
    invalid_frame_length = c.ACTNET_DISCONNECT_REASON_INVALID_FRAME_LENGTH,
    parent_down = c.ACTNET_DISCONNECT_REASON_PARENT_DOWN,
    no_target = c.ACTNET_DISCONNECT_REASON_NO_TARGET,
    write_timeout = c.ACTNET_DISCONNECT_REASON_WRITE_TIMEOUT,
    tls_handshake_failed = c.ACTNET_DISCONNECT_REASON_TLS_HANDSHAKE_FAILED,
    tls_error = c.ACTNET_DISCONNECT_REASON_TLS_ERROR,
    _,

    pub fn string(self: DisconnectReason) [:0]const u8 {
        return std.mem.span(c.actnet_disconnect_reason_str(@intFromEnum(self)));
    }

    /// A close by either side or the end of the connection's owner or node, as opposed to
    /// an error. The library decides (`actnet_disconnect_reason_is_clean`), so this stays
    /// in step with it; unknown codes are not clean.
    pub fn isClean(self: DisconnectReason) bool {
        return c.actnet_disconnect_reason_is_clean(@intFromEnum(self));
    }
};

pub const MailboxPolicy = enum(u32) {
    pause = c.ACTNET_MAILBOX_POLICY_PAUSE,
    terminate = c.ACTNET_MAILBOX_POLICY_TERMINATE,
};

pub const Restart = enum(u32) {
    permanent = c.ACTNET_RESTART_PERMANENT,
    transient = c.ACTNET_RESTART_TRANSIENT,
    temporary = c.ACTNET_RESTART_TEMPORARY,
};

pub const Strategy = enum(u32) {
    one_for_one = c.ACTNET_STRATEGY_ONE_FOR_ONE,
    all_for_one = c.ACTNET_STRATEGY_ALL_FOR_ONE,
    rest_for_one = c.ACTNET_STRATEGY_REST_FOR_ONE,
};

/// "PEER_CLOSED" -> "peer_closed": a C enum value's name as this binding spells it.
fn zigName(comptime c_name: []const u8) []const u8 {
    comptime {
        var name: [c_name.len]u8 = undefined;
        for (c_name, &name) |ch, *out| out.* = std.ascii.toLower(ch);
        const final = name;
        return &final;
    }
}

/// Every constant `prefix ++ NAME` of the translated header has a member `name` of `E` (a
/// tag of `E` if it is a union) with the same value, and `E` has no other member: a value
/// added to the C enum without its Zig counterpart fails here.
fn expectMatchesHeader(comptime E: type, comptime prefix: []const u8) !void {
    @setEvalBranchQuota(1_000_000);
    const Tag = if (@typeInfo(E) == .@"union") std.meta.Tag(E) else E;
    var constants: usize = 0;
    inline for (@typeInfo(c).@"struct".decls) |decl| {
        if (comptime std.mem.startsWith(u8, decl.name, prefix)) {
            constants += 1;
            const value: u32 = @field(c, decl.name);
            const name = comptime zigName(decl.name[prefix.len..]);
            if (!@hasField(Tag, name)) {
                std.debug.print("{s} ({d}) has no counterpart {s}.{s}\n", .{ decl.name, value, @typeName(E), name });
                return error.TestUnexpectedResult;
            }
            if (E == Message) {
                // Message kinds: fromC turns this kind into that member.
                var m = std.mem.zeroes(c.actnet_message);
                m.kind = value;
                try std.testing.expectEqualStrings(name, @tagName(Message.fromC(&m)));
            } else {
                try std.testing.expectEqual(value, @intFromEnum(@field(E, name)));
            }
        }
    }
    // Message has one member more than there are kinds: `unknown`.
    const extra: usize = if (E == Message) 1 else 0;
    try std.testing.expectEqual(@typeInfo(Tag).@"enum".fields.len, constants + extra);
}

test "every value of the header's enums has its Zig counterpart with the same value" {
    try expectMatchesHeader(LogLevel, "ACTNET_LOG_LEVEL_");
    try expectMatchesHeader(ExitReason, "ACTNET_EXIT_");
    try expectMatchesHeader(DisconnectReason, "ACTNET_DISCONNECT_REASON_");
    try expectMatchesHeader(MailboxPolicy, "ACTNET_MAILBOX_POLICY_");
    try expectMatchesHeader(Restart, "ACTNET_RESTART_");
    try expectMatchesHeader(Strategy, "ACTNET_STRATEGY_");
    try expectMatchesHeader(Message, "ACTNET_MSG_");
    // actnet_client_auth (TLS) and ACTNET_STATUS_* (the test above) are not enums here.
}

test "DisconnectReason.isClean: closes and ends of the owner or node, not errors" {
    inline for (@typeInfo(DisconnectReason).@"enum".fields) |field| {
        const reason: DisconnectReason = @enumFromInt(field.value);
        const clean = switch (reason) {
            .peer_closed, .closed, .parent_down, .node_stopping => true,
            else => false,
        };
        std.testing.expectEqual(clean, reason.isClean()) catch |err| {
            std.debug.print("{s}.isClean()\n", .{field.name});
            return err;
        };
    }
    try std.testing.expect(!@as(DisconnectReason, @enumFromInt(9999)).isClean());
}
