//! actnet for Zig: a thin layer over the C API in `actnet.h` (translated by build.zig and
//! available here as `actnet.c` for anything this file does not cover, e.g. TLS).
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

// ---- Errors ---------------------------------------------------------------------------------

/// One member per `actnet_status` other than OK (same order, same meaning: see actnet.h),
/// plus `Unknown` for a code this binding does not know.
pub const Error = error{
    NullArgument,
    InvalidArgument,
    StructSize,
    NotFound,
    MailboxFull,
    Timeout,
    NameTaken,
    NodeStopping,
    WrongContext,
    InitFailed,
    Unsupported,
    WouldBlock,
    AddressInUse,
    ConnectionRefused,
    HostUnreachable,
    DnsFailure,
    IoError,
    DoubleFree,
    Closed,
    TlsError,
    CertificateInvalid,
    BadCertificate,
    Panic,
    WrongKind,
    Unknown,
};

/// Turns an `actnet_status` into `void` (OK) or its `Error` member.
pub fn check(status: c.actnet_status) Error!void {
    return switch (status) {
        c.ACTNET_STATUS_OK => {},
        c.ACTNET_STATUS_NULL_ARGUMENT => error.NullArgument,
        c.ACTNET_STATUS_INVALID_ARGUMENT => error.InvalidArgument,
        c.ACTNET_STATUS_STRUCT_SIZE => error.StructSize,
        c.ACTNET_STATUS_NOT_FOUND => error.NotFound,
        c.ACTNET_STATUS_MAILBOX_FULL => error.MailboxFull,
        c.ACTNET_STATUS_TIMEOUT => error.Timeout,
        c.ACTNET_STATUS_NAME_TAKEN => error.NameTaken,
        c.ACTNET_STATUS_NODE_STOPPING => error.NodeStopping,
        c.ACTNET_STATUS_WRONG_CONTEXT => error.WrongContext,
        c.ACTNET_STATUS_INIT_FAILED => error.InitFailed,
        c.ACTNET_STATUS_UNSUPPORTED => error.Unsupported,
        c.ACTNET_STATUS_WOULD_BLOCK => error.WouldBlock,
        c.ACTNET_STATUS_ADDRESS_IN_USE => error.AddressInUse,
        c.ACTNET_STATUS_CONNECTION_REFUSED => error.ConnectionRefused,
        c.ACTNET_STATUS_HOST_UNREACHABLE => error.HostUnreachable,
        c.ACTNET_STATUS_DNS_FAILURE => error.DnsFailure,
        c.ACTNET_STATUS_IO_ERROR => error.IoError,
        c.ACTNET_STATUS_DOUBLE_FREE => error.DoubleFree,
        c.ACTNET_STATUS_CLOSED => error.Closed,
        c.ACTNET_STATUS_TLS_ERROR => error.TlsError,
        c.ACTNET_STATUS_CERTIFICATE_INVALID => error.CertificateInvalid,
        c.ACTNET_STATUS_BAD_CERTIFICATE => error.BadCertificate,
        c.ACTNET_STATUS_PANIC => error.Panic,
        c.ACTNET_STATUS_WRONG_KIND => error.WrongKind,
        else => error.Unknown,
    };
}

