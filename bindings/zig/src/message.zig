//! Messages as `handleMessage` sees them.

const std = @import("std");
const c = @import("actnet_c");
const actnet = @import("actnet.zig");
const Pid = actnet.Pid;
const Alias = actnet.Alias;
const Buf = @import("buffers.zig").Buf;
const enums = @import("enums.zig");
const DisconnectReason = enums.DisconnectReason;
const ExitReason = enums.ExitReason;

/// A message as `handleMessage` sees it. Slices and strings are borrowed until the handler
/// returns; `Data.buf`, when present, is owned by the handler.
pub const Message = union(enum) {
    user: User,
    call: Call,
    connect: Connect,
    data: Data,
    disconnect: Disconnect,
    writable: Alias,
    down: Down,
    exit: Exit,
    /// A kind this binding does not know (a newer library): the raw message.
    unknown: *const c.actnet_message,

    pub const User = struct {
        /// The sender; `Pid.none` when sent from a foreign thread or through a forwarder.
        from: Pid,
        /// The forwarder it came through (`Node.sendMeta`); `Alias.none` otherwise.
        forwarder: Alias,
        tag: u64,
        bytes: []const u8,
    };
    /// Answer with `Node.reply(reference, ...)`, now or later, from any thread.
    pub const Call = struct { from: Pid, tag: u64, bytes: []const u8, reference: u64 };
    pub const Connect = struct {
        alias: Alias,
        local_addr: [:0]const u8,
        remote_addr: [:0]const u8,
        /// TLS details, null for plain TCP (see actnet_message for the other fields).
        tls_version: ?[:0]const u8,
    };
    pub const Data = struct {
        alias: Alias,
        bytes: []const u8,
        /// With a read buffer pool: the buffer holding `bytes`, now the handler's to `free`
        /// or pass to `Node.writeBuf`. Null otherwise.
        buf: ?Buf,
    };
    pub const Disconnect = struct { alias: Alias, reason: DisconnectReason };
    pub const Down = struct { of: Monitored, reference: u64, reason: ExitReason, code: i32 };
    /// What a DOWN is about: a process (`Node.monitor`) or a meta-process
    /// (`Node.monitorMeta`).
    pub const Monitored = union(enum) { process: Pid, meta: Alias };
    /// A linked process ended (with `SpawnOptions.trap_exits`).
    pub const Exit = struct { from: Pid, reason: ExitReason, code: i32 };

    pub fn fromC(m: *const c.actnet_message) Message {
        const bytes: []const u8 = if (m.len == 0) &.{} else m.data[0..m.len];
        return switch (m.kind) {
            c.ACTNET_MSG_USER => .{ .user = .{
                .from = .fromC(m.from),
                .forwarder = .fromC(m.alias),
                .tag = m.tag,
                .bytes = bytes,
            } },
            c.ACTNET_MSG_CALL => .{ .call = .{
                .from = .fromC(m.from),
                .tag = m.tag,
                .bytes = bytes,
                .reference = m.reference,
            } },
            c.ACTNET_MSG_CONNECT => .{ .connect = .{
                .alias = .fromC(m.alias),
                .local_addr = optSpan(m.local_addr) orelse "",
                .remote_addr = optSpan(m.remote_addr) orelse "",
                .tls_version = optSpan(m.tls_version),
            } },
            c.ACTNET_MSG_DATA => .{ .data = .{
                .alias = .fromC(m.alias),
                .bytes = bytes,
                .buf = if (m.buf) |b| Buf{ .handle = b } else null,
            } },
            c.ACTNET_MSG_DISCONNECT => .{ .disconnect = .{ .alias = .fromC(m.alias), .reason = @enumFromInt(m.reason) } },
            c.ACTNET_MSG_WRITABLE => .{ .writable = .fromC(m.alias) },
            c.ACTNET_MSG_DOWN => .{
                .down = .{
                    // The library sets exactly one of the two.
                    .of = if (m.alias.id != 0) .{ .meta = .fromC(m.alias) } else .{ .process = .fromC(m.from) },
                    .reference = m.reference,
                    .reason = @enumFromInt(m.reason),
                    .code = m.reason_code,
                },
            },
            c.ACTNET_MSG_EXIT => .{ .exit = .{ .from = .fromC(m.from), .reason = @enumFromInt(m.reason), .code = m.reason_code } },
            else => .{ .unknown = m },
        };
    }
};

fn optSpan(p: [*c]const u8) ?[:0]const u8 {
    return if (p == null) null else std.mem.span(@as([*:0]const u8, p));
}
