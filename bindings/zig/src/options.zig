//! Options of spawns, supervisors and TCP servers and clients, with their C forms.

const std = @import("std");
const c = @import("actnet_c");
const Pid = @import("actnet.zig").Pid;
const Behavior = @import("behavior.zig").Behavior;
const Pool = @import("buffers.zig").Pool;
const enums = @import("enums.zig");
const MailboxPolicy = enums.MailboxPolicy;
const Restart = enums.Restart;
const Strategy = enums.Strategy;
const status = @import("status.zig");
const Error = status.Error;
const check = status.check;

/// `mailbox_size` meaning "no bound".
pub const mailbox_unbounded: u32 = std.math.maxInt(u32);

pub const SpawnOptions = struct {
    /// 0: the node's default; `mailbox_unbounded`: no bound.
    mailbox_size: u32 = 0,
    /// Register under this name (copied) as part of the spawn.
    name: ?[:0]const u8 = null,
    /// Bytes handed to `init` (borrowed for the call).
    args: []const u8 = &.{},
    /// Link to this process before `init` runs; `Pid.none` for none.
    link_to: Pid = .none,
    trap_exits: bool = false,

    pub fn toC(self: SpawnOptions) Error!c.actnet_spawn_options {
        var o: c.actnet_spawn_options = undefined;
        try check(c.actnet_spawn_options_init(&o));
        o.mailbox_size = self.mailbox_size;
        o.name = if (self.name) |n| n.ptr else null;
        o.args = self.args.ptr;
        o.args_len = self.args.len;
        o.link_to = self.link_to.toC();
        o.trap_exits = self.trap_exits;
        return o;
    }
};

pub const ChildSpec = struct {
    /// The child is registered under this name, again after each restart.
    name: [:0]const u8,
    behavior: Behavior,
    restart: Restart = .permanent,
    /// Bytes handed to the child's `init` on every start (copied).
    args: []const u8 = &.{},
    mailbox_size: u32 = 0,
};

pub const SupervisorOptions = struct {
    strategy: Strategy = .one_for_one,
    /// More than `intensity` restarts within `period_ms` ends the supervisor.
    intensity: u32 = 3,
    period_ms: u32 = 5000,
    /// Started in this order.
    children: []const ChildSpec = &.{},
    name: ?[:0]const u8 = null,
};

/// How incoming bytes are cut into DATA messages.
pub const Framing = union(enum) {
    /// Each DATA carries what one read returned.
    none,
    /// Every DATA is exactly this many bytes.
    fixed: u31,
    /// A header holding a big-endian length; each DATA carries header and payload.
    header: Header,

    pub const Header = struct {
        /// Bytes of header, at least `length_position + length_size`.
        size: u31 = 4,
        length_position: u31 = 0,
        /// 1, 2 or 4.
        length_size: u31 = 4,
        /// The length counts the header too (else only the payload).
        includes_header: bool = false,
    };
};

/// Options of a server's connections or of a client connection. `null` keeps the library's
/// default (see actnet_tcp_connection_options in actnet.h).
pub const ConnectionOptions = struct {
    framing: Framing = .none,
    /// With framing: a longer frame (header included) ends the connection with
    /// `.max_length_exceeded`. 0: no limit.
    max_length: u31 = 0,
    read_buffer_size: ?u32 = null,
    /// DATA then carries a `Buf` the handler owns. Borrowed (the server keeps a reference).
    read_buffer_pool: ?Pool = null,
    /// Written after `keepalive_period_ms` without writes (copied); empty: off.
    keepalive_bytes: []const u8 = &.{},
    keepalive_period_ms: u32 = 0,
    /// OS-level keepalive: 0 off, -1 OS default, > 0 seconds.
    tcp_keepalive_s: i32 = 0,
    nodelay: ?bool = null,
    mailbox_policy: MailboxPolicy = .pause,
    write_queue_limit: ?usize = null,
    close_timeout_ms: ?u32 = null,

    /// The C options. The framing goes into `chunk`, which the result points to (no framing:
    /// it points nowhere), so `chunk` must outlive the result; it also borrows the slices of
    /// `self`.
    pub fn toC(self: ConnectionOptions, chunk: *c.actnet_chunk_options) Error!c.actnet_tcp_connection_options {
        var o: c.actnet_tcp_connection_options = undefined;
        try check(c.actnet_tcp_connection_options_init(&o));
        try check(c.actnet_chunk_options_init(chunk));
        if (self.read_buffer_size) |v| o.read_buffer_size = v;
        o.read_buffer_pool = if (self.read_buffer_pool) |p| p.handle else null;
        switch (self.framing) {
            .none => o.read_chunk = null,
            .fixed => |n| {
                chunk.enable = true;
                chunk.fixed_length = n;
                o.read_chunk = chunk;
            },
            .header => |h| {
                chunk.enable = true;
                chunk.fixed_length = 0;
                chunk.header_size = h.size;
                chunk.header_length_position = h.length_position;
                chunk.header_length_size = h.length_size;
                chunk.header_length_includes_header = h.includes_header;
                o.read_chunk = chunk;
            },
        }
        chunk.max_length = self.max_length;
        o.keepalive_bytes = if (self.keepalive_bytes.len == 0) null else self.keepalive_bytes.ptr;
        o.keepalive_bytes_len = self.keepalive_bytes.len;
        o.keepalive_period_ms = self.keepalive_period_ms;
        o.tcp_keepalive_s = self.tcp_keepalive_s;
        if (self.nodelay) |v| o.nodelay = v;
        o.mailbox_policy = @intFromEnum(self.mailbox_policy);
        if (self.write_queue_limit) |v| o.write_queue_limit = v;
        if (self.close_timeout_ms) |v| o.close_timeout_ms = v;
        return o;
    }
};