/// The `actnet_status` of an `Error` member (`Unknown` has none and gives `maxInt(u32)`).
pub fn statusOf(err: Error) c.actnet_status {
    return switch (err) {
        error.NullArgument => c.ACTNET_STATUS_NULL_ARGUMENT,
        error.InvalidArgument => c.ACTNET_STATUS_INVALID_ARGUMENT,
        error.StructSize => c.ACTNET_STATUS_STRUCT_SIZE,
        error.NotFound => c.ACTNET_STATUS_NOT_FOUND,
        error.MailboxFull => c.ACTNET_STATUS_MAILBOX_FULL,
        error.Timeout => c.ACTNET_STATUS_TIMEOUT,
        error.NameTaken => c.ACTNET_STATUS_NAME_TAKEN,
        error.NodeStopping => c.ACTNET_STATUS_NODE_STOPPING,
        error.WrongContext => c.ACTNET_STATUS_WRONG_CONTEXT,
        error.InitFailed => c.ACTNET_STATUS_INIT_FAILED,
        error.Unsupported => c.ACTNET_STATUS_UNSUPPORTED,
        error.WouldBlock => c.ACTNET_STATUS_WOULD_BLOCK,
        error.AddressInUse => c.ACTNET_STATUS_ADDRESS_IN_USE,
        error.ConnectionRefused => c.ACTNET_STATUS_CONNECTION_REFUSED,
        error.HostUnreachable => c.ACTNET_STATUS_HOST_UNREACHABLE,
        error.DnsFailure => c.ACTNET_STATUS_DNS_FAILURE,
        error.IoError => c.ACTNET_STATUS_IO_ERROR,
        error.DoubleFree => c.ACTNET_STATUS_DOUBLE_FREE,
        error.Closed => c.ACTNET_STATUS_CLOSED,
        error.TlsError => c.ACTNET_STATUS_TLS_ERROR,
        error.CertificateInvalid => c.ACTNET_STATUS_CERTIFICATE_INVALID,
        error.BadCertificate => c.ACTNET_STATUS_BAD_CERTIFICATE,
        error.Panic => c.ACTNET_STATUS_PANIC,
        error.WrongKind => c.ACTNET_STATUS_WRONG_KIND,
        error.Unknown => std.math.maxInt(u32),
    };
}

/// The library's description of a status code (static).
pub fn statusString(status: c.actnet_status) [:0]const u8 {
    return std.mem.span(c.actnet_status_str(status));
}

/// The library's version, e.g. "0.2.0".
pub fn version() [:0]const u8 {
    return std.mem.span(c.actnet_version());
}

/// The exit code a handler's error becomes (`@intFromError`, never 0): it is the
/// `reason_code` monitors see in DOWN.
pub fn errorCode(err: anyerror) i32 {
    return @intCast(@intFromError(err));
}

// ---- Enums ----------------------------------------------------------------------------------

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

/// `mailbox_size` meaning "no bound".
pub const mailbox_unbounded: u32 = std.math.maxInt(u32);

// ---- Messages -------------------------------------------------------------------------------

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

// ---- Buffers, pools, inspect ----------------------------------------------------------------

/// A buffer the caller holds (from a pool, a DATA message or a call's reply).
pub const Buf = struct {
    handle: *c.actnet_buf,

    /// The content (valid while the buffer is held).
    pub fn bytes(self: Buf) []u8 {
        const len = c.actnet_buf_len(self.handle);
        if (len == 0) return &.{};
        return c.actnet_buf_data(self.handle)[0..len];
    }

    /// All the memory, to fill before `setLen`.
    pub fn memory(self: Buf) []u8 {
        const cap = c.actnet_buf_capacity(self.handle);
        if (cap == 0) return &.{};
        return c.actnet_buf_data(self.handle)[0..cap];
    }

    pub fn setLen(self: Buf, len: usize) Error!void {
        return check(c.actnet_buf_set_len(self.handle, len));
    }

    /// Returns the buffer to its pool. `error.DoubleFree` if it is no longer held.
    pub fn free(self: Buf) Error!void {
        return check(c.actnet_buf_free(self.handle));
    }
};

/// A pool of buffers, for `ConnectionOptions.read_buffer_pool`.
pub const Pool = struct {
    handle: *c.actnet_pool,

    pub fn init(buffer_size: usize, max_idle: usize) Error!Pool {
        var p: ?*c.actnet_pool = null;
        try check(c.actnet_pool_new(buffer_size, max_idle, &p));
        return .{ .handle = p.? };
    }

    /// Releases this reference; servers, connections and buffers keep the pool alive.
    pub fn deinit(self: Pool) void {
        _ = c.actnet_pool_free(self.handle);
    }

    pub fn get(self: Pool) Error!Buf {
        var b: ?*c.actnet_buf = null;
        try check(c.actnet_pool_get(self.handle, &b));
        return .{ .handle = b.? };
    }
};

/// The result of `Node.inspect`: ordered key/value strings, owned by it until `deinit`.
pub const Info = struct {
    handle: *c.actnet_info,

    pub fn deinit(self: Info) void {
        _ = c.actnet_info_free(self.handle);
    }

    pub fn get(self: Info, name: [:0]const u8) ?[:0]const u8 {
        return optSpan(c.actnet_info_get(self.handle, name.ptr));
    }

    pub fn count(self: Info) usize {
        return c.actnet_info_count(self.handle);
    }

    pub fn key(self: Info, index: usize) ?[:0]const u8 {
        return optSpan(c.actnet_info_key(self.handle, index));
    }

    pub fn value(self: Info, index: usize) ?[:0]const u8 {
        return optSpan(c.actnet_info_value(self.handle, index));
    }
};

// ---- Behaviours -----------------------------------------------------------------------------

/// What a handler gets besides its state and message: the node and its own pid.
pub const Process = struct {
    node: Node,
    pid: Pid,

    /// Ends this process (reason `.normal`) once the current callback returns.
    pub fn stop(self: Process) Error!void {
        return self.node.stopProcess(self.pid);
    }
};

/// A behaviour: what processes are spawned from. Processes and supervisors keep their own
/// reference, so `deinit` may follow the spawns at once.
pub const Behavior = struct {
    handle: *c.actnet_behavior,

    pub const InitError = Error || std.mem.Allocator.Error;

    /// A behaviour from a struct type `Actor`. Each process gets its own copy of `prototype`
    /// (heap-allocated with `std.heap.c_allocator`, freed after `terminate`) and these
    /// declarations of `Actor` are called with a pointer to that copy:
    ///
    ///   pub fn init(self: *Actor, process: Process, args: []const u8) !void            (optional)
    ///   pub fn handleMessage(self: *Actor, process: Process, message: Message) !void  (required)
    ///   pub fn terminate(self: *Actor, process: Process, reason: ExitReason, code: i32) void
    ///                                                                                  (optional)
    ///
    /// (`void` instead of `!void` is fine too.) `init` runs on the spawning thread; an error
    /// from it fails the spawn with `error.InitFailed`. `handleMessage` and `terminate` run on
    /// runtime threads, one message at a time per process; an error from `handleMessage` ends
    /// the process with reason `.@"error"` and code `errorCode(err)`. Pointers in the
    /// prototype are shared by every process, on several threads: synchronise what they
    /// point to.
    pub fn init(comptime Actor: type, prototype: Actor) InitError!Behavior {
        const T = Trampolines(Actor);
        var callbacks: c.actnet_behavior_callbacks = undefined;
        try check(c.actnet_behavior_callbacks_init(&callbacks));
        callbacks.init = T.init;
        callbacks.handle_message = T.handleMessage;
        callbacks.terminate = T.terminate;

        const proto = try std.heap.c_allocator.create(Actor);
        proto.* = prototype;
        var b: ?*c.actnet_behavior = null;
        check(c.actnet_behavior_new(&callbacks, proto, T.freePrototype, &b)) catch |err| {
            std.heap.c_allocator.destroy(proto); // on error free_user_data is not called
            return err;
        };
        return .{ .handle = b.? };
    }

    /// Releases this reference; processes spawned from it keep running.
    pub fn deinit(self: Behavior) void {
        _ = c.actnet_behavior_free(self.handle);
    }
};