/// A TCP server. For options not covered here (TLS, ALPN), build the C options with
/// `toC`, change them and call `Node.tcpServerC`:
///
///   var chunk: actnet.c.actnet_chunk_options = undefined;
///   const connection = try options.connection.toC(&chunk);
///   var o = try options.toC(&connection);
///   o.tls_certmanager = manager;
///   const server = try node.tcpServerC(owner, &o);
pub const TcpServerOptions = struct {
    /// Address or host name; null: every IPv4 interface.
    host: ?[:0]const u8 = null,
    /// 0: the OS picks (see `TcpServer.port`).
    port: u16 = 0,
    backlog: ?i32 = null,
    /// Registered names connections are routed to, round-robin (copied); empty: the owner.
    process_pool: []const [*:0]const u8 = &.{},
    reuse_address: ?bool = null,
    reuse_port: ?bool = null,
    /// Used by `Node.tcpServer`; `toC` takes the C form of it instead.
    connection: ConnectionOptions = .{},

    /// The C options, pointing to `connection` (the C form of `self.connection`, see
    /// `ConnectionOptions.toC`) and borrowing the strings and slices of `self`.
    pub fn toC(self: TcpServerOptions, connection: *const c.actnet_tcp_connection_options) Error!c.actnet_tcp_server_options {
        var o: c.actnet_tcp_server_options = undefined;
        try check(c.actnet_tcp_server_options_init(&o));
        o.host = if (self.host) |h| h.ptr else null;
        o.port = self.port;
        if (self.backlog) |v| o.backlog = v;
        o.process_pool = if (self.process_pool.len == 0) null else @ptrCast(self.process_pool.ptr);
        o.process_pool_len = self.process_pool.len;
        if (self.reuse_address) |v| o.reuse_address = v;
        if (self.reuse_port) |v| o.reuse_port = v;
        o.connection = connection;
        return o;
    }
};

/// A TCP client connection. For TLS, build the C options with `toC` (as for
/// `TcpServerOptions`), change them and call `Node.tcpConnectC`.
pub const TcpClientOptions = struct {
    host: [:0]const u8,
    port: u16,
    connect_timeout_ms: ?u32 = null,
    /// Registered name of the process that receives the connection's messages; null: the
    /// owner.
    process: ?[:0]const u8 = null,
    /// Used by `Node.tcpConnect`; `toC` takes the C form of it instead.
    connection: ConnectionOptions = .{},

    /// The C options, pointing to `connection` (see `TcpServerOptions.toC`) and borrowing
    /// the strings and slices of `self`.
    pub fn toC(self: TcpClientOptions, connection: *const c.actnet_tcp_connection_options) Error!c.actnet_tcp_client_options {
        var o: c.actnet_tcp_client_options = undefined;
        try check(c.actnet_tcp_client_options_init(&o));
        o.host = self.host.ptr;
        o.port = self.port;
        if (self.connect_timeout_ms) |v| o.connect_timeout_ms = v;
        o.process = if (self.process) |p| p.ptr else null;
        o.connection = connection;
        return o;
    }
};