fn Trampolines(comptime Actor: type) type {
    if (!@hasDecl(Actor, "handleMessage"))
        @compileError(@typeName(Actor) ++ " has no pub fn handleMessage");
    return struct {
        const allocator = std.heap.c_allocator;

        fn process(node: ?*c.actnet_node, pid: c.actnet_pid) Process {
            return .{ .node = .{ .handle = node.? }, .pid = .fromC(pid) };
        }

        fn init(
            user_data: ?*anyopaque,
            node: ?*c.actnet_node,
            pid: c.actnet_pid,
            args: [*c]const u8,
            args_len: usize,
            state: [*c]?*anyopaque,
        ) callconv(.c) i32 {
            const proto: *const Actor = @ptrCast(@alignCast(user_data.?));
            const self = allocator.create(Actor) catch return errorCode(error.OutOfMemory);
            self.* = proto.*;
            if (@hasDecl(Actor, "init")) {
                const bytes: []const u8 = if (args_len == 0) &.{} else args[0..args_len];
                call(Actor.init, .{ self, process(node, pid), bytes }) catch |err| {
                    allocator.destroy(self);
                    return errorCode(err);
                };
            }
            state.* = self;
            return 0;
        }

        fn handleMessage(
            user_data: ?*anyopaque,
            node: ?*c.actnet_node,
            pid: c.actnet_pid,
            state: ?*anyopaque,
            message: [*c]const c.actnet_message,
        ) callconv(.c) i32 {
            _ = user_data;
            const self: *Actor = @ptrCast(@alignCast(state.?));
            call(Actor.handleMessage, .{ self, process(node, pid), Message.fromC(message) }) catch |err|
                return errorCode(err);
            return 0;
        }

        fn terminate(
            user_data: ?*anyopaque,
            node: ?*c.actnet_node,
            pid: c.actnet_pid,
            state: ?*anyopaque,
            reason: u32,
            reason_code: i32,
        ) callconv(.c) void {
            _ = user_data;
            const self: *Actor = @ptrCast(@alignCast(state.?));
            if (@hasDecl(Actor, "terminate"))
                Actor.terminate(self, process(node, pid), @enumFromInt(reason), reason_code);
            allocator.destroy(self);
        }

        fn freePrototype(user_data: ?*anyopaque) callconv(.c) void {
            const proto: *Actor = @ptrCast(@alignCast(user_data.?));
            allocator.destroy(proto);
        }

        /// Calls `f`, whether it returns `void` or an error union.
        fn call(comptime f: anytype, args: anytype) anyerror!void {
            const R = @typeInfo(@TypeOf(f)).@"fn".return_type.?;
            if (@typeInfo(R) == .error_union) return @call(.auto, f, args);
            @call(.auto, f, args);
        }
    };
}

// ---- Options --------------------------------------------------------------------------------

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

pub const TcpServer = struct { alias: Alias, port: u16 };

// ---- The node -------------------------------------------------------------------------------

/// A node (a copyable handle). Copies share one node: after `stop` every call on any of
/// them returns `error.NodeStopping` (the handle stays valid), until `deinit` frees it.
pub const Node = struct {
    handle: *c.actnet_node,

    pub const Options = struct {
        /// 0: one per core.
        worker_threads: u32 = 0,
        name: ?[:0]const u8 = null,
        /// Log lines go to stderr.
        log_level: LogLevel = .warn,
        /// 0: the library default (1024); `mailbox_unbounded`: no bound.
        default_mailbox_size: u32 = 0,
    };

    /// Starts a node; release it with `deinit`.
    pub fn start(options: Options) Error!Node {
        var o: c.actnet_node_options = undefined;
        try check(c.actnet_node_options_init(&o));
        o.worker_threads = options.worker_threads;
        o.name = if (options.name) |n| n.ptr else null;
        o.log_level = @intFromEnum(options.log_level);
        o.default_mailbox_size = options.default_mailbox_size;
        var n: ?*c.actnet_node = null;
        try check(c.actnet_node_start(&o, &n));
        return .{ .handle = n.? };
    }

    /// Stops meta-processes, then every process after the messages already in its mailbox,
    /// then the threads; blocks until done. The handle stays valid: from then on every call
    /// on it (on any copy) returns `error.NodeStopping`; `stop` again returns at once. Not
    /// from a handler (`error.WrongContext`).
    pub fn stop(self: Node) Error!void {
        return check(c.actnet_node_stop(self.handle));
    }

    /// Frees the node, stopping it first if it is still running. Call it once, when no
    /// thread will use the node (or any copy of it, or a `Process` of it) again: every copy
    /// is then dangling. A thread that might still call should be given a stopped node
    /// instead (`stop`), which is why the two are separate.
    ///
    /// Freeing from one of the node's own handlers would stop the node from inside itself;
    /// the library refuses it and this panics, as it is a bug in the caller.
    pub fn deinit(self: Node) void {
        check(c.actnet_node_free(self.handle)) catch |err|
            std.debug.panic("actnet.Node.deinit: {s} (called from a handler of this node?)", .{@errorName(err)});
    }

    pub fn spawn(self: Node, behavior: Behavior, options: SpawnOptions) Error!Pid {
        const o = try options.toC();
        var pid: c.actnet_pid = .{ .id = 0 };
        try check(c.actnet_process_spawn(self.handle, behavior.handle, &o, &pid));
        return .fromC(pid);
    }

    /// Spawns a process registered under `name` (`options.name` must be null).
    pub fn spawnRegister(self: Node, name: [:0]const u8, behavior: Behavior, options: SpawnOptions) Error!Pid {
        const o = try options.toC();
        var pid: c.actnet_pid = .{ .id = 0 };
        try check(c.actnet_process_spawn_register(self.handle, name.ptr, behavior.handle, &o, &pid));
        return .fromC(pid);
    }

    /// Starts a supervisor and its children (in order) before returning. `allocator` holds
    /// the C child specs for the duration of the call.
    pub fn spawnSupervisor(
        self: Node,
        allocator: std.mem.Allocator,
        options: SupervisorOptions,
    ) (Error || std.mem.Allocator.Error)!Pid {
        const specs = try allocator.alloc(c.actnet_child_spec, options.children.len);
        defer allocator.free(specs);
        for (options.children, specs) |child, *spec| {
            try check(c.actnet_child_spec_init(spec));
            spec.restart = @intFromEnum(child.restart);
            spec.name = child.name.ptr;
            spec.behavior = child.behavior.handle;
            spec.args = child.args.ptr;
            spec.args_len = child.args.len;
            spec.mailbox_size = child.mailbox_size;
        }
        var o: c.actnet_supervisor_options = undefined;
        try check(c.actnet_supervisor_options_init(&o));
        o.strategy = @intFromEnum(options.strategy);
        o.intensity = options.intensity;
        o.period_ms = options.period_ms;
        o.children = specs.ptr;
        o.children_len = specs.len;
        o.name = if (options.name) |n| n.ptr else null;
        var pid: c.actnet_pid = .{ .id = 0 };
        try check(c.actnet_supervisor_spawn(self.handle, &o, &pid));
        return .fromC(pid);
    }

    pub fn lookup(self: Node, name: [:0]const u8) Error!Pid {
        var pid: c.actnet_pid = .{ .id = 0 };
        try check(c.actnet_name_lookup(self.handle, name.ptr, &pid));
        return .fromC(pid);
    }

    /// Sends `tag` and `bytes` (copied) to a process. Messages from one thread arrive in
    /// the order sent.
    pub fn send(self: Node, to: Pid, tag: u64, bytes: []const u8) Error!void {
        return check(c.actnet_message_send(self.handle, to.toC(), tag, bytes.ptr, bytes.len));
    }

    /// Sends `tag` and `bytes` (copied) to a meta-process that takes messages (a forwarder,
    /// which passes them on as a USER with `forwarder` set). A connection's peer is written
    /// only with `write` and `writeBuf`.
    pub fn sendMeta(self: Node, to: Alias, tag: u64, bytes: []const u8) Error!void {
        return check(c.actnet_meta_send(self.handle, to.toC(), tag, bytes.ptr, bytes.len));
    }

    pub fn sendName(self: Node, name: [:0]const u8, tag: u64, bytes: []const u8) Error!void {
        return check(c.actnet_message_send_name(self.handle, name.ptr, tag, bytes.ptr, bytes.len));
    }

    /// Spawns a forwarder owned by `owner` (it ends with it): a meta-process that passes
    /// what `sendMeta` gives it to the process registered as `target_name` (looked up at
    /// each message), or to the owner when null.
    pub fn spawnForwarder(self: Node, owner: Pid, target_name: ?[:0]const u8) Error!Alias {
        var alias: c.actnet_alias = .{ .id = 0 };
        const name: [*c]const u8 = if (target_name) |n| n.ptr else null;
        try check(c.actnet_forwarder_spawn(self.handle, owner.toC(), name, &alias));
        return .fromC(alias);
    }

    /// Sends a CALL and waits up to `timeout_ms` for the answer, which the caller owns
    /// (`Buf.free`).
    pub fn call(self: Node, to: Pid, tag: u64, bytes: []const u8, timeout_ms: u32) Error!Buf {
        var reply_buf: ?*c.actnet_buf = null;
        try check(c.actnet_process_call(self.handle, to.toC(), tag, bytes.ptr, bytes.len, timeout_ms, &reply_buf));
        return .{ .handle = reply_buf.? };
    }

    /// Answers a CALL (`Message.Call.reference`) with `bytes` (copied).
    pub fn reply(self: Node, reference: u64, bytes: []const u8) Error!void {
        return check(c.actnet_process_reply(self.handle, reference, bytes.ptr, bytes.len));
    }

    /// Stops a process after the messages already in its mailbox.
    pub fn stopProcess(self: Node, pid: Pid) Error!void {
        return check(c.actnet_process_stop(self.handle, pid.toC()));
    }

    pub fn kill(self: Node, pid: Pid) Error!void {
        return check(c.actnet_process_kill(self.handle, pid.toC()));
    }

    /// `watcher` gets one DOWN (`.of = .{ .process = target }`) when `target` ends; returns
    /// the monitor's reference.
    pub fn monitor(self: Node, watcher: Pid, target: Pid) Error!u64 {
        var reference: u64 = 0;
        try check(c.actnet_process_monitor(self.handle, watcher.toC(), target.toC(), &reference));
        return reference;
    }

    /// `watcher` gets one DOWN (`.of = .{ .meta = target }`) when the meta-process `target`
    /// ends; returns the monitor's reference.
    pub fn monitorMeta(self: Node, watcher: Pid, target: Alias) Error!u64 {
        var reference: u64 = 0;
        try check(c.actnet_meta_monitor(self.handle, watcher.toC(), target.toC(), &reference));
        return reference;
    }

    /// Removes a monitor (of a process or a meta-process); no DOWN will come for it.
    pub fn demonitor(self: Node, watcher: Pid, reference: u64) Error!void {
        return check(c.actnet_process_demonitor(self.handle, watcher.toC(), reference));
    }

    pub fn tcpServer(self: Node, owner: Pid, options: TcpServerOptions) Error!TcpServer {
        var chunk: c.actnet_chunk_options = undefined;
        const connection = try options.connection.toC(&chunk);
        const o = try options.toC(&connection);
        return self.tcpServerC(owner, &o);
    }

    /// Binds and spawns a TCP server owned by `owner` from C options.
    pub fn tcpServerC(self: Node, owner: Pid, options: *const c.actnet_tcp_server_options) Error!TcpServer {
        var alias: c.actnet_alias = .{ .id = 0 };
        var port: u16 = 0;
        try check(c.actnet_tcp_server_spawn(self.handle, owner.toC(), options, &alias, &port));
        return .{ .alias = .fromC(alias), .port = port };
    }

    /// Connects (refused, unreachable, timeout and DNS errors come back here) and spawns the
    /// connection owned by `owner`; returns its alias, writable at once.
    pub fn tcpConnect(self: Node, owner: Pid, options: TcpClientOptions) Error!Alias {
        var chunk: c.actnet_chunk_options = undefined;
        const connection = try options.connection.toC(&chunk);
        const o = try options.toC(&connection);
        return self.tcpConnectC(owner, &o);
    }

    pub fn tcpConnectC(self: Node, owner: Pid, options: *const c.actnet_tcp_client_options) Error!Alias {
        var alias: c.actnet_alias = .{ .id = 0 };
        try check(c.actnet_tcp_connect(self.handle, owner.toC(), options, &alias));
        return .fromC(alias);
    }

    /// Writes `bytes` (copied if they cannot go out at once) to a connection.
    /// `error.WouldBlock`: the write queue is full, nothing queued, `.writable` follows.
    pub fn write(self: Node, conn: Alias, bytes: []const u8) Error!void {
        return check(c.actnet_tcp_write(self.handle, conn.toC(), bytes.ptr, bytes.len));
    }

    /// Writes a buffer the caller holds; on success it belongs to the runtime.
    pub fn writeBuf(self: Node, conn: Alias, buf: Buf) Error!void {
        return check(c.actnet_tcp_write_buf(self.handle, conn.toC(), buf.handle));
    }

    /// Ends a meta-process gracefully (a connection flushes its queued writes first).
    pub fn terminate(self: Node, alias: Alias) Error!void {
        return check(c.actnet_meta_terminate(self.handle, alias.toC()));
    }

    /// Ends a meta-process at once (a connection is reset).
    pub fn abort(self: Node, alias: Alias) Error!void {
        return check(c.actnet_meta_abort(self.handle, alias.toC()));
    }

    /// Describes a process; the caller owns the result (`Info.deinit`).
    pub fn inspect(self: Node, pid: Pid) Error!Info {
        var info: ?*c.actnet_info = null;
        try check(c.actnet_process_inspect(self.handle, pid.toC(), &info));
        return .{ .handle = info.? };
    }

    /// Describes a meta-process (server, connection, forwarder); the caller owns the result
    /// (`Info.deinit`).
    pub fn inspectMeta(self: Node, alias: Alias) Error!Info {
        var info: ?*c.actnet_info = null;
        try check(c.actnet_meta_inspect(self.handle, alias.toC(), &info));
        return .{ .handle = info.? };
    }
};

// ---- Unit tests -----------------------------------------------------------------------------

test "every actnet_status of the header has its own Error member" {
    @setEvalBranchQuota(1_000_000);
    const members = @typeInfo(Error).error_set.?.len; // every status but OK, plus Unknown
    var seen = std.StaticBitSet(members).initEmpty();
    inline for (@typeInfo(c).@"struct".decls) |decl| {
        if (comptime std.mem.startsWith(u8, decl.name, "ACTNET_STATUS_")) {
            const code: u32 = @field(c, decl.name);
            if (code == 0) {
                try check(code);
            } else {
                const err = if (check(code)) |_| unreachable else |e| e;
                try std.testing.expect(err != error.Unknown);
                try std.testing.expectEqual(code, statusOf(err));
                // CONNECTION_REFUSED -> ConnectionRefused: the names match, modulo case.
                var buf: [64]u8 = undefined;
                var n: usize = 0;
                var upper = true;
                for (decl.name["ACTNET_STATUS_".len..]) |ch| {
                    if (ch == '_') {
                        upper = true;
                        continue;
                    }
                    buf[n] = if (upper) ch else std.ascii.toLower(ch);
                    upper = false;
                    n += 1;
                }
                try std.testing.expectEqualStrings(buf[0..n], @errorName(err));
            }
            try std.testing.expect(!seen.isSet(code));
            seen.set(code);
        }
    }
    try std.testing.expectEqual(members, seen.count());
    try std.testing.expectError(error.Unknown, check(9999));
    try std.testing.expect(statusString(c.ACTNET_STATUS_CONNECTION_REFUSED).len > 0);
}

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

test "Pid and Alias have the layout of actnet_pid and actnet_alias" {
    try std.testing.expectEqual(@sizeOf(c.actnet_pid), @sizeOf(Pid));
    try std.testing.expectEqual(@as(u64, 42), (Pid{ .id = 42 }).toC().id);
    try std.testing.expect(Alias.fromC(.{ .id = 43 }).eql(.{ .id = 43 }));
    try std.testing.expect(Pid.none.eql(.fromC(.{ .id = 0 })));
}
